"""Plain pytest tests of XenditClient against the Xendit sandbox, over real loopback HTTP:
the Payout Link lifecycle (claims, voids, expiry).
"""

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR, MINUTE
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.fakes import follow_clock
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _link

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(xendit_sim.start)
client, sleeps = fakes.client, fakes.sleeps


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
