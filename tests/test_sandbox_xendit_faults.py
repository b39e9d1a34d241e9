"""Plain pytest tests of XenditClient against the Xendit sandbox, over real loopback HTTP:
the faults the sandbox injects, and the client's retries.
"""

import time

import pytest
import requests

from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderMalformedResponse,
    ProviderNetworkError,
    ProviderServerError,
    ProviderTimeout,
)
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _keys, _link

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(xendit_sim.start)
client, sleeps = fakes.client, fakes.sleeps


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
