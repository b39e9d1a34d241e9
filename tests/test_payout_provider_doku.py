import json
import logging
from itertools import pairwise, product

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..protocol import doku
from ..protocol.answers import ProviderAnswer
from ..protocol.timeutil import HOUR, MINUTE
from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestDokuProvider(PayoutCommon):
    """DOKU links from Odoo to the project's DOKU sandbox, over real loopback HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_doku(sender_name="Acme Payroll")

    def setUp(self):
        super().setUp()
        self.doku.server.reset()

    # === Helpers === #

    def _initiates(self):
        return [r for r in self.doku.server.requests if r.path == doku.INITIATE_PATH]

    # === Sending === #

    def test_send_initiates_once_through_the_cron(self):
        link = self._create_link(self.doku_provider)
        link.action_send()
        self.assertEqual((link.state, link.submission_state), ("sent", "to_submit"))
        self.assertRegex(link.submission_key, r"^\d+$", "DOKU's Request-Id is digits only")
        self.assertFalse(self.doku.server.requests, "no call from the user's request")
        self.assertFalse(self.env["mail.mail"].search([("email_to", "=", "dewi@example.com")]),
                         "DOKU emails the employee, not Odoo")
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        [initiate] = self._initiates()
        self.assertEqual(initiate.headers["Request-Id"], link.submission_key)
        self.assertTrue(initiate.headers["Signature"].startswith("HMACSHA256="))
        self.assertEqual(json.loads(initiate.body), {
            "amount": 1500000,
            "sender_name": "Acme Payroll",
            "receiver_name": "Dewi Lestari",
            "receiver_phone_number": "6281234567890",
            "receiver_email": "dewi@example.com",
            "reference_id": link.submission_reference,
            "description": "Q4 bonus",
            "currency": "IDR",
        })
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("sent", "accepted", "PENDING"))
        self.assertEqual(link.provider_reference, link.submission_reference)

    def test_field_limits_refused_before_any_request(self):
        # DOKU needs a phone, which Odoo links may lack. Odoo's own rules already keep
        # names, email, reference and description within DOKU's limits; the protocol
        # tests cover each DOKU limit one by one.
        link = self._create_link(self.doku_provider, recipient_phone=False)
        with self.assertRaisesRegex(UserError, "Recipient Phone: required"):
            link.action_send()
        self.assertEqual((link.state, link.submission_state), ("draft", False))
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertFalse(self.doku.server.requests)

    def test_refusal_fails_the_link_with_doku_message(self):
        self.doku_provider.doku_secret_key = "SK-wrong"
        try:
            link = self._sent_link(self.doku_provider)
        finally:
            self.doku_provider.doku_secret_key = self.doku.secret_key
        self.assertEqual(link.state, "failed")
        self.assertIn("signature", link.failure_reason.lower())
        self.assertFalse(self.doku.payouts)

    # === Status, through the cron and through the button === #

    def test_every_status_mapping_through_the_cron_and_the_button(self):
        scenarios = {
            "dewi@example.com": [(0, "PENDING", "sent"), (MINUTE, "EMAIL_SENT", "sent"),
                                 (HOUR, "EMAIL_LINK_OPENED", "opened"),
                                 (2 * HOUR, "CONFIRMED", "processing"),
                                 (3 * HOUR, "COMPLETED", "done")],
            "fail@example.com": [(2 * HOUR, "PENDING_PROCESS", "processing"),
                                 (5 * HOUR, "FAILED", "failed")],
            "expire@example.com": [(24 * HOUR, "EXPIRED", "expired")],
        }
        paths = {"cron": lambda link: self._poll(),
                 "button": lambda link: link.with_user(self.user_editor).action_check_status()}
        for (email, steps), (path, check) in product(scenarios.items(), paths.items()):
            with self.subTest(email=email, path=path):
                self.doku.server.reset()
                link = self._sent_link(self.doku_provider, recipient_email=email)
                self._assert_lifecycle(link, self.doku.server.clock,
                                       steps, check)

    def test_status_through_the_button(self):
        link = self._sent_link(self.doku_provider, recipient_email="retry@example.com")
        self.doku.server.clock.advance(2 * HOUR)
        link.with_user(self.user_editor).action_check_status()
        self.assertEqual((link.provider_status, link.state), ("PENDING_PROCESS", "processing"))
        self.doku.server.clock.advance(HOUR)
        link.action_check_status()
        self.assertEqual((link.provider_status, link.state), ("COMPLETED", "done"))
        self.assertFalse(self.env["mail.mail"].search([("model", "=", "payout.link"),
                                                       ("res_id", "=", link.id)]),
                         "DOKU hosts the claim and sends the receipt")
        messages = len(link.message_ids)
        with self.assertRaisesRegex(UserError, "only open links"):  # paid: nothing to ask
            link.action_check_status()
        self.assertEqual((link.state, len(link.message_ids)), ("done", messages))

    def test_failed_status_keeps_a_reason(self):
        link = self._sent_link(self.doku_provider, recipient_email="fail@example.com")
        self.doku.server.clock.advance(5 * HOUR)
        self._poll()
        self.assertEqual(link.state, "failed")
        self.assertEqual(link.failure_reason, "DOKU status: FAILED")
        self.assertTrue(link.activity_ids, "the responsible user is told")

    def test_unknown_status_is_kept_and_logged(self):
        link = self._sent_link(self.doku_provider)
        with self.assertLogs("odoo.addons.hr_payout_link.models.payout_link_submission",
                             "WARNING"):
            link._apply_provider_status(ProviderAnswer(None, raw_status="ON_HOLD"))
        self.assertEqual((link.state, link.provider_status), ("sent", "ON_HOLD"))
        self.assertIn("unknown status ON_HOLD", link.message_ids[0].body)

    def test_polling_respects_the_rate_limit(self):
        links = self.env["payout.link"].concat(*(
            self._sent_link(self.doku_provider, recipient_email=email)
            for email in ("dewi@example.com", "b@example.com", "c@example.com")))
        self.doku_provider.doku_rate_limit = 4
        polled = self.env["payout.link"]._cron_poll_provider_status(with_commit=False)
        self.assertEqual(polled, links)
        arrivals = sorted(r.received for r in self.doku.server.requests
                          if r.path == doku.STATUS_PATH)
        self.assertEqual(len(arrivals), 3)
        # 4 calls a second: one every 0.25 s (allowing loopback jitter).
        self.assertTrue(all(b - a >= 0.2 for a, b in pairwise(arrivals)))

    def test_polling_walks_every_link_once_per_interval(self):
        links = self.env["payout.link"]
        for i in range(5):
            links |= self._sent_link(self.doku_provider, recipient_email=f"walk{i}@example.com")
        polled = self.env["payout.link"]
        for expected in (2, 2, 1, 0):
            batch = self.env["payout.link"]._cron_poll_provider_status(batch_size=2,
                                                                       with_commit=False)
            self.assertEqual(len(batch), expected)
            self.assertFalse(batch & polled, "a link is polled once per interval")
            polled |= batch
        self.assertEqual(polled, links)
        self.assertTrue(all(links.mapped("date_provider_call")))
        status_calls = [r for r in self.doku.server.requests if r.path == doku.STATUS_PATH]
        self.assertEqual(len(status_calls), 5)

    def test_only_submitted_doku_links_are_polled(self):
        doku_link = self._sent_link(self.doku_provider)
        queued = self._create_link(self.doku_provider, recipient_email="q@example.com")
        queued.action_send()
        demo_link = self._create_link()
        self._send(demo_link)
        polled = self.env["payout.link"]._cron_poll_provider_status(with_commit=False)
        self.assertEqual(polled, doku_link)

    # === Faults: the link keeps a correct state, and DOKU creates one payout === #

    def _assert_single_payout(self, link):
        self.assertEqual(list(self.doku.payouts), [link.submission_reference])
        created_by = {r.headers["Request-Id"] for r in self._initiates()}
        self.assertEqual(created_by, {link.submission_key}, "every retry reuses the Request-Id")

    def test_faults_on_initiate_recover_with_one_payout(self):
        # (fault, count): 5xx on every attempt, or a lost answer after DOKU did the work.
        # (A bad signature on the answer is not recovered: see the test after this one.)
        faults = [("http_503", 3), ("http_500", 1), ("reset", 1), ("malformed_json", 1),
                  ("latency", 1)]
        for kind, count in faults:
            with self.subTest(fault=kind):
                self.doku.server.reset()
                self.doku.server.inject(kind, count=count, path=doku.INITIATE_PATH,
                                        seconds=0.2 if kind == "latency" else None)
                link = self._create_link(self.doku_provider,
                                         recipient_email=f"{kind.replace('_', '')}@example.com")
                link.action_send()
                self.env["payout.link"]._cron_submit_payouts(with_commit=False)
                if link.submission_state == "submitting":
                    self.assertIn("did not answer clearly", link.message_ids[0].body)
                    self._retry_submissions()
                self.assertEqual((link.state, link.submission_state), ("sent", "accepted"))
                self.assertEqual(link.provider_status, "PENDING")
                self._assert_single_payout(link)

    def test_bad_signature_on_an_accepted_initiate_needs_attention(self):
        """DOKU accepted the link, but its answer's signature does not check out: the link
        is neither failed nor initiated again, and a Payout Manager looks at once."""
        self.doku.server.inject("bad_signature", path=doku.INITIATE_PATH)
        link = self._create_link(self.doku_provider)
        link.action_send()
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual((link.state, link.submission_state, link.needs_attention),
                         ("sent", "submitting", True))
        self.assertFalse(link.failure_reason)
        self.assertEqual(link.provider_status, "PENDING", "what DOKU seemed to say, stored")
        self.assertIn("holds the payout link (status PENDING)", link.message_ids[1].body)
        self.assertIn("Needs attention", link.message_ids[0].body)
        self.assertEqual(link.activity_ids.summary, "Payout outcome unknown: check at the provider")
        self._retry_submissions()
        self.assertEqual(link.submission_state, "submitting")
        self._assert_single_payout(link)
        self.assertEqual(len(self._initiates()), 1, "never initiated again")

    def test_unsigned_answers_are_accepted_and_logged(self):
        self.doku.signs_answers = False
        link = self._create_link(self.doku_provider)
        link.action_send()
        # logging.INFO: Odoo names its level 25 "INFO" (odoo/netsvc.py).
        with self.assertLogs("odoo.addons.hr_payout_link.protocol.doku", logging.INFO) as logs:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertIn("DOKU answered /v1/payout/initiate unsigned", logs.output[0])
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("sent", "accepted", "PENDING"))
        self.doku.server.clock.advance(HOUR)
        self._poll()
        self.assertEqual(link.state, "opened")

    def test_phone_in_dokus_example_form(self):
        link = self._sent_link(self.doku_provider, recipient_phone="0816291271826")
        [initiate] = self._initiates()
        self.assertEqual(initiate.json["receiver_phone_number"], "62816291271826")
        self.assertEqual(link.submission_state, "accepted")

    def test_an_outage_is_not_retried_in_a_loop(self):
        self.doku.server.inject("http_503", count=30, path=doku.INITIATE_PATH)
        link = self._create_link(self.doku_provider)
        link.action_send()
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.submission_state, "submitting")
        attempts = len(self._initiates())
        self.assertFalse(self.env["payout.link"]._cron_submit_payouts(with_commit=False),
                         "an unclear submission waits before it is looked up again")
        self.assertEqual(len(self._initiates()), attempts)

    def test_timeout_then_replay(self):
        self.doku.server.inject("timeout", path=doku.INITIATE_PATH, seconds=11)
        link = self._sent_link(self.doku_provider)
        self.assertEqual((link.state, link.submission_state), ("sent", "accepted"))
        self._assert_single_payout(link)

    def test_faults_while_polling_keep_the_state(self):
        link = self._sent_link(self.doku_provider)
        self.doku.server.clock.advance(HOUR)
        # 5xx on every attempt; the others are not retried.
        for kind, count in (("http_503", 3), ("malformed_json", 1), ("bad_signature", 1)):
            with self.subTest(fault=kind):
                self.doku.server.inject(kind, count=count, path=doku.STATUS_PATH)
                self._poll()
                self.assertEqual(link.state, "sent")
                self.assertIn("Could not get the status", link.message_ids[0].body)
        self._poll()
        self.assertEqual(link.state, "opened", "the next run recovers")

    def test_crash_between_initiate_and_commit_is_reconciled(self):
        link = self._create_link(self.doku_provider)
        link.action_send()
        # The initiate went through, then the worker died before storing the answer.
        self.doku_provider._api_client().initiate(
            self.doku_provider._doku_initiate_fields(link), link.submission_key
        )
        link.submission_state = "submitting"
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("sent", "accepted", "PENDING"))
        self.assertEqual(len(self._initiates()), 1, "reconciled through the status, not resent")
        self._assert_single_payout(link)

    def test_interrupted_before_doku_saw_it_is_sent_with_the_same_request_id(self):
        link = self._create_link(self.doku_provider)
        link.action_send()
        link.submission_state = "submitting"  # died before the call reached DOKU
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.submission_state, "accepted")
        self._assert_single_payout(link)

    # === Configuration === #

    def test_test_connection(self):
        """DOKU's 'not found' (HTTP 404 in the sandbox) proves the credentials; 401 proves
        them wrong; no answer is "could not reach"."""
        action = self.doku_provider.action_doku_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        [asked] = self.doku.server.requests
        self.assertEqual(asked.json, {"transaction_id": doku.CONNECTION_TEST_REFERENCE})
        provider = self.doku_provider
        for fname, wrong, message in (
                ("doku_client_id", "SOMEONE-ELSE", "DOKU refused the credentials: Unknown"),
                ("doku_secret_key", "SK-wrong", "DOKU refused the credentials: The DOKU sig"),
                ("doku_base_url", "http://127.0.0.1:9", "Could not reach DOKU")):
            with self.subTest(field=fname):
                right = provider[fname]
                provider[fname] = wrong
                try:
                    with self.assertRaisesRegex(UserError, message):
                        provider.action_doku_test_connection()
                finally:
                    provider[fname] = right

    def test_credentials_required_and_hidden(self):
        with self.assertRaisesRegex(ValidationError, "DOKU Client-Id"), self.env.cr.savepoint():
            self.env["payout.provider"].create({"name": "DOKU 2", "code": "doku",
                                                "state": "enabled"})
        with self.assertRaises(AccessError):
            self.assertFalse(self.doku_provider.with_user(self.user_manager).doku_secret_key)
