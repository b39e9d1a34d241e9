import logging
import re
import time
from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import format_amount

from ..controllers.claim import MASKED_LOGGERS, MaskClaimTokens, PayoutClaimController
from ..hooks import post_load
from .common import ACCOUNT, ClaimPageCommon

# The CSRF token differs per request: blank it out to compare two pages.
ANY_CSRF_RE = re.compile(r'(csrf_token["\s:=value]+)"[^"]*"')



@tagged("post_install", "-at_install")
class TestClaimHttp(ClaimPageCommon):
    """The claim page over real HTTP, as the employee's browser uses it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The server runs it when it loads the addon; pytest imports the addon first, and
        # then Odoo does not load it again.
        post_load()
        cls.provider.sender_name = "Acme Payroll"

    def setUp(self):
        super().setUp()
        self.link = self._create_link(user_id=self.user_manager.id)
        self.secret = self._send(self.link)

    # === Helpers === #

    def _receipts(self, link):
        return self._link_mails(link).filtered(lambda mail: mail.subject.startswith("Paid:"))

    # === Opening and the secret === #

    def test_open_sent_link(self):
        response = self._open()
        self.assertEqual(response.status_code, 200)
        self.assertIn(format_amount(self.env, 1500.0, self.link.currency_id), response.text)
        self.assertIn("Acme Payroll", response.text)
        self.assertIn('name="secret"', response.text)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "opened")

    def test_security_headers(self):
        response = self._open()
        self.assertEqual(response.headers.get("Cache-Control"), "no-store")
        self.assertEqual(response.headers.get("Referrer-Policy"), "no-referrer")

    def test_wrong_secret(self):
        self._open()
        response = self._post("secret", secret="WRONGSEC")
        self.assertEqual(response.status_code, 403)
        self.assertIn("This secret is not right. 2 attempt(s) left", response.text)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.failed_attempts, 1)
        self.assertEqual(self.link.state, "opened")

    def test_wrong_secrets_lock_the_link(self):
        self._open()
        for _attempt in range(self.provider.max_secret_attempts):
            response = self._post("secret", secret="WRONGSEC")
        self.assertIn("Not paid", response.text)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "failed")
        self.assertEqual(self.link.failed_attempts, 3)
        self.assertIn("locked", self.link.failure_reason.lower())
        activity = self.link.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_manager)

        # Locked: neither a wrong nor the right secret nor an account changes anything.
        before = self._snapshot()
        for secret in ("WRONGSEC", self.secret):
            self.assertEqual(self._post("secret", secret=secret).status_code, 303)
        self.assertEqual(self._post_account().status_code, 303)
        self.assertEqual(self._snapshot(), before)
        page = self._open().text
        self.assertNotIn('name="secret"', page)
        self.assertNotIn('name="account_number"', page)

    def test_secret_lower_case_with_spaces(self):
        secret = f"{self.secret[:4].lower()} {self.secret[4:].lower()}"
        self._verify(secret)
        response = self._open()
        self.assertIn('name="account_number"', response.text)
        self.assertNotIn('name="secret"', response.text)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.failed_attempts, 0)

    # === The bank account === #

    def test_account_bad_inputs(self):
        self._verify()
        unknown_bank = self.env["res.bank"].search([], order="id desc", limit=1).id + 1000
        cases = [
            ({"bank_id": str(unknown_bank)}, "Bank:"),
            ({"account_number": "12345abcde"}, "Account Number:"),
            ({"account_number": "12345"}, "Account Number:"),
            ({"account_number": "1" * 21}, "Account Number:"),
            ({"account_holder": "   "}, "Account Holder:"),
        ]
        before = self._snapshot()
        for values, error in cases:
            with self.subTest(values=values):
                response = self._post_account(**values)
                self.assertEqual(response.status_code, 400)
                self.assertIn(error, response.text)
                self.assertEqual(self._snapshot(), before)
        self.assertEqual(before["state"], "opened")
        self.assertFalse(before["account_number"])
        self.assertFalse(before["account_number_masked"])

    def test_account_non_ascii_digits_refused(self):
        """The bank gets ASCII digits only: other Unicode digits are not an account number."""
        self._verify()
        before = self._snapshot()
        response = self._post_account(account_number="１２３４５６７８９０")  # full-width
        self.assertEqual(response.status_code, 400)
        self.assertIn("Account Number:", response.text)
        self.assertEqual(self._snapshot(), before)

    def test_claim_and_pay(self):
        self._claim_over_http()
        self.assertEqual(self.link.state, "processing")
        self.assertEqual(self.link.account_number_masked, "•••• 7890")
        self.assertEqual(self.link.bank_id, self.bank)
        self.assertEqual(self.link.account_holder_name, "Dewi Lestari")
        self.assertEqual(self.link.submission_state, "to_submit")
        page = self._open().text
        self.assertIn("On its way", page)
        self.assertIn("•••• 7890", page, "the browser that claimed sees where it is paid")
        self.assertNotIn("1234567890", page)

        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "done")
        self.assertFalse(self.link.account_number)
        self.assertEqual(len(self._receipts(self.link)), 1)
        response = self._open()
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_payout_paid", response.text)
        self.assertIn("•••• 7890", response.text)
        self.assertNotIn("1234567890", response.text)

    def test_demo_test_accounts(self):
        cases = {
            "4000000001": ("failed", "Invalid destination account"),
            "4000000002": ("failed", "Insufficient balance"),
            "4000000003": ("processing", False),
        }
        for account_number, (state, reason) in cases.items():
            with self.subTest(account_number=account_number):
                self.link = self._create_link()
                self.secret = self._send(self.link)
                self._claim_over_http(account_number)
                self.env["payout.link"]._cron_submit_payouts(with_commit=False)
                self.link.invalidate_recordset()
                self.assertEqual(self.link.state, state)
                self.assertEqual(self.link.failure_reason, reason)
                if state == "failed":
                    # The provider's error stays in the back office: the employee reads no reason.
                    page = self._open().text
                    self.assertIn("The payment could not be made.", page)
                    self.assertNotIn(reason, page)

    def test_account_without_secret(self):
        self._open()
        before = self._snapshot()
        response = self._post_account()
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._snapshot(), before)

    def test_replayed_account_post(self):
        self._claim_over_http()
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        before = self._snapshot()
        self.assertEqual(before["state"], "done")
        for values in ({}, {"account_number": "9876543210"}):
            response = self._post_account(**values)
            self.assertEqual(response.status_code, 303)
            self.assertEqual(self._snapshot(), before)
        self.assertFalse(self.env["payout.link"]._cron_submit_payouts(with_commit=False))
        self.assertEqual(len(self._receipts(self.link)), 1)

    def test_replayed_account_post_while_processing(self):
        self._claim_over_http()
        before = self._snapshot()
        self.assertEqual(self._post_account(account_number="9876543210").status_code, 303)
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self.env["payout.link"]._cron_submit_payouts(with_commit=False), self.link)
        self.assertFalse(self.env["payout.link"]._cron_submit_payouts(with_commit=False))

    def test_post_without_csrf_token(self):
        self._open()
        before = self._snapshot()
        with self.assertLogs("odoo.http", "WARNING"):
            response = self._post("secret", csrf=False, secret=self.secret)
        self.assertEqual(response.status_code, 400)
        self.assertIn('name="secret"', self._open().text, "the secret must not count")
        self._verify()
        with self.assertLogs("odoo.http", "WARNING"):
            response = self._post_account(csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self._snapshot(), before)

    # === Links that cannot be shown === #

    def test_unavailable_links_look_the_same(self):
        expired = self._create_link()
        self._send(expired)
        expired.expiry_date = fields.Datetime.now() - timedelta(minutes=1)
        expired_by_cron = self._create_link()
        self._send(expired_by_cron)
        expired_by_cron.expiry_date = fields.Datetime.now() - timedelta(minutes=1)
        self.env["payout.link"]._cron_expire_links(with_commit=False)
        cancelled = self._create_link()
        self._send(cancelled)
        cancelled_token = self._claim_token(cancelled)
        cancelled.action_cancel()

        pages = {}
        for name, token in [
            ("expired", self._claim_token(expired)),
            ("expired_by_cron", self._claim_token(expired_by_cron)),
            ("cancelled", cancelled_token),
            ("unknown", "x" * 43),
        ]:
            response = self._open(token=token)
            self.assertEqual(response.status_code, 404, name)
            self.assertIn("This payout link is not available", response.text)
            pages[name] = ANY_CSRF_RE.sub(r'\1""', response.text).replace(token, "TOKEN")
        self.assertEqual(len(set(pages.values())), 1, "the pages must not tell the cases apart")
        self.env.invalidate_all()
        self.assertEqual(expired.state, "expired")
        self.assertEqual(expired_by_cron.state, "expired")
        self.assertEqual(cancelled.state, "cancelled")

    def test_posts_to_unavailable_links(self):
        self._open()
        self.link.expiry_date = fields.Datetime.now() - timedelta(minutes=1)
        for step in ("secret", "account"):
            response = self._post(step, secret=self.secret, **ACCOUNT)
            self.assertEqual(response.status_code, 404)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "expired")
        self.assertFalse(self.link.account_number_masked)

    # === The token stays out of the logs === #

    def test_token_not_in_request_log(self):
        # Not level="INFO": Odoo names its level 25 "INFO" too.
        with self.assertLogs("werkzeug", level=logging.INFO) as logs:
            self._open()
            self._post("secret", secret="WRONGSEC")
            # werkzeug logs a request once it is answered: wait for both lines.
            deadline = time.monotonic() + 5
            while len(logs.records) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        messages = "\n".join(record.getMessage() for record in logs.records)
        self.assertIn("/payout/claim/***", messages)
        self.assertNotIn(self._claim_token(self.link), messages)

    def test_mask_filter_on_werkzeug_record(self):
        token = self._claim_token(self.link)
        record = logging.LogRecord(
            "werkzeug", logging.INFO, __file__, 0, '"%s" %s %s',
            (f"POST /payout/claim/{token}/secret HTTP/1.1", "303", "-"), None,
        )
        self.assertTrue(MaskClaimTokens().filter(record))
        self.assertEqual(
            record.getMessage(), '"POST /payout/claim/***/secret HTTP/1.1" 303 -'
        )

    def test_post_load_masks_the_request_loggers_once(self):
        post_load()
        post_load()
        for name in MASKED_LOGGERS:
            with self.subTest(logger=name):
                filters = [existing for existing in logging.getLogger(name).filters
                           if isinstance(existing, MaskClaimTokens)]
                self.assertEqual(len(filters), 1)

    def test_token_not_in_csrf_warning(self):
        """A refused POST logs its path: the token must be masked there too."""
        self._open()
        with self.assertLogs("odoo.http", "WARNING") as logs:
            self._post("secret", csrf=False, secret="WRONGSEC")
        messages = "\n".join(record.getMessage() for record in logs.records)
        self.assertNotIn(self._claim_token(self.link), messages)

    # === The employee's portal === #

    def test_portal_my_payouts(self):
        portal_user = new_test_user(self.env, "payout_portal", groups="base.group_portal")
        self.employee.user_id = portal_user
        self._check_identity(self.employee)
        colleague = self.env["hr.employee"].create({
            "name": "Budi Santoso", "work_email": "budi@example.com",
        })
        other_link = self._create_link(employee_id=colleague.id)
        self._send(other_link)
        self.authenticate("payout_portal", "payout_portal")

        response = self.url_open("/my/payouts")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.link.name, response.text)
        self.assertNotIn(other_link.name, response.text)
        response = self.url_open(f"/my/payouts/{self.link.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Acme Payroll", response.text)
        self.assertEqual(self.url_open(f"/my/payouts/{other_link.id}").status_code, 404)


@tagged("post_install", "-at_install")
class TestNotForMe(ClaimPageCommon):
    """"This is not for me": whoever received the claim email says so on the claim page; the
    link locks with no secret asked, and its responsible user is told."""

    def setUp(self):
        super().setUp()
        self.link = self._create_link(user_id=self.user_manager.id)
        self.secret = self._send(self.link)

    def test_a_misdirected_email_stops_there(self):
        page = self._open().text
        self.assertIn("This is not for me", page)
        response = self._post("not-for-me")
        self.assertEqual(response.status_code, 303)
        self.link.invalidate_recordset()
        self.assertEqual(
            (self.link.state, self.link.refused_by_recipient, self.link.failed_attempts),
            ("failed", True, 0))
        self.assertIn("not for them", self.link.failure_reason)
        self.assertIn(self.link.recipient_email, self.link.failure_reason)
        self.assertEqual(self.link.activity_ids.user_id, self.user_manager)
        page = self._open().text
        self.assertIn("knows this payout is not for you", page)
        self.assertIn("You told us this payout is not for you.", page)
        self.assertNotIn('name="secret"', page)
        # The secret no longer opens it, and a replay changes nothing.
        before = self._snapshot()
        self.assertEqual(self._post("secret", secret=self.secret).status_code, 303)
        self.assertEqual(self._post("not-for-me").status_code, 303)
        self.assertEqual(self._post_account().status_code, 303)
        self.assertEqual(self._snapshot(), before)

    def test_it_needs_the_form_s_csrf_token_and_a_real_token(self):
        self._open()
        before = self._snapshot()
        with self.assertLogs("odoo.http", "WARNING"):
            response = self._post("not-for-me", csrf=False, confirm="1")
        self.assertEqual(response.status_code, 400)  # Odoo's CSRF check
        self.assertEqual(self._snapshot(), before)
        response = self.url_open(f"{PayoutClaimController._claim_url}/{'X' * 43}/not-for-me",
                                 data={"csrf_token": self.csrf_token}, allow_redirects=False)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._snapshot(), before)

    def test_no_user_sets_it_by_hand(self):
        self._assert_rpc_refused(self.user_editor, "payout.link", "write", [self.link.id],
                                 {"refused_by_recipient": True})
