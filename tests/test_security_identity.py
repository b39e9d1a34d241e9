"""Money reaches only the employee's checked identity, for the amount a manager approved.

Each test replays an attack as the user concerned, over XML-RPC or HTTP, through to the
end: nothing is paid to the attacker, or the payout waits for someone else.
"""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import ACCOUNT_NUMBER, HOLDER, SESSION_CSRF_RE, AttackCommon, OffboardingMixin

THRESHOLD = 1_000_000.0


@tagged("post_install", "-at_install")
class TestCheckedIdentity(OffboardingMixin, AttackCommon):
    """An employee's payout address, sign-in user and HR bank account: a change by anyone,
    through any model, is pending until a Payout Manager who did not make it checks it;
    until then money follows the checked identity."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plain_user = new_test_user(cls.env, "identity_plain",
                                       groups="base.group_user,base.group_partner_manager")

    def _authenticate(self, user):
        self.authenticate(user.login, user.login + "x" * (8 - len(user.login)))

    def test_hr_officer_links_a_colleague_to_his_own_login(self):
        """The officer gives the colleague's employee record his own user, keeping the
        email: the change is pending, the next link is claimed with the secret emailed to
        the checked address, and the officer sees nothing under /my/payouts."""
        email = self.employee.work_email
        self._rpc(self.hr_officer, "hr.employee", "write", [self.employee.id],
                  {"user_id": self.hr_officer.id, "work_email": email})
        self.assertIn("Sign-in user", self.employee.payout_identity_pending)
        self.assertEqual(self.employee._get_payout_address_changers(), self.hr_officer)
        link = self._create_link()
        self._send(link)
        self.assertFalse(link.claim_user_id, "no signed-in claim for an unchecked user")
        self.assertEqual(self._get_claim_mail(link).email_to, email)
        self._authenticate(self.hr_officer)
        self.assertEqual(self.url_open(f"/my/payouts/{link.id}").status_code, 404)
        self.assertNotIn(link.name, self.url_open("/my/payouts").text)
        # He cannot check his own change, nor can anyone but a Payout Manager.
        for user in (self.hr_officer, self.user_editor, self.user_viewer, self.plain_user):
            self._assert_rpc_refused(user, "hr.employee", "action_check_payout_identity",
                                     [self.employee.id])
        self._assert_rpc_refused(self.hr_manager, "hr.employee", "write",
                                 [self.employee.id], {"payout_checked_user_id": False},
                                 message="Check Payout Identity")
        self.assertEqual(link.state, "sent")

    def test_a_manager_who_made_the_change_does_not_check_it(self):
        self._rpc(self.hr_manager, "hr.employee", "write", [self.employee.id],
                  {"work_email": "dewi.new@example.com"})
        fault = self._assert_rpc_refused(self.hr_manager, "hr.employee",
                                         "action_check_payout_identity", [self.employee.id])
        self.assertIn("you changed this payout identity", fault.faultString)
        self.assertEqual(self._create_link().recipient_email, "dewi.lestari@example.com",
                         "new links go to the checked address meanwhile")
        self._rpc(self.manager_2, "hr.employee", "action_check_payout_identity",
                  [self.employee.id])
        self.assertFalse(self.employee.payout_identity_pending)
        self.assertEqual(self._create_link().recipient_email, "dewi.new@example.com")

    def test_a_portal_user_of_the_work_contact_claims_signed_in_once_checked(self):
        """Odoo's Related User offers internal users only: the portal user of the
        employee's work contact is their sign-in user, once a Payout Manager checked it."""
        portal = self.env["res.users"].create({
            "name": "Dewi (portal)", "login": "dewi_portal",
            "partner_id": self.employee.work_contact_id.id,
            "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
        })
        self.assertIn("Sign-in user", self.employee.payout_identity_pending)
        self.assertFalse(self._sent_link().claim_user_id)
        self._check_identity(self.employee)
        self.assertEqual(self._sent_link().claim_user_id, portal)

    def test_a_change_by_a_user_without_hr_rights_redirects_and_freezes_nothing(self):
        """Any internal user with Contact Creation may edit the work contact's email: the
        change is pending, no link is held, and links keep going to the checked address."""
        sent = self._sent_link()
        self._rpc(self.plain_user, "res.partner", "write",
                  [self.employee.work_contact_id.id], {"email": "thief@example.com"})
        self.assertIn("thief@example.com", self.employee.payout_identity_pending)
        self.assertFalse(sent.hold_reason)
        self.assertEqual(sent.employee_status, "to_claim")
        new_link = self._create_link()
        self.assertEqual(new_link.recipient_email, "dewi.lestari@example.com")
        self._send(new_link)
        self.assertEqual(self._get_claim_mail(new_link).email_to, "dewi.lestari@example.com")
        sent._claim(self.bank, ACCOUNT_NUMBER, HOLDER)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(sent.state, "done", "nothing frozen")

    def test_bank_account_changed_in_place_is_pending(self):
        account = self.env["res.partner.bank"].create({
            "acc_number": "1234567890", "bank_id": self.bank.id,
            "partner_id": self.employee.work_contact_id.id})
        self.employee.bank_account_id = account
        self._check_identity(self.employee)
        account.acc_number = "9999999999"
        self.assertIn("HR bank account", self.employee.payout_identity_pending)
        self.assertEqual(self.employee._get_payout_address_changers(), self.env.user)
        link = self._sent_link()
        self.assertFalse(link._is_trusted_account(self.bank, "9999999999"))
        self.assertTrue(link._is_trusted_account(self.bank, "1234567890"))


@tagged("post_install", "-at_install")
class TestAddressAndApproval(AttackCommon):
    """A claim email goes only to the checked address, and an approval covers exactly what
    was approved."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"payout_approval": True, "payout_approval_threshold": THRESHOLD})

    def test_editor_types_his_own_mailbox(self):
        """An Editor types his own mailbox as a draft's Recipient Email: Send puts it up
        for a Payout Manager's approval that shows both addresses, and the Editor cannot
        approve it."""
        link_id = self._rpc(self.user_editor, "payout.link", "create", {
            "employee_id": self.employee.id, "amount": 750.0,
            "recipient_email": "editor@example.com"})
        self._rpc(self.user_editor, "payout.link", "action_send", [link_id])
        link = self.env["payout.link"].browse(link_id)
        self.assertEqual(link.state, "to_approve")
        self.assertFalse(link.sudo().claim_token_hash, "no claim email before the approval")
        message = " ".join(link.message_ids.mapped("body"))
        self.assertIn("editor@example.com", message)
        self.assertIn("dewi.lestari@example.com", message)
        self.assertEqual(link.checked_recipient_email, "dewi.lestari@example.com")
        self._assert_rpc_refused(self.user_editor, "payout.link", "action_approve", [link_id])
        self.assertEqual(link.state, "to_approve")

    def test_without_approvals_a_link_addressed_elsewhere_is_refused(self):
        self.company.payout_approval = False
        link_id = self._rpc(self.user_editor, "payout.link", "create", {
            "employee_id": self.employee.id, "amount": 750.0,
            "recipient_email": "editor@example.com"})
        self._assert_rpc_refused(self.user_editor, "payout.link", "action_send", [link_id],
                                 message="not to the employee's checked address")
        self.assertEqual(self.env["payout.link"].browse(link_id).state, "draft")

    def _approved_draft(self):
        """An approved link made again as a draft, as a reissue makes it."""
        link = self._create_link(amount=1_500_000)
        link.action_send()
        link.with_user(self.user_manager).action_approve()
        self.assertEqual((link.state, link.approved_amount), ("sent", 1_500_000))
        link._update_state("failed")
        return link.sudo()._copy_for_reissue().sudo(False)

    def test_a_reissue_carries_the_approval_for_identical_values_only(self):
        copy = self._approved_draft()
        self.assertTrue(copy.approved_by_id)
        self.assertFalse(copy._get_approval_drift())
        self._rpc(self.user_editor, "payout.link", "write", [copy.id], {"amount": 90_000_000})
        self.assertFalse(copy.approved_by_id, "a change of amount clears the approval")
        self._rpc(self.user_editor, "payout.link", "action_send", [copy.id])
        self.assertEqual(copy.state, "to_approve")

    def test_the_approval_covers_the_employee(self):
        copy = self._approved_draft()
        other = self.env["hr.employee"].create({"name": "Editor Himself",
                                                "work_email": "editor.home@example.com"})
        self._rpc(self.user_editor, "payout.link", "write", [copy.id],
                  {"employee_id": other.id})
        self.assertFalse(copy.approved_by_id)

    def test_the_gate_compares_with_what_was_approved_before_every_provider_call(self):
        """An approved, claimed link whose amount changes behind the ORM's back is not
        paid: the money gate compares it with the approval before the provider call."""
        link = self._create_link(amount=1_500_000)
        link.action_send()
        link.with_user(self.user_manager).action_approve()
        link._claim(self.bank, ACCOUNT_NUMBER, HOLDER)
        self.env.flush_all()
        self.env.cr.execute("UPDATE payout_link SET amount = 90000000 WHERE id = %s",
                            (link.id,))
        link.invalidate_recordset()
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual((link.state, link.submission_state), ("processing", "to_submit"))
        blockers = link._get_money_blockers()[link]
        self.assertIn("changed since it was approved (Amount)", str(blockers[0]))

    def test_a_held_change_of_user_voids_the_approval_of_a_signed_in_claim(self):
        """Approved to be claimed by the employee's checked user: a manager checks another
        user before it is sent, and the approval no longer covers it."""
        user = new_test_user(self.env, "identity_dewi", groups="base.group_portal")
        link = self._create_link(amount=1_500_000)
        link.action_send()
        link.with_user(self.user_manager)._stamp_approval()
        self.employee.user_id = user
        manager_3 = new_test_user(self.env, "identity_manager_3",
                                  groups="base.group_user,hr_payout_link.group_payout_manager")
        self._check_identity(self.employee, manager_3)
        with self.assertRaisesRegex(UserError, "changed since it was approved"):
            link._check_money_may_move()


@tagged("post_install", "-at_install")
class TestCheckedUserChange(AttackCommon):
    """After a checked change of the employee's user, the links still to claim follow the
    new user, who never sees the old user's bank details."""

    def test_links_follow_the_new_user_without_the_old_details(self):
        old = new_test_user(self.env, "identity_old", groups="base.group_portal")
        new = new_test_user(self.env, "identity_new", groups="base.group_portal")
        self.employee.user_id = old
        self._check_identity(self.employee)
        claimed = self._claimed_link(pay=True)
        waiting = self._sent_link()
        self.assertEqual((claimed.claim_user_id, waiting.claim_user_id), (old, old))
        self.employee.user_id = new
        with self.assertRaises(AccessError):
            self._check_identity(self.employee, self.user_editor)
        self._check_identity(self.employee)
        self.assertEqual(waiting.claim_user_id, new)
        self.assertEqual(claimed.claim_user_id, old, "what was claimed stays as claimed")
        self.authenticate(new.login, new.login)
        page = self.url_open(f"/my/payouts/{claimed.id}")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn(claimed.account_number_masked, page.text)
        page = self.url_open(f"/my/payouts/{waiting.id}")
        self.assertIn('name="account_number"', page.text, "the new user claims it")
        csrf = SESSION_CSRF_RE.search(self.url_open("/my").text)[1]
        response = self.url_open(f"/my/payouts/{waiting.id}/account", data={
            "csrf_token": csrf, "bank_id": self.bank.id, "account_number": ACCOUNT_NUMBER,
            "account_holder": HOLDER}, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(waiting.state, "processing")
