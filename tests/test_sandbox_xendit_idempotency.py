"""XenditClient against the Xendit sandbox, over real loopback HTTP: idempotency keys and
their replays.
"""

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol.errors import ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _link, _payout, _post


@tagged("post_install", "-at_install")
class TestSandboxXenditIdempotency(SandboxCase):
    """A Xendit idempotency key pays once: a repeat is the original answer, a reuse with
    another body is refused, and where Xendit honours no key a lost answer is found by
    its reference."""

    start_sandbox = xendit_sim.start

    def test_replay_returns_the_original_answer(self):
        client = self.client
        first_status = client.create_payout(**PAYOUT_ARGS)
        first = client.last_response
        self.sandbox.server.clock.advance(HOUR)  # the payout moved on meanwhile
        status = client.create_payout(**PAYOUT_ARGS)
        again = client.last_response
        self.assertEqual((again.status, again.replayed), (409, True))
        self.assertEqual(again.body, first.body)
        self.assertEqual(status, first_status)
        self.assertEqual(len(self.sandbox.payouts), 1)
        # paid once
        self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE - 250000)

    def test_link_replay(self):
        link_id = _link(self.client)
        status = self.client.create_payout_link("PAY1", 250000, "siti@example.com", "link-key-1")
        again = self.client.last_response
        self.assertEqual((again.replayed, status.provider_reference), (True, link_id))
        self.assertEqual(len(self.sandbox.links), 1)

    def test_reused_key_with_another_body_is_refused(self):
        _payout(self.client)
        with self.assertRaises(ProviderClientError) as caught:
            _payout(self.client, amount=300000)
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "DUPLICATE_ERROR"))
        self.assertIn("never pays it twice", caught.exception.message)
        self.assertFalse(caught.exception.refusal)
        self.assertEqual(len(self.sandbox.payouts), 1)

    def test_keys_of_the_two_apis_are_separate(self):
        _link(self.client, key="same")
        _payout(self.client, idempotency_key="same")
        self.assertEqual((len(self.sandbox.links), len(self.sandbox.payouts)), (1, 1))

    def test_reused_external_id_is_refused(self):
        """A link's external_id is refused a second time, under another key too: Xendit
        may hold the link, so it is never a refusal."""
        body = {"external_id": "PAY1", "amount": 1000, "email": "a@example.com"}
        first, second = _post(self.sandbox, "/payouts", body), _post(self.sandbox, "/payouts", body)
        self.assertEqual((first.status_code, second.status_code), (200, 400))
        self.assertEqual(second.json()["error_code"], "DUPLICATE_PAYOUT_ERROR")
        with self.assertRaises(ProviderClientError) as caught:
            self.client.create_payout_link("PAY1", 1000, "a@example.com", "another-key")
        self.assertEqual(
            (caught.exception.code, caught.exception.refusal), ("DUPLICATE_PAYOUT_ERROR", False)
        )
        self.assertEqual(len(self.sandbox.links), 1)

    def test_link_key_without_replays_is_not_honoured(self):
        """Where Xendit does not replay a link's key (its documentation promises no key for
        links), a repeat is refused by its external_id: one link, an unknown outcome."""
        client = self.client
        self.sandbox.configure(replays=False)
        link_id = _link(client)
        with self.assertRaises(ProviderClientError) as caught:
            _link(client)
        self.assertEqual(
            (caught.exception.code, caught.exception.refusal), ("DUPLICATE_PAYOUT_ERROR", False)
        )
        self.assertEqual(list(self.sandbox.links), [link_id])
        self.assertEqual(client.void_payout_link(link_id, "v1").raw_status, "VOIDED")
        # a no-op again
        self.assertEqual(client.void_payout_link(link_id, "v1").raw_status, "VOIDED")

    def test_refused_request_does_not_use_up_its_key(self):
        with self.assertRaises(ProviderClientError):
            _payout(self.client, amount=1000)  # under the minimum
        status = self.client.create_payout(**PAYOUT_ARGS)
        response = self.client.last_response
        self.assertEqual((response.status, status.raw_status), (200, "ACCEPTED"))

    def test_replay_with_200(self):
        self.sandbox.configure(replay_status=200)
        self.client.create_payout(**PAYOUT_ARGS)
        first = self.client.last_response
        self.client.create_payout(**PAYOUT_ARGS)
        again = self.client.last_response
        self.assertEqual((again.status, again.replayed, again.body), (200, False, first.body))
        self.assertEqual(len(self.sandbox.payouts), 1)

    def test_strict_keys_reconcile_by_lookup(self):
        """Where Xendit answers every reuse of a key with an error, a lost answer is found
        by its reference, never paid again under a new key."""
        self.sandbox.configure(replays=False)
        client = self.sandbox.client(timeout=0.3, sleep=self.sleeps.append)
        self.sandbox.server.inject("timeout", seconds=1)
        with self.assertRaises(ProviderClientError) as caught:
            client.create_payout(**PAYOUT_ARGS)
        self.assertEqual(caught.exception.code, "DUPLICATE_ERROR")
        [found] = client.find_payouts(PAYOUT_ARGS["reference_id"])
        self.assertEqual(found.raw_status, "ACCEPTED")
        self.assertEqual(len(self.sandbox.payouts), 1)
