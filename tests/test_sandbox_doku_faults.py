"""Plain pytest tests of DokuClient against the DOKU sandbox, over real loopback HTTP:
the faults the sandbox injects, its control endpoints and server.
"""

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderBadSignature,
    ProviderMalformedResponse,
    ProviderNetworkError,
    ProviderServerError,
    ProviderTimeout,
)
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR, parse_timestamp
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(doku_sim.start)
client, sleeps = fakes.client, fakes.sleeps


def _attempts(sandbox):
    """(Request-Id, body) of each request the sandbox received."""
    return [(r.headers["Request-Id"], r.body) for r in sandbox.server.requests]


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
