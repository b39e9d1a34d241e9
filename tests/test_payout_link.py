from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.hr_payout_link import const

from .common import PayoutCommon

ALL_STATES = ("draft", "to_approve", "sent", "opened", "processing", "done", "failed",
              "expired", "cancelled")


@tagged("post_install", "-at_install")
class TestPayoutLinkStates(PayoutCommon):

    def _link_in(self, state):
        link = self._create_link()
        link.write({"state": state})
        return link

    def test_every_legal_transition(self):
        for target, sources in const.TRANSITIONS.items():
            for source in sources:
                with self.subTest(source=source, target=target):
                    link = self._link_in(source)
                    changed = link._update_state(target)
                    self.assertEqual(changed, link)
                    self.assertEqual(link.state, target)
                    if target in const.STATE_DATE_FIELDS:
                        self.assertTrue(link[const.STATE_DATE_FIELDS[target]])

    def test_every_illegal_transition_from_a_user_raises(self):
        for target, sources in const.TRANSITIONS.items():
            for source in set(ALL_STATES) - set(sources):
                with self.subTest(source=source, target=target):
                    link = self._link_in(source)
                    with self.assertRaisesRegex(UserError, "cannot become"):
                        link._update_state(target, from_user=True)
                    self.assertEqual(link.state, source)

    def test_illegal_provider_event_is_logged_and_ignored(self):
        link = self._link_in("done")
        messages_before = len(link.message_ids)
        with self.assertLogs("odoo.addons.hr_payout_link.models.payout_link", "WARNING"):
            changed = link._update_state("expired")
        self.assertFalse(changed)
        self.assertEqual(link.state, "done")
        self.assertEqual(len(link.message_ids), messages_before + 1)
        self.assertIn("Ignored a change to Expired", link.message_ids[0].body)

    def test_repeated_event_is_a_no_op(self):
        link = self._link_in("processing")
        link._update_state("done")
        paid_on = link.date_done
        receipts = len(self._link_mails(link))
        self.assertFalse(link._update_state("done"))
        self.assertEqual(link.date_done, paid_on)
        self.assertEqual(len(self._link_mails(link)), receipts,
                         "a repeated 'paid' event must not send a second receipt")

    def test_mixed_recordset_changes_only_allowed_links(self):
        sent, done = self._link_in("sent"), self._link_in("done")
        changed = (sent | done)._update_state("expired")
        self.assertEqual(changed, sent)
        self.assertEqual((sent.state, done.state), ("expired", "done"))

    def test_user_actions_in_a_wrong_state(self):
        with self.assertRaisesRegex(UserError, "Only draft links can be sent"):
            self._link_in("sent").action_send()
        with self.assertRaisesRegex(UserError, "Only draft links can be sent"):
            self._link_in("to_approve").action_send()  # approving is a manager's
        with self.assertRaisesRegex(UserError, "cannot become Cancelled"):
            self._link_in("done").action_cancel()
        with self.assertRaisesRegex(UserError, "Only failed or expired links can be reissued"):
            self._link_in("opened").action_reissue()

    def test_only_drafts_can_be_edited_or_deleted(self):
        link = self._link_in("sent")
        with self.assertRaisesRegex(UserError, "Only draft payout links can be changed"):
            link.amount = 10
        link.payout_type = "commission"  # a classification, not what is paid
        with self.assertRaisesRegex(UserError, "Only draft payout links can be deleted"):
            link.unlink()
        draft = self._create_link()
        draft.amount = 10
        self.assertEqual(draft.amount, 10)
        draft.unlink()
        self.assertFalse(draft.exists())

    def test_cancel_voids_the_token(self):
        link = self._create_link()
        self._send(link)
        link.action_cancel()
        self.assertEqual(link.state, "cancelled")
        self.assertTrue(link.date_cancelled)
        self.assertFalse(link.claim_token_hash or link.reminder_token_hash)

    def test_reissue_makes_a_fresh_link_pointing_at_the_failed_one(self):
        link = self._create_link(payout_type="commission", description="Q3 commission")
        old_secret = self._send(link)
        old_token = self._claim_token(link)
        link._update_state("failed", values={"failure_reason": "Invalid destination account"})
        action = link.action_reissue()
        new = self.env["payout.link"].browse(action["res_id"])
        self.assertEqual(new.replaced_link_id, link)
        self.assertEqual(new.state, "sent")
        self.assertEqual(
            (new.employee_id, new.amount, new.payout_type, new.description),
            (link.employee_id, link.amount, link.payout_type, link.description),
        )
        self.assertNotEqual(self._claim_token(new), old_token)
        self.assertNotEqual(new.reference, link.reference)
        self.assertNotEqual(self._secret_in_mail(new), old_secret)
        # A second reissue would make a second live link paying the same payout.
        with self.assertRaisesRegex(UserError, "already reissued"):
            link.action_reissue()
        self.assertEqual(link.reissued_link_ids, new)

    def test_failure_tells_the_responsible_user(self):
        link = self._link_in("processing")
        link._update_state("failed", values={"failure_reason": "Insufficient balance"})
        activity = link.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, link.user_id)
        self.assertIn("Insufficient balance", activity.note)
