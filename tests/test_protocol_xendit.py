"""Plain pytest tests of the Xendit protocol code (no server; see test_sandbox_xendit.py)."""

import base64
import json
import xml.etree.ElementTree as ET
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
        ("PENDING", "sent"),
        ("ISSUED", "sent"),
        ("DISBURSING", "processing"),
        ("LOCKED", "processing"),
        ("COMPLETED", "done"),
        ("FAILED", "failed"),
        ("EXPIRED", "expired"),
        ("VOIDED", "cancelled"),
        ("completed", "done"),
        ("CLAIMED", None),
        ("SUCCEEDED", None),
    ],
)
def test_link_status_mapping(raw_status, state):
    status = xendit.parse_link({**LINK, "status": raw_status})
    assert (status.raw_status, status.state, status.provider_reference) == (
        raw_status,
        state,
        LINK["id"],
    )


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
    assert xendit.parse_callback(event).state == "done"
    assert xendit.parse_callback({**LINK, "status": "COMPLETED"}).state == "done"
    for bad in ({"event": "payout.failed"}, {"event": "x", "data": []}, "text"):
        with pytest.raises(ProviderMalformedResponse):
            xendit.parse_callback(bad)


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
    assert failed.reason == xendit.failure_message(failed) == xendit.ERROR_MESSAGES[
        "INVALID_DESTINATION"
    ]
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
            "The amount is above Xendit's transfer limit.",
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
            xendit.ERROR_MESSAGES["CANNOT_VOID_PAYOUT"],
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
            xendit.ERROR_MESSAGES["REQUEST_FORBIDDEN_ERROR"],
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
            xendit.ERROR_MESSAGES["DUPLICATE_TRANSACTION_ERROR"],
            "DUPLICATE_TRANSACTION_ERROR",
        ),
        # A duplicate is never a refusal, whatever its status: Xendit may hold the payout.
        *(
            (400, _error_body(code), ProviderConflict, xendit.ERROR_MESSAGES[code], code)
            for code in sorted(xendit.DUPLICATE_CODES)
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
            xendit.ERROR_MESSAGES["SERVER_ERROR"],
            "SERVER_ERROR",
        ),
        (
            400,
            _error_body("SERVER_ERROR"),
            ProviderServerError,
            xendit.ERROR_MESSAGES["SERVER_ERROR"],
            "SERVER_ERROR",
        ),
        (
            503,
            b'{"error":{"code":"SERVER_ERROR","message":"Injected server error."}}',
            ProviderServerError,
            xendit.ERROR_MESSAGES["SERVER_ERROR"],
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
