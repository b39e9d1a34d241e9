"""Plain pytest tests of DokuClient against the DOKU sandbox, over real loopback HTTP:
the happy path, validation, authentication, idempotency.
"""

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.errors import FieldValidationError, ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR, format_timestamp
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields, _post

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(doku_sim.start)
client, sleeps = fakes.client, fakes.sleeps


# Happy path -----------------------------------------------------------------------------


def test_initiate_then_status(sandbox, client):
    status = client.initiate(_fields(), "1001")
    response = client.last_response
    assert (status.raw_status, status.state, status.provider_reference) == (
        "PENDING",
        "sent",
        "PAY_1",
    )
    assert (response.status, response.replayed) == (200, False)
    data = response.data["data"]
    assert response.data["status"] == "0" and data["amount"] == 250000
    assert data["receiver_email"] == "siti@example.com" and data["currency"] == "IDR"

    [received] = sandbox.server.requests
    assert received.path == doku.INITIATE_PATH
    assert (
        received.body
        == json.dumps(doku.build_initiate_body(**_fields()), separators=(",", ":")).encode()
    )
    assert received.headers["Request-Id"] == "1001"
    assert received.headers["Signature"].startswith("HMACSHA256=")
    assert received.headers["Request-Target"] == doku.INITIATE_PATH

    assert client.status("PAY_1").raw_status == "PENDING"
    assert sandbox.server.requests[1].json == {"transaction_id": "PAY_1"}


# Validation: nothing leaves before the fields are right ---------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("amount", 0),
        ("amount", 1.005),
        ("amount", 10**16),
        ("sender_name", "x" * 51),
        ("receiver_name", "x" * 51),
        ("receiver_phone_number", "0812345"),  # 62812345 once normalised: too short
        ("receiver_phone_number", "62" + "1" * 13),
        ("receiver_email", "not-an-email"),
        ("receiver_email", "a@b.co" + "m" * 45),
        ("reference_id", "R" * 31),
        ("description", "d" * 31),
        ("currency", "RUPIAH"),
    ],
)
def test_field_limits_send_nothing(sandbox, client, field, value):
    with pytest.raises(FieldValidationError) as caught:
        client.initiate(_fields(**{field: value}), "1001")
    assert caught.value.field == field
    assert not sandbox.server.requests


def test_status_reference_limit_sends_nothing(sandbox, client):
    with pytest.raises(FieldValidationError, match="transaction_id"):
        client.status("R" * 31)
    assert not sandbox.server.requests


@pytest.mark.parametrize(
    "payload, message",
    [
        (_fields(receiver_name="x" * 51), "receiver_name: at most 50 characters"),
        (_fields(amount="250000"), "amount: must be a number"),
        ({k: v for k, v in _fields().items() if k != "sender_name"}, "sender_name: required"),
    ],
)
def test_sandbox_checks_fields_itself(sandbox, payload, message):
    answer = _post(sandbox, doku.INITIATE_PATH, payload)
    assert answer.status_code == 400
    assert answer.json() == {"error": {"code": "INVALID_FIELD", "message": message}}
    assert sandbox.payouts == {}


# Authentication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, status, code",
    [
        ({"secret": "SK-wrong"}, 401, "INVALID_SIGNATURE"),
        ({"client_id": "SOMEONE-ELSE"}, 401, "UNKNOWN_CLIENT"),
        # A skew, not a timestamp: parameters are built at collection, long before the run.
        ({"clock_skew": timedelta(minutes=-6)}, 401, "STALE_TIMESTAMP"),
        ({"clock_skew": timedelta(minutes=6)}, 401, "STALE_TIMESTAMP"),
        ({"request_id": "REQ-1"}, 400, "INVALID_REQUEST_ID"),
    ],
)
def test_sandbox_rejects_bad_requests(sandbox, options, status, code):
    answer = _post(sandbox, doku.INITIATE_PATH, _fields(), **options)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert sandbox.payouts == {}


def test_sandbox_rejects_unsigned_requests(sandbox):
    answer = requests.post(
        sandbox.url + doku.STATUS_PATH,
        json={"transaction_id": "PAY_1"},
        headers={"Client-Id": sandbox.client_id, "Request-Id": "1"},
        timeout=5,
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "MISSING_SIGNATURE")


def test_sandbox_rejects_a_tampered_body(sandbox):
    body = json.dumps(_fields()).encode()
    headers = doku.signature_headers(
        sandbox.client_id,
        sandbox.secret_key,
        "77",
        doku.INITIATE_PATH,
        body,
        timestamp=format_timestamp(datetime.now(timezone.utc)),
    )
    answer = requests.post(
        sandbox.url + doku.INITIATE_PATH,
        data=body.replace(b"250000", b"950000"),
        headers=headers,
        timeout=5,
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "INVALID_SIGNATURE")


def test_client_surfaces_the_providers_message(sandbox):
    client = doku.DokuClient(sandbox.url, "SOMEONE-ELSE", sandbox.secret_key)
    with pytest.raises(ProviderClientError) as caught:
        client.status("PAY_1")
    error = caught.value
    assert (error.status, error.code) == (401, "UNKNOWN_CLIENT")
    assert error.message == "Unknown Client-Id."


# Idempotency ----------------------------------------------------------------------------


def test_replay_returns_the_original_answer(sandbox, client):
    first_status = client.initiate(_fields(), "1001")
    first = client.last_response
    sandbox.server.clock.advance(2 * HOUR)  # the link moved on meanwhile
    time.sleep(1.1)  # a replay signed now would show a later Response-Timestamp
    status = client.initiate(_fields(), "1001")
    again = client.last_response
    assert (again.status, again.replayed) == (409, True)
    assert again.body == first.body
    signed = ("Response-Timestamp", "Signature")
    assert [again.headers[name] for name in signed] == [first.headers[name] for name in signed]
    assert status == first_status and status.raw_status == "PENDING"
    assert list(sandbox.payouts) == ["PAY_1"]


def test_reused_request_id_with_another_body_is_refused(sandbox, client):
    client.initiate(_fields(), "1001")
    with pytest.raises(ProviderClientError) as caught:
        client.initiate(_fields("PAY_2"), "1001")
    assert (caught.value.status, caught.value.code) == (409, "REQUEST_ID_CONFLICT")
    assert list(sandbox.payouts) == ["PAY_1"]


def test_refused_request_does_not_use_up_its_request_id(sandbox, client):
    refused = _post(sandbox, doku.INITIATE_PATH, _fields(amount=0), request_id="1001")
    assert refused.status_code == 400
    status = client.initiate(_fields(), "1001")
    response = client.last_response
    assert (response.status, status.raw_status) == (200, "PENDING")


def test_duplicate_reference_is_refused(sandbox, client, sleeps):
    client.initiate(_fields(), "1001")
    with pytest.raises(ProviderClientError) as caught:
        client.initiate(_fields(amount=1000), "1002")
    assert (caught.value.status, caught.value.code) == (409, "DUPLICATE_REFERENCE_ID")
    assert "PAY_1" in caught.value.message
    assert len(sandbox.server.requests) == 2 and sleeps == []  # 4xx: no retry


def test_unknown_reference(client):
    with pytest.raises(ProviderClientError) as caught:
        client.status("PAY_404")
    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
