"""Four eyes wherever money is decided, as each user would try it over XML-RPC: the
threshold counts what one employee receives, a duplicate is confirmed by a Payout Manager
who neither made nor sent it, needs-attention is settled by one who had no hand in the
payout, an account review excludes the manager whose own account it is, and the claim
form does not fill the account holder in."""

from odoo.tests import new_test_user, tagged

from .common import ClaimPageCommon

THRESHOLD = 1_000_000.0
PART = 999_000.0


@tagged("post_install", "-at_install")
class TestFourEyes(ClaimPageCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"payout_approval": True, "payout_approval_threshold": THRESHOLD,
                           "payout_duplicate_window": "quarter"})
        cls.user_hr_officer = new_test_user(cls.env, "payout_hr_officer",
                                            groups="base.group_user,hr.group_hr_user")
        cls.user_internal = new_test_user(cls.env, "payout_internal",
                                          groups="base.group_user")
        # The payee has the employee's own address: giving them this user is no email
        # change.
        cls.managers = {name: new_test_user(
            cls.env, f"payout_{name}", groups="base.group_user,hr_payout_link.group_payout_manager",
            email=cls.employee.work_email if name == "payee" else f"{name}@example.com",
        ) for name in ("second", "approver", "payee", "sender", "other")}

    def _create_by(self, user, **values):
        [link_id] = self._rpc(user, "payout.link", "create", [{
            "employee_id": self.employee.id, "provider_id": self.provider.id,
            "description": "Q4", "amount": PART, **values}])
        return self.env["payout.link"].browse(link_id)

    def _send_by(self, user, link):
        self._rpc(user, "payout.link", "action_send", [link.id])
        self.env.invalidate_all()

    # === Splitting a payout, self-confirmed duplicates === #

    def test_split_payouts_wait_for_a_manager_who_did_not_make_them(self):
        editor = self.user_editor
        first = self._create_by(editor)
        self._send_by(editor, first)
        self.assertEqual(first.state, "sent", "999,000 alone is under the threshold")

        # Another type does not escape: the threshold counts every type.
        second = self._create_by(editor, payout_type="commission")
        self._send_by(editor, second)
        self.assertEqual((second.state, second.approval_requested_by_id), ("to_approve", editor))
        message = " ".join(second.message_ids.mapped("body"))
        self.assertIn("Dewi Lestari receives", message)
        self.assertIn("over the approval threshold", message)

        # A third bonus is a duplicate of the first: its editor cannot wave it through.
        third = self._create_by(editor)
        self._assert_rpc_refused(editor, "payout.link", "action_send", [third.id],
                                 message="Possible duplicate payouts")
        for user, message in ((editor, "Only a Payout Manager"),
                              (self.user_viewer, None),
                              (self.user_hr_officer, None),
                              (self.user_internal, None)):
            with self.subTest(user=user.login):
                self._assert_rpc_refused(user, "payout.link", "action_confirm_duplicate",
                                         [third.id], message=message)
                self.assertFalse(third.duplicate_confirmed_by_id)

        # A manager who made it cannot either; another one can, and it still waits.
        manager_link = self._create_by(self.user_manager)
        self._assert_rpc_refused(self.user_manager, "payout.link", "action_confirm_duplicate",
                                 [manager_link.id], message=f"You created {manager_link.name}")
        self._rpc(self.managers["second"], "payout.link", "action_confirm_duplicate",
                  [third.id])
        self.env.invalidate_all()
        self.assertEqual(third.duplicate_confirmed_by_id, self.managers["second"])
        self._send_by(editor, third)
        self.assertEqual(third.state, "to_approve",
                         "with the 2nd waiting, the 3rd takes the total further over")
        self._assert_rpc_refused(editor, "payout.link", "action_approve", [second.id])
        self._rpc(self.managers["second"], "payout.link", "action_approve", [second.id])
        self.env.invalidate_all()
        self.assertEqual(second.state, "sent")

    def test_the_sender_cannot_confirm_a_duplicate(self):
        failed = self._create_by(self.user_editor, amount=100.0)
        self._send_by(self.managers["sender"], failed)
        self.assertEqual(failed.sent_by_id, self.managers["sender"])
        failed._update_state("failed", values={"failure_reason": "Locked"})
        paid_since = self._create_by(self.user_editor, amount=100.0)
        self._send_by(self.user_editor, paid_since)
        # Reissuing the failed link would pay the bonus sent since a second time.
        self._assert_rpc_refused(self.managers["sender"], "payout.link", "action_reissue",
                                 [failed.id], message="Possible duplicate payouts")
        self._assert_rpc_refused(self.managers["sender"], "payout.link",
                                 "action_confirm_duplicate", [failed.id],
                                 message=f"You sent {failed.name}")
        self._rpc(self.managers["second"], "payout.link", "action_confirm_duplicate",
                  [failed.id])
        self._rpc(self.managers["sender"], "payout.link", "action_reissue", [failed.id])
        self.env.invalidate_all()
        self.assertEqual(failed.reissued_link_ids.sent_by_id, self.managers["sender"])

    # === Needs attention is settled by someone with no hand in the payout === #

    def _link_needing_attention(self):
        """A link made by the Payout Manager, sent for approval by them, approved by
        another, paying a third, claimed, whose outcome the provider left unclear."""
        self.employee.user_id = self.managers["payee"]
        link = self._create_by(self.user_manager, amount=THRESHOLD + 1)
        self._send_by(self.user_manager, link)
        self._rpc(self.managers["approver"], "payout.link", "action_approve", [link.id])
        self.env.invalidate_all()
        link._claim(self.bank, "1234567890", "Dewi Lestari")
        link.sudo().write({"submission_state": "submitting", "needs_attention": True})
        return link

    def _resolve_by(self, user, link, resolution):
        context = {"active_model": "payout.link", "active_ids": [link.id]}
        [wizard_id] = self._rpc(user, "payout.attention.wizard", "create",
                                [{"resolution": resolution, "reason": "Checked"}],
                                context=context)
        return self._rpc(user, "payout.attention.wizard", "action_resolve", [wizard_id],
                         context=context)

    def test_confirm_not_paid_by_a_manager_with_no_hand_in_it(self):
        link = self._link_needing_attention()
        for user, reason in ((self.user_manager, "You created"),
                             (self.managers["approver"], "You approved"),
                             (self.managers["payee"], "pays you")):
            for resolution in ("not_paid", "paid"):
                with self.subTest(user=user.login, resolution=resolution):
                    self._assert_rpc_refused(
                        user, "payout.link", "action_resolve_attention", [link.id],
                        message=f"{reason}")
                    fault = self._assert_rpc_refused(
                        user, "payout.attention.wizard", "action_resolve",
                        [self.env["payout.attention.wizard"].create(
                            {"resolution": resolution, "reason": "Checked"}).id],
                        context={"active_model": "payout.link", "active_ids": [link.id]})
                    self.assertIn("another Payout Manager must confirm whether it was paid",
                                  fault.faultString)
                    self.assertEqual((link.state, link.needs_attention), ("processing", True))
        self._assert_rpc_refused(self.user_editor, "payout.link", "action_resolve_attention",
                                 [link.id], message="Only a Payout Manager")

        self._resolve_by(self.managers["other"], link, "not_paid")
        self.env.invalidate_all()
        self.assertEqual((link.state, link.needs_attention, link.attention_resolved_by_id),
                         ("failed", False, self.managers["other"]))

    def test_the_sender_does_not_settle_needs_attention(self):
        link = self._create_by(self.user_editor, amount=100.0)
        self._send_by(self.managers["sender"], link)
        self.assertEqual(link.sent_by_id, self.managers["sender"])
        link._claim(self.bank, "1234567890", "Dewi Lestari")
        link.sudo().write({"submission_state": "submitting", "needs_attention": True})
        self._assert_rpc_refused(self.managers["sender"], "payout.link",
                                 "action_resolve_attention", [link.id],
                                 message=f"You sent {link.name}")
        self._resolve_by(self.managers["other"], link, "paid")
        self.env.invalidate_all()
        self.assertEqual(link.state, "done")

    # === An account review by the manager whose own account it is === #

    def test_a_manager_does_not_review_their_own_account(self):
        self.company.payout_review_new_accounts = True
        own_account = self.env["res.partner.bank"].create({
            "acc_number": "5555 6666 77", "bank_id": self.bank.id,
            "partner_id": self.managers["other"].partner_id.id})
        self.env["hr.employee"].create({
            "name": "Other Manager", "user_id": self.managers["other"].id,
            "company_id": self.company.id, "bank_account_id": own_account.id,
            "work_email": "other.manager@example.com"})
        link = self._create_by(self.user_editor, amount=100.0)
        self._send_by(self.user_editor, link)
        link._claim(self.bank, "5555666677", "Dewi Lestari")
        self.assertEqual(link.account_review_state, "to_review")

        for method in ("action_approve_account", "action_refuse_account"):
            self._assert_rpc_refused(
                self.managers["other"], "payout.link", method, [link.id],
                message="the bank account given is the one on your own employee record")
        self.assertEqual(link.account_review_state, "to_review")
        self._rpc(self.managers["second"], "payout.link", "action_approve_account", [link.id])
        self.env.invalidate_all()
        self.assertEqual(link.account_review_state, "approved")

    # === The claim form does not fill the holder in === #

    def test_the_claim_form_leaves_the_holder_empty(self):
        self.link = self._create_link(amount=100.0)
        self.secret = self._send(self.link)
        self._verify()
        page = self._open().text
        self.assertIn('name="account_holder"', page)
        holder_input = page[page.index('id="payout_account_holder"'):]
        holder_input = holder_input[:holder_input.index(">")]
        self.assertNotIn("value=", holder_input)
        self.assertNotIn("Dewi Lestari", holder_input)
