"""Attacks on the claim token, the claim page, what employees see and the claim email's
template, made as the user concerned: a Viewer over XML-RPC, a public visitor or
the employee over HTTP. Each is refused, and nothing changes."""

import json

from odoo.tests import new_test_user, tagged

from ..controllers.claim import PayoutClaimController
from .common import ACCOUNT_NUMBER, HOLDER, ClaimPageCommon

CLAIM_URL = PayoutClaimController._claim_url


@tagged("post_install", "-at_install")
class TestAttackClaimToken(ClaimPageCommon):
    """A Viewer gets no claim token (`get_portal_url()` makes none), a link claimed at its
    provider has no claim page to lock with wrong secrets, the page asks for the secret, and
    the claim token lets nobody post to the payout's chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_doku()

    def setUp(self):
        super().setUp()
        self.link = self._create_link()
        self.secret = self._send(self.link)

    def _tokens(self, link):
        link.invalidate_recordset()
        return link.sudo().read(["claim_token_hash", "reminder_token_hash", "access_token"])[0]

    def test_viewer_gets_no_claim_url(self):
        """`get_portal_url` and `_portal_ensure_token` over RPC, on a DOKU link (no claim in
        Odoo) and on a link claimed in Odoo: no token is made, none is revealed."""
        doku_link = self._sent_link(self.doku_provider)
        for link in (doku_link, self.link):
            before = self._tokens(link)
            url = self._rpc(self.user_viewer, "payout.link", "get_portal_url", [link.id])
            self.assertEqual(url, f"/my/payouts/{link.id}?access_token=")
            self.assertNotIn(CLAIM_URL, url)
            self._assert_rpc_refused(self.user_viewer, "payout.link", "_portal_ensure_token",
                                     [link.id])
            self.assertEqual(self._tokens(link), before)
        self.assertFalse(self._tokens(doku_link)["claim_token_hash"])

    def test_viewer_cannot_read_the_claim_token(self):
        for user in (self.user_viewer, self.user_editor, self.user_manager):
            with self.subTest(user=user.login):
                for fname in ("claim_token_hash", "reminder_token_hash"):
                    self._assert_rpc_refused(user, "payout.link", "read", [self.link.id],
                                             [fname])
                rows = self._rpc(user, "payout.link", "search_read",
                                 [("id", "=", self.link.id)], fields=["access_token"])
                self.assertEqual(rows[0]["access_token"], False)

    def test_claim_page_only_for_links_claimed_in_odoo(self):
        """A DOKU link that somehow has a token (an older version made one): the page is
        the neutral 404, and wrong secrets cannot lock the live link."""
        doku_link = self._sent_link(self.doku_provider)
        token = "D" * 43
        doku_link.sudo().write({"claim_token_hash": doku_link._hash_claim_token(token)})
        before = doku_link.read(["state", "failed_attempts"])
        self.assertEqual(self._open(token).status_code, 404)
        for _attempt in range(4):
            response = self.url_open(f"{CLAIM_URL}/{token}/secret",
                                     data={"secret": "WRONGSEC"}, allow_redirects=False)
            self.assertIn(response.status_code, (400, 404))
        doku_link.invalidate_recordset()
        self.assertEqual(doku_link.read(["state", "failed_attempts"]), before)

    def test_claim_page_needs_a_secret(self):
        """A link claimed in Odoo without a secret (never sent) is not served."""
        draft = self._create_link()
        draft.sudo().write({"claim_token_hash": draft._hash_claim_token("E" * 43)})
        self.assertEqual(self._open("E" * 43).status_code, 404)

    def test_no_chatter_post_with_the_claim_token(self):
        """A public visitor posts to the payout's chatter with the claim token (or the
        empty portal token): refused, no message."""
        token = self._claim_token(self.link)
        messages = self.link.message_ids
        for extra in ({"token": token}, {"token": ""}, {"hash": "x", "pid": 3}):
            with self.subTest(extra=extra):
                response = self.url_open("/mail/message/post", data=json.dumps({
                    "jsonrpc": "2.0", "method": "call", "params": {
                        "thread_model": "payout.link", "thread_id": self.link.id,
                        "post_data": {"body": "Click https://phish.example", "message_type":
                                      "comment"}, **extra}}),
                    headers={"Content-Type": "application/json"})
                self.assertLess(response.status_code, 500)
                self.assertIn("error", response.json())
        self.link.invalidate_recordset()
        self.assertEqual(self.link.message_ids, messages)


@tagged("post_install", "-at_install")
class TestAttackWhatEmployeesSee(ClaimPageCommon):
    """Employees see no internal reason (the Xendit balance, the refusing manager's name,
    raw provider errors), and nobody else with the URL sees the bank account."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The employee's own address: giving them this user is no email change (which
        # would hold the link).
        cls.user_employee = new_test_user(cls.env, "payout_employee", groups="base.group_portal",
                                          email=cls.employee.work_email)

    def setUp(self):
        super().setUp()
        self.link = self._create_link()
        self.secret = self._send(self.link)
        # After the link was sent with its secret, which it keeps: the claim page's rules.
        self.employee.user_id = self.user_employee
        self._check_identity(self.employee)

    def test_refused_account_reason_stays_in_the_back_office(self):
        self.company.payout_review_new_accounts = True
        self._claim_over_http()
        self.assertEqual(self.link.account_review_state, "to_review")
        manager = self.env["res.users"].browse(self.user_manager.id)
        self.link.with_user(manager).action_refuse_account()
        self.assertIn(manager.name, self.link.failure_reason)

        self.url_open("/web/session/logout")
        public_page = self._open().text
        self.authenticate(self.user_employee.login, self.user_employee.login)
        portal_page = self.url_open(f"/my/payouts/{self.link.id}").text
        portal_list = self.url_open("/my/payouts").text
        for page in (public_page, portal_page):
            self.assertIn("The bank account you gave was not accepted.", page)
            self.assertNotIn(manager.name, page)
            self.assertIn("Not paid", page)
        self.assertIn("Not paid", portal_list)
        self.assertNotIn("Failed", portal_list)

    def test_status_page_shows_no_account_to_other_browsers(self):
        self._claim_over_http()
        self.assertIn("•••• 7890", self._open().text, "the browser that claimed")
        self.url_open("/web/session/logout")
        page = self._open().text
        self.assertIn("On its way", page)
        self.assertNotIn("•••• 7890", page)
        self.assertNotIn(HOLDER, page.split("o_payout_status")[1])
        self.authenticate(self.user_employee.login, self.user_employee.login)
        self.assertIn("•••• 7890", self.url_open(f"/my/payouts/{self.link.id}").text,
                      "the employee, logged in, sees where they are paid")


@tagged("post_install", "-at_install")
class TestAttackBadInput(ClaimPageCommon):
    """Malformed input (a NUL byte in the token, a superscript bank id, control characters,
    ids out of range) gets a neutral page or a form error, never HTTP 500; Unicode digits
    are no phone number."""

    def setUp(self):
        super().setUp()
        self.link = self._create_link()
        self.secret = self._send(self.link)

    def test_malformed_tokens_get_the_neutral_page(self):
        for path in ("%00", "abc%00def", "A" * 5000, "%C0%AF", "%F0%9F%92%B8",
                     "A" * 42, "A" * 44):
            with self.subTest(path=path[:20]):
                response = self.url_open(f"{CLAIM_URL}/{path}", allow_redirects=False)
                self.assertEqual(response.status_code, 404)
                self.assertIn("not available", response.text)

    def test_bad_bank_ids_are_a_form_error(self):
        self._verify()
        before = self._snapshot()
        for bank_id in ("²", "١", "99999999999999999999", "-1", "0", "1e3", "", "\x00"):
            with self.subTest(bank_id=bank_id):
                response = self._post_account(bank_id=bank_id)
                self.assertEqual(response.status_code, 400)
                self.assertIn("Bank: choose a bank from the list.", response.text)
        self.assertEqual(self._snapshot(), before)

    def test_control_characters_in_the_account_are_a_form_error(self):
        self._verify()
        before = self._snapshot()
        for values in ({"account_holder": "Dewi\x00Lestari"}, {"account_number": "12345\x0067"},
                       {"account_number": "١٢٣٤٥٦٧٨"}, {"account_holder": "x" * 51}):
            with self.subTest(values=values):
                self.assertEqual(self._post_account(**values).status_code, 400)
        self.assertEqual(self._snapshot(), before)
        self.assertEqual(self._post_account(account_number=ACCOUNT_NUMBER).status_code, 303)

    def test_portal_ids_out_of_range_are_not_found(self):
        """The employee's portal pages with ids and pages past PostgreSQL's integer."""
        employee_user = new_test_user(self.env, "payout_portal_employee",
                                      groups="base.group_portal", email=self.employee.work_email)
        self.employee.user_id = employee_user
        self._check_identity(self.employee)
        self.authenticate(employee_user.login, employee_user.login)
        for path, status in ((f"/my/payouts/{2**31}", 404), (f"/my/payouts/{10**30}", 404),
                             ("/my/payouts/0", 404), (f"/my/payouts/page/{10**30}", 200),
                             (f"/my/payouts/{self.link.id}", 200)):
            with self.subTest(path=path[:30]):
                self.assertEqual(self.url_open(path).status_code, status)

    def test_unicode_digits_are_not_a_phone_number(self):
        for phone in ("62٨١٢٣٤٥٦٧٨", "０８１２３４５６７８９"):
            with self.subTest(phone=phone):
                self._assert_rpc_refused(self.user_editor, "payout.link", "create", {
                    "employee_id": self.employee.id, "amount": 10.0, "recipient_phone": phone,
                }, message="Recipient Phone")


@tagged("post_install", "-at_install")
class TestAttackBalanceLeak(ClaimPageCommon):
    """The batch sender finds the Xendit balance too low: the lines' failure reasons give
    the balance in the back office only, never on the employees' portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_xendit()
        cls.user_employee = new_test_user(cls.env, "payout_leak_employee",
                                          groups="base.group_portal",
                                          email=cls.employee.work_email)
        cls.employee.user_id = cls.user_employee
        cls._check_identity(cls.employee)

    def test_the_balance_stays_in_the_back_office(self):
        batch = self.env["payout.batch"].create({
            "name": "Q4", "provider_id": self.hosted.id, "currency_id": self.idr.id,
            "link_ids": [(0, 0, {"employee_id": self.employee.id, "amount": 1_500_000})]})
        batch.action_send_all()
        self.xendit.configure(balance=1_234_567)  # spent elsewhere before the sender runs
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        line = batch.link_ids
        self.assertEqual(line.state, "failed")
        self.assertIn("1,234,567", line.failure_reason)

        self.authenticate(self.user_employee.login, self.user_employee.login)
        for page in (self.url_open(f"/my/payouts/{line.id}").text,
                     self.url_open("/my/payouts").text):
            self.assertIn("Not paid", page)
            self.assertNotIn("1,234,567", page)
            self.assertNotIn("balance", page.lower())
        self.assertIn("The payment could not be made.",
                      self.url_open(f"/my/payouts/{line.id}").text)


@tagged("post_install", "-at_install")
class TestAttackClaimTemplate(ClaimPageCommon):
    """With template rendering unrestricted, every internal user may edit mail templates:
    none of them gets a copy of a claim URL or secret by editing the claim email's."""

    def test_template_editor_gets_no_copy_of_the_secret(self):
        editor = new_test_user(self.env, "payout_template_editor",
                               groups="base.group_user,mail.group_mail_template_editor")
        spy = self.env["res.partner"].create({"name": "Spy", "email": "spy@example.com"})
        template = self.env.ref("hr_payout_link.mail_template_payout_link")
        self._rpc(editor, "mail.template", "write", [template.id], {
            "email_cc": "spy@example.com", "partner_to": str(spy.id),
            "reply_to": "spy@example.com", "email_to": "spy@example.com",
            "auto_delete": False})
        self.env.invalidate_all()
        self.assertEqual(template.email_cc, "spy@example.com", "the edit itself is allowed")

        self.link = self._create_link()
        self.secret = self._send(self.link)
        mails = self._claim_mails(self.link)
        self.assertEqual(len(mails), 1)
        self.assertEqual((mails.email_to, mails.email_cc, mails.recipient_ids, mails.auto_delete),
                         ("dewi.lestari@example.com", False, self.env["res.partner"], True))
        self.assertNotIn("spy@example.com", mails.reply_to or "")
