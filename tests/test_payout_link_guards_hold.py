from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..protocol import demo
from .common import (
    ACCOUNT_NUMBER,
    HOLDER,
    AttackCommon,
    OffboardingMixin,
    PayoutBatchCommon,
    XenditCommon,
)


@tagged("post_install", "-at_install")
class TestOffboardingHold(OffboardingMixin, AttackCommon):
    """Archiving an employee holds their open links."""

    def _open_links(self):
        """A draft, a sent (claimable), and a claimed link waiting for the payment cron,
        each with the editor responsible; and a paid one."""
        values = {"user_id": self.user_editor.id}
        paid = self._claimed_link(pay=True, **values)
        self.assertEqual(paid.state, "done")
        draft = self._create_link(**values)
        sent = self._sent_link(**values)
        claimed = self._claimed_link(**values)
        return draft, sent, claimed, paid

    def test_archive_holds_open_links_as_hr_officer(self):
        draft, sent, claimed, paid = self._open_links()
        self._as(self.hr_officer, self.employee).action_archive()

        for link in draft | sent | claimed:
            self.assertEqual(link.hold_reason, "employee_archived", link.name)
            self.assertTrue(link.date_held)
            self.assertEqual(link.hold_user_ids, self.hr_officer)
            self.assertEqual(link.employee_status, "on_hold")
            activity = self._hold_activities(link)
            self.assertEqual(activity.user_id, self.user_editor, "the responsible user")
            self.assertIn("was archived", activity.note)
            self.assertIn("Unarchive the employee", link.message_ids[0].body)
        self.assertEqual((draft.state, sent.state, claimed.state, claimed.submission_state),
                         ("draft", "sent", "processing", "to_submit"), "states unchanged")
        self.assertFalse(paid.hold_reason)
        self.assertFalse(paid.activity_ids)

    def test_archive_over_rpc_holds_links(self):
        link = self._sent_link(user_id=self.user_editor.id)
        self._rpc(self.hr_officer, "hr.employee", "action_archive", [self.employee.id])
        self.env.invalidate_all()
        self.assertEqual(link.hold_reason, "employee_archived")
        self.assertEqual(self._hold_activities(link).user_id, self.user_editor)

    def test_same_email_is_no_change(self):
        link = self._sent_link()
        self._as(self.hr_officer, self.employee).write(
            {"work_email": " Dewi.Lestari@Example.com "})
        self.employee.write({"work_email": "dewi.lestari@example.com", "job_title": "Sales"})
        self.assertFalse(link.hold_reason)
        self.assertFalse(link.activity_ids)

    # === Not sendable === #

    def test_held_draft_is_not_sent(self):
        link = self._create_link()
        self.employee.action_archive()
        with self.assertRaisesRegex(UserError, f"{link.name} is on hold: its employee Dewi "
                                               "Lestari was archived"):
            link.action_send()
        self.assertEqual(link.state, "draft")
        self.assertFalse(link.sudo().claim_token_hash, "no claim email")

    def test_held_link_is_not_approved(self):
        self.company.write({"payout_approval": True, "payout_approval_threshold": 100.0})
        link = self._create_link()
        link.action_send()
        self.assertEqual(link.state, "to_approve")
        self.employee.action_archive()
        with self.assertRaisesRegex(UserError, "is on hold: its employee"):
            self._as(self.user_manager, link).action_approve()
        self.assertEqual(link.state, "to_approve")
        self.assertFalse(link.approved_by_id)

    def test_new_link_of_archived_employee_is_not_sent(self):
        self.employee.action_archive()
        link = self._create_link()
        self.assertFalse(link.hold_reason)
        with self.assertRaisesRegex(UserError, "Dewi Lestari is archived"):
            link.action_send()

    # === Not paid === #

    def test_cron_skips_held_claim_then_pays_it_once_released(self):
        link = self._claimed_link()
        self.employee.action_archive()
        with patch.object(demo, "pay", side_effect=demo.pay) as pay:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            self.assertFalse(pay.called, "the provider receives nothing while held")
            self.assertEqual((link.state, link.submission_state), ("processing", "to_submit"))
            self.employee.action_unarchive()
            self.assertFalse(link.hold_reason)
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(pay.call_count, 1)
        self.assertEqual(link.state, "done")

    def test_held_account_review_is_not_approved(self):
        self.company.payout_review_new_accounts = True
        link = self._claimed_link()
        self.assertEqual(link.account_review_state, "to_review")
        self.employee.action_archive()
        with self.assertRaisesRegex(UserError, "is on hold"):
            self._as(self.user_manager, link).action_approve_account()
        self.assertEqual(link.account_review_state, "to_review")

    def test_held_link_takes_no_bank_account(self):
        link = self._sent_link()
        self.employee.action_archive()
        self.assertFalse(link._claim(self.bank, ACCOUNT_NUMBER, HOLDER))
        self.assertEqual((link.state, link.bank_id.id, link.account_number_masked),
                         ("sent", False, False))

    # === Release === #

    def test_unarchive_releases_and_closes_the_activity(self):
        link = self._sent_link(user_id=self.user_editor.id)
        self._as(self.hr_officer, self.employee).action_archive()
        self.assertTrue(self._hold_activities(link))
        self._as(self.hr_officer, self.employee).action_unarchive()
        self.assertFalse(link.hold_reason)
        self.assertFalse(link.hold_user_ids)
        self.assertFalse(self._hold_activities(link), "the activity is done")
        self.assertIn("Hold released: the employee was unarchived.", link.message_ids[0].body)
        self.assertEqual(link.employee_status, "to_claim")

    # === RPC attacks === #

    def test_hold_fields_cannot_be_written_over_rpc(self):
        link = self._sent_link()
        self.employee.action_archive()
        for user in (self.user_editor, self.user_manager):
            for values in ({"hold_reason": False}, {"date_held": False},
                           {"hold_user_ids": [(5, 0, 0)]}):
                self._assert_rpc_refused(user, "payout.link", "write", [link.id], values,
                                         message="set by the payout workflow only")
            self._assert_rpc_refused(user, "payout.link", "create", {
                "employee_id": self.employee.id, "provider_id": self.provider.id,
                "amount": 10.0, "hold_reason": "employee_archived"})
            self._assert_rpc_refused(user, "payout.link", "_release_hold", [link.id], "x")
        self.assertEqual(link.hold_reason, "employee_archived")
        self.assertEqual(link.with_context(active_test=False).hold_user_ids, self.env.user)

    def test_held_link_is_not_sent_over_rpc(self):
        link = self._create_link()
        self.employee.action_archive()
        self._assert_rpc_refused(self.user_editor, "payout.link", "action_send", [link.id],
                                 message="is on hold")
        self.assertEqual(link.state, "draft")


@tagged("post_install", "-at_install")
class TestOffboardingBatch(OffboardingMixin, PayoutBatchCommon):
    """A batch line of a departed employee: Send All refuses it, the background skips it."""

    def test_send_all_refuses_a_held_line(self):
        batch = self._batch()
        self.employees[0].action_archive()
        with self.assertRaisesRegex(UserError, "is on hold: its employee Batch Employee 0"):
            batch.action_send_all()
        self.assertEqual(batch.state, "draft")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"draft"})

    def test_background_sending_skips_held_lines_until_released(self):
        batch = self._batch()
        held = batch.link_ids.filtered(lambda link: link.employee_id == self.employees[0])
        batch.action_send_all()
        self.employees[0].action_archive()
        while self.env["payout.link"]._cron_send_batches(with_commit=False):
            pass
        self.assertEqual(held.state, "draft")
        self.assertEqual(set((batch.link_ids - held).mapped("state")), {"sent"})
        self.assertEqual((batch.state, batch.unsent_count, batch.held_count), ("sending", 1, 1))
        self.assertEqual(self.env["payout.link"].search(batch.action_view_held()["domain"]), held)
        self.employees[0].action_unarchive()
        while self.env["payout.link"]._cron_send_batches(with_commit=False):
            pass
        self.env["payout.link"]._cron_send_batches(with_commit=False)  # finishes the batch
        self.assertEqual(held.state, "sent")
        self.assertEqual((batch.state, batch.held_count), ("sent", 0))


@tagged("post_install", "-at_install")
class TestOffboardingAtProvider(OffboardingMixin, XenditCommon):
    """What a provider already holds is neither pulled back nor sent again."""

    def test_link_at_provider_is_not_held_nor_cancelled(self):
        link = self._sent_link(self.hosted, user_id=self.user_editor.id)
        self.assertEqual(link.submission_state, "accepted")
        requests_before = len(self.xendit.server.requests)
        self._as(self.hr_officer, link.employee_id).action_archive()
        self.assertFalse(link.hold_reason)
        self.assertEqual(link.state, "sent")
        self.assertEqual(len(self.xendit.server.requests), requests_before,
                         "no call to the provider: nothing voided, nothing sent again")
        activity = self._hold_activities(link)
        self.assertEqual(activity.user_id, self.user_editor)
        self.assertIn("already holds this payout", activity.note)
        self.assertIn("Cancel it if the provider still can", activity.note)
        self._submit()
        self.assertEqual(len(self._calls("POST", "/payouts")), 1, "created once")

    def test_queued_link_of_hosted_provider_is_held_before_the_provider_call(self):
        link = self._create_link(self.hosted)
        link.action_send()
        self.assertEqual(link.submission_state, "to_submit")
        link.employee_id.action_archive()
        self.assertEqual(link.hold_reason, "employee_archived")
        self._submit()
        self.assertFalse(self._calls("POST", "/payouts"), "not created at Xendit while held")
        link.employee_id.action_unarchive()
        self._submit()
        self.assertEqual(len(self._calls("POST", "/payouts")), 1)
        self.assertEqual(link.submission_state, "accepted")
