"""XenditClient against the Xendit sandbox, over real loopback HTTP: the Payout Link
lifecycle (claims, voids, expiry).
"""

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR, MINUTE
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests.fakes import follow_clock
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _link

# The recipient's email picks the link's fate; its statuses, seconds after its creation.
TIMELINES = [
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
]


@tagged("post_install", "-at_install")
class TestSandboxXenditPayoutLink(SandboxCase):
    """A Xendit Payout Link moves on the sandbox's clock: claimed, paid or failed, voided,
    expired."""

    start_sandbox = xendit_sim.start

    def test_link_lifecycle_follows_the_clock(self):
        for email, timeline in TIMELINES:
            with self.case(email=email):
                link_id = _link(self.client, email)
                for at, raw_status in follow_clock(self.sandbox.server.clock, timeline):
                    status = self.client.get_payout_link(link_id)
                    self.assertEqual((at, status.raw_status), (at, raw_status))
                    expected = "expired" if at >= 3 * DAY and email == "siti@example.com" else (
                        xendit.LINK_STATUS_MAPPING[raw_status])
                    self.assertEqual(status.state, expected)

    def test_an_expiry_reads_expired_whatever_status_tells_it(self):
        for expiry_status in ("VOIDED", "FAILED", "EXPIRED"):
            with self.case(expiry_status=expiry_status):
                self.sandbox.configure(expiry_status=expiry_status)
                link_id = _link(self.client)
                self.sandbox.server.clock.advance(3 * DAY)
                status = self.client.get_payout_link(link_id)
                self.assertEqual(
                    (status.raw_status, status.state, status.reason),
                    (expiry_status, "expired", None),
                )
                self.assertEqual(status.raw["updated"], status.raw["expiration_timestamp"])

    def test_link_failure_reasons(self):
        client = self.client
        invalid = _link(client, "invalid@example.com", "PAY1", "k1")
        wrong = _link(client, "wrongpass@example.com", "PAY2", "k2")
        self.sandbox.server.clock.advance(2 * HOUR)
        invalid, wrong = client.get_payout_link(invalid), client.get_payout_link(wrong)
        self.assertEqual(invalid.raw["failure_reason"], "INVALID_DESTINATION")
        self.assertEqual(invalid.raw["account_number"], "4000000001")
        self.assertTrue(invalid.raw["claimed_timestamp"])
        self.assertEqual(
            xendit.failure_message(wrong), xendit.message_of("TOO_MANY_WRONG_PASSWORDS")
        )
        # the failed claim was refunded
        self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE)

    def test_claim_control_endpoint(self):
        client = self.client
        link_id = _link(client)
        answer = requests.post(
            self.sandbox.url + "/_sandbox/xendit/claim",
            json={"id": link_id, "bank_code": "MANDIRI", "account_number": "1300012345678"},
            timeout=5,
        )
        self.assertEqual(answer.json()["status"], "CLAIMED")
        self.assertEqual(answer.json()["bank_code"], "MANDIRI")
        self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE - 250000)
        self.sandbox.server.clock.advance(15 * MINUTE)
        self.assertEqual(client.get_payout_link(link_id).raw_status, "COMPLETED")
        self.sandbox.server.clock.advance(5 * DAY)  # the expiry no longer applies
        self.assertEqual(client.get_payout_link(link_id).raw_status, "COMPLETED")

    def test_claim_outcomes(self):
        for claim, status in (
            ({"wrong_passwords": 3}, "FAILED"),
            ({"wrong_passwords": 2}, "COMPLETED"),
            ({"account_number": "4000000002"}, "FAILED"),
            ({"account_number": "4000000003"}, "CLAIMED"),
            ({"account_number": "121212"}, "FAILED"),  # Xendit's test accounts, as for v2
            ({"account_number": "999999"}, "FAILED"),
        ):
            with self.case(claim=claim):
                link_id = _link(self.client)
                self.sandbox.claim(link_id, **claim)
                self.sandbox.server.clock.advance(DAY)
                self.assertEqual(self.client.get_payout_link(link_id).raw_status, status)

    def test_claim_beyond_the_balance_fails(self):
        client, sandbox = self.client, self.sandbox
        link_id = _link(client, amount=600_000_000)
        _link(client, external_id="PAY2", key="k2", amount=600_000_000)
        sandbox.claim(link_id)
        self.assertEqual(client.get_balance(), 400_000_000)
        second = next(i for i in sandbox.links if i != link_id)
        sandbox.claim(second)
        sandbox.server.clock.advance(HOUR)
        status = client.get_payout_link(second)
        self.assertEqual(
            (status.raw_status, status.raw["failure_reason"]), ("FAILED", "INSUFFICIENT_BALANCE")
        )
        self.assertEqual(client.get_payout_link(link_id).raw_status, "COMPLETED")
        self.assertEqual(client.get_balance(), 400_000_000)

    def test_claim_control_errors(self):
        for name, params in (
            ("unknown", {"id": "nope"}), ("no id", {}), ("bad", {"id": "x", "colour": "red"}),
        ):
            with self.case(params=name):
                answer = requests.post(
                    self.sandbox.url + "/_sandbox/xendit/claim", json=params, timeout=5
                )
                self.assertEqual(answer.status_code, 400)
                self.assertTrue(answer.json()["error"]["message"])

    def test_void_before_claim(self):
        client = self.client
        link_id = _link(client)
        status = client.void_payout_link(link_id, "void-1")
        self.assertEqual((status.raw_status, status.state), ("VOIDED", "cancelled"))
        self.assertEqual(client.void_payout_link(link_id, "void-2").raw_status, "VOIDED")  # no-op
        self.sandbox.server.clock.advance(4 * DAY)
        # never expires
        self.assertEqual(client.get_payout_link(link_id).raw_status, "VOIDED")

    def test_void_after_claim_is_refused(self):
        client = self.client
        link_id = _link(client, "claim@example.com")
        self.sandbox.server.clock.advance(HOUR)
        with self.assertRaises(ProviderClientError) as caught:
            client.void_payout_link(link_id, "void-1")
        error = caught.exception
        self.assertEqual((error.status, error.code), (400, "CANNOT_VOID_PAYOUT"))
        self.assertEqual(error.message, (
            "The payout link can no longer be voided: the employee already claimed it, or it "
            "is finished."
        ))
        self.assertIn("CLAIMED", error.body)
        self.sandbox.server.clock.advance(HOUR)
        # still paid
        self.assertEqual(client.get_payout_link(link_id).raw_status, "COMPLETED")

    def test_void_of_an_expired_link_tells_the_expiry(self):
        client = self.client
        link_id = _link(client)
        self.sandbox.server.clock.advance(3 * DAY)  # voided by its expiry: a void is a no-op
        self.assertEqual(client.void_payout_link(link_id, "void-1").state, "expired")
        self.sandbox.configure(expiry_status="FAILED")
        link_id = _link(client, external_id="PAY2", key="k2")
        self.sandbox.server.clock.advance(3 * DAY)
        with self.assertRaisesRegex(ProviderClientError, "no longer be voided"):
            client.void_payout_link(link_id, "void-2")
