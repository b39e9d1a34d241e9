"""Plain pytest tests of the Xendit protocol code (no server; see test_sandbox_xendit.py)."""

import base64
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.answers import ProviderAnswer
from odoo.addons.hr_payout_link.protocol.errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderClientError,
    ProviderConflict,
    ProviderError,
    ProviderMalformedResponse,
    ProviderRefusal,
    ProviderServerError,
)
from odoo.addons.hr_payout_link.tests.fakes import (
    PAYOUT_ARGS,
    PAYOUT_BODY,
    FakeSession,
    error_facts,
)

KEY = "xnd_development_P4qDfOss0OCpl8RtKrROHjaQYNCk9dN5lSfk+R1l9Wbe+rSiCwZ3jw=="
LINK = {
    "id": "a6ee1bf1-ffcd-4bda-a7ab-99c1d5cd0472",
    "external_id": "PAY83921251",
    "amount": 250000,
    "merchant_name": "PT Contoh",
    "status": "PENDING",
    "expiration_timestamp": "2025-01-04T10:00:00.000Z",
    "created": "2025-01-01T10:00:00.000Z",
    "updated": "2025-01-01T10:00:00.000Z",
    "payout_url": "https://payout.xendit.co/web/a6ee1bf1-ffcd-4bda-a7ab-99c1d5cd0472",
}
PAYOUT = {
    "id": "disb-b4de62fb-e6b4-4260-8346-96a162e18e15",
    "reference_id": "PL-2025-0001",
    "channel_code": "ID_BCA",
    "channel_properties": {"account_number": "1234567890", "account_holder_name": "Siti Rahma"},
    "amount": 250000,
    "currency": "IDR",
    "status": "ACCEPTED",
}


def _client(*replies, **options):
    """A XenditClient on a FakeSession (answering with the LINK by default) and the session."""
    session = FakeSession(*(replies or [(200, json.dumps(LINK).encode())]))
    return xendit.XenditClient(xendit.API_URL, KEY, session=session, **options), session


# Requests ------------------------------------------------------------------------------


def test_create_payout_link_request():
    client, session = _client()
    status = client.create_payout_link("PAY83921251", 250000, "siti@example.com", "k1")
    response = client.last_response
    [call] = session.calls
    assert (call["method"], call["url"]) == ("POST", "https://api.xendit.co/payouts")
    assert (
        call["data"] == b'{"external_id":"PAY83921251","amount":250000,"email":"siti@example.com"}'
    )
    assert call["headers"] == {"Content-Type": "application/json", "X-IDEMPOTENCY-KEY": "k1"}
    assert call["auth"] == (KEY, "")  # Basic: the secret key, an empty password
    assert call["timeout"] == 10 and call["allow_redirects"] is False
    assert (status.raw_status, status.state, status.provider_reference) == (
        "PENDING",
        "sent",
        LINK["id"],
    )
    assert isinstance(status, ProviderAnswer) and not response.replayed


def test_basic_auth_header_is_xendits_published_example():
    # xendit.github.io/apireference, Authentication (audit T5): this key gives this header.
    prepared = requests.Request(
        "GET", xendit.API_URL + "/balance", auth=xendit.XenditClient("x", KEY)._build_auth()
    ).prepare()
    assert prepared.headers["Authorization"] == (
        "Basic eG5kX2RldmVsb3BtZW50X1A0cURmT3NzME9DcGw4UnRLclJPSGphUVlOQ2s5ZE41bFNmaytSMWw5V2JlK3"
        "JTaUN3WjNqdz09Og=="
    )


def test_basic_auth_header_is_the_key_and_an_empty_password():
    prepared = requests.Request(
        "GET", xendit.API_URL + "/balance", auth=xendit.XenditClient("x", KEY)._build_auth()
    ).prepare()
    expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert prepared.headers["Authorization"] == expected


def test_get_and_void_payout_link_requests():
    client, session = _client()
    assert client.get_payout_link(LINK["id"]).raw_status == "PENDING"
    client.void_payout_link(LINK["id"], "void-1")
    get, void = session.calls
    assert (get["method"], get["url"], get["data"]) == (
        "GET",
        f"https://api.xendit.co/payouts/{LINK['id']}",
        None,
    )
    assert get["headers"] == {}
    assert (void["method"], void["url"], void["data"]) == (
        "POST",
        f"https://api.xendit.co/payouts/{LINK['id']}/void",
        None,
    )
    assert void["headers"] == {"X-IDEMPOTENCY-KEY": "void-1"}


def test_create_payout_request():
    client, session = _client((200, json.dumps(PAYOUT).encode()))
    status = client.create_payout(**{**PAYOUT_ARGS, "amount": Decimal("250000.00")})
    [call] = session.calls
    assert (call["method"], call["url"]) == ("POST", "https://api.xendit.co/v2/payouts")
    assert call["headers"] == {
        "Content-Type": "application/json",
        "Idempotency-key": "db-1-PL-2025-0001",
    }
    assert json.loads(call["data"]) == PAYOUT_BODY
    assert (status.raw_status, status.state) == ("ACCEPTED", "processing")


def test_other_v2_requests():
    listing = {"data": [PAYOUT], "has_more": False}
    client, session = _client(
        (200, json.dumps(PAYOUT).encode()),
        (200, json.dumps({**PAYOUT, "status": "CANCELLED"}).encode()),
        (200, json.dumps(listing).encode()),
        (200, b'{"balance":1241231}'),
    )
    assert client.get_payout(PAYOUT["id"]).state == "processing"
    status = client.cancel_payout(PAYOUT["id"])
    assert (status.raw_status, status.state) == ("CANCELLED", "failed")
    assert [s.provider_reference for s in client.find_payouts("PL 2025/1")] == [PAYOUT["id"]]
    assert client.get_balance() == 1241231
    urls = [(c["method"], c["url"], c["headers"]) for c in session.calls]
    assert urls == [
        ("GET", f"https://api.xendit.co/v2/payouts/{PAYOUT['id']}", {}),
        ("POST", f"https://api.xendit.co/v2/payouts/{PAYOUT['id']}/cancel", {}),
        ("GET", "https://api.xendit.co/v2/payouts?reference_id=PL+2025%2F1", {}),
        ("GET", "https://api.xendit.co/balance", {}),
    ]


@pytest.mark.parametrize(
    "content", [b'{"balance":"12"}', b'{"balance":true}', b"{}", b'{"data":{}}']
)
def test_malformed_balance_or_listing(content):
    client, _session = _client((200, content))
    with pytest.raises(ProviderMalformedResponse):
        client.get_balance() if b"data" not in content else client.find_payouts("R1")


@pytest.mark.parametrize(
    "listing",
    [
        [PAYOUT],  # the docs' example (/docs/integration-payouts): a bare array
        {"data": [PAYOUT], "has_more": False},  # xendit-python GetPayouts200Response
    ],
    ids=["bare array", "data"],
)
def test_lookup_by_reference_reads_both_shapes(listing):
    client, _session = _client((200, json.dumps(listing).encode()))
    [found] = client.find_payouts("PL-2025-0001")
    assert (found.provider_reference, found.state) == (PAYOUT["id"], "processing")
    client, _session = _client((200, b"[]"))
    assert client.find_payouts("PL-2025-0001") == []


@pytest.mark.parametrize("content", [b'{"data":{}}', b"{}", b'"text"', b"[1]", b"null"])
def test_malformed_lookup_by_reference(content):
    client, _session = _client((200, content))
    with pytest.raises(ProviderMalformedResponse):
        client.find_payouts("R1")


def test_only_lists_answer_a_list_call():
    # Every other call still takes a JSON object only.
    client, _session = _client((200, json.dumps([LINK]).encode()))
    with pytest.raises(ProviderMalformedResponse):
        client.get_payout_link(LINK["id"])


def _channel(code, category="BANK", currency="IDR", name=None):
    """A Channel as xendit-python docs/payout/Channel.md describes it."""
    return {"channel_code": code, "channel_category": category, "currency": currency,
            "channel_name": name or code, "amount_limits": {
                "minimum": 10000, "maximum": 100000000, "minimum_increment": 1}}


CHANNELS = [_channel("ID_MANDIRI"), _channel("ID_BCA"), _channel("ID_OVO", "EWALLET"),
            _channel("PH_BDO", currency="PHP")]


@pytest.mark.parametrize("shape", [list, lambda items: {"data": items}], ids=["array", "data"])
def test_channel_list(shape):
    client, session = _client((200, json.dumps(shape(CHANNELS)).encode()))
    assert client.get_payout_channels() == ["ID_BCA", "ID_MANDIRI"]  # IDR banks, sorted
    [call] = session.calls
    assert (call["method"], call["url"], call["headers"]) == (
        "GET", "https://api.xendit.co/payouts_channels?currency=IDR&channel_category=BANK", {})


@pytest.mark.parametrize(
    "listing",
    [
        [],  # no channel at all: employees would have no bank to choose
        [_channel("ID_OVO", "EWALLET")],  # none paying bank accounts
        [_channel("ID_BCA"), {"channel_name": "no code"}],
        [_channel("ID_BCA"), _channel("bca")],
        [_channel("ID_BCA"), "ID_BNI"],
        {"channels": []},
    ],
)
def test_malformed_channel_list(listing):
    client, _session = _client((200, json.dumps(listing).encode()))
    with pytest.raises(ProviderMalformedResponse):
        client.get_payout_channels()


def test_channel_list_of_another_currency():
    assert xendit.parse_channels(CHANNELS, "PHP") == ["PH_BDO"]
    with pytest.raises(FieldValidationError):
        _client()[0].get_payout_channels("peso")


# Validation: nothing leaves before the fields are right ---------------------------------


LINK_ARGS = {"external_id": "PAY1", "amount": 250000, "email": "siti@example.com"}


@pytest.mark.parametrize(
    "field, value, rule",
    [
        ("external_id", "", "required"),
        ("external_id", None, "required"),
        ("external_id", "PAY-1", "1 to 30 letters and digits only"),
        ("external_id", "PAY 1", "1 to 30 letters and digits only"),
        ("external_id", "P" * 31, "1 to 30 letters and digits only"),
        ("external_id", 1234, "must be text"),
        ("amount", 0, "must be greater than 0"),
        ("amount", -5, "must be greater than 0"),
        ("amount", 100.5, "must be a whole number of rupiah"),
        ("amount", Decimal("0.01"), "must be a whole number of rupiah"),
        ("amount", "250000", "must be a number"),
        ("amount", True, "must be a number"),
        ("amount", float("nan"), "must be greater than 0"),
        ("email", "not-an-email", "not a valid email address"),
        ("email", "a b@example.com", "not a valid email address"),
        ("email", None, "required"),
    ],
)
def test_link_fields_send_nothing(field, value, rule):
    client, session = _client()
    with pytest.raises(FieldValidationError) as caught:
        client.create_payout_link(**{**LINK_ARGS, field: value}, idempotency_key="k1")
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert caught.value.message == f"{field}: {rule}"
    assert session.calls == []


def test_link_limits_are_inclusive():
    body = xendit.build_link_body("P" * 30, Decimal("250000.00"), "x@example.co")
    assert body == {"external_id": "P" * 30, "amount": 250000, "email": "x@example.co"}
    assert isinstance(body["amount"], int)


@pytest.mark.parametrize(
    "field, value",
    [
        ("reference_id", ""),
        ("reference_id", "R" * 256),
        ("channel_code", "BCA"),
        ("channel_code", "id_bca"),
        ("account_number", "12-34"),
        ("account_number", "1" * 31),
        ("account_number", None),
        ("account_holder_name", " "),
        ("account_holder_name", "x" * 101),
        ("amount", 0),
        ("amount", 1000.5),
        ("currency", "rupiah"),
        ("description", "d" * 101),
        ("idempotency_key", None),
        ("idempotency_key", ""),
        ("idempotency_key", "has space"),
        ("idempotency_key", "k" * 101),
    ],
)
def test_payout_fields_send_nothing(field, value):
    client, session = _client()
    with pytest.raises(FieldValidationError) as caught:
        client.create_payout(**{**PAYOUT_ARGS, field: value})
    assert caught.value.field == field
    assert session.calls == []


def test_payout_body_defaults_and_other_currencies():
    body = xendit.build_payout_body("R1", "ID_BNI", "0012", "Budi", 10000)
    assert body["currency"] == "IDR" and "description" not in body
    assert xendit.build_payout_body("R1", "PH_BDO", "1", "Juan", 100.25, "PHP")["amount"] == 100.25
    with pytest.raises(FieldValidationError, match="at most 2 decimal places"):
        xendit.build_payout_body("R1", "PH_BDO", "1", "Juan", 100.255, "PHP")
    with pytest.raises(FieldValidationError, match="at most 2 decimal places"):
        # Two decimals, but beyond a float's precision: it would be sent altered.
        xendit.build_payout_body("R1", "PH_BDO", "1", "Juan", Decimal("9999999999999999.99"), "PHP")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_payout_link("../balance"),
        lambda c: c.get_payout_link(""),
        lambda c: c.void_payout_link("a/b", "k1"),
        lambda c: c.void_payout_link(LINK["id"], None),
        lambda c: c.get_payout("disb-1?x=1"),
        lambda c: c.cancel_payout(None),
        lambda c: c.find_payouts(""),
    ],
)
def test_ids_and_keys_are_checked_before_sending(call):
    client, session = _client()
    with pytest.raises(FieldValidationError):
        call(client)
    assert session.calls == []


# Banks --------------------------------------------------------------------------------


def test_channel_codes_cover_the_shipped_banks():
    data = Path(__file__).resolve().parent.parent / "data" / "res_bank_data.xml"
    codes = {
        node.text
        for node in ET.parse(data).getroot().iter("field")
        if node.get("name") == "payout_bank_code"
    }
    assert codes == set(xendit.CHANNEL_CODES)
    assert xendit.channel_code("014") == "ID_BCA"
    assert xendit.channel_code("213") == "ID_BTPN"
    assert len(set(xendit.CHANNEL_CODES.values())) == len(xendit.CHANNEL_CODES)


def test_unknown_bank_code():
    with pytest.raises(FieldValidationError) as caught:
        xendit.channel_code("999")
    assert caught.value.field == "bank" and "999" in caught.value.rule


# Statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_status, state",
    [
        # Current (/docs/payout-links-overview).
        ("PENDING", "sent"),
        ("CLAIMED", "processing"),
        ("COMPLETED", "done"),
        ("FAILED", "failed"),
        ("VOIDED", "cancelled"),
        # Variants: the void section's VOID, the test scenarios' ACTIVE, CANCELED, EXPIRED.
        ("VOID", "cancelled"),
        ("ACTIVE", "sent"),
        ("CANCELED", "cancelled"),
        ("EXPIRED", "expired"),
        # Legacy.
        ("ISSUED", "sent"),
        ("DISBURSING", "processing"),
        ("LOCKED", "processing"),
        ("completed", "done"),
        ("SUCCEEDED", None),  # a v2 word: unknown for a link, which keeps its state
        ("READY", None),
    ],
)
def test_link_status_mapping(raw_status, state):
    # Before the link's expiry (LINK's expiration_timestamp is 2025-01-04T10:00).
    status = xendit.parse_link({**LINK, "status": raw_status, "updated": "2025-01-02T10:00:00Z"})
    assert (status.raw_status, status.state, status.provider_reference) == (
        raw_status,
        state,
        LINK["id"],
    )


BEFORE_EXPIRY, AT_EXPIRY = "2025-01-04T09:59:59.999Z", LINK["expiration_timestamp"]


@pytest.mark.parametrize(
    "raw_status, changed, state",
    [
        # FAILED / VOIDED / VOID given at or after expiration_timestamp: an expiry.
        ("FAILED", {"failed_timestamp": AT_EXPIRY}, "expired"),
        ("FAILED", {"updated": "2025-01-05T00:00:00Z"}, "expired"),
        ("VOIDED", {"updated": AT_EXPIRY}, "expired"),
        ("VOID", {"void_timestamp": "2025-01-04T10:00:00+00:00"}, "expired"),
        ("VOIDED", {"voided_timestamp": "2025-01-04T17:00:00+07:00"}, "expired"),
        # Before it: a real failure (wrong passwords, a bank) or a void by Odoo.
        ("FAILED", {"failed_timestamp": BEFORE_EXPIRY}, "failed"),
        ("VOIDED", {"updated": BEFORE_EXPIRY}, "cancelled"),
        ("VOID", {"updated": "2025-01-04T16:59:59+07:00"}, "cancelled"),
        # The status's own time wins over `updated`.
        ("FAILED", {"failed_timestamp": BEFORE_EXPIRY, "updated": AT_EXPIRY}, "failed"),
        # Other statuses never turn into an expiry.
        ("COMPLETED", {"updated": "2025-02-01T00:00:00Z"}, "done"),
        ("CANCELED", {"updated": "2025-02-01T00:00:00Z"}, "cancelled"),
    ],
)
def test_expiry_is_told_from_a_void_by_the_expiration_timestamp(raw_status, changed, state):
    status = xendit.parse_link({**LINK, "status": raw_status, **changed,
                                "failure_reason": "INVALID_DESTINATION"})
    assert status.state == state
    # Only a failure has a reason: an expiry, a void or a payment has none.
    assert status.reason == (xendit.message_of("INVALID_DESTINATION") if state == "failed"
                             else None)


def test_expiry_without_a_change_time_is_read_at_the_answer_time():
    voided = {key: value for key, value in LINK.items() if key != "updated"}
    voided["status"] = "VOIDED"
    assert xendit.parse_link(voided, now=datetime(2025, 1, 4, 10, tzinfo=timezone.utc)).state == (
        "expired")
    assert xendit.parse_link(voided, now=datetime(2025, 1, 3, tzinfo=timezone.utc)).state == (
        "cancelled")
    # No (readable) expiration_timestamp: the status as it is.
    for expiry in (None, "soon", 12):
        data = {**voided, "expiration_timestamp": expiry, "updated": "2099-01-01T00:00:00Z"}
        assert xendit.parse_link(data).state == "cancelled"


def test_an_expired_link_carries_no_failure_reason():
    status = xendit.parse_link({**LINK, "status": "FAILED", "failure_reason": "EXPIRED_LINK",
                                "failed_timestamp": AT_EXPIRY})
    assert (status.state, status.reason) == ("expired", None)


@pytest.mark.parametrize(
    "raw_status, state",
    [
        ("ACCEPTED", "processing"),
        ("REQUESTED", "processing"),
        ("PENDING_COMPLIANCE_ASSESSMENT", "processing"),
        ("SUCCEEDED", "done"),
        ("FAILED", "failed"),
        ("COMPLIANCE_REJECTED", "failed"),
        ("REVERSED", "failed"),
        ("CANCELLED", "failed"),
        ("READY", None),
        ("COMPLETED", None),
    ],
)
def test_payout_status_mapping(raw_status, state):
    status = xendit.parse_payout({**PAYOUT, "status": raw_status})
    assert (status.raw_status, status.state) == (raw_status, state)


def test_mappings_only_name_odoo_states():
    states = {"sent", "processing", "done", "failed", "expired", "cancelled"}
    assert set(xendit.LINK_STATUS_MAPPING.values()) <= states
    assert set(xendit.PAYOUT_STATUS_MAPPING.values()) <= states


@pytest.mark.parametrize("data", [{}, {"status": ""}, {"status": 3}, [], None])
def test_parse_without_status(data):
    with pytest.raises(ProviderMalformedResponse):
        xendit.parse_link(data)
    with pytest.raises(ProviderMalformedResponse):
        xendit.parse_payout(data)


def test_parse_callback():
    event = {
        "event": "payout.succeeded",
        "business_id": "5f27a14a9bf05c73dd040bc8",
        "created": "2025-01-01T10:15:00.000Z",
        "data": {**PAYOUT, "status": "SUCCEEDED"},
    }
    answer = xendit.parse_callback(event)
    assert (answer.state, answer.provider_reference) == ("done", PAYOUT["id"])
    legacy = xendit.parse_callback({**LINK, "status": "COMPLETED"})  # a link object as is
    assert (legacy.state, legacy.provider_reference, xendit.our_reference(legacy)) == (
        "done", LINK["id"], "PAY83921251")
    for bad in ({"event": "payout.failed"}, {"event": "x", "data": []}, "text",
                {"event": "disbursement.completed", "data": "PAY83921251"}):
        with pytest.raises(ProviderMalformedResponse):
            xendit.parse_callback(bad)


DISBURSEMENT = {  # what a Payout Link event carries: the disbursement made for the claim
    "id": "disb-5f3d2a4c-0000-4c1b-8d7e-123456789abc",
    "external_id": "PAY83921251",
    "amount": 250000,
    "bank_code": "BCA",
    "account_holder_name": "Siti Rahma",
}


@pytest.mark.parametrize(
    "event, status, extra, state, reason",
    [
        ("disbursement.completed", "SUCCEEDED", {}, "done", None),  # the events table's word
        ("disbursement.completed", "COMPLETED", {}, "done", None),  # the legacy one
        ("disbursement.failed", "FAILED", {"failure_code": "REJECTED_BY_CHANNEL"}, "failed",
         ("The employee's bank refused the transfer; check that the account is active, then "
         "reissue.")),
        ("disbursement.failed", "FAILED", {}, "failed", None),
    ],
)
def test_payout_link_events_name_the_link_by_its_external_id(event, status, extra, state, reason):
    body = {"event": event, "business_id": "5f27a14a9bf05c73dd040bc8",
            "created": "2025-01-02T10:15:00.000Z",
            "data": {**DISBURSEMENT, "status": status, **extra}}
    answer = xendit.parse_callback(body)
    assert (answer.state, answer.raw_status, answer.reason) == (state, status, reason)
    # The disbursement's id is not the link's: only our external_id names the link.
    assert answer.provider_reference is None
    assert xendit.our_reference(answer) == "PAY83921251"


def test_payout_link_event_without_a_status_says_its_event():
    body = {"event": "disbursement.completed", "data": {"external_id": "PAY1"}}
    assert xendit.parse_callback(body).raw_status == "disbursement.completed"


def test_failure_message():
    failed = xendit.parse_payout(
        {**PAYOUT, "status": "FAILED", "failure_code": "INVALID_DESTINATION"}
    )
    assert xendit.failure_message(failed) == (
        "The destination bank account does not exist or cannot receive."
    )
    link = {**LINK, "status": "FAILED", "failure_reason": "INSUFFICIENT_BALANCE"}
    assert xendit.failure_message(link) == "The Xendit balance is too low for this payout."
    assert xendit.failure_message({"failure_code": "NEW_CODE"}) == "Xendit reports: NEW_CODE."
    assert xendit.failure_message(xendit.parse_payout(PAYOUT)) is None


def test_failed_answers_carry_the_reason():
    failed = xendit.parse_payout(
        {**PAYOUT, "status": "FAILED", "failure_code": "INVALID_DESTINATION"}
    )
    reason = xendit.message_of("INVALID_DESTINATION")
    assert failed.reason == xendit.failure_message(failed) == reason
    link = xendit.parse_link({**LINK, "status": "FAILED", "failure_reason": "NEW_CODE"})
    assert link.reason == "Xendit reports: NEW_CODE."
    assert xendit.parse_payout({**PAYOUT, "status": "FAILED"}).reason is None  # none given
    # Only a failed answer has a reason, whatever the object carries.
    assert xendit.parse_payout({**PAYOUT, "failure_code": "INVALID_DESTINATION"}).reason is None


# Callback token -----------------------------------------------------------------------


def test_callback_token():
    xendit.verify_callback_token("tok-1", "tok-1")


@pytest.mark.parametrize(
    "expected, received, code",
    [
        ("tok-1", None, "MISSING_CALLBACK_TOKEN"),
        ("tok-1", "", "MISSING_CALLBACK_TOKEN"),
        ("tok-1", "tok-2", "INVALID_CALLBACK_TOKEN"),
        ("tok-1", "tok-1 ", "INVALID_CALLBACK_TOKEN"),
        ("tok-1", "tök-1", "INVALID_CALLBACK_TOKEN"),
        ("", "", "NO_CALLBACK_TOKEN"),
        (None, "tok-1", "NO_CALLBACK_TOKEN"),
    ],
)
def test_callback_token_refused(expected, received, code):
    with pytest.raises(ProviderBadSignature) as caught:
        xendit.verify_callback_token(expected, received)
    assert caught.value.code == code


# Errors -------------------------------------------------------------------------------


def _error_body(code, message="provider text"):
    return json.dumps({"error_code": code, "message": message, "errors": []}).encode()


@pytest.mark.parametrize(
    "status, content, error_class, message, code",
    [
        (
            400,
            _error_body("RECIPIENT_ACCOUNT_NUMBER_ERROR"),
            ProviderRefusal,
            "The bank account number is not valid for this bank.",
            "RECIPIENT_ACCOUNT_NUMBER_ERROR",
        ),
        (
            400,
            _error_body("API_VALIDATION_ERROR", "amount: must be greater than 0"),
            ProviderRefusal,
            "Xendit refused a field of the request. amount: must be greater than 0",
            "API_VALIDATION_ERROR",
        ),
        (
            400,
            _error_body("CHANNEL_CODE_NOT_SUPPORTED_ERROR"),
            ProviderRefusal,
            "Xendit cannot pay to this bank.",
            "CHANNEL_CODE_NOT_SUPPORTED_ERROR",
        ),
        (
            400,
            _error_body("RECIPIENT_AMOUNT_ERROR"),
            ProviderRefusal,
            "The amount is outside what this bank accepts (minimum, maximum or increment).",
            "RECIPIENT_AMOUNT_ERROR",
        ),
        (
            400,
            _error_body("MAXIMUM_TRANSFER_LIMIT_ERROR"),
            ProviderRefusal,
            "The amount is above the maximum this bank accepts through Xendit.",
            "MAXIMUM_TRANSFER_LIMIT_ERROR",
        ),
        (
            400,
            _error_body("INSUFFICIENT_BALANCE"),
            ProviderRefusal,
            "The Xendit balance is too low for this payout.",
            "INSUFFICIENT_BALANCE",
        ),
        (
            400,
            _error_body("CANNOT_VOID_PAYOUT"),
            ProviderRefusal,
            xendit.message_of("CANNOT_VOID_PAYOUT"),
            "CANNOT_VOID_PAYOUT",
        ),
        (
            401,
            _error_body("INVALID_API_KEY"),
            ProviderRefusal,
            "The Xendit API key is wrong or missing.",
            "INVALID_API_KEY",
        ),
        (
            403,
            _error_body("REQUEST_FORBIDDEN_ERROR"),
            ProviderRefusal,
            xendit.message_of("REQUEST_FORBIDDEN_ERROR"),
            "REQUEST_FORBIDDEN_ERROR",
        ),
        (
            404,
            _error_body("DATA_NOT_FOUND"),
            ProviderConflict,
            "Xendit has no payout with this id.",
            "DATA_NOT_FOUND",
        ),
        (
            409,
            _error_body("DUPLICATE_TRANSACTION_ERROR"),
            ProviderConflict,
            xendit.message_of("DUPLICATE_TRANSACTION_ERROR"),
            "DUPLICATE_TRANSACTION_ERROR",
        ),
        (
            400,
            _error_body("BRAND_NEW_ERROR", "Something new"),
            ProviderRefusal,
            "Something new",
            "BRAND_NEW_ERROR",
        ),
        (404, b"Not Found", ProviderConflict, "Xendit refused the request (HTTP 404).", None),
        (
            500,
            _error_body("SERVER_ERROR"),
            ProviderServerError,
            xendit.message_of("SERVER_ERROR"),
            "SERVER_ERROR",
        ),
        (
            400,
            _error_body("SERVER_ERROR"),
            ProviderServerError,
            xendit.message_of("SERVER_ERROR"),
            "SERVER_ERROR",
        ),
        (
            503,
            b'{"error":{"code":"SERVER_ERROR","message":"Injected server error."}}',
            ProviderServerError,
            xendit.message_of("SERVER_ERROR"),
            "SERVER_ERROR",
        ),
        (
            502,
            b"<html>Bad Gateway</html>",
            ProviderServerError,
            "Xendit is unavailable (HTTP 502).",
            None,
        ),
    ],
)
def test_error_answers(status, content, error_class, message, code):
    client, session = _client((status, content), max_retries=0)
    with pytest.raises(ProviderError) as caught:
        client.get_payout("disb-1")
    retryable = error_class is ProviderServerError
    assert error_facts(caught.value) == (
        error_class, message, code, status, content.decode(), retryable
    )
    assert len(session.calls) == 1


# Every code Xendit publishes, current and legacy, with its outcome kind: a refusal (the
# link fails), unknown (looked up, never failed) or a failure code of a failed payout.
CODE_KINDS = {
    "API_VALIDATION_ERROR": "refusal",
    "CHANNEL_CODE_NOT_SUPPORTED": "refusal",
    "RECIPIENT_ACCOUNT_NUMBER_ERROR": "refusal",
    "MINIMUM_TRANSFER_LIMIT_ERROR": "refusal",
    "MAXIMUM_TRANSFER_LIMIT_ERROR": "refusal",
    "AMOUNT_INCREMENT_NOT_SUPPORTED": "refusal",
    "INSUFFICIENT_BALANCE": "refusal",
    "DUPLICATE_ERROR": "unknown",
    "DUPLICATE_PAYOUT_ERROR": "unknown",
    "INVALID_JSON_FORMAT": "refusal",
    "CHANNEL_CODE_NOT_SUPPORTED_ERROR": "refusal",
    "RECIPIENT_AMOUNT_ERROR": "refusal",
    "DUPLICATE_TRANSACTION_ERROR": "unknown",
    "REQUEST_FORBIDDEN_ERROR": "refusal",
    "INVALID_API_KEY": "refusal",
    "SERVER_ERROR": "unknown",
    "PAYOUT_NOT_FOUND": "unknown",
    "DATA_NOT_FOUND": "unknown",
    "CANNOT_VOID_PAYOUT": "refusal",
    "CANNOT_CANCEL_PAYOUT": "refusal",
    "INVALID_DESTINATION": "failure",
    "DESTINATION_MAXIMUM_LIMIT": "failure",
    "ACCOUNT_NAME_MISMATCH": "failure",
    "REJECTED_BY_CHANNEL": "failure",
    "TEMPORARY_TRANSFER_ERROR": "failure",
    "TRANSFER_ERROR": "failure",
    "TOO_MANY_WRONG_PASSWORDS": "failure",
}


def test_every_code_has_its_kind():
    assert {code: kind for code, (kind, _message) in xendit.CODES.items()} == CODE_KINDS


@pytest.mark.parametrize("code", sorted(CODE_KINDS))
@pytest.mark.parametrize("status", [400, 403, 409])
def test_an_error_answer_is_what_its_code_says(code, status):
    client, _session = _client((status, _error_body(code, "Xendit's own words")), max_retries=0)
    with pytest.raises(ProviderError) as caught:
        client.create_payout_link("PAY1", 250000, "siti@example.com", "k1")
    error = caught.value
    assert (error.code, error.status) == (code, status)
    assert error.message.startswith(xendit.message_of(code))
    if code == "SERVER_ERROR":
        assert isinstance(error, ProviderServerError) and error.retryable
    elif CODE_KINDS[code] == "unknown" or status == 409:  # a 409 proves nothing
        assert type(error) is ProviderConflict and not error.refusal
    else:
        assert type(error) is ProviderRefusal and error.refusal


@pytest.mark.parametrize("code", sorted(CODE_KINDS))
def test_every_message_is_for_hr(code):
    message = xendit.message_of(code)
    assert message[0].isupper() and message.endswith(".")
    assert code not in message and "_" not in message  # plain words, not Xendit's codes
    assert "idempotency" not in message.lower()


@pytest.mark.parametrize("code", [c for c, kind in sorted(CODE_KINDS.items()) if kind == "failure"])
def test_failure_codes_are_the_reason_of_a_failed_payout(code):
    failed = xendit.parse_payout({**PAYOUT, "status": "FAILED", "failure_code": code})
    assert failed.reason == xendit.message_of(code)


def test_server_error_code_is_retried_with_the_same_key():
    sleeps = []
    client, session = _client(
        (400, _error_body("SERVER_ERROR")), (200, json.dumps(PAYOUT).encode()), sleep=sleeps.append
    )
    status = client.create_payout(**PAYOUT_ARGS)
    assert status.raw_status == "ACCEPTED" and sleeps == [0.5]
    first, second = session.calls
    assert first["headers"] == second["headers"] and first["data"] == second["data"]


def test_replay_is_the_original_answer():
    client, _session = _client((409, json.dumps(PAYOUT).encode()))
    status = client.create_payout(**PAYOUT_ARGS)
    response = client.last_response
    assert (response.status, response.replayed, status.raw_status) == (409, True, "ACCEPTED")


@pytest.mark.parametrize(
    "content",
    [
        _error_body("DUPLICATE_TRANSACTION_ERROR"),
        json.dumps({**PAYOUT, "error_code": "DUPLICATE_TRANSACTION_ERROR"}).encode(),
        b'{"status":"ACCEPTED"}',
    ],
)
def test_a_409_without_the_object_is_an_error(content):
    client, _session = _client((409, content))
    with pytest.raises(ProviderClientError) as caught:
        client.create_payout(**PAYOUT_ARGS)
    assert caught.value.status == 409
