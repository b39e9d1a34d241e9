from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user, tagged

from ..protocol import demo
from .common import (
    ACCOUNT,
    ACCOUNT_NUMBER,
    HOLDER,
    SECRET_IN_MAIL_RE,
    SESSION_CSRF_RE,
    SignedInCommon,
)

# The Demo provider's payment: what the provider receives, when the payment cron calls it.
DEMO_PAY = "odoo.addons.hr_payout_link.protocol.demo.pay"


@tagged("post_install", "-at_install")
class TestSignedInClaim(SignedInCommon):
    """An employee signed in to the portal claims from /my/payouts with their session; the
    session path keeps every rule of the public page."""

    def test_the_link_is_sent_for_its_user_without_token_nor_secret(self):
        self.assertEqual((self.link.state, self.link.claim_user_id),
                         ("sent", self.user_employee))
        self.assertFalse(self.link.sudo().claim_token_hash)
        self.assertFalse(self.link.sudo().secret_hash)
        self.assertEqual(self.link._get_claim_path(), f"/my/payouts/{self.link.id}")
        self.assertIn("to claim signed in as payout_signin", self.link.message_ids[0].body)

    def test_claim_signed_in(self):
        page = self._open()
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_payout_account_form", page.text)
        self.assertIn(f'action="/my/payouts/{self.link.id}/account"', page.text)
        self.assertNotIn("o_payout_secret_form", page.text)
        self.assertNotIn("This is not for me", page.text)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "opened")

        with patch(DEMO_PAY, wraps=demo.pay) as pay:
            response = self._post_account()
            self.assertEqual(response.status_code, 303)
            self.assertTrue(response.headers["Location"].endswith(f"/my/payouts/{self.link.id}"))
            self.link.invalidate_recordset()
            self.assertEqual(
                (self.link.state, self.link.submission_state, self.link.bank_id,
                 self.link.account_number_masked, self.link.account_holder_name),
                ("processing", "to_submit", self.bank, "•••• 7890", HOLDER))
            self.assertFalse(pay.called, "the request that claims moves no money")
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            pay.assert_called_once_with(ACCOUNT_NUMBER)
        self.assertEqual(self.link.state, "done")
        page = self._open().text
        self.assertIn("o_payout_paid", page)
        self.assertIn("•••• 7890", page)
        self.assertNotIn("o_payout_account_form", page)

    def test_a_review_holds_the_money(self):
        self.company.payout_review_new_accounts = True
        self._open()
        with patch(DEMO_PAY, wraps=demo.pay) as pay:
            self.assertEqual(self._post_account().status_code, 303)
            self.link.invalidate_recordset()
            self.assertEqual((self.link.state, self.link.account_review_state),
                             ("processing", "to_review"))
            self.assertEqual(self.link.activity_ids.user_id, self.user_manager)
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            self.assertFalse(pay.called, "nothing moves before the review")
            self.assertEqual(self.link.account_review_state, "to_review")
            self.assertIn("On its way", self._open().text)
            self.link.with_user(self.user_manager).action_approve_account()
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            pay.assert_called_once_with(ACCOUNT_NUMBER)

    def test_the_employee_approves_nothing_of_their_own(self):
        """Whoever claims signed in is a payee of the link, even once the employee has
        another user: they review neither its bank account."""
        self.company.payout_review_new_accounts = True
        manager_employee = self.env["hr.employee"].create({
            "name": "Manager Self", "work_email": "m@example.com",
            "user_id": self.user_manager.id, "company_id": self.company.id,
        })
        link = self._sent_link(employee_id=manager_employee.id, user_id=self.user_editor.id)
        self.assertEqual(link.claim_user_id, self.user_manager)
        link._claim(self.bank, ACCOUNT_NUMBER, "Manager Self")
        manager_employee.user_id = False
        self._assert_rpc_refused(self.user_manager, "payout.link", "action_approve_account",
                                 [link.id], message="pays you")
        self.assertEqual(link.account_review_state, "to_review")

    def test_an_expired_link_cannot_be_claimed(self):
        self.link.sudo().expiry_date = fields.Datetime.now() - timedelta(minutes=1)
        page = self._open()
        self.assertEqual(page.status_code, 200)
        self.assertIn("o_payout_expired", page.text)
        self.assertNotIn("o_payout_account_form", page.text)
        self.assertEqual(self.link.state, "expired")
        before = self._snapshot()
        self.assertEqual(self._post_account().status_code, 303)
        self.assertEqual(self._snapshot(), before)

    def test_a_link_expiring_under_the_form_cannot_be_claimed(self):
        """Expired between the page and its POST: the POST expires it and claims nothing."""
        self._open()
        self.link.sudo().expiry_date = fields.Datetime.now() - timedelta(minutes=1)
        self.assertEqual(self._post_account().status_code, 303)
        self.link.invalidate_recordset()
        self.assertEqual((self.link.state, self.link.bank_id, self.link.submission_state),
                         ("expired", self.env["res.bank"], False))

    def test_failed_or_cancelled_links_cannot_be_claimed(self):
        self._open()
        for close in (lambda link: link._update_state("failed"),
                      lambda link: link.with_user(self.user_editor).action_cancel()):
            link = self._sent_link(user_id=self.user_manager.id)
            close(link)
            self.link = link
            with self.subTest(state=link.state):
                before = self._snapshot()
                self.assertNotIn("o_payout_account_form", self._open().text)
                self.assertEqual(self._post_account().status_code, 303)
                self.assertEqual(self._snapshot(), before)

    def test_a_held_link_cannot_be_claimed(self):
        """The offboarding hold holds the session path too: the hold notice, no form, and
        a POST that changes nothing."""
        self._open()
        for change in ({"active": False},):
            with self.subTest(change=change):
                self.employee.write(change)
                page = self._open()
                self.assertEqual(page.status_code, 200)
                self.assertIn("This payout is on hold", page.text)
                self.assertNotIn("o_payout_account_form", page.text)
                before = self._snapshot()
                self.assertEqual(self._post_account().status_code, 303)
                self.assertEqual(self._snapshot(), before)

    def test_a_replayed_post_pays_once(self):
        self._open()
        self.assertEqual(self._post_account().status_code, 303)
        claimed = self._snapshot()
        self.assertEqual(self._post_account(account_number="9876543210").status_code, 303)
        self.assertEqual(self._snapshot(), claimed)
        with patch(DEMO_PAY, wraps=demo.pay) as pay:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        pay.assert_called_once_with(ACCOUNT_NUMBER)

    def test_bad_input_is_a_form_error_that_changes_nothing(self):
        self._open()
        before = self._snapshot()
        for values, error in (({"bank_id": "²"}, "Bank: choose a bank from the list."),
                              ({"bank_id": "99999999999999999999"}, "Bank: choose"),
                              ({"account_number": "12345"}, "Account Number: 6 to 20 digits"),
                              ({"account_number": "١٢٣٤٥٦٧٨"}, "Account Number"),
                              ({"account_holder": "Dewi\x00Lestari"}, "Account Holder"),
                              ({"account_holder": "x" * 51}, "Account Holder")):
            with self.subTest(values=values):
                response = self._post_account(**values)
                self.assertEqual(response.status_code, 400)
                self.assertIn(error, response.text)
                self.assertIn("o_payout_account_form", response.text, "the form, to correct")
        self.assertEqual(self._snapshot(), before)
        response = self._post_account(csrf=False)
        self.assertEqual(response.status_code, 400, "no CSRF token: refused")
        self.assertEqual(self._snapshot(), before)

    def test_another_portal_user_gets_not_found(self):
        other = new_test_user(self.env, "payout_signin_other", groups="base.group_portal")
        self.colleague.user_id = other
        self.authenticate(other.login, other.login)
        before = self._snapshot()
        self.assertEqual(self._open().status_code, 404)
        self.assertEqual(self._post_account().status_code, 404)
        self.assertNotIn(self.link.name, self.url_open("/my/payouts").text)
        self.assertEqual(self._snapshot(), before)

    def test_the_public_user_is_sent_to_sign_in(self):
        self.url_open("/web/session/logout")
        before = self._snapshot()
        for response in (self._open(), self._post_account(csrf=False)):
            self.assertIn(response.status_code, (302, 303))
            self.assertIn("/web/login", response.headers["Location"])
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self.link.state, "sent", "not opened by a stranger")

    def test_the_public_claim_page_never_serves_it(self):
        """No token is issued for the link; and were one and a secret hash on it (a bug, a
        hand-edited database), the claim page would still not serve it without a session."""
        self.url_open("/web/session/logout")
        token = "A" * 43
        self.link.sudo().write({"claim_token_hash": self.link._hash_claim_token(token),
                                "secret_hash": self.link._hash_secret("ABCDEFGH")})
        csrf = SESSION_CSRF_RE.search(self.url_open("/web/login").text)[1]
        before = self._snapshot()
        for path, data in (("", None), ("/secret", {"secret": "ABCDEFGH"}),
                           ("/not-for-me", {}),
                           ("/account", {"bank_id": str(self.bank.id), **ACCOUNT})):
            with self.subTest(path=path):
                response = self.url_open(
                    f"/payout/claim/{token}{path}", allow_redirects=False,
                    data=None if data is None else {**data, "csrf_token": csrf})
                self.assertEqual(response.status_code, 404)
                self.assertIn("not available", response.text)
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self.link.state, "sent", "not opened")
        self.link.sudo().claim_user_id = False  # the check this test is about
        self.assertEqual(self.url_open(f"/payout/claim/{token}").status_code, 200)

    def test_an_internal_user_claims_signed_in_too(self):
        internal = new_test_user(self.env, "payout_signin_internal", groups="base.group_user",
                                 email=self.employee.work_email)
        self.employee.user_id = internal
        self._check_identity(self.employee)
        self.link = self._sent_link(user_id=self.user_manager.id)
        self.assertEqual(self.link.claim_user_id, internal)
        self.authenticate(internal.login, internal.login)
        self.assertIn("o_payout_account_form", self._open().text)
        self.assertEqual(self._post_account().status_code, 303)
        self.link.invalidate_recordset()
        self.assertEqual((self.link.state, self.link.submission_state),
                         ("processing", "to_submit"))


@tagged("post_install", "-at_install")
class TestSignedInMode(SignedInCommon):
    """Which links are claimed signed in: decided when the link is sent, and kept."""

    def test_an_employee_without_a_user_keeps_the_secret(self):
        link = self._sent_link(employee_id=self.colleague.id)
        self.assertFalse(link.claim_user_id)
        self.assertTrue(link.sudo().secret_hash)
        self.assertIn("/payout/claim/", self._get_claim_mail(link).body_html)
        self.assertTrue(self._secret_in_mail(link))

    def test_an_archived_user_is_no_login(self):
        self.user_employee.active = False
        link = self._sent_link()
        self.assertFalse(link.claim_user_id)
        self.assertTrue(self._secret_in_mail(link))

    def test_a_user_given_after_sending_leaves_the_secret(self):
        """A link sent with a secret stays a secret link: the portal sends the employee
        to the claim email (it has no claim URL: only the token's hash is stored), and its
        own POST claims nothing."""
        link = self._sent_link(employee_id=self.colleague.id)
        self.colleague.user_id = new_test_user(self.env, "payout_signin_late",
                                               groups="base.group_portal",
                                               email=self.colleague.work_email)
        self._check_identity(self.colleague)
        self.authenticate("payout_signin_late", "payout_signin_late")
        page = self.url_open(f"/my/payouts/{link.id}").text
        self.assertIn("open the link in the email we sent you", page)
        self.assertNotIn("/payout/claim/", page)
        self.assertNotIn("o_payout_account_form", page)
        self.link = link
        before = self._snapshot()
        self.assertEqual(self._post_account().status_code, 303)
        self.assertEqual(self._snapshot(), before)

    def test_another_user_given_after_sending_does_not_take_the_link(self):
        """HR links the employee to someone else's user after sending: until a Payout
        Manager checks the change, that user sees nothing and claims nothing; the link
        stays its checked user's to claim."""
        intruder = new_test_user(self.env, "payout_signin_intruder", groups="base.group_portal",
                                 email=self.employee.work_email)
        self.employee.user_id = intruder
        self.authenticate(intruder.login, intruder.login)
        self.assertEqual(self._open().status_code, 404)
        before = self._snapshot()
        self.assertEqual(self._post_account().status_code, 404)
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self.link.claim_user_id, self.user_employee)

    def test_a_reissue_decides_again(self):
        self.link._update_state("failed")
        # The user archived: neither the employee's user nor their work contact's any more.
        self.employee.user_id = False
        self.user_employee.active = False
        self._check_identity(self.employee)
        self.link.with_user(self.user_editor).action_reissue()
        new_link = self.link.reissued_link_ids
        self.assertFalse(new_link.claim_user_id)
        self.assertTrue(self._secret_in_mail(new_link))


@tagged("post_install", "-at_install")
class TestSignedInEmails(SignedInCommon):
    """The emails of a link claimed signed in: the page to sign in to, never a secret."""

    def test_the_claim_email_has_no_secret_nor_token(self):
        mail = self._signin_mail(self.link)
        self.assertTrue(mail)
        body = mail.body_html
        self.assertEqual(mail.email_to, self.link.recipient_email)
        self.assertIn(f"{self.link.get_base_url()}/my/payouts/{self.link.id}", body)
        self.assertIn("Sign in and open your payout", body)
        self.assertNotIn("/payout/claim/", body)
        self.assertNotIn("o_payout_secret", body)
        self.assertFalse(SECRET_IN_MAIL_RE.search(body))
        self.assertNotIn("wrong secrets", body)

    def test_a_batch_sends_each_line_its_way(self):
        """One Send All, lines of employees with and without a user: each email as its
        employee claims."""
        batch = self.env["payout.batch"].create({
            "name": "Q4", "provider_id": self.provider.id,
            "link_ids": [(0, 0, {"employee_id": employee.id, "amount": 100.0})
                         for employee in (self.employee, self.colleague)]})
        batch.action_send_all()
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        signed_in, with_secret = batch.link_ids.sorted(
            lambda line: line.employee_id != self.employee)
        self.assertEqual((signed_in.state, signed_in.claim_user_id),
                         ("sent", self.user_employee))
        self.assertFalse(signed_in.sudo().claim_token_hash)
        self.assertNotIn("o_payout_secret", self._signin_mail(signed_in).body_html)
        self.assertFalse(with_secret.claim_user_id)
        self.assertTrue(self._secret_in_mail(with_secret))

    def test_the_reminder_says_sign_in(self):
        secret_link = self._sent_link(employee_id=self.colleague.id)
        (self.link | secret_link)._send_reminders()
        reminder = self._reminder_mails(self.link)
        self.assertEqual(len(reminder), 1)
        self.assertIn(f"/my/payouts/{self.link.id}", reminder.body_html)
        self.assertIn("no secret is needed", reminder.body_html)
        self.assertNotIn("secret from the first email", reminder.body_html)
        secret_reminder = self._reminder_mails(secret_link)
        self.assertIn("secret from the first email", secret_reminder.body_html)
        self.assertIn(self._claim_path(secret_link, reminder=True), secret_reminder.body_html)


@tagged("post_install", "-at_install")
class TestSignedInAttacks(SignedInCommon):
    """Over RPC: nobody makes a link signed in, and the employee claims no one's link."""

    def test_nobody_sets_the_claim_user(self):
        draft = self._create_link()
        for user, link in ((self.user_editor, draft), (self.user_manager, self.link)):
            with self.subTest(user=user.login, state=link.state):
                self._assert_rpc_refused(user, "payout.link", "write", [link.id],
                                         {"claim_user_id": self.user_editor.id},
                                         message="set by the payout workflow only")
        self._assert_rpc_refused(self.user_editor, "payout.link", "create", {
            "employee_id": self.colleague.id, "amount": 10.0,
            "claim_user_id": self.user_editor.id}, message="set by the payout workflow only")
        self.assertEqual((draft.claim_user_id, self.link.claim_user_id),
                         (self.env["res.users"], self.user_employee))

    def test_the_employee_reaches_no_link_over_rpc(self):
        colleague_link = self._sent_link(employee_id=self.colleague.id)
        before = self._snapshot()
        for link in (self.link, colleague_link):
            with self.subTest(link=link.name):
                self._assert_rpc_refused(self.user_employee, "payout.link", "write",
                                         [link.id], {"claim_user_id": self.user_employee.id})
                self._assert_rpc_refused(self.user_employee, "payout.link", "read", [link.id])
                self._assert_rpc_refused(self.user_employee, "payout.link", "_claim",
                                         [link.id], self.bank.id, ACCOUNT_NUMBER, HOLDER)
        self.assertEqual(self._snapshot(), before)
        self.assertFalse(colleague_link.claim_user_id)


@tagged("post_install", "-at_install")
class TestSignedInClaimTour(SignedInCommon):
    """The signed-in claim in a real browser: static/tests/tours/payout_signed_in_claim_tour.js."""

    def test_signed_in_claim_tour(self):
        with patch(DEMO_PAY, wraps=demo.pay) as pay:
            self.start_tour("/my/payouts", "payout_signed_in_claim_tour",
                            login=self.user_employee.login)
            self.link.invalidate_recordset()
            self.assertEqual(
                (self.link.state, self.link.submission_state, self.link.bank_id,
                 self.link.account_number_masked, self.link.failed_attempts),
                ("processing", "to_submit", self.bank, "•••• 7890", 0))
            self.assertTrue(self.link.date_opened)
            self.assertFalse(pay.called, "the claim moves no money")
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            pay.assert_called_once_with(ACCOUNT_NUMBER)
        self.assertEqual(self.link.state, "done")
