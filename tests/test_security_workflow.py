"""Attacks on the workflow fields, on four-eyes approval and on the approval threshold, made
as the user concerned over XML-RPC: each is refused, and nothing changes."""

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import ACCOUNT_NUMBER, HOLDER, AttackCommon

THRESHOLD = 100.0
# A value of the right type for the workflow fields an attack would set for a purpose;
# the others are tried with False.
FORGED = {
    "state": "sent", "approved_by_id": None, "date_approved": "2026-12-01 10:00:00",
    "submission_state": "to_submit", "failed_attempts": 0, "provider_reference": "disb-1",
    "needs_attention": False, "replaced_link_id": None, "bank_id": None,
    "account_holder_name": "Someone Else", "expiry_date": "2099-01-01 00:00:00",
}
# The fields only the workflow writes: each must be declared `workflow_only=True`.
APPROVAL_WORKFLOW_FIELDS = {
    "state", "approved_by_id", "date_approved", "approval_requested_by_id",
    "date_approval_requested", "changed_by_ids",
}
LINK_WORKFLOW_FIELDS = APPROVAL_WORKFLOW_FIELDS | {
    "date_sent", "sent_by_id", "date_opened", "date_processing", "date_done", "date_failed",
    "date_expired", "date_cancelled", "failure_reason", "employee_reason",
    "replaced_link_id", "claim_token_hash", "reminder_token_hash", "access_token",
    "secret_hash", "failed_attempts",
    "refused_by_recipient", "expiry_date", "date_reminded", "reminder_count",
    "date_next_reminder", "bank_id", "account_holder_name", "account_holder_mismatch",
    "account_number_masked", "account_number", "claim_user_id", "account_review_state",
    "submission_state", "submission_reference", "submission_key", "provider_status",
    "provider_reference", "follow_after_cancel", "date_provider_call", "needs_attention",
    "unclear_calls", "date_first_unclear", "attention_resolved_by_id",
    "date_attention_resolved", "attention_resolution", "hold_reason", "date_held",
    "hold_user_ids", "duplicate_confirmed_link_ids", "duplicate_confirmed_by_id",
    "date_duplicate_confirmed", "duplicate_link_ids", "duplicate_to_confirm",
    "account_fingerprint", "account_fingerprint_sealed", "approved_amount",
    "approved_currency_id", "approved_employee_id", "approved_recipient_email",
    "approved_provider_id", "approved_payout_type", "approved_claim_user_id",
}


@tagged("post_install", "-at_install")
class TestAttackWorkflowFields(AttackCommon):
    """No user sets a workflow field through `write` or `create` to skip an approval or a
    bank-account review."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"payout_approval": True, "payout_approval_threshold": THRESHOLD})
        cls.user_admin = new_test_user(
            cls.env, "payout_sysadmin",
            groups="base.group_system,hr_payout_link.group_payout_manager")
        FORGED.update(approved_by_id=cls.user_manager.id, bank_id=cls.bank.id)

    def _forged(self, name):
        value = FORGED.get(name, False)
        if name == "replaced_link_id":
            value = self._create_link().id
        return value

    def test_workflow_fields_are_fields_never_copied(self):
        """Every field the workflow alone writes is declared `workflow_only` (none is
        forgotten), and none of them is carried to a new record by a `copy()` over RPC."""
        for model, names in (("payout.link", LINK_WORKFLOW_FIELDS),
                             ("payout.batch", APPROVAL_WORKFLOW_FIELDS)):
            self.assertEqual(self.env[model]._get_workflow_fields(), names)
            fields = self.env[model]._fields
            for name in sorted(names):
                with self.subTest(model=model, field=name):
                    self.assertIn(name, fields)
                    self.assertFalse(fields[name].copy)
        link = self._claimed_link(amount=50.0)
        copy_id = self._rpc(self.user_editor, "payout.link", "copy", [link.id])[0]
        copy = self.env["payout.link"].browse(copy_id)
        self.assertEqual((copy.state, copy.bank_id, copy.submission_state, copy.claim_token_hash),
                         ("draft", self.env["res.bank"], False, False))

    def test_no_user_writes_a_workflow_field(self):
        """Every workflow field, written over RPC by an Editor, a Manager and a system
        administrator, on a draft link and on a claimed one: refused, unchanged."""
        draft = self._create_link(amount=1_000_000)
        claimed = self._claimed_link(amount=50.0)
        for user in (self.user_editor, self.user_manager, self.user_admin):
            for link in (draft, claimed):
                before = link.sudo().read(sorted(LINK_WORKFLOW_FIELDS))
                for name in sorted(LINK_WORKFLOW_FIELDS):
                    with self.subTest(user=user.login, state=link.state, field=name):
                        self._assert_rpc_refused(user, "payout.link", "write", [link.id],
                                                 {name: self._forged(name)},
                                                 message="set by the payout workflow only")
                self.assertEqual(link.sudo().read(sorted(LINK_WORKFLOW_FIELDS)), before)

    def test_no_user_creates_with_a_workflow_field(self):
        """The same fields given to `create`: refused, and no link is made."""
        forged = {name: self._forged(name) for name in LINK_WORKFLOW_FIELDS}
        count = self.env["payout.link"].search_count([])
        for name in sorted(LINK_WORKFLOW_FIELDS):
            with self.subTest(field=name):
                self._assert_rpc_refused(self.user_editor, "payout.link", "create", {
                    "employee_id": self.employee.id, "amount": 500.0,
                    name: forged[name]}, message="set by the payout workflow only")
        self.assertEqual(self.env["payout.link"].search_count([]), count)

    def test_context_defaults_do_not_set_the_state(self):
        """`create` with ``default_state`` and ``default_approved_by_id`` in the context:
        the link is a draft nobody approved."""
        link_id = self._rpc(self.user_editor, "payout.link", "create", {
            "employee_id": self.employee.id, "amount": 1_000_000}, context={
            "default_state": "sent", "default_approved_by_id": self.user_manager.id,
            "default_submission_state": "to_submit"})
        link = self.env["payout.link"].browse(link_id)
        self.assertEqual((link.state, link.approved_by_id, link.submission_state),
                         ("draft", self.env["res.users"], False))

    def test_forged_approver_does_not_skip_approval(self):
        """An Editor sets `approved_by_id` on a 1,000,000 link over a 100 threshold, then
        sends it. The write is refused; the send asks for approval."""
        link = self._create_link(amount=1_000_000)
        self._assert_rpc_refused(self.user_editor, "payout.link", "write", [link.id],
                                 {"approved_by_id": self.user_manager.id})
        self._rpc(self.user_editor, "payout.link", "action_send", [link.id])
        self.env.invalidate_all()
        self.assertEqual((link.state, link.approved_by_id, link.approval_requested_by_id),
                         ("to_approve", self.env["res.users"], self.user_editor))
        self.assertFalse(link.claim_token_hash, "no claim link before approval")

    def test_batch_state_is_the_workflows(self):
        """An Editor moves a draft batch over the threshold to 'sending' by `write`, so
        the background sender would send it unapproved: refused, the batch stays draft."""
        batch = self.env["payout.batch"].create({"name": "Q4", "provider_id": self.provider.id,
                                                 "link_ids": [Command.create({
                                                     "employee_id": self.employee.id,
                                                     "amount": 5000.0})]})
        for vals in ({"state": "sending"}, {"approved_by_id": self.user_manager.id},
                     {"approval_requested_by_id": False}, {"changed_by_ids": [(5, 0, 0)]}):
            with self.subTest(vals=vals):
                self._assert_rpc_refused(self.user_editor, "payout.batch", "write",
                                         [batch.id], vals)
        self.assertEqual((batch.state, batch.link_ids.state), ("draft", "draft"))
        self._assert_rpc_refused(self.user_editor, "payout.batch", "create", {
            "name": "Forged", "provider_id": self.provider.id, "state": "sending"})

    def test_unreviewed_account_is_not_paid(self):
        """A claim waits for its bank-account review; an Editor sets `submission_state` to
        'to_submit' so the payment cron pays the unreviewed account: refused."""
        self.company.payout_review_new_accounts = True
        link = self._claimed_link(amount=50.0)
        self.assertEqual(link.account_review_state, "to_review")
        self._assert_rpc_refused(self.user_editor, "payout.link", "write", [link.id],
                                 {"submission_state": "to_submit"})
        self._assert_rpc_refused(self.user_editor, "payout.link", "write", [link.id],
                                 {"bank_id": self.env.ref("hr_payout_link.bank_id_mandiri").id,
                                  "account_holder_name": "Someone Else"})
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(
            (link.state, link.account_review_state, link.bank_id, link.account_holder_name),
            ("processing", "to_review", self.bank, HOLDER))

    def test_locked_link_stays_locked(self):
        """`state = 'sent'` with `failed_attempts = 0` on a link locked by wrong secrets."""
        link = self._sent_link()
        for _attempt in range(link.provider_id.max_secret_attempts):
            link._check_secret("WRONGONE")
        self.assertEqual(link.state, "failed")
        self._assert_rpc_refused(self.user_editor, "payout.link", "write", [link.id],
                                 {"state": "sent", "failed_attempts": 0})
        self.assertEqual((link.state, link.failed_attempts), ("failed", 3))

    def test_line_cannot_leave_an_approved_batch(self):
        """An approved line of a sending batch made standalone (`batch_id = False`), so it
        keeps the approval and can be changed and sent: refused, it stays in its batch."""
        batch = self.env["payout.batch"].create({"name": "Q4", "provider_id": self.provider.id,
                                                 "link_ids": [Command.create({
                                                     "employee_id": self.employee.id,
                                                     "amount": 5000.0})]})
        batch.action_send_all()
        batch.with_user(self.user_manager).action_approve()
        line = batch.link_ids
        self.assertEqual((batch.state, line.approved_by_id), ("sending", self.user_manager))
        self._assert_rpc_refused(self.user_editor, "payout.link", "write", [line.id],
                                 {"batch_id": False}, message="Only draft payout links")
        self.assertEqual(line.batch_id, batch)

    def test_no_line_joins_a_batch_that_left_draft(self):
        """A line created into a sent batch, with a forged `replaced_link_id` (once the
        reissue exception): refused either way."""
        batch = self.env["payout.batch"].create({"name": "Q4", "provider_id": self.provider.id,
                                                 "link_ids": [Command.create({
                                                     "employee_id": self.employee.id,
                                                     "amount": 50.0})]})
        batch.action_send_all()
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        other = self.env["hr.employee"].create({"name": "Other", "work_email": "o@example.com"})
        for extra in ({}, {"replaced_link_id": batch.link_ids.id}):
            with self.subTest(extra=extra):
                self._assert_rpc_refused(self.user_editor, "payout.link", "create", {
                    "employee_id": other.id, "amount": 50.0, "batch_id": batch.id, **extra})
        self.assertEqual(len(batch.link_ids), 1)

    def test_leaving_a_draft_batch_clears_the_approval(self):
        """A line that leaves its batch, or returns to draft, loses an approval stamp."""
        batch = self.env["payout.batch"].create({"name": "Q4", "provider_id": self.provider.id,
                                                 "link_ids": [Command.create({
                                                     "employee_id": self.employee.id,
                                                     "amount": 50.0})]})
        line = batch.link_ids
        line.sudo().write({"approved_by_id": self.user_manager.id,
                           "date_approved": "2026-12-01 10:00:00"})
        self._rpc(self.user_editor, "payout.link", "write", [line.id], {"batch_id": False})
        self.env.invalidate_all()
        self.assertEqual((line.batch_id, line.approved_by_id, line.date_approved),
                         (self.env["payout.batch"], self.env["res.users"], False))

        link = self._create_link(amount=5000.0)
        link.with_user(self.user_editor).action_send()
        self.assertEqual(link.approval_requested_by_id, self.user_editor)
        link.with_user(self.user_manager)._refuse("Wrong amount")
        self.assertEqual((link.state, link.approval_requested_by_id),
                         ("draft", self.env["res.users"]))


@tagged("post_install", "-at_install")
class TestAttackFourEyes(AttackCommon):
    """Four eyes look past `create_uid`: whoever sent a payout for approval, changed it, or
    is paid by it cannot approve it either."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"payout_approval": True, "payout_approval_threshold": THRESHOLD})
        cls.user_second_manager = new_test_user(
            cls.env, "payout_second_manager",
            groups="base.group_user,hr_payout_link.group_payout_manager")

    def _link_by_editor(self, **values):
        link_id = self._rpc(self.user_editor, "payout.link", "create", {
            "employee_id": self.employee.id, "amount": 5000.0, **values})
        return self.env["payout.link"].browse(link_id)

    def _give_user(self, user):
        """Make ``user`` the employee's, at the employee's address: another address would
        be an email change, which holds the links made after it."""
        user.partner_id.email = self.employee.work_email
        self.employee.user_id = user

    def _assert_approval_refused(self, user, record, message):
        self._assert_rpc_refused(user, record._name, "action_approve", [record.id],
                                 message=message)
        self.assertEqual((record.state, record.approved_by_id),
                         ("to_approve", self.env["res.users"]))

    def test_who_changed_the_amount_cannot_approve(self):
        """A Manager raises an Editor's draft amount, the Editor sends, the Manager approves."""
        link = self._link_by_editor()
        self._rpc(self.user_manager, "payout.link", "write", [link.id], {"amount": 9000.0})
        self._rpc(self.user_editor, "payout.link", "action_send", [link.id])
        self._assert_approval_refused(self.user_manager, link, "after it was created")
        self._rpc(self.user_second_manager, "payout.link", "action_approve", [link.id])
        self.env.invalidate_all()
        self.assertEqual((link.state, link.approved_by_id), ("sent", self.user_second_manager))

    def test_who_changed_the_recipient_cannot_approve(self):
        link = self._link_by_editor()
        self._rpc(self.user_manager, "payout.link", "write", [link.id],
                  {"recipient_email": "not.dewi@example.com"})
        self._rpc(self.user_editor, "payout.link", "action_send", [link.id])
        self._assert_approval_refused(self.user_manager, link, "after it was created")

    def test_who_sent_for_approval_cannot_approve(self):
        link = self._link_by_editor()
        self._rpc(self.user_manager, "payout.link", "action_send", [link.id])
        self.env.invalidate_all()
        self.assertEqual(link.approval_requested_by_id, self.user_manager)
        self.assertTrue(link.date_approval_requested)
        self._assert_approval_refused(self.user_manager, link, "for approval")

    def test_payee_cannot_approve_their_own_bonus(self):
        """An Editor makes a bonus for the Manager's own employee record."""
        self._give_user(self.user_manager)
        link = self._link_by_editor()
        self._rpc(self.user_editor, "payout.link", "action_send", [link.id])
        self._assert_approval_refused(self.user_manager, link, "pays you")
        self._assert_rpc_refused(self.user_manager, "payout.link", "action_refuse", [link.id])

    def test_who_added_a_line_cannot_approve_the_batch(self):
        """A Manager adds a line, paying themselves, to an Editor's draft batch."""
        batch_id = self._rpc(self.user_editor, "payout.batch", "create", {
            "name": "Q4", "provider_id": self.provider.id})
        self._rpc(self.user_editor, "payout.link", "create", {
            "employee_id": self.employee.id, "amount": 5000.0, "batch_id": batch_id})
        me = self.env["hr.employee"].create({"name": "Manager Self", "work_email": "m@example.com",
                                             "user_id": self.user_manager.id})
        self._rpc(self.user_manager, "payout.link", "create", {
            "employee_id": me.id, "amount": 5000.0, "batch_id": batch_id})
        self._rpc(self.user_editor, "payout.batch", "action_send_all", [batch_id])
        batch = self.env["payout.batch"].browse(batch_id)
        self.assertEqual(batch.changed_by_ids, self.user_manager, "its creator is not listed")
        self._assert_approval_refused(self.user_manager, batch, "after it was created")

    def test_payee_in_a_batch_cannot_approve_it(self):
        self._give_user(self.user_second_manager)
        batch_id = self._rpc(self.user_editor, "payout.batch", "create", {
            "name": "Q4", "provider_id": self.provider.id,
            "link_ids": [(0, 0, {"employee_id": self.employee.id, "amount": 5000.0})]})
        self._rpc(self.user_editor, "payout.batch", "action_send_all", [batch_id])
        batch = self.env["payout.batch"].browse(batch_id)
        self._assert_approval_refused(self.user_second_manager, batch, "pays you")
        self._rpc(self.user_manager, "payout.batch", "action_approve", [batch_id])
        self.env.invalidate_all()
        self.assertEqual((batch.state, batch.approved_by_id), ("sending", self.user_manager))

    def test_nobody_approves_their_own_bank_account(self):
        """A Manager claims their own link with a new account, then approves that account."""
        self.company.payout_review_new_accounts = True
        self._give_user(self.user_manager)
        link = self._claimed_link(account=ACCOUNT_NUMBER, amount=50.0)
        self.assertEqual(link.account_review_state, "to_review")
        self._assert_rpc_refused(self.user_manager, "payout.link", "action_approve_account",
                                 [link.id], message="pays you")
        self.assertEqual(link.account_review_state, "to_review")
        self._rpc(self.user_second_manager, "payout.link", "action_approve_account", [link.id])
        self.env.invalidate_all()
        self.assertEqual(link.submission_state, "to_submit")

    def test_creator_of_the_link_cannot_review_its_account(self):
        self.company.payout_review_new_accounts = True
        link = self._link_by_editor(amount=50.0)
        self._rpc(self.user_editor, "payout.link", "action_send", [link.id])
        link._claim(self.bank, ACCOUNT_NUMBER, HOLDER)
        self.user_editor.groups_id = [Command.link(self.env.ref(
            "hr_payout_link.group_payout_manager").id)]
        self._assert_rpc_refused(self.user_editor, "payout.link", "action_approve_account",
                                 [link.id], message="You created")
        self.assertEqual(link.account_review_state, "to_review")


@tagged("post_install", "-at_install")
class TestAttackThresholdCurrency(AttackCommon):
    """A currency without a rate is not converted 1:1 for the threshold: its payouts need
    approval."""

    def test_currency_without_rate_needs_approval(self):
        self.company.write({"payout_approval": True, "payout_approval_threshold": THRESHOLD})
        currency = self.env["res.currency"].create({
            "name": "XPL", "symbol": "P", "rounding": 0.01, "active": True})
        link_id = self._rpc(self.user_editor, "payout.link", "create", {
            "employee_id": self.employee.id, "amount": 50.0, "currency_id": currency.id})
        self._rpc(self.user_editor, "payout.link", "action_send", [link_id])
        link = self.env["payout.link"].browse(link_id)
        self.assertEqual(link.state, "to_approve", "a rate-less currency fails closed")
