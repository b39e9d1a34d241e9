from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from odoo.addons.hr_payout_link import const
from odoo.addons.hr_payout_link.protocol import doku

from .common import DokuCommon


@tagged("post_install", "-at_install")
class TestNeedsAttention(DokuCommon):
    """A link whose outcome the provider keeps unclear waits for a Payout Manager, who
    checks at the provider and confirms; nothing is guessed, nothing is sent twice."""

    def _unclear_link(self):
        """A DOKU link whose every call gets a 503, run through the payment cron until it
        needs attention."""
        self.doku.server.inject("malformed_json", count=1000)
        link = self._create_link(provider_id=self.doku_provider.id, currency_id=self.idr.id,
                                 amount=1500000, recipient_email="dewi@example.com")
        link.action_send()
        for _run in range(const.MAX_UNCLEAR_CALLS):
            self.assertFalse(link.needs_attention)
            self._retry_submissions()
        return link

    def _calls(self):
        return [r for r in self.doku.server.requests if r.path == doku.INITIATE_PATH]

    def _resolve(self, link, user, resolution, reason):
        action = link.with_user(user).with_context(
            payout_resolution=resolution).action_resolve_attention()
        wizard = Form(self.env[action["res_model"]].with_user(user).with_context(
            **action["context"]))
        wizard.reason = reason
        wizard.save().action_resolve()

    def test_unclear_answers_flag_the_link_and_stop_the_calls(self):
        link = self._unclear_link()
        self.assertEqual((link.state, link.submission_state, link.unclear_calls),
                         ("sent", "submitting", const.MAX_UNCLEAR_CALLS))
        self.assertTrue(link.needs_attention)
        self.assertIn("Needs attention", link.message_ids[0].body)
        activity = link.activity_ids
        self.assertEqual(activity.summary, "Payout outcome unknown: check at the provider")
        self.assertTrue(activity.user_id.has_group("hr_payout_link.group_payout_manager"))
        calls = len(self._calls())
        self._retry_submissions()
        self.assertEqual(len(self._calls()), calls, "no call once a person decides")
        self.assertFalse(link.can_reissue)
        batch_count = self.env["payout.link"].search_count([("needs_attention", "=", True)])
        self.assertEqual(batch_count, 1)

    def test_a_clear_answer_in_time_clears_the_count(self):
        self.doku.server.inject("malformed_json", count=1, path=doku.INITIATE_PATH)
        link = self._create_link(provider_id=self.doku_provider.id, currency_id=self.idr.id,
                                 amount=1500000, recipient_email="dewi@example.com")
        link.action_send()
        self._retry_submissions()
        self.assertEqual((link.submission_state, link.unclear_calls), ("submitting", 1))
        self._retry_submissions()
        self.assertEqual((link.submission_state, link.unclear_calls), ("accepted", 0))
        self.assertFalse(link.needs_attention)
        self.assertEqual(len(self.doku.payouts), 1)

    def test_check_again_settles_it_when_the_provider_answers(self):
        link = self._unclear_link()
        with self.assertRaises(AccessError):
            link.with_user(self.user_editor).action_check_again()
        self.doku.server.reset()
        link.with_user(self.user_manager).action_check_again()
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("sent", "accepted", "PENDING"))
        self.assertFalse(link.needs_attention or link.activity_ids)
        self.assertEqual(list(self.doku.payouts), [link.submission_reference],
                         "looked up, then initiated once")

    def test_confirm_not_paid_needs_a_manager_and_a_reason_then_allows_a_reissue(self):
        link = self._unclear_link()
        with self.assertRaises(AccessError):
            link.with_user(self.user_editor).action_resolve_attention()
        with self.assertRaisesRegex(UserError, "Reason: required"):
            link.with_user(self.user_manager)._resolve_attention("not_paid", "  ")
        self._resolve(link, self.user_manager, "not_paid", "Not in DOKU's dashboard")
        self.assertEqual((link.state, link.submission_state), ("failed", "refused"))
        self.assertFalse(link.needs_attention)
        self.assertEqual(link.attention_resolved_by_id, self.user_manager)
        self.assertTrue(link.date_attention_resolved)
        self.assertEqual(link.attention_resolution, "Not in DOKU's dashboard")
        self.assertIn(f"Confirmed not paid by {self.user_manager.name}", link.failure_reason)
        self.assertTrue(link.can_reissue)
        self.doku.server.reset()
        new_link = self.env["payout.link"].browse(
            link.with_user(self.user_editor).action_reissue()["res_id"])
        self.assertEqual(new_link.replaced_link_id, link)

    def test_confirm_paid_marks_the_link_paid(self):
        link = self._unclear_link()
        self._resolve(link, self.user_manager, "paid", "COMPLETED in DOKU's dashboard")
        self.assertEqual((link.state, link.submission_state), ("done", "accepted"))
        self.assertFalse(link.needs_attention or link.can_reissue)
        self.assertIn("Confirmed paid at DOKU", link.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "does not need attention"):
            link.with_user(self.user_manager).action_check_again()

    def test_the_batch_counts_its_lines_that_need_attention(self):
        link = self._unclear_link()
        batch = self.env["payout.batch"].create({"name": "Attention run",
                                                "provider_id": self.doku_provider.id,
                                                "currency_id": self.idr.id})
        # Attached after the fact, for the count only (a sent link's batch is frozen).
        self.env.cr.execute("UPDATE payout_link SET batch_id = %s WHERE id = %s",
                            (batch.id, link.id))
        link.invalidate_recordset(["batch_id"])
        batch.invalidate_recordset()
        self.assertEqual(batch.attention_count, 1)
        self.assertEqual(self.env["payout.link"].search(batch.action_view_attention()["domain"]),
                         link)
