"""Plain pytest tests of the Xendit protocol code (no server; see test_sandbox_xendit_*.py):
the requests, the field checks before sending, the banks.
"""

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
    ProviderMalformedResponse,
)
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS, PAYOUT_BODY
from odoo.addons.hr_payout_link.tests.xendit_protocol_helpers import KEY, LINK, PAYOUT, _client

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
