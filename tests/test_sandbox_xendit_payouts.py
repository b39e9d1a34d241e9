"""XenditClient against the Xendit sandbox, over real loopback HTTP: the Payouts v2
lifecycle, the channels and the listings.
"""

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR, MINUTE
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS, follow_clock
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _basic, _payout

# The account number picks the payout's fate; its statuses, seconds after its creation.
TIMELINES = [
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
]


@tagged("post_install", "-at_install")
class TestSandboxXenditPayouts(SandboxCase):
    """A Xendit v2 payout moves on the sandbox's clock and moves the balance; it can be
    cancelled while accepted."""

    start_sandbox = xendit_sim.start

    def test_payout_lifecycle_follows_the_clock(self):
        for account, timeline in TIMELINES:
            with self.case(account=account):
                payout_id = _payout(self.client, account_number=account)
                for at, raw_status in follow_clock(self.sandbox.server.clock, timeline):
                    status = self.client.get_payout(payout_id)
                    self.assertEqual((at, status.raw_status), (at, raw_status))
                    self.assertEqual(status.state, xendit.PAYOUT_STATUS_MAPPING[raw_status])

    def test_payout_outcomes_and_balance(self):
        for account, failure_code, balance_after in (
            ("1234567890", None, xendit_sim.DEFAULT_BALANCE - 250000),
            ("4000000001", "INVALID_DESTINATION", xendit_sim.DEFAULT_BALANCE),
            ("4000000002", "INSUFFICIENT_BALANCE", xendit_sim.DEFAULT_BALANCE),
            ("4000000004", None, xendit_sim.DEFAULT_BALANCE),  # reversed: money back
            ("4000000005", None, xendit_sim.DEFAULT_BALANCE),
        ):
            with self.case(account=account):
                payout_id = _payout(self.client, account_number=account)
                self.sandbox.server.clock.advance(DAY)
                self.assertEqual(
                    self.client.get_payout(payout_id).raw.get("failure_code"), failure_code
                )
                self.assertEqual(self.client.get_balance(), balance_after)

    def test_payout_beyond_the_balance_fails(self):
        client = self.client
        self.sandbox.configure(balance=100000)
        self.assertEqual(client.get_balance(), 100000)
        status = client.create_payout(**PAYOUT_ARGS)
        self.assertEqual(status.raw_status, "ACCEPTED")  # Xendit accepts, then fails it
        self.sandbox.server.clock.advance(MINUTE)
        status = client.get_payout(status.provider_reference)
        self.assertEqual((status.raw_status, status.state), ("FAILED", "failed"))
        self.assertEqual(
            xendit.failure_message(status), "The Xendit balance is too low for this payout."
        )
        self.assertEqual(client.get_balance(), 100000)

    def test_cancel_only_while_accepted(self):
        client = self.client
        stays = _payout(client, account_number="131313")
        moves = _payout(client, reference_id="PL2", idempotency_key="k2")
        self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE - 500000)
        self.sandbox.server.clock.advance(HOUR)

        status = client.cancel_payout(stays)
        self.assertEqual((status.raw_status, status.state), ("CANCELLED", "failed"))
        self.assertEqual(client.cancel_payout(stays).raw_status, "CANCELLED")  # no-op
        # refunded
        self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE - 250000)

        with self.assertRaises(ProviderClientError) as caught:
            client.cancel_payout(moves)
        error = caught.exception
        self.assertEqual((error.status, error.code), (400, "CANNOT_CANCEL_PAYOUT"))
        self.assertEqual(
            error.message, "The payout can no longer be cancelled: Xendit already sent it."
        )
        self.assertIn("SUCCEEDED", error.body)
        self.assertEqual(client.get_payout(moves).raw_status, "SUCCEEDED")

    def test_cancel_a_fresh_payout(self):
        payout_id = _payout(self.client)
        self.assertEqual(self.client.cancel_payout(payout_id).raw_status, "CANCELLED")
        self.sandbox.server.clock.advance(DAY)
        # nothing more happens
        self.assertEqual(self.client.get_payout(payout_id).raw_status, "CANCELLED")

    def test_xendits_own_test_accounts(self):
        for account, failure_code in (
            ("121212", "INVALID_DESTINATION"),
            ("123456", "TEMPORARY_TRANSFER_ERROR"),
            ("999999", "REJECTED_BY_CHANNEL"),
        ):
            with self.case(account=account):
                payout_id = _payout(self.client, account_number=account)
                self.sandbox.server.clock.advance(15 * MINUTE)
                status = self.client.get_payout(payout_id)
                self.assertEqual(
                    (status.state, status.raw["failure_code"]), ("failed", failure_code)
                )
                self.assertEqual(status.reason, xendit.message_of(failure_code))

    def test_xendits_reversal_test_account(self):
        payout_id = _payout(self.client, account_number="654321")
        self.sandbox.server.clock.advance(15 * MINUTE)
        self.assertEqual(self.client.get_payout(payout_id).raw_status, "SUCCEEDED")
        self.sandbox.server.clock.advance(5 * MINUTE)
        self.assertEqual(self.client.get_payout(payout_id).raw_status, "REVERSED")


@tagged("post_install", "-at_install")
class TestSandboxXenditListings(SandboxCase):
    """The Xendit sandbox lists the channels the account can pay, and finds payouts by
    reference in either shape Xendit answers."""

    start_sandbox = xendit_sim.start

    def test_channel_list_is_the_accounts(self):
        """What the account cannot pay, Xendit refuses (no payout, no debit)."""
        client, sandbox = self.client, self.sandbox
        self.assertEqual(client.get_payout_channels(), sorted(xendit.CHANNEL_CODES.values()))
        [call] = sandbox.server.requests
        self.assertEqual((call.path, call.query), ("/payouts_channels",
                                                   {"currency": "IDR", "channel_category": "BANK"}))
        sandbox.configure(channels=["ID_BNI", "ID_BCA", "ID_OVO"])
        self.assertEqual(client.get_payout_channels(), ["ID_BCA", "ID_BNI"])
        with self.assertRaises(ProviderClientError) as caught:
            _payout(client, channel_code="ID_MANDIRI")
        self.assertEqual(
            (caught.exception.code, caught.exception.refusal), ("CHANNEL_CODE_NOT_SUPPORTED", True)
        )
        self.assertEqual(sandbox.payouts, {})

    def test_channel_list_is_an_array_of_channels(self):
        sandbox = self.sandbox
        answer = requests.get(sandbox.url + "/payouts_channels",
                              headers={"Authorization": _basic(sandbox.secret_key)}, timeout=5)
        channels = answer.json()
        self.assertIsInstance(channels, list)
        self.assertEqual(len(channels), len(xendit_sim.DEFAULT_CHANNELS))
        self.assertEqual(channels[0], {
            "channel_code": "ID_BCA", "channel_category": "BANK", "currency": "IDR",
            "channel_name": "BCA", "amount_limits": {
                "minimum": 10000, "maximum": 250000000, "minimum_increment": 1}})
        ovo = requests.get(sandbox.url + "/payouts_channels",
                           params={"channel_category": "EWALLET"},
                           headers={"Authorization": _basic(sandbox.secret_key)}, timeout=5)
        self.assertEqual([c["channel_code"] for c in ovo.json()], ["ID_OVO"])

    def test_lookup_by_reference_in_either_shape(self):
        for listing in ("array", "data"):
            with self.case(listing=listing):
                sandbox = self.sandbox
                sandbox.configure(listing=listing)
                payout_id = _payout(self.client)
                answer = requests.get(sandbox.url + "/v2/payouts",
                                      params={"reference_id": "PL-2025-0001"},
                                      headers={"Authorization": _basic(sandbox.secret_key)},
                                      timeout=5)
                self.assertIsInstance(answer.json(), list if listing == "array" else dict)
                self.assertEqual(
                    [s.provider_reference for s in self.client.find_payouts("PL-2025-0001")],
                    [payout_id],
                )
