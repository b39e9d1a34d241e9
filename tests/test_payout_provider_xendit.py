import base64
import json
from itertools import cycle
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from .. import const
from ..controllers.xendit import XenditCallbackController
from ..protocol import xendit
from ..protocol.timeutil import DAY, HOUR, MINUTE
from .common import XenditCommon

CALLBACK_URL = XenditCallbackController._payouts_url  # where the sandbox sends events


@tagged("post_install", "-at_install")
class TestXenditPayoutLinks(XenditCommon):
    """Links claimed at Xendit (legacy Payout Link API)."""

    def test_create_request_as_xendit_received_it(self):
        link = self._sent_link(self.hosted)
        [balance] = self._calls("GET", xendit.BALANCE_PATH)
        [create] = self._calls("POST", xendit.LINK_PATH)
        auth = base64.b64encode(f"{self.xendit.secret_key}:".encode()).decode()
        for request in (balance, create):
            self.assertEqual(request.headers["Authorization"], f"Basic {auth}")
        self.assertEqual(create.headers[xendit.LINK_IDEMPOTENCY_HEADER], link.submission_key)
        self.assertEqual(json.loads(create.body), {
            "external_id": link.submission_reference, "amount": 1500000,
            "email": "dewi@example.com",
        })
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("sent", "accepted", "PENDING"))
        self.assertIn(link.provider_reference, self.xendit.links)
        self.assertFalse(self.env["mail.mail"].search([("email_to", "=", "dewi@example.com")]),
                         "Xendit emails the employee, not Odoo")

    def test_every_link_status_mapping(self):
        scenarios = {
            # CLAIMED: the employee claimed it at Xendit, the money is on its way.
            "claim@example.com": [(HOUR, "CLAIMED", "processing"),
                                  (HOUR + 15 * MINUTE, "COMPLETED", "done")],
            "invalid@example.com": [(HOUR + 15 * MINUTE, "FAILED", "failed")],
            "wrongpass@example.com": [(HOUR, "FAILED", "failed")],
            # Voided by its expiry: HR reads "expired", not "cancelled".
            "idle@example.com": [(3 * DAY + MINUTE, "VOIDED", "expired")],
        }
        for email, steps in scenarios.items():
            with self.subTest(email=email):
                self.xendit.server.reset()
                link = self._sent_link(self.hosted, recipient_email=email)
                self._assert_lifecycle(link, self.xendit.server.clock, steps,
                                       lambda link: self._poll())

    def test_an_expiry_reads_expired_however_xendit_tells_it(self):
        for expiry_status in ("VOIDED", "FAILED", "EXPIRED"):
            with self.subTest(expiry_status=expiry_status):
                self.xendit.server.reset()
                self.xendit.configure(expiry_status=expiry_status)
                link = self._sent_link(self.hosted, recipient_email="idle@example.com")
                self.xendit.server.clock.advance(3 * DAY - MINUTE)
                self._poll()
                self.assertEqual((link.state, link.provider_status), ("sent", "PENDING"))
                self.xendit.server.clock.advance(2 * MINUTE)
                self._poll()
                self.assertEqual((link.state, link.provider_status), ("expired", expiry_status))
                self.assertFalse(link.failure_reason, "an expiry is no failure")

    def test_a_link_locked_before_its_expiry_failed(self):
        link = self._sent_link(self.hosted, recipient_email="wrongpass@example.com")
        self.xendit.server.clock.advance(HOUR)
        self._poll()
        self.assertEqual((link.state, link.provider_status), ("failed", "FAILED"))
        self.assertEqual(link.failure_reason, xendit.message_of("TOO_MANY_WRONG_PASSWORDS"))

    def test_a_failure_code_reads_for_hr(self):
        link = self._sent_link(self.hosted)
        self.xendit.claim(link.provider_reference, account_number="999999")
        self.xendit.server.clock.advance(15 * MINUTE)
        self._poll()
        self.assertEqual(link.state, "failed")
        self.assertEqual(link.failure_reason, xendit.message_of("REJECTED_BY_CHANNEL"))

    def test_reused_external_id_is_never_a_failure(self):
        # A link under our reference exists at Xendit already (created elsewhere with
        # another key): Xendit answers DUPLICATE_PAYOUT_ERROR, whose outcome is unknown.
        link = self._create_link(self.hosted)
        link.action_send()
        self.xendit.client().create_payout_link(
            link.submission_reference, link.amount, "dewi@example.com", "another-key")
        self._submit()
        self.assertEqual((link.state, link.submission_state), ("sent", "submitting"))
        self.assertIn("creates no other", link.message_ids[0].body)
        for _run in range(const.MAX_UNCLEAR_CALLS):
            self._retry_submissions()
        self.assertEqual((link.state, link.submission_state, link.needs_attention),
                         ("sent", "submitting", True), "a Payout Manager decides")
        self.assertFalse(link.failure_reason or link.can_reissue)
        creates = self._calls("POST", xendit.LINK_PATH)
        self.assertEqual({json.loads(r.body)["external_id"] for r in creates[1:]},
                         {link.submission_reference}, "never under another reference")
        self.assertEqual(len(self.xendit.links), 1)

    def test_cancel_voids_at_xendit(self):
        link = self._sent_link(self.hosted)
        link.action_cancel()
        [void] = self._calls("POST", f"{xendit.LINK_PATH}/{link.provider_reference}/void")
        self.assertTrue(void.headers[xendit.LINK_IDEMPOTENCY_HEADER])
        self.assertEqual((link.state, link.provider_status), ("cancelled", "VOIDED"))

    def test_void_after_claim_is_refused_and_changes_nothing(self):
        link = self._sent_link(self.hosted, recipient_email="claim@example.com")
        self.xendit.server.clock.advance(HOUR)  # claimed at Xendit, not polled yet
        with self.assertRaisesRegex(UserError, "Xendit did not void"):
            link.action_cancel()
        self.assertEqual(link.state, "sent")
        self._poll()
        self.assertEqual(link.state, "processing")

    def test_balance_must_cover_the_links(self):
        self.xendit.configure(balance=1000000)
        link = self._create_link(self.hosted)
        with self.assertRaisesRegex(UserError, "cannot cover"):
            link.action_send()
        self.assertEqual((link.state, link.submission_state), ("draft", False))
        self.assertFalse(self._calls("POST", xendit.LINK_PATH))

    def test_lost_answer_is_reconciled_without_a_second_link(self):
        self.xendit.server.inject("malformed_json", path=xendit.LINK_PATH)
        link = self._create_link(self.hosted)
        link.action_send()
        self._submit()
        self.assertEqual(link.submission_state, "submitting")
        self._retry_submissions()
        self.assertEqual((link.state, link.submission_state), ("sent", "accepted"))
        self.assertEqual(len(self.xendit.links), 1)


@tagged("post_install", "-at_install")
class TestXenditPayoutsV2(XenditCommon):
    """Links claimed in Odoo and paid through Payouts v2."""

    def test_only_banks_xendit_pays_to_are_offered(self):
        local_bank = self.env["res.bank"].create({
            "name": "Bank Daerah Contoh", "payout_bank_code": "999", "payout_available": True,
        })
        self.assertIn(local_bank, self.provider._get_payout_banks(), "Demo pays any bank")
        banks = self.in_odoo._get_payout_banks()
        self.assertNotIn(local_bank, banks)
        self.assertIn(self.bank, banks)
        link = self._create_link(self.in_odoo)
        self._send(link)
        with self.assertRaisesRegex(ValidationError, "Bank: choose a bank from the list"):
            link._claim(local_bank, "1234567890", "Dewi Lestari")
        self.assertEqual((link.state, link.bank_id), ("sent", self.env["res.bank"]))

    def test_payout_request_as_xendit_received_it(self):
        link = self._claimed_link(provider=self.in_odoo)
        self._submit()
        [create] = self._calls("POST", xendit.PAYOUT_PATH)
        self.assertEqual(create.headers[xendit.PAYOUT_IDEMPOTENCY_HEADER], link.submission_key)
        body = json.loads(create.body)
        self.assertEqual(
            (body["reference_id"], body["channel_code"], body["channel_properties"],
             body["amount"], body["currency"]),
            (link.submission_reference, "ID_BCA",
             {"account_number": "1234567890", "account_holder_name": "Dewi Lestari"},
             1500000, "IDR"),
        )
        self.assertEqual((link.state, link.provider_status), ("processing", "ACCEPTED"))
        self.xendit.server.clock.advance(15 * MINUTE)
        self._poll()
        self.assertEqual((link.state, link.provider_status), ("done", "SUCCEEDED"))

    def test_payout_cancelled_at_xendit_fails_the_link(self):
        link = self._claimed_link(provider=self.in_odoo)
        self._submit()
        self.assertEqual(link.provider_status, "ACCEPTED")
        # Someone cancels it in Xendit's dashboard before any money moved.
        self.in_odoo._api_client().cancel_payout(link.provider_reference)
        self._poll()
        self.assertEqual((link.state, link.provider_status), ("failed", "CANCELLED"))
        self.assertIn("CANCELLED", link.failure_reason)
        link.action_reissue()
        self.assertEqual(link.reissued_link_ids.state, "sent")

    def test_every_payout_status_mapping(self):
        scenarios = {
            "1234567890": [(0, "ACCEPTED", "processing"), (MINUTE, "REQUESTED", "processing"),
                           (15 * MINUTE, "SUCCEEDED", "done")],
            "4000000001": [(15 * MINUTE, "FAILED", "failed")],
            "4000000003": [(15 * MINUTE, "PENDING_COMPLIANCE_ASSESSMENT", "processing")],
            "4000000005": [(2 * MINUTE, "PENDING_COMPLIANCE_ASSESSMENT", "processing"),
                           (HOUR + 2 * MINUTE, "COMPLIANCE_REJECTED", "failed")],
        }
        for account, steps in scenarios.items():
            with self.subTest(account=account):
                self.xendit.server.reset()
                link = self._claimed_link(account, provider=self.in_odoo)
                self._submit()
                self._assert_lifecycle(link, self.xendit.server.clock, steps,
                                       lambda link: self._poll())

    def test_retry_after_a_timeout_pays_once(self):
        # Xendit creates the payout, then the answer is lost: the client's retry carries
        # the same Idempotency-key and gets the original payout back.
        self.xendit.server.inject("timeout", path=xendit.PAYOUT_PATH, seconds=11)
        link = self._claimed_link(provider=self.in_odoo)
        self._submit()
        creates = self._calls("POST", xendit.PAYOUT_PATH)
        self.assertEqual(len(creates), 2)
        self.assertEqual({r.headers[xendit.PAYOUT_IDEMPOTENCY_HEADER] for r in creates},
                         {link.submission_key})
        self.assertEqual(len(self.xendit.payouts), 1, "paid once")
        self.assertEqual((link.state, link.submission_state), ("processing", "accepted"))

    def test_faults_recover_with_one_payout(self):
        for kind, count in (("http_503", 3), ("http_500", 1), ("reset", 1),
                            ("malformed_json", 1), ("latency", 1)):
            with self.subTest(fault=kind):
                self.xendit.server.reset()
                self.xendit.server.inject(kind, count=count, path=xendit.PAYOUT_PATH,
                                          seconds=0.2 if kind == "latency" else None)
                link = self._claimed_link(provider=self.in_odoo)
                self._submit()
                if link.submission_state == "submitting":
                    self.assertIn("did not answer clearly", link.message_ids[0].body)
                    self._retry_submissions()
                self.assertEqual((link.state, link.submission_state), ("processing", "accepted"))
                self.assertEqual(len(self.xendit.payouts), 1)

    def test_a_refusal_code_fails_the_link_with_a_reason(self):
        link = self._claimed_link(provider=self.in_odoo, amount=5000)  # under the minimum
        self._submit()
        self.assertEqual((link.state, link.submission_state), ("failed", "refused"))
        self.assertEqual(link.failure_reason, xendit.message_of("MINIMUM_TRANSFER_LIMIT_ERROR"))
        self.assertFalse(self.xendit.payouts)
        self.assertTrue(link.can_reissue)

    def test_a_failure_code_after_acceptance_reads_for_hr(self):
        link = self._claimed_link("123456", provider=self.in_odoo)  # Xendit's test account
        self._submit()
        self.xendit.server.clock.advance(15 * MINUTE)
        self._poll()
        self.assertEqual((link.state, link.provider_status), ("failed", "FAILED"))
        self.assertEqual(link.failure_reason, xendit.message_of("TEMPORARY_TRANSFER_ERROR"))

    def test_refused_account_fails_the_link(self):
        link = self._claimed_link("4000000000", provider=self.in_odoo)
        self._submit()
        self.assertEqual(link.state, "failed")
        self.assertIn("account number", link.failure_reason)
        self.assertFalse(self.xendit.payouts)


@tagged("post_install", "-at_install")
class TestXenditCallbacks(XenditCommon, HttpCase):
    """Callbacks over real HTTP: the token is checked, the body is only a hint."""

    def setUp(self):
        super().setUp()
        self.xendit.configure(
            callback_url=f"http://127.0.0.1:{config['http_port']}{CALLBACK_URL}"
        )
        self.link = self._create_link(self.in_odoo)
        self._send(self.link)
        self.link._claim(self.bank, "1234567890", "Dewi Lestari")
        self._submit()

    def _post(self, body, token=None, url=CALLBACK_URL):
        headers = {"Content-Type": "application/json"}
        if token:
            headers[xendit.CALLBACK_TOKEN_HEADER] = token
        return self.url_open(url, data=json.dumps(body), headers=headers)

    def _event(self, payout_id=None, status="SUCCEEDED"):
        return {"event": "payout.succeeded", "business_id": "b1", "created": "2026-11-22",
                "data": {"id": payout_id or self.link.provider_reference, "status": status}}

    def test_delivered_callbacks_move_the_link(self):
        self.xendit.server.clock.advance(15 * MINUTE)
        deliveries = self.xendit.deliver()
        self.assertEqual([(d["event"], d["http_status"]) for d in deliveries],
                         [("payout.succeeded", 200)])
        self.link.invalidate_recordset()
        self.assertEqual((self.link.state, self.link.provider_status), ("done", "SUCCEEDED"))

    def test_reversal_after_success_fails_the_paid_link(self):
        link = self._create_link(self.in_odoo, recipient_email="rev@example.com")
        self._send(link)
        link._claim(self.bank, "4000000004", "Dewi Lestari")  # reversed 1 h after success
        self._submit()
        self.xendit.server.clock.advance(15 * MINUTE)
        self.xendit.deliver()
        link.invalidate_recordset()
        self.assertEqual(link.state, "done")
        self.xendit.server.clock.advance(2 * HOUR)
        self.assertEqual([d["event"] for d in self.xendit.deliver()], ["payout.reversed"])
        link.invalidate_recordset()
        self.assertEqual((link.state, link.provider_status), ("failed", "REVERSED"))
        self.assertTrue(link.failure_reason)

    def test_forged_body_cannot_move_the_link(self):
        response = self._post(self._event(), self.xendit.callback_token)
        self.assertEqual(response.status_code, 200)
        self.link.invalidate_recordset()
        self.assertEqual((self.link.state, self.link.provider_status),
                         ("processing", "ACCEPTED"), "Xendit itself still says ACCEPTED")

    def test_wrong_or_missing_token_is_refused(self):
        for token in ("wrong-token", None):
            with self.subTest(token=token):
                self.xendit.server.clock.advance(15 * MINUTE)  # Xendit now says SUCCEEDED
                response = self._post(self._event(), token)
                self.assertEqual(response.status_code, 403)
                self.link.invalidate_recordset()
                self.assertEqual(self.link.state, "processing", "nothing changed")

    def test_duplicate_callback_changes_nothing_more(self):
        self.xendit.server.clock.advance(15 * MINUTE)
        for _ in range(2):
            self.assertEqual(self._post(self._event(), self.xendit.callback_token).json(),
                             {"status": "accepted"})
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "done")
        self.assertEqual(len(self._calls("GET", xendit.PAYOUT_PATH)), 2,
                         "each callback looked the payout up")
        receipts = self.env["mail.mail"].search([("model", "=", "payout.link"),
                                                 ("res_id", "=", self.link.id)])
        self.assertEqual(len(receipts), 1)

    def test_unknown_payout_is_acknowledged_and_ignored(self):
        response = self._post(self._event("disb-unknown"), self.xendit.callback_token)
        self.assertEqual((response.status_code, response.json()), (200, {"status": "ignored"}))
        self.assertFalse(self._calls("GET", xendit.PAYOUT_PATH))
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "processing")

    def test_payout_link_callbacks_have_their_own_route(self):
        body = {"id": "unknown-link", "external_id": "PAY1", "status": "COMPLETED"}
        url = XenditCallbackController._payout_link_url
        self.assertEqual(self._post(body, url=url).status_code, 403)
        response = self._post(body, self.xendit.callback_token, url=url)
        self.assertEqual((response.status_code, response.json()), (200, {"status": "ignored"}))

    def test_malformed_callback(self):
        response = self._post({"nothing": "useful"}, self.xendit.callback_token)
        self.assertEqual(response.status_code, 400)


@tagged("post_install", "-at_install")
class TestXenditPayoutLinkCallbacks(XenditCommon, HttpCase):
    """Payout Link events (disbursement.*) name the disbursement: matched by external id."""

    def setUp(self):
        super().setUp()
        self.xendit.configure(callback_url=f"http://127.0.0.1:{config['http_port']}"
                                           f"{XenditCallbackController._payout_link_url}")

    def test_disbursement_completed_pays_the_link_found_by_its_external_id(self):
        link = self._sent_link(self.hosted, recipient_email="claim@example.com")
        self.xendit.server.clock.advance(HOUR + 15 * MINUTE)  # claimed, then paid
        [delivery] = self.xendit.deliver()
        self.assertEqual((delivery["event"], delivery["http_status"]),
                         ("disbursement.completed", 200))
        self.assertNotEqual(delivery["id"], link.provider_reference, "the disbursement's id")
        link.invalidate_recordset()
        self.assertEqual((link.state, link.provider_status), ("done", "COMPLETED"))
        # The link itself was fetched, once: the callback is only a hint.
        self.assertEqual(len(self._calls("GET", f"{xendit.LINK_PATH}/{link.provider_reference}")),
                         1)

    def test_disbursement_failed_fails_the_link_with_a_reason(self):
        link = self._sent_link(self.hosted, recipient_email="invalid@example.com")
        self.xendit.server.clock.advance(HOUR + 15 * MINUTE)
        self.assertEqual([d["event"] for d in self.xendit.deliver()], ["disbursement.failed"])
        link.invalidate_recordset()
        self.assertEqual(link.state, "failed")
        self.assertEqual(link.failure_reason, xendit.message_of("INVALID_DESTINATION"))

    def test_an_event_without_references_touches_no_link(self):
        draft = self._create_link(self.hosted)  # no reference at Xendit, none given yet
        body = {"event": "disbursement.completed", "data": {"status": "SUCCEEDED"}}
        response = self.url_open(
            XenditCallbackController._payout_link_url, data=json.dumps(body),
            headers={"Content-Type": "application/json",
                     xendit.CALLBACK_TOKEN_HEADER: self.xendit.callback_token})
        self.assertEqual(response.json(), {"status": "ignored"})
        self.assertFalse(self.xendit.server.requests, "nothing was looked up")
        self.assertEqual(draft.state, "draft")


@tagged("post_install", "-at_install")
class TestXenditClaimTour(XenditCommon, HttpCase):

    def test_claim_in_odoo_paid_through_payouts_v2(self):
        link = self._create_link(self.in_odoo)
        with patch("odoo.addons.hr_payout_link.models.payout_link_claim.secrets.choice",
                   side_effect=cycle("ABCDEFGH")):
            link.action_send()
        self.start_tour(self._claim_path(link), "payout_claim_tour", login=None)
        link.invalidate_recordset()
        self.assertEqual((link.state, link.submission_state), ("processing", "to_submit"))
        self._submit()
        [create] = self._calls("POST", xendit.PAYOUT_PATH)
        self.assertEqual(json.loads(create.body)["channel_properties"]["account_number"],
                         "1234567890")
        self.xendit.server.clock.advance(15 * MINUTE)
        self._poll()
        self.assertEqual(link.state, "done")
