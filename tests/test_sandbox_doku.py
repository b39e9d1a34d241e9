"""Plain pytest tests of DokuClient against the DOKU sandbox, over real loopback HTTP."""

import json
import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import doku, doku_snap
from odoo.addons.hr_payout_link.protocol.errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderClientError,
    ProviderConflict,
    ProviderMalformedResponse,
    ProviderNetworkError,
    ProviderRefusal,
    ProviderServerError,
    ProviderTimeout,
)
from odoo.addons.hr_payout_link.protocol.timeutil import (
    DAY,
    HOUR,
    MINUTE,
    format_timestamp,
    parse_timestamp,
)
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.fakes import DOKU_FIELDS, follow_clock

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(doku_sim.start)
client, sleeps = fakes.client, fakes.sleeps


def _fields(reference="PAY_1", **overrides):
    return {**DOKU_FIELDS, "reference_id": reference, **overrides}


def _post(
    sandbox,
    path,
    payload,
    *,
    request_id="123456",
    client_id=None,
    secret=None,
    clock_skew=timedelta(0),
):
    """A hand-signed request, to send what DokuClient never would."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = doku.signature_headers(
        client_id or sandbox.client_id,
        secret or sandbox.secret_key,
        request_id,
        path,
        body,
        timestamp=format_timestamp(datetime.now(timezone.utc) + clock_skew),
    )
    return requests.post(sandbox.url + path, data=body, headers=headers, timeout=5)


def _attempts(sandbox):
    """(Request-Id, body) of each request the sandbox received."""
    return [(r.headers["Request-Id"], r.body) for r in sandbox.server.requests]


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


# Lifecycle ------------------------------------------------------------------------------


OPENED = [
    (0, "PENDING"),
    (MINUTE - 5, "PENDING"),
    (MINUTE, "EMAIL_SENT"),
    (HOUR, "EMAIL_LINK_OPENED"),
]


@pytest.mark.parametrize(
    "email, timeline",
    [
        (
            "siti@example.com",
            OPENED + [(2 * HOUR, "CONFIRMED"), (3 * HOUR, "COMPLETED"), (30 * DAY, "COMPLETED")],
        ),
        (
            "fail.siti@example.com",
            OPENED
            + [
                (2 * HOUR, "PENDING_PROCESS"),
                (4 * HOUR, "PENDING_PROCESS"),
                (5 * HOUR, "FAILED"),
                (30 * DAY, "FAILED"),
            ],
        ),
        ("retry@example.com", OPENED + [(2 * HOUR, "PENDING_PROCESS"), (3 * HOUR, "COMPLETED")]),
        (
            "expire-siti@example.com",
            [
                (0, "PENDING"),
                (MINUTE, "EMAIL_SENT"),
                (DAY - MINUTE, "EMAIL_SENT"),
                (DAY, "EXPIRED"),
            ],
        ),
        ("stuck@example.com", OPENED + [(2 * HOUR, "CONFIRMED"), (30 * DAY, "CONFIRMED")]),
    ],
)
def test_lifecycle_follows_the_clock(sandbox, client, email, timeline):
    client.initiate(_fields(receiver_email=email), "1001")
    for at, raw_status in follow_clock(sandbox.server.clock, timeline):
        status = client.status("PAY_1")
        assert (at, status.raw_status) == (at, raw_status)
        assert status.state == doku.STATUS_MAPPING[raw_status]


def test_clock_can_be_set(sandbox):
    clock = sandbox.server.clock
    assert clock.set(datetime(2030, 1, 31, 10, 0)) - datetime(
        2030, 1, 31, 10, 0, tzinfo=timezone.utc
    ) < timedelta(seconds=1)
    clock.reset()
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=1)


# Faults ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http_500", "http_503"])
def test_server_error_is_retried_with_the_same_request(sandbox, client, sleeps, kind):
    sandbox.server.inject(kind)
    status = client.initiate(_fields(), "1001")
    response = client.last_response
    assert (status.raw_status, response.replayed) == ("PENDING", False)
    first, second = _attempts(sandbox)
    assert first == second and first[0] == "1001"
    assert sleeps == [0.5]


def test_server_errors_exhaust_the_retries(sandbox, client, sleeps):
    sandbox.server.inject("http_503", count=5)
    with pytest.raises(ProviderServerError) as caught:
        client.initiate(_fields(), "1001")
    assert caught.value.status == 503 and caught.value.retryable
    assert len(set(_attempts(sandbox))) == 1 and len(sandbox.server.requests) == 3
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert sandbox.payouts == {}


@pytest.mark.parametrize("kind", ["timeout", "reset"])
def test_lost_answer_is_retried_and_replayed(sandbox, sleeps, kind):
    # The sandbox did the work, the answer was lost: the retry must not pay twice.
    client = sandbox.client(timeout=0.3, sleep=sleeps.append)
    sandbox.server.inject(kind, seconds=1)
    status = client.initiate(_fields(), "1001")
    response = client.last_response
    assert (response.status, response.replayed, status.raw_status) == (409, True, "PENDING")
    first, second = _attempts(sandbox)
    assert first == second
    assert list(sandbox.payouts) == ["PAY_1"]


@pytest.mark.parametrize(
    "kind, error_class", [("timeout", ProviderTimeout), ("reset", ProviderNetworkError)]
)
def test_lost_answer_without_retries(sandbox, kind, error_class):
    client = sandbox.client(timeout=0.3, max_retries=0)
    sandbox.server.inject(kind, seconds=1)
    with pytest.raises(error_class) as caught:
        client.status("PAY_1")
    assert type(caught.value) is error_class and caught.value.retryable


def test_latency_within_the_timeout(sandbox, sleeps):
    client = sandbox.client(timeout=2, sleep=sleeps.append)
    sandbox.server.inject("latency", seconds=0.3)
    started = time.monotonic()
    status = client.initiate(_fields(), "1001")
    response = client.last_response
    assert time.monotonic() - started >= 0.3
    assert (response.replayed, status.raw_status, sleeps) == (False, "PENDING", [])


@pytest.mark.parametrize(
    "kind, error_class",
    [("malformed_json", ProviderMalformedResponse), ("bad_signature", ProviderBadSignature)],
)
def test_damaged_answer_is_not_retried(sandbox, client, sleeps, kind, error_class):
    sandbox.server.inject(kind)
    with pytest.raises(error_class):
        client.initiate(_fields(), "1001")
    assert len(sandbox.server.requests) == 1 and sleeps == []
    # The work was done: a status lookup (how Odoo reconciles) finds the link.
    assert client.status("PAY_1").raw_status == "PENDING"


def test_response_verification_can_be_off(sandbox, client):
    client.initiate(_fields(), "1001")
    sandbox.server.inject("bad_signature")
    assert sandbox.client(verify_responses=False).status("PAY_1").raw_status == "PENDING"


def test_unsigned_answers_are_taken_and_logged(sandbox, client, caplog):
    sandbox.signs_answers = False
    with caplog.at_level(logging.INFO, logger=doku.__name__):
        assert client.initiate(_fields(), "1001").raw_status == "PENDING"
    assert "Signature" not in client.last_response.headers
    assert "DOKU answered /v1/payout/initiate unsigned (HTTP 200)" in caplog.text
    sandbox.server.reset()
    assert sandbox.signs_answers, "a reset signs again"


def test_answer_for_another_request_is_refused(sandbox, client):
    original = sandbox._sign

    def sign_for_someone_else(request, response, wrong):
        request.headers["Request-Id"] = "999"
        original(request, response, wrong)

    sandbox.server.route(
        "POST", doku.STATUS_PATH, sandbox._status, sign=sign_for_someone_else
    )
    client.initiate(_fields(), "1001")
    with pytest.raises(ProviderBadSignature, match="Request-Id"):
        client.status("PAY_1")


def test_fault_only_hits_its_path(sandbox, client, sleeps):
    sandbox.server.inject("http_500", path=doku.STATUS_PATH)
    client.initiate(_fields(), "1001")
    assert sleeps == []
    client.status("PAY_1")
    assert sleeps == [0.5]


def test_fault_only_hits_the_body_it_names(sandbox, client, sleeps):
    sandbox.server.inject("http_503", path=doku.INITIATE_PATH, body_contains='"PAY_2"')
    client.initiate(_fields("PAY_1"), "1001")
    assert sleeps == []
    client.initiate(_fields("PAY_2"), "1002")
    assert sleeps == [0.5]


def test_requests_in_flight_are_counted(sandbox):
    server = sandbox.server
    server.inject("latency", count=4, seconds=0.3)
    threads = [
        threading.Thread(target=sandbox.client().initiate, args=(_fields(f"PAY_{i}"), str(i)))
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sandbox.payouts) == 4
    stats = sandbox.url + "/_sandbox/stats"
    assert requests.get(stats, timeout=5).json() == {"in_flight": 0, "max_in_flight": 4}
    assert requests.post(stats, timeout=5).json() == {"in_flight": 0, "max_in_flight": 4}
    assert server.stats() == {"in_flight": 0, "max_in_flight": 0}


def test_unknown_fault_kind(sandbox):
    with pytest.raises(ValueError, match="Unknown fault"):
        sandbox.server.inject("meteor")


def test_connection_refused(sleeps):
    sandbox = doku_sim.start()
    sandbox.server.stop()
    with pytest.raises(ProviderNetworkError):
        sandbox.client(max_retries=1, sleep=sleeps.append).status("PAY_1")
    assert sleeps == [0.5]


# Control endpoints and server ------------------------------------------------------------


def test_control_endpoints(sandbox, client, sleeps):
    control = sandbox.url + "/_sandbox/"
    client.initiate(_fields(), "1001")

    answer = requests.post(
        control + "faults", json={"kind": "http_503", "path": doku.STATUS_PATH}, timeout=5
    )
    assert answer.json() == {"faults": 1}
    answer = requests.post(control + "clock", json={"advance": 3 * HOUR}, timeout=5)
    assert parse_timestamp(answer.json()["now"]) > datetime.now(timezone.utc) + timedelta(
        hours=2, minutes=59
    )
    assert client.status("PAY_1").raw_status == "COMPLETED"
    assert sleeps == [0.5]

    journal = requests.get(control + "requests", timeout=5).json()["requests"]
    assert [(r["method"], r["path"]) for r in journal] == [
        ("POST", doku.INITIATE_PATH),
        ("POST", doku.STATUS_PATH),
        ("POST", doku.STATUS_PATH),
    ]
    assert journal[1]["json"] == {"transaction_id": "PAY_1"}
    assert journal[1]["headers"]["Request-Id"] == journal[2]["headers"]["Request-Id"]

    answer = requests.post(control + "clock", json={"set": "2030-01-31T10:00:00Z"}, timeout=5)
    assert answer.json()["now"].startswith("2030-01-31T10:00:0")
    assert requests.get(control + "clock", timeout=5).json()["now"].startswith("2030-01-31")

    assert requests.post(control + "reset", timeout=5).json() == {}
    assert not sandbox.server.requests and sandbox.payouts == {}
    assert requests.get(control + "clock", timeout=5).json()["now"][:10] == (
        datetime.now(timezone.utc).strftime("%Y-%m-%d")
    )


@pytest.mark.parametrize(
    "method, path, payload, status",
    [
        ("post", "faults", {"kind": "meteor"}, 400),
        ("post", "faults", {"kind": "reset", "colour": "red"}, 400),
        ("post", "clock", {}, 400),
        ("post", "clock", {"set": "soon"}, 400),
        ("get", "nothing", None, 404),
    ],
)
def test_control_errors(sandbox, method, path, payload, status):
    answer = requests.request(
        method, f"{sandbox.url}/_sandbox/{path}", json=payload, timeout=5
    )
    assert answer.status_code == status and answer.json()["error"]["message"]


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.1", "example.com", "::"])
def test_sandbox_listens_on_loopback_only(host):
    with pytest.raises(ValueError, match="loopback"):
        SandboxServer(host)


def test_server_as_context_manager():
    with SandboxServer() as server:
        answer = requests.get(server.url + "/v1/anything", timeout=5)
        assert answer.status_code == 404
        assert [r.path for r in server.requests] == ["/v1/anything"]


# SNAP ------------------------------------------------------------------------------------


@pytest.fixture(name="snap")
def snap_sandbox():
    """A sandbox of a DOKU account on SNAP, with a key pair it made."""
    started = doku_sim.start(scheme="snap")
    yield started
    started.server.stop()


def _paths(sandbox):
    return [r.path for r in sandbox.server.requests]


def test_snap_initiate_then_status_with_one_token(snap, sleeps):
    client = snap.client(sleep=sleeps.append)
    assert client.initiate(_fields(), "1001").raw_status == "PENDING"
    assert client.status("PAY_1").raw_status == "PENDING"
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH, doku.STATUS_PATH]
    token_call, initiate, status = snap.server.requests
    assert doku_snap.verify_token_request(snap.public_key, snap.client_id,
                                          token_call.headers["X-TIMESTAMP"],
                                          token_call.headers["X-SIGNATURE"])
    assert initiate.headers["X-EXTERNAL-ID"] == "1001"
    assert initiate.headers["Authorization"] == status.headers["Authorization"], "cached"
    assert initiate.body == json.dumps(doku.build_initiate_body(**_fields()),
                                       separators=(",", ":")).encode()
    assert "Signature" not in client.last_response.headers  # SNAP answers are not signed
    assert list(snap.payouts) == ["PAY_1"] and sleeps == []


def test_snap_revoked_token_is_renewed_once(snap):
    client = snap.client()
    client.initiate(_fields(), "1001")
    snap.revoke_tokens()
    assert client.status("PAY_1").raw_status == "PENDING"
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH, doku.STATUS_PATH,
                            doku_snap.TOKEN_PATH, doku.STATUS_PATH]
    refused, renewed = snap.server.requests[2], snap.server.requests[4]
    assert refused.headers["Authorization"] != renewed.headers["Authorization"]
    assert client.status("PAY_1").raw_status == "PENDING"
    assert len(snap.server.requests) == 6, "the new token is kept"


def test_snap_second_401_is_an_error_not_a_loop(snap):
    class Forgetful(dict):
        def __setitem__(self, token, expires):
            pass  # DOKU takes no token it issues: every call is answered 401

    client = snap.client()
    snap.tokens = Forgetful()
    with pytest.raises(ProviderRefusal) as caught:
        client.initiate(_fields(), "1001")
    assert (caught.value.status, caught.value.code) == (401, "4010001")
    assert caught.value.message == "Invalid Token (B2B)"
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH] * 2
    assert snap.payouts == {}


def test_snap_token_is_renewed_before_it_expires(snap):
    now = [1000.0]
    client = snap.client(monotonic=lambda: now[0])
    client.initiate(_fields(), "1001")
    now[0] += doku_sim.TOKEN_TTL - doku_snap.TOKEN_MARGIN - 1
    client.status("PAY_1")
    assert _paths(snap).count(doku_snap.TOKEN_PATH) == 1
    now[0] += 1
    client.status("PAY_1")
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH, doku.STATUS_PATH,
                            doku_snap.TOKEN_PATH, doku.STATUS_PATH], "no 401 on the way"


def test_snap_token_needs_the_matching_private_key(snap):
    other_private, _public = doku_sim.new_key_pair()
    client = doku_snap.DokuSnapClient(snap.url, snap.client_id, snap.secret_key, other_private)
    with pytest.raises(ProviderRefusal) as caught:
        client.status("PAY_1")
    assert (caught.value.status, caught.value.code) == (401, "4017300")
    assert _paths(snap) == [doku_snap.TOKEN_PATH], "no call without a token"


def _snap_post(snap, path, body, **headers):
    """A hand-made SNAP call with a fresh token, to send what DokuSnapClient never would."""
    client = snap.client()
    token = client._access_token()
    timestamp = doku_snap.snap_timestamp()
    values = {
        "X-TIMESTAMP": timestamp, "X-PARTNER-ID": snap.client_id, "X-EXTERNAL-ID": "77",
        "CHANNEL-ID": "H2H", "Authorization": f"Bearer {token}",
        "X-SIGNATURE": doku_snap.sign(
            snap.secret_key, doku_snap.string_to_sign("POST", path, token, body, timestamp)),
        "Content-Type": "application/json",
    }
    values.update(headers)
    return requests.post(snap.url + path, data=body, timeout=5,
                         headers={k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize(
    "headers, status, code",
    [
        ({}, 200, None),
        ({"X-SIGNATURE": "bad"}, 401, "4010000"),
        ({"X-PARTNER-ID": "SOMEONE-ELSE"}, 401, "4010000"),
        ({"Authorization": "Bearer forged"}, 401, "4010001"),
        ({"X-EXTERNAL-ID": "REQ-1"}, 400, "4000000"),
        ({"CHANNEL-ID": None}, 400, "4000000"),
        ({"X-TIMESTAMP": "2024-01-01T10:00:00+07:00"}, 401, "4010000"),
    ],
)
def test_snap_sandbox_checks_each_header(snap, headers, status, code):
    body = json.dumps(doku.build_initiate_body(**_fields()), separators=(",", ":")).encode()
    answer = _snap_post(snap, doku.INITIATE_PATH, body, **headers)
    assert answer.status_code == status
    assert answer.json().get("responseCode") == code
    assert len(snap.payouts) == (1 if status == 200 else 0)


def test_snap_sandbox_refuses_a_tampered_body(snap):
    body = json.dumps(doku.build_initiate_body(**_fields())).encode()
    client = snap.client()
    token = client._access_token()
    timestamp = doku_snap.snap_timestamp()
    signature = doku_snap.sign(snap.secret_key, doku_snap.string_to_sign(
        "POST", doku.INITIATE_PATH, token, body, timestamp))
    answer = requests.post(snap.url + doku.INITIATE_PATH, timeout=5,
                           data=body.replace(b"250000", b"950000"), headers={
                               "X-TIMESTAMP": timestamp, "X-PARTNER-ID": snap.client_id,
                               "X-EXTERNAL-ID": "78", "CHANNEL-ID": "H2H",
                               "Authorization": f"Bearer {token}", "X-SIGNATURE": signature})
    assert (answer.status_code, answer.json()["responseMessage"]) == (
        401, "Unauthorized. Invalid Signature")
    assert snap.payouts == {}


def test_snap_lost_answer_then_reused_external_id_is_a_conflict(snap, sleeps):
    """SNAP answers a reused X-EXTERNAL-ID with 409 Conflict, not the original answer:
    the client says so (Odoo then looks the payout up), and DOKU holds one payout."""
    client = snap.client(timeout=0.3, sleep=sleeps.append)
    snap.server.inject("reset", path=doku.INITIATE_PATH)
    with pytest.raises(ProviderConflict) as caught:
        client.initiate(_fields(), "1001")
    assert (caught.value.status, caught.value.code) == (409, "4090000")
    initiates = [r for r in snap.server.requests if r.path == doku.INITIATE_PATH]
    assert [r.headers["X-EXTERNAL-ID"] for r in initiates] == ["1001", "1001"]
    assert list(snap.payouts) == ["PAY_1"]
    assert client.status("PAY_1").raw_status == "PENDING"


def test_snap_refusal_keeps_its_external_id_free(snap):
    client = snap.client()
    with pytest.raises(FieldValidationError):
        client.initiate(_fields(amount=0), "1001")
    body = json.dumps({**doku.build_initiate_body(**_fields()), "amount": 0}).encode()
    refused = _snap_post(snap, doku.INITIATE_PATH, body, **{"X-EXTERNAL-ID": "1001"})
    assert (refused.status_code, refused.json()["responseCode"]) == (400, "4000001")
    assert client.initiate(_fields(), "1001").raw_status == "PENDING"
