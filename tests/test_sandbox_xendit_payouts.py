"""Plain pytest tests of XenditClient against the Xendit sandbox, over real loopback HTTP:
the Payouts v2 lifecycle, the channels and the listings.
"""

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR, MINUTE
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS, follow_clock
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _basic, _payout

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(xendit_sim.start)
client, sleeps = fakes.client, fakes.sleeps


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
