"""Plain pytest tests of XenditClient against the Xendit sandbox, over real loopback HTTP."""

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from odoo.addons.hr_payout_link.controllers.xendit import XenditCallbackController
from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import (
    FieldValidationError,
    ProviderClientError,
    ProviderMalformedResponse,
    ProviderNetworkError,
    ProviderServerError,
    ProviderTimeout,
)
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR, MINUTE
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.fakes import (
    DOKU_FIELDS,
    PAYOUT_ARGS,
    PAYOUT_BODY,
    follow_clock,
)

CALLBACK_URL = XenditCallbackController._payouts_url  # Odoo's route for v2 events


# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(xendit_sim.start)
client, sleeps = fakes.client, fakes.sleeps


class _ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, CaseInsensitiveDict(self.headers.items()), body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def receiver():
    """A tiny local HTTP server standing in for Odoo's callback controller."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReceiverHandler)
    server.daemon_threads = True
    server.received, server.status = [], 200
    server.url = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK_URL}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    thread.join()
    server.server_close()


def _basic(key):
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _link(client, email="siti@example.com", external_id="PAY1", key="link-key-1", amount=250000):
    status = client.create_payout_link(external_id, amount, email, key)
    return status.provider_reference


def _payout(client, **overrides):
    status = client.create_payout(**{**PAYOUT_ARGS, **overrides})
    return status.provider_reference


def _post(sandbox, path, payload=None, *, key=None, headers=None):
    """A raw request, to send what XenditClient never would."""
    body = payload if isinstance(payload, bytes) or payload is None else json.dumps(payload)
    return requests.post(
        sandbox.url + path,
        data=body,
        headers={"Authorization": _basic(key or sandbox.secret_key), **(headers or {})},
        timeout=5,
    )


def _keys(sandbox):
    """(method, path, idempotency key) of each request the sandbox received."""
    return [
        (
            r.method,
            r.path,
            r.headers.get("Idempotency-key") or r.headers.get("X-IDEMPOTENCY-KEY"),
        )
        for r in sandbox.server.requests
    ]


# Requests as the sandbox received them ---------------------------------------------------


def test_payout_link_requests(sandbox, client):
    status = client.create_payout_link("PAY1", 250000, "siti@example.com", "lk-1")
    response = client.last_response
    assert (response.status, response.replayed, status.raw_status, status.state) == (
        200,
        False,
        "PENDING",
        "sent",
    )
    link = response.data
    assert {k: link[k] for k in ("external_id", "amount", "email", "status")} == {
        "external_id": "PAY1",
        "amount": 250000,
        "email": "siti@example.com",
        "status": "PENDING",
    }
    assert (
        link["payout_url"].endswith(link["id"]) and link["expiration_timestamp"] > link["created"]
    )

    assert client.get_payout_link(link["id"]).raw_status == "PENDING"
    status = client.void_payout_link(link["id"], "void-1")
    assert (status.raw_status, status.state) == ("VOIDED", "cancelled")

    create, get, void = sandbox.server.requests
    assert (create.method, create.path) == ("POST", "/payouts")
    assert create.body == b'{"external_id":"PAY1","amount":250000,"email":"siti@example.com"}'
    assert create.headers["Authorization"] == _basic(sandbox.secret_key)
    assert create.headers["X-IDEMPOTENCY-KEY"] == "lk-1"
    assert create.headers["Content-Type"] == "application/json"
    assert (get.method, get.path, get.body) == ("GET", f"/payouts/{link['id']}", b"")
    assert get.headers["Authorization"] == _basic(sandbox.secret_key)
    assert "X-IDEMPOTENCY-KEY" not in get.headers
    assert (void.method, void.path, void.body) == ("POST", f"/payouts/{link['id']}/void", b"")
    assert void.headers["X-IDEMPOTENCY-KEY"] == "void-1"


def test_payout_v2_requests(sandbox, client):
    status = client.create_payout(**PAYOUT_ARGS)
    response = client.last_response
    payout = response.data
    assert (status.raw_status, status.state) == ("ACCEPTED", "processing")
    assert payout["id"].startswith("disb-") and payout["business_id"] == xendit_sim.BUSINESS_ID
    assert client.get_payout(payout["id"]).raw_status == "ACCEPTED"
    assert [s.provider_reference for s in client.find_payouts("PL-2025-0001")] == [payout["id"]]
    assert client.find_payouts("PL-other") == []
    assert client.cancel_payout(payout["id"]).raw_status == "CANCELLED"
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE

    create, get, find, _find, cancel, balance = sandbox.server.requests
    assert (create.method, create.path) == ("POST", "/v2/payouts")
    assert create.headers["Idempotency-key"] == "db-1-PL-2025-0001"
    assert create.headers["Authorization"] == _basic(sandbox.secret_key)
    assert create.json == PAYOUT_BODY
    assert (get.method, get.path) == ("GET", f"/v2/payouts/{payout['id']}")
    assert (find.method, find.path, find.query) == (
        "GET",
        "/v2/payouts",
        {"reference_id": "PL-2025-0001"},
    )
    assert (cancel.method, cancel.path, cancel.body) == (
        "POST",
        f"/v2/payouts/{payout['id']}/cancel",
        b"",
    )
    assert (balance.method, balance.path) == ("GET", "/balance")
    assert all(r.headers["Authorization"] == _basic(sandbox.secret_key) for r in (get, balance))


# Authentication --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["xnd_development_wrong", ""])
def test_wrong_api_key(sandbox, key, sleeps):
    client = xendit.XenditClient(sandbox.url, key, sleep=sleeps.append)
    with pytest.raises(ProviderClientError) as caught:
        client.get_balance()
    error = caught.value
    assert (error.status, error.code) == (401, "INVALID_API_KEY")
    assert error.message == "The Xendit API key is wrong or missing."
    assert sleeps == []  # 4xx: no retry


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer x"}, {"Authorization": "Basic !!!"}, {"Authorization": "Basic"}],
)
def test_missing_or_broken_auth(sandbox, headers):
    answer = requests.get(sandbox.url + "/balance", headers=headers, timeout=5)
    assert (answer.status_code, answer.json()["error_code"]) == (401, "INVALID_API_KEY")


def test_password_is_ignored(sandbox):
    answer = requests.get(sandbox.url + "/balance", auth=(sandbox.secret_key, "x"), timeout=5)
    assert answer.json() == {"balance": xendit_sim.DEFAULT_BALANCE}


def test_read_only_key_cannot_move_money(sandbox):
    client = xendit.XenditClient(sandbox.url, xendit_sim.READ_ONLY_KEY)
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE
    with pytest.raises(ProviderClientError) as caught:
        client.create_payout(**PAYOUT_ARGS)
    assert (caught.value.status, caught.value.code) == (403, "REQUEST_FORBIDDEN_ERROR")
    assert "Money-out write permission" in caught.value.message
    assert sandbox.payouts == {}


# Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_payout_link("PAY-1", 250000, "siti@example.com", "k1"),
        lambda c: c.create_payout_link("PAY1", 100.5, "siti@example.com", "k1"),
        lambda c: c.create_payout_link("PAY1", 250000, "siti", "k1"),
        lambda c: c.create_payout(**{**PAYOUT_ARGS, "account_number": "12 34"}),
        lambda c: c.create_payout(**{**PAYOUT_ARGS, "idempotency_key": None}),
        lambda c: c.get_payout("../balance"),
    ],
)
def test_validation_errors_send_nothing(sandbox, client, call):
    with pytest.raises(FieldValidationError):
        call(client)
    assert not sandbox.server.requests


@pytest.mark.parametrize(
    "path, payload, code, message",
    [
        (
            "/payouts",
            {"external_id": "PAY-1", "amount": 1000, "email": "a@example.com"},
            "API_VALIDATION_ERROR",
            "external_id: 1 to 30 letters and digits only",
        ),
        (
            "/payouts",
            {"external_id": "PAY1", "amount": 0, "email": "a@example.com"},
            "API_VALIDATION_ERROR",
            "amount: must be greater than 0",
        ),
        (
            "/payouts",
            {"external_id": "PAY1", "amount": 1000},
            "API_VALIDATION_ERROR",
            "email: required",
        ),
        ("/payouts", b"<xml/>", "INVALID_JSON_FORMAT", "The body must be a JSON object."),
        (
            "/v2/payouts",
            {"reference_id": "R1", "channel_code": "ID_BCA", "amount": 20000, "currency": "IDR"},
            "API_VALIDATION_ERROR",
            "account_number: required",
        ),
        (
            "/v2/payouts",
            {
                "reference_id": "R1",
                "channel_code": "ID_BCA",
                "channel_properties": {"account_number": "1", "account_holder_name": "A"},
                "amount": 20000,
                "currency": "USD",
            },
            "API_VALIDATION_ERROR",
            "currency: Indonesian channels pay IDR only",
        ),
    ],
)
def test_sandbox_checks_fields_itself(sandbox, path, payload, code, message):
    answer = _post(sandbox, path, payload, headers={"Idempotency-key": "k1"})
    assert answer.status_code == 400
    assert (answer.json()["error_code"], answer.json()["message"]) == (code, message)
    assert sandbox.links == {} and sandbox.payouts == {}


def test_sandbox_requires_the_v2_idempotency_key(sandbox):
    body = xendit.build_payout_body("R1", "ID_BCA", "1234567890", "Siti", 20000)
    answer = _post(sandbox, "/v2/payouts", body)
    assert answer.status_code == 400
    assert answer.json()["message"] == "Idempotency-key: required"
    assert sandbox.payouts == {}


@pytest.mark.parametrize(
    "overrides, code, message",
    [
        (
            {"channel_code": "ID_NOWHERE"},
            "CHANNEL_CODE_NOT_SUPPORTED",
            "Xendit cannot pay to this bank.",
        ),
        (
            {"amount": 9999},
            "MINIMUM_TRANSFER_LIMIT_ERROR",
            "The amount is below the minimum this bank accepts through Xendit.",
        ),
        (
            {"amount": 250_000_001},
            "MAXIMUM_TRANSFER_LIMIT_ERROR",
            "The amount is above the maximum this bank accepts through Xendit.",
        ),
        (
            {"account_number": "4000000000"},
            "RECIPIENT_ACCOUNT_NUMBER_ERROR",
            "The bank account number is not valid for this bank.",
        ),
    ],
)
def test_payout_refused_at_once(sandbox, client, overrides, code, message):
    with pytest.raises(ProviderClientError) as caught:
        _payout(client, **overrides)
    assert (caught.value.status, caught.value.code, caught.value.message) == (400, code, message)
    assert sandbox.payouts == {} and client.get_balance() == xendit_sim.DEFAULT_BALANCE


def test_unknown_ids(client):
    for call in (client.get_payout_link, client.get_payout, client.cancel_payout):
        with pytest.raises(ProviderClientError) as caught:
            call("nope")
        assert (caught.value.status, caught.value.code) == (404, "PAYOUT_NOT_FOUND")
    with pytest.raises(ProviderClientError):
        client.void_payout_link("nope", "k1")


# Idempotency -----------------------------------------------------------------------------


def test_replay_returns_the_original_answer(sandbox, client):
    first_status = client.create_payout(**PAYOUT_ARGS)
    first = client.last_response
    sandbox.server.clock.advance(HOUR)  # the payout moved on meanwhile
    status = client.create_payout(**PAYOUT_ARGS)
    again = client.last_response
    assert (again.status, again.replayed) == (409, True)
    assert again.body == first.body and status == first_status
    assert len(sandbox.payouts) == 1
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE - 250000  # paid once


def test_link_replay(sandbox, client):
    link_id = _link(client)
    status = client.create_payout_link("PAY1", 250000, "siti@example.com", "link-key-1")
    again = client.last_response
    assert (again.replayed, status.provider_reference) == (True, link_id)
    assert len(sandbox.links) == 1


def test_reused_key_with_another_body_is_refused(sandbox, client):
    _payout(client)
    with pytest.raises(ProviderClientError) as caught:
        _payout(client, amount=300000)
    assert (caught.value.status, caught.value.code) == (409, "DUPLICATE_ERROR")
    assert "never pays it twice" in caught.value.message and not caught.value.refusal
    assert len(sandbox.payouts) == 1


def test_keys_of_the_two_apis_are_separate(sandbox, client):
    _link(client, key="same")
    _payout(client, idempotency_key="same")
    assert (len(sandbox.links), len(sandbox.payouts)) == (1, 1)


def test_reused_external_id_is_refused(sandbox, client):
    body = {"external_id": "PAY1", "amount": 1000, "email": "a@example.com"}
    first, second = _post(sandbox, "/payouts", body), _post(sandbox, "/payouts", body)
    assert (first.status_code, second.status_code) == (200, 400)
    assert second.json()["error_code"] == "DUPLICATE_PAYOUT_ERROR"
    # Under another key too: Xendit may hold the link, so it is never a refusal.
    with pytest.raises(ProviderClientError) as caught:
        client.create_payout_link("PAY1", 1000, "a@example.com", "another-key")
    assert (caught.value.code, caught.value.refusal) == ("DUPLICATE_PAYOUT_ERROR", False)
    assert len(sandbox.links) == 1


def test_link_key_without_replays_is_not_honoured(sandbox, client):
    """Where Xendit does not replay a link's key (the docs promise no key for links), a
    repeat is refused by its external_id: one link, an unknown outcome."""
    sandbox.configure(replays=False)
    link_id = _link(client)
    with pytest.raises(ProviderClientError) as caught:
        _link(client)
    assert (caught.value.code, caught.value.refusal) == ("DUPLICATE_PAYOUT_ERROR", False)
    assert list(sandbox.links) == [link_id]
    assert client.void_payout_link(link_id, "v1").raw_status == "VOIDED"
    assert client.void_payout_link(link_id, "v1").raw_status == "VOIDED"  # a no-op again


def test_refused_request_does_not_use_up_its_key(sandbox, client):
    with pytest.raises(ProviderClientError):
        _payout(client, amount=1000)  # under the minimum
    status = client.create_payout(**PAYOUT_ARGS)
    response = client.last_response
    assert (response.status, status.raw_status) == (200, "ACCEPTED")


def test_replay_with_200(sandbox, client):
    sandbox.configure(replay_status=200)
    client.create_payout(**PAYOUT_ARGS)
    first = client.last_response
    client.create_payout(**PAYOUT_ARGS)
    again = client.last_response
    assert (again.status, again.replayed, again.body) == (200, False, first.body)
    assert len(sandbox.payouts) == 1


def test_strict_keys_reconcile_by_lookup(sandbox, sleeps):
    """Where Xendit answers every reuse of a key with an error, a lost answer is found by
    its reference, never paid again under a new key."""
    sandbox.configure(replays=False)
    client = sandbox.client(timeout=0.3, sleep=sleeps.append)
    sandbox.server.inject("timeout", seconds=1)
    with pytest.raises(ProviderClientError) as caught:
        client.create_payout(**PAYOUT_ARGS)
    assert caught.value.code == "DUPLICATE_ERROR"
    [found] = client.find_payouts(PAYOUT_ARGS["reference_id"])
    assert found.raw_status == "ACCEPTED" and len(sandbox.payouts) == 1


# Faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["http_500", "http_503"])
def test_server_error_is_retried_with_the_same_key(sandbox, client, sleeps, kind):
    sandbox.server.inject(kind)
    status = client.create_payout(**PAYOUT_ARGS)
    response = client.last_response
    assert (status.raw_status, response.replayed) == ("ACCEPTED", False)
    first, second = _keys(sandbox)
    assert first == second == ("POST", "/v2/payouts", "db-1-PL-2025-0001")
    assert sleeps == [0.5] and len(sandbox.payouts) == 1


def test_server_errors_exhaust_the_retries(sandbox, client, sleeps):
    sandbox.server.inject("http_503", count=5)
    with pytest.raises(ProviderServerError) as caught:
        _link(client)
    assert caught.value.status == 503 and caught.value.retryable
    assert caught.value.code == "SERVER_ERROR"
    assert len(set(_keys(sandbox))) == 1 and len(sandbox.server.requests) == 3
    assert sleeps == [0.5, 1.0] and sandbox.links == {}


@pytest.mark.parametrize("kind", ["timeout", "reset"])
def test_lost_answer_is_retried_with_the_same_key_and_pays_once(sandbox, sleeps, kind):
    client = sandbox.client(timeout=0.3, sleep=sleeps.append)
    sandbox.server.inject(kind, seconds=1)
    status = client.create_payout(**PAYOUT_ARGS)
    response = client.last_response
    assert (response.status, response.replayed, status.raw_status) == (409, True, "ACCEPTED")
    first, second = _keys(sandbox)
    assert first == second == ("POST", "/v2/payouts", "db-1-PL-2025-0001")
    assert sandbox.server.requests[0].body == sandbox.server.requests[1].body
    assert len(sandbox.payouts) == 1
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE - 250000


def test_lost_link_answer_is_replayed(sandbox, sleeps):
    client = sandbox.client(timeout=0.3, sleep=sleeps.append)
    sandbox.server.inject("timeout", seconds=1)
    status = client.create_payout_link("PAY1", 250000, "a@example.com", "lk-1")
    response = client.last_response
    assert (response.replayed, status.raw_status) == (True, "PENDING")
    assert len(sandbox.links) == 1 and len(set(_keys(sandbox))) == 1


@pytest.mark.parametrize(
    "kind, error_class", [("timeout", ProviderTimeout), ("reset", ProviderNetworkError)]
)
def test_lost_answer_without_retries(sandbox, kind, error_class):
    client = sandbox.client(timeout=0.3, max_retries=0)
    sandbox.server.inject(kind, seconds=1)
    with pytest.raises(error_class) as caught:
        client.get_balance()
    assert type(caught.value) is error_class and caught.value.retryable


def test_fault_rate_hits_only_its_path_and_method(sandbox, client, sleeps):
    server = sandbox.server
    server.inject_rate(1, kinds=["http_503"], path="/v2/payouts", method="post")
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE
    assert client.find_payouts("db-1-PL-2025-0001") == []  # a GET of the same path
    with pytest.raises(ProviderServerError):
        client.create_payout(**PAYOUT_ARGS)
    assert server.fault_rate()["injected"] == {"http_503": 3}  # the call and its 2 retries
    assert sandbox.payouts == {}


def test_fault_rate_faults_a_share_of_the_requests(sandbox):
    client = sandbox.client(max_retries=0)

    def failures(seed):
        sandbox.server.inject_rate(0.3, kinds=["http_500"], seed=seed)
        failed = 0
        for _call in range(50):
            try:
                client.get_balance()
            except ProviderServerError:
                failed += 1
        return failed

    first = failures(seed=7)
    assert sandbox.server.fault_rate()["injected"] == {"http_500": first}
    assert 5 <= first <= 25
    assert failures(seed=7) == first  # a seed repeats the draws


def test_fault_rate_control_and_reset(sandbox, client):
    control = sandbox.url + "/_sandbox/faults/rate"
    answer = requests.post(control, json={"rate": 1, "kinds": ["malformed_json"]}, timeout=5)
    assert answer.json() == {"rate": 1.0, "kinds": ["malformed_json"], "path": None,
                             "method": None, "seconds": None, "injected": {}}
    with pytest.raises(ProviderMalformedResponse):
        client.get_balance()
    assert requests.get(control, timeout=5).json()["injected"] == {"malformed_json": 1}
    for wrong in ({"rate": 2}, {"rate": 0.1, "kinds": ["meteor"]}, {"share": 0.1}):
        assert requests.post(control, json=wrong, timeout=5).status_code == 400
    sandbox.server.reset()
    assert requests.get(control, timeout=5).json()["rate"] == 0
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE


def test_latency_within_the_timeout(sandbox, sleeps):
    client = sandbox.client(timeout=2, sleep=sleeps.append)
    sandbox.server.inject("latency", seconds=0.3)
    started = time.monotonic()
    status = client.create_payout(**PAYOUT_ARGS)
    response = client.last_response
    assert time.monotonic() - started >= 0.3
    assert (response.replayed, status.raw_status, sleeps) == (False, "ACCEPTED", [])


def test_malformed_answer_is_not_retried(sandbox, client, sleeps):
    sandbox.server.inject("malformed_json")
    with pytest.raises(ProviderMalformedResponse):
        client.create_payout(**PAYOUT_ARGS)
    assert len(sandbox.server.requests) == 1 and sleeps == []
    # The work was done: a lookup by reference (how Odoo reconciles) finds it.
    [found] = client.find_payouts(PAYOUT_ARGS["reference_id"])
    assert found.raw_status == "ACCEPTED"


def test_bad_signature_fault_is_harmless(sandbox, client):
    # Xendit's answers are not signed: there is nothing to damage.
    sandbox.server.inject("bad_signature")
    assert client.create_payout(**PAYOUT_ARGS).raw_status == "ACCEPTED"


def test_fault_only_hits_its_path(sandbox, client, sleeps):
    link_id = _link(client)
    sandbox.server.inject("http_500", path=f"/payouts/{link_id}")
    client.get_balance()
    assert sleeps == []
    client.get_payout_link(link_id)
    assert sleeps == [0.5]


def test_connection_refused(sleeps):
    sandbox = xendit_sim.start()
    sandbox.server.stop()
    with pytest.raises(ProviderNetworkError):
        sandbox.client(max_retries=1, sleep=sleeps.append).get_balance()
    assert sleeps == [0.5]


# Payout Link lifecycle ------------------------------------------------------------------


@pytest.mark.parametrize(
    "email, timeline",
    [
        (
            "siti@example.com",
            [(0, "PENDING"), (DAY, "PENDING"), (3 * DAY - 1, "PENDING"), (3 * DAY, "VOIDED")],
        ),
        (
            "claim.siti@example.com",
            [
                (0, "PENDING"),
                (HOUR - 1, "PENDING"),
                (HOUR, "CLAIMED"),
                (HOUR + 14 * MINUTE, "CLAIMED"),
                (HOUR + 15 * MINUTE, "COMPLETED"),
                (10 * DAY, "COMPLETED"),
            ],
        ),
        (
            "invalid@example.com",
            [(0, "PENDING"), (HOUR, "CLAIMED"), (HOUR + 15 * MINUTE, "FAILED")],
        ),
        ("wrongpass@example.com", [(HOUR - 1, "PENDING"), (HOUR, "FAILED"), (5 * DAY, "FAILED")]),
    ],
)
def test_link_lifecycle_follows_the_clock(sandbox, client, email, timeline):
    link_id = _link(client, email)
    for at, raw_status in follow_clock(sandbox.server.clock, timeline):
        status = client.get_payout_link(link_id)
        assert (at, status.raw_status) == (at, raw_status)
        expected = "expired" if at >= 3 * DAY and email == "siti@example.com" else (
            xendit.LINK_STATUS_MAPPING[raw_status])
        assert status.state == expected


@pytest.mark.parametrize("expiry_status", ["VOIDED", "FAILED", "EXPIRED"])
def test_an_expiry_reads_expired_whatever_status_tells_it(sandbox, client, expiry_status):
    sandbox.configure(expiry_status=expiry_status)
    link_id = _link(client)
    sandbox.server.clock.advance(3 * DAY)
    status = client.get_payout_link(link_id)
    assert (status.raw_status, status.state, status.reason) == (expiry_status, "expired", None)
    assert status.raw["updated"] == status.raw["expiration_timestamp"]


def test_link_failure_reasons(sandbox, client):
    invalid = _link(client, "invalid@example.com", "PAY1", "k1")
    wrong = _link(client, "wrongpass@example.com", "PAY2", "k2")
    sandbox.server.clock.advance(2 * HOUR)
    invalid, wrong = client.get_payout_link(invalid), client.get_payout_link(wrong)
    assert invalid.raw["failure_reason"] == "INVALID_DESTINATION"
    assert invalid.raw["account_number"] == "4000000001" and invalid.raw["claimed_timestamp"]
    assert xendit.failure_message(wrong) == xendit.message_of("TOO_MANY_WRONG_PASSWORDS")
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE  # the failed claim was refunded


def test_claim_control_endpoint(sandbox, client):
    link_id = _link(client)
    answer = requests.post(
        sandbox.url + "/_sandbox/xendit/claim",
        json={"id": link_id, "bank_code": "MANDIRI", "account_number": "1300012345678"},
        timeout=5,
    )
    assert answer.json()["status"] == "CLAIMED"
    assert answer.json()["bank_code"] == "MANDIRI"
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE - 250000
    sandbox.server.clock.advance(15 * MINUTE)
    assert client.get_payout_link(link_id).raw_status == "COMPLETED"
    sandbox.server.clock.advance(5 * DAY)  # the expiry no longer applies
    assert client.get_payout_link(link_id).raw_status == "COMPLETED"


@pytest.mark.parametrize(
    "claim, status",
    [
        ({"wrong_passwords": 3}, "FAILED"),
        ({"wrong_passwords": 2}, "COMPLETED"),
        ({"account_number": "4000000002"}, "FAILED"),
        ({"account_number": "4000000003"}, "CLAIMED"),
        ({"account_number": "121212"}, "FAILED"),  # Xendit's test accounts, as for v2
        ({"account_number": "999999"}, "FAILED"),
    ],
)
def test_claim_outcomes(sandbox, client, claim, status):
    link_id = _link(client)
    sandbox.claim(link_id, **claim)
    sandbox.server.clock.advance(DAY)
    assert client.get_payout_link(link_id).raw_status == status


def test_claim_beyond_the_balance_fails(sandbox, client):
    link_id = _link(client, amount=600_000_000)
    _link(client, external_id="PAY2", key="k2", amount=600_000_000)
    sandbox.claim(link_id)
    assert client.get_balance() == 400_000_000
    second = next(i for i in sandbox.links if i != link_id)
    sandbox.claim(second)
    sandbox.server.clock.advance(HOUR)
    status = client.get_payout_link(second)
    assert (status.raw_status, status.raw["failure_reason"]) == ("FAILED", "INSUFFICIENT_BALANCE")
    assert client.get_payout_link(link_id).raw_status == "COMPLETED"
    assert client.get_balance() == 400_000_000


@pytest.mark.parametrize(
    "params", [{"id": "nope"}, {}, {"id": "x", "colour": "red"}], ids=["unknown", "no id", "bad"]
)
def test_claim_control_errors(sandbox, params):
    answer = requests.post(sandbox.url + "/_sandbox/xendit/claim", json=params, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["message"]


def test_void_before_claim(sandbox, client):
    link_id = _link(client)
    status = client.void_payout_link(link_id, "void-1")
    assert (status.raw_status, status.state) == ("VOIDED", "cancelled")
    assert client.void_payout_link(link_id, "void-2").raw_status == "VOIDED"  # no-op
    sandbox.server.clock.advance(4 * DAY)
    assert client.get_payout_link(link_id).raw_status == "VOIDED"  # never expires


def test_void_after_claim_is_refused(sandbox, client):
    link_id = _link(client, "claim@example.com")
    sandbox.server.clock.advance(HOUR)
    with pytest.raises(ProviderClientError) as caught:
        client.void_payout_link(link_id, "void-1")
    error = caught.value
    assert (error.status, error.code) == (400, "CANNOT_VOID_PAYOUT")
    assert error.message == (
        "The payout link can no longer be voided: the employee already claimed it, or it "
        "is finished."
    )
    assert "CLAIMED" in error.body
    sandbox.server.clock.advance(HOUR)
    assert client.get_payout_link(link_id).raw_status == "COMPLETED"  # still paid


def test_void_of_an_expired_link_tells_the_expiry(sandbox, client):
    link_id = _link(client)
    sandbox.server.clock.advance(3 * DAY)  # voided by its expiry: a void is a no-op
    assert client.void_payout_link(link_id, "void-1").state == "expired"
    sandbox.configure(expiry_status="FAILED")
    link_id = _link(client, external_id="PAY2", key="k2")
    sandbox.server.clock.advance(3 * DAY)
    with pytest.raises(ProviderClientError, match="no longer be voided"):
        client.void_payout_link(link_id, "void-2")


# Payouts v2 lifecycle --------------------------------------------------------------------


@pytest.mark.parametrize(
    "account, timeline",
    [
        (
            "1234567890",
            [
                (0, "ACCEPTED"),
                (MINUTE, "REQUESTED"),
                (15 * MINUTE - 1, "REQUESTED"),
                (15 * MINUTE, "SUCCEEDED"),
                (DAY, "SUCCEEDED"),
            ],
        ),
        ("4000000001", [(MINUTE, "REQUESTED"), (15 * MINUTE, "FAILED")]),
        ("4000000002", [(MINUTE - 1, "ACCEPTED"), (MINUTE, "FAILED")]),
        (
            "4000000003",
            [(MINUTE, "PENDING_COMPLIANCE_ASSESSMENT"), (DAY, "PENDING_COMPLIANCE_ASSESSMENT")],
        ),
        (
            "4000000004",
            [(15 * MINUTE, "SUCCEEDED"), (75 * MINUTE - 1, "SUCCEEDED"), (75 * MINUTE, "REVERSED")],
        ),
        ("4000000005", [(MINUTE, "PENDING_COMPLIANCE_ASSESSMENT"), (HOUR, "COMPLIANCE_REJECTED")]),
        ("131313", [(0, "ACCEPTED"), (30 * DAY, "ACCEPTED")]),
    ],
)
def test_payout_lifecycle_follows_the_clock(sandbox, client, account, timeline):
    payout_id = _payout(client, account_number=account)
    for at, raw_status in follow_clock(sandbox.server.clock, timeline):
        status = client.get_payout(payout_id)
        assert (at, status.raw_status) == (at, raw_status)
        assert status.state == xendit.PAYOUT_STATUS_MAPPING[raw_status]


@pytest.mark.parametrize(
    "account, failure_code, balance_after",
    [
        ("1234567890", None, xendit_sim.DEFAULT_BALANCE - 250000),
        ("4000000001", "INVALID_DESTINATION", xendit_sim.DEFAULT_BALANCE),
        ("4000000002", "INSUFFICIENT_BALANCE", xendit_sim.DEFAULT_BALANCE),
        ("4000000004", None, xendit_sim.DEFAULT_BALANCE),  # reversed: money back
        ("4000000005", None, xendit_sim.DEFAULT_BALANCE),
    ],
)
def test_payout_outcomes_and_balance(sandbox, client, account, failure_code, balance_after):
    payout_id = _payout(client, account_number=account)
    sandbox.server.clock.advance(DAY)
    assert client.get_payout(payout_id).raw.get("failure_code") == failure_code
    assert client.get_balance() == balance_after


def test_payout_beyond_the_balance_fails(sandbox, client):
    sandbox.configure(balance=100000)
    assert client.get_balance() == 100000
    status = client.create_payout(**PAYOUT_ARGS)
    assert status.raw_status == "ACCEPTED"  # Xendit accepts, then fails it
    sandbox.server.clock.advance(MINUTE)
    status = client.get_payout(status.provider_reference)
    assert (status.raw_status, status.state) == ("FAILED", "failed")
    assert xendit.failure_message(status) == "The Xendit balance is too low for this payout."
    assert client.get_balance() == 100000


def test_cancel_only_while_accepted(sandbox, client):
    stays = _payout(client, account_number="131313")
    moves = _payout(client, reference_id="PL2", idempotency_key="k2")
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE - 500000
    sandbox.server.clock.advance(HOUR)

    status = client.cancel_payout(stays)
    assert (status.raw_status, status.state) == ("CANCELLED", "failed")
    assert client.cancel_payout(stays).raw_status == "CANCELLED"  # no-op
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE - 250000  # refunded

    with pytest.raises(ProviderClientError) as caught:
        client.cancel_payout(moves)
    error = caught.value
    assert (error.status, error.code) == (400, "CANNOT_CANCEL_PAYOUT")
    assert error.message == "The payout can no longer be cancelled: Xendit already sent it."
    assert "SUCCEEDED" in error.body
    assert client.get_payout(moves).raw_status == "SUCCEEDED"


def test_cancel_a_fresh_payout(sandbox, client):
    payout_id = _payout(client)
    assert client.cancel_payout(payout_id).raw_status == "CANCELLED"
    sandbox.server.clock.advance(DAY)
    assert client.get_payout(payout_id).raw_status == "CANCELLED"  # nothing more happens


# Channels and listings ---------------------------------------------------------------------


def test_channel_list_is_the_accounts(sandbox, client):
    assert client.get_payout_channels() == sorted(xendit.CHANNEL_CODES.values())
    [call] = sandbox.server.requests
    assert (call.path, call.query) == ("/payouts_channels",
                                       {"currency": "IDR", "channel_category": "BANK"})
    sandbox.configure(channels=["ID_BNI", "ID_BCA", "ID_OVO"])
    assert client.get_payout_channels() == ["ID_BCA", "ID_BNI"]
    # What the account cannot pay, Xendit refuses (no payout, no debit).
    with pytest.raises(ProviderClientError) as caught:
        _payout(client, channel_code="ID_MANDIRI")
    assert (caught.value.code, caught.value.refusal) == ("CHANNEL_CODE_NOT_SUPPORTED", True)
    assert sandbox.payouts == {}


def test_channel_list_is_an_array_of_channels(sandbox):
    answer = requests.get(sandbox.url + "/payouts_channels",
                          headers={"Authorization": _basic(sandbox.secret_key)}, timeout=5)
    channels = answer.json()
    assert isinstance(channels, list) and len(channels) == len(xendit_sim.DEFAULT_CHANNELS)
    assert channels[0] == {
        "channel_code": "ID_BCA", "channel_category": "BANK", "currency": "IDR",
        "channel_name": "BCA", "amount_limits": {
            "minimum": 10000, "maximum": 250000000, "minimum_increment": 1}}
    ovo = requests.get(sandbox.url + "/payouts_channels", params={"channel_category": "EWALLET"},
                       headers={"Authorization": _basic(sandbox.secret_key)}, timeout=5)
    assert [c["channel_code"] for c in ovo.json()] == ["ID_OVO"]


@pytest.mark.parametrize("listing", ["array", "data"])
def test_lookup_by_reference_in_either_shape(sandbox, client, listing):
    sandbox.configure(listing=listing)
    payout_id = _payout(client)
    answer = requests.get(sandbox.url + "/v2/payouts", params={"reference_id": "PL-2025-0001"},
                          headers={"Authorization": _basic(sandbox.secret_key)}, timeout=5)
    assert isinstance(answer.json(), list if listing == "array" else dict)
    assert [s.provider_reference for s in client.find_payouts("PL-2025-0001")] == [payout_id]


@pytest.mark.parametrize(
    "account, failure_code",
    [("121212", "INVALID_DESTINATION"), ("123456", "TEMPORARY_TRANSFER_ERROR"),
     ("999999", "REJECTED_BY_CHANNEL")],
)
def test_xendits_own_test_accounts(sandbox, client, account, failure_code):
    payout_id = _payout(client, account_number=account)
    sandbox.server.clock.advance(15 * MINUTE)
    status = client.get_payout(payout_id)
    assert (status.state, status.raw["failure_code"]) == ("failed", failure_code)
    assert status.reason == xendit.message_of(failure_code)


def test_xendits_reversal_test_account(sandbox, client):
    payout_id = _payout(client, account_number="654321")
    sandbox.server.clock.advance(15 * MINUTE)
    assert client.get_payout(payout_id).raw_status == "SUCCEEDED"
    sandbox.server.clock.advance(5 * MINUTE)
    assert client.get_payout(payout_id).raw_status == "REVERSED"


# Callbacks ------------------------------------------------------------------------------


def test_payout_callbacks_are_delivered_with_the_token(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url)
    succeeded = _payout(client)
    failed = _payout(client, reference_id="PL2", account_number="4000000001", idempotency_key="2")
    reversed_ = _payout(
        client, reference_id="PL3", account_number="4000000004", idempotency_key="3"
    )
    assert sandbox.deliver() == [] and receiver.received == []  # nothing happened yet

    sandbox.server.clock.advance(2 * HOUR)
    attempts = sandbox.deliver()
    assert [(a["event"], a["id"], a["http_status"], a["error"]) for a in attempts] == [
        ("payout.succeeded", succeeded, 200, None),
        ("payout.failed", failed, 200, None),
        ("payout.succeeded", reversed_, 200, None),
        ("payout.reversed", reversed_, 200, None),
    ]
    assert all(a["url"] == receiver.url and a["attempt"] == 1 for a in attempts)
    assert len(receiver.received) == 4
    for path, headers, _body in receiver.received:
        assert path == CALLBACK_URL
        assert headers["Content-Type"] == "application/json"
        xendit.verify_callback_token(xendit_sim.CALLBACK_TOKEN, headers["x-callback-token"])
    events = [json.loads(body) for _path, _headers, body in receiver.received]
    assert set(events[0]) == {"event", "business_id", "created", "data"}
    assert events[0]["business_id"] == xendit_sim.BUSINESS_ID
    assert [xendit.parse_callback(e).state for e in events] == ["done", "failed", "done", "failed"]
    assert events[1]["data"]["failure_code"] == "INVALID_DESTINATION"
    assert events[0]["data"]["channel_properties"]["account_number"] == "1234567890"
    assert sandbox.deliver() == []  # delivered once
    assert len(sandbox.deliveries) == 4


def test_link_callbacks_are_disbursement_events(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url, callback_token="tok-odoo")
    paid = _link(client, "claim@example.com")
    failed = _link(client, "invalid@example.com", external_id="PAY2", key="k2")
    _link(client, "wrongpass@example.com", external_id="PAY3", key="k3")  # never claimed
    _link(client, external_id="PAY4", key="k4")  # expires
    sandbox.server.clock.advance(3 * DAY)
    attempts = sandbox.deliver()
    links = sandbox.links
    assert [(a["event"], a["id"], a["status"]) for a in attempts] == [
        ("disbursement.completed", links[paid].data["disbursement_id"], "SUCCEEDED"),
        ("disbursement.failed", links[failed].data["disbursement_id"], "FAILED"),
    ]
    bodies = [json.loads(body) for _path, _headers, body in receiver.received]
    assert [set(b) for b in bodies] == [{"event", "business_id", "created", "data"}] * 2
    answers = [xendit.parse_callback(b) for b in bodies]
    assert [(a.state, xendit.our_reference(a), a.provider_reference) for a in answers] == [
        ("done", "PAY1", None), ("failed", "PAY2", None)]
    assert answers[1].reason == xendit.message_of("INVALID_DESTINATION")
    assert {h["x-callback-token"] for _path, h, _body in receiver.received} == {"tok-odoo"}


def test_api_changes_send_no_callback(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url)
    client.void_payout_link(_link(client), "v1")
    client.cancel_payout(_payout(client, account_number="131313"))
    sandbox.server.clock.advance(5 * DAY)
    assert sandbox.deliver() == [] and receiver.received == []


def test_failed_delivery_stays_queued(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url)
    _payout(client)
    sandbox.server.clock.advance(HOUR)
    receiver.status = 500
    [attempt] = sandbox.deliver()
    assert (attempt["http_status"], attempt["attempt"]) == (500, 1)
    receiver.status = 200
    [attempt] = sandbox.deliver()
    assert (attempt["http_status"], attempt["attempt"]) == (200, 2)
    assert sandbox.deliver() == []
    assert [d["http_status"] for d in sandbox.deliveries] == [500, 200]


def test_unreachable_receiver_is_recorded(sandbox, client):
    port = SandboxServer()  # a free port, closed at once: nobody listens there
    url = port.url + "/hook"
    port.stop()
    sandbox.configure(callback_url=url)
    _payout(client)
    sandbox.server.clock.advance(HOUR)
    [attempt] = sandbox.deliver()
    assert attempt["http_status"] is None and "ConnectionError" in attempt["error"]
    assert (
        requests.get(sandbox.url + "/_sandbox/xendit/deliveries", timeout=5).json()["pending"] == 1
    )


def test_deliver_control_endpoint(sandbox, client, receiver):
    control = sandbox.url + "/_sandbox/xendit/"
    answer = requests.post(control + "deliver", timeout=5)
    assert answer.status_code == 400 and "callback URL" in answer.json()["error"]["message"]
    config = requests.post(
        control + "config", json={"callback_url": receiver.url, "balance": 5_000_000}, timeout=5
    ).json()
    assert config["callback_url"] == receiver.url and config["balance"] == 5_000_000
    _payout(client)
    requests.post(sandbox.url + "/_sandbox/clock", json={"advance": HOUR}, timeout=5)
    delivered = requests.post(control + "deliver", timeout=5).json()["deliveries"]
    assert [(d["event"], d["http_status"]) for d in delivered] == [("payout.succeeded", 200)]
    journal = requests.get(control + "deliveries", timeout=5).json()
    assert journal["pending"] == 0 and len(journal["deliveries"]) == 1
    objects = requests.get(control + "objects", timeout=5).json()
    assert [p["status"] for p in objects["payouts"]] == ["SUCCEEDED"]
    assert objects["balance"] == 5_000_000 - 250000 and objects["links"] == []


@pytest.mark.parametrize(
    "settings",
    [
        {"callback_url": "http://example.com/hook"},
        {"callback_url": "http://10.0.0.1/hook"},
        {"callback_url": "ftp://127.0.0.1/hook"},
        {"colour": "red"},
        {"balance": "lots"},
        {"expiry_status": "LATE"},
        {"channels": "ID_BCA"},
        {"listing": "xml"},
    ],
)
def test_config_errors(sandbox, settings):
    answer = requests.post(sandbox.url + "/_sandbox/xendit/config", json=settings, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["message"]


def test_callback_url_must_be_loopback_from_the_start():
    with pytest.raises(ValueError, match="loopback"):
        xendit_sim.XenditSandbox(SandboxServer(), callback_url="https://example.com/hook")


# Server -----------------------------------------------------------------------------------


def test_reset_forgets_everything(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url, balance=10**6, replays=False)
    _payout(client)
    _link(client)
    sandbox.server.clock.advance(HOUR)
    sandbox.deliver()
    assert requests.post(sandbox.url + "/_sandbox/reset", timeout=5).json() == {}
    assert (sandbox.links, sandbox.payouts, sandbox.deliveries) == ({}, {}, [])
    assert (sandbox.callback_url, sandbox.balance, sandbox.replays) == (
        None,
        xendit_sim.DEFAULT_BALANCE,
        True,
    )
    status = client.create_payout(**PAYOUT_ARGS)  # the key is free again
    assert status.raw_status == "ACCEPTED"


def test_doku_and_xendit_on_one_server():
    with SandboxServer() as server:
        doku_sandbox = doku_sim.DokuSandbox(server)
        xendit_sandbox = xendit_sim.XenditSandbox(server)
        assert doku_sandbox.client().initiate(DOKU_FIELDS, "1001").raw_status == "PENDING"
        assert xendit_sandbox.client().get_balance() == xendit_sim.DEFAULT_BALANCE
        assert _payout(xendit_sandbox.client()).startswith("disb-")
        assert [r.path for r in server.requests] == [
            "/v1/payout/initiate",
            "/balance",
            "/v2/payouts",
        ]


def test_path_parameters_match_one_segment(sandbox):
    auth = {"Authorization": _basic(sandbox.secret_key)}
    for path in ("/payouts/a/b", "/payouts/", "/v2/payouts/x/cancel/more"):
        answer = requests.get(sandbox.url + path, headers=auth, timeout=5)
        assert answer.status_code == 404, path
    answer = requests.get(sandbox.url + "/payouts/abc", headers=auth, timeout=5)
    assert answer.json()["error_code"] == "PAYOUT_NOT_FOUND"
