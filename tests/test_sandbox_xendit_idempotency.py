"""Plain pytest tests of XenditClient against the Xendit sandbox, over real loopback HTTP:
idempotency keys and their replays.
"""

import pytest

from odoo.addons.hr_payout_link.protocol.errors import ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _link, _payout, _post

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(xendit_sim.start)
client, sleeps = fakes.client, fakes.sleeps


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
