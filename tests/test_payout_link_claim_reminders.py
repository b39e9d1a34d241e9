from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError, ValidationError
from odoo.modules.migration import load_script
from odoo.tests import HttpCase, new_test_user, tagged

from .common import (
    SENT_AT,
    AttackCommon,
    PayoutBatchCommon,
    PayoutCommon,
    ReminderCommon,
    XenditCommon,
)

REISSUE_ACTIVITY = "hr_payout_link.mail_activity_type_payout_reissue"


@tagged("post_install", "-at_install")
class TestReminderSchedule(ReminderCommon):
    """The cron sends each unclaimed link the configured reminders, at their times, and no
    more; the provider's links are valid 3 days unless a test says otherwise."""

    def _configure(self, count, days, validity=3):
        self.company.write({"payout_reminder_count": count, "payout_reminder_days": days})
        self.provider.link_validity_days = validity

    def _assert_reminded_at(self, link, hours, reminded):
        self.assertEqual(reminded.get(link.id, []), hours)
        self.assertEqual(len(self._reminder_mails(link)), len(hours))
        self.assertEqual(link.reminder_count, len(hours))

    def test_default_is_one_reminder_a_day_before_expiry(self):
        self.assertEqual((self.company.payout_reminder_count, self.company.payout_reminder_days),
                         (1, 1))
        link = self._send_at()
        reminded = self._run_reminder_cron_hourly(link, 3 * 24)
        self._assert_reminded_at(link, [48], reminded)
        self.assertEqual(link.date_reminded, SENT_AT + timedelta(hours=48))
        self.assertFalse(link.date_next_reminder)

    def test_reminders_spread_evenly_until_expiry(self):
        self._configure(count=3, days=3, validity=5)
        link = self._send_at()
        self.assertEqual(link.date_next_reminder, SENT_AT + timedelta(days=2))
        reminded = self._run_reminder_cron_hourly(link, 5 * 24)
        self._assert_reminded_at(link, [48, 72, 96], reminded)

    def test_first_reminder_a_day_after_sending_when_the_link_is_shorter(self):
        """7 days before expiry makes no sense for a 3-day link: the reminders start a
        day after the claim email."""
        self._configure(count=2, days=7, validity=3)
        link = self._send_at()
        reminded = self._run_reminder_cron_hourly(link, 3 * 24)
        self._assert_reminded_at(link, [24, 48], reminded)

    def test_never_two_reminders_within_a_day(self):
        # 5 reminders in the last 2 days of a 3-day link: room for 2, a day apart.
        self._configure(count=5, days=2, validity=3)
        link = self._send_at()
        reminded = self._run_reminder_cron_hourly(link, 3 * 24)
        self._assert_reminded_at(link, [24, 48], reminded)

    def test_a_late_run_waits_a_day_before_the_next_reminder(self):
        self._configure(count=3, days=3, validity=5)
        link = self._send_at()
        # The cron did not run for three and a half days: one reminder now, the next a
        # day later, and no third one (it would fall after expiry).
        reminded = self._run_reminder_cron_hourly(link, 38, start=SENT_AT + timedelta(hours=84))
        self._assert_reminded_at(link, [0, 24], reminded)

    def test_no_reminder_for_a_one_day_link(self):
        self._configure(count=3, days=1, validity=1)
        link = self._send_at()
        self.assertFalse(link.date_next_reminder)
        self._assert_reminded_at(link, [], self._run_reminder_cron_hourly(link, 24))

    def test_zero_reminders_is_none(self):
        self._configure(count=0, days=1)
        link = self._send_at()
        self._assert_reminded_at(link, [], self._run_reminder_cron_hourly(link, 3 * 24))

    def test_no_reminder_once_claimed_cancelled_or_expired(self):
        self._configure(count=2, days=2, validity=3)
        claimed = self._send_at(recipient_email="claimed@example.com")
        cancelled = self._send_at(recipient_email="cancelled@example.com")
        expired = self._send_at(recipient_email="expired@example.com")
        opened = self._send_at(recipient_email="opened@example.com")
        links = claimed | cancelled | expired | opened
        self._assert_all_reminded_at(links, [24], self._run_reminder_cron_hourly(links, 30))
        with freeze_time(SENT_AT + timedelta(hours=31)):
            claimed._claim(self.bank, "4000000003", "Dewi Lestari")  # stays processing
            cancelled.action_cancel()
            opened._mark_opened()
            expired.sudo().expiry_date = SENT_AT + timedelta(hours=40)
        with freeze_time(SENT_AT + timedelta(hours=41)):
            self.env["payout.link"]._cron_expire_links(with_commit=False)
        self.assertEqual((claimed.state, cancelled.state, expired.state),
                         ("processing", "cancelled", "expired"))
        later = self._run_reminder_cron_hourly(links, 41, start=SENT_AT + timedelta(hours=31))
        self.assertEqual(later, {opened.id: [17]}, "an opened link is still unclaimed")
        self.assertEqual([len(self._reminder_mails(link)) for link in links], [1, 1, 1, 2])

    def _assert_all_reminded_at(self, links, hours, reminded):
        for link in links:
            self._assert_reminded_at(link, hours, reminded)

    def test_new_settings_apply_to_links_waiting(self):
        self.provider.link_validity_days = 5
        reminded = self._send_at(recipient_email="reminded@example.com")
        waiting = self._send_at(SENT_AT + timedelta(days=2), recipient_email="w@example.com")
        paid = self._send_at(recipient_email="paid@example.com")
        paid._claim(self.bank, "4000000003", "Dewi Lestari")
        self.assertEqual(waiting.date_next_reminder, SENT_AT + timedelta(days=6))
        with freeze_time(SENT_AT + timedelta(days=4)):
            self.env["payout.link"]._cron_remind_before_expiry(with_commit=False)
            self.company.write({"payout_reminder_count": 3, "payout_reminder_days": 3})
        self.assertEqual((reminded.reminder_count, paid.reminder_count), (1, 0))
        # 3, 2 and 1 day before its expiry: the first is due now.
        self.assertEqual(waiting.date_next_reminder, SENT_AT + timedelta(days=4))
        self.assertFalse(reminded.date_next_reminder,
                         "a day after its reminder, the link has expired")


@tagged("post_install", "-at_install")
class TestNoReminderForProviderLinks(XenditCommon, ReminderCommon):
    """A provider that hosts the claim reminds its own employees."""

    def test_provider_hosted_link_is_never_reminded(self):
        link = self._send_at(provider=self.hosted)
        self.assertEqual(link.state, "sent")
        self.assertFalse(link.date_next_reminder)
        link.sudo().date_next_reminder = SENT_AT  # even when due by its dates
        self.assertFalse(self._run_reminder_cron_hourly(link, 3 * 24))
        self.assertEqual(link.reminder_count, 0)


@tagged("post_install", "-at_install")
class TestReminderSettings(AttackCommon):
    """Reminder settings out of range are refused, naming the setting, and nothing saved."""

    def test_out_of_range_settings_are_refused(self):
        cases = [
            ({"payout_reminder_count": -1}, "Reminders: from 0 to 5"),
            ({"payout_reminder_count": 6}, "Reminders: from 0 to 5"),
            ({"payout_reminder_days": 0}, "First reminder: from 1 to 90"),
            ({"payout_reminder_days": 91}, "First reminder: from 1 to 90"),
        ]
        for values, message in cases:
            with self.subTest(values=values):
                with self.assertRaises(ValidationError) as caught:
                    self.env["res.config.settings"].create(
                        {"payout_reminder_count": 3, "payout_reminder_days": 7, **values}
                    ).execute()
                self.assertIn(message, str(caught.exception))
                self.company.invalidate_recordset()
                self.assertEqual((self.company.payout_reminder_count,
                                  self.company.payout_reminder_days), (1, 1))

    def test_saving_unchanged_settings_reschedules_nothing(self):
        link = self._sent_link()
        link.sudo().date_next_reminder = False  # would come back if rescheduled
        # As the Settings page saves: every setting, Odoo drops those unchanged.
        page = {"company_id": self.company.id, "payout_reminder_count": 1,
                "payout_reminder_days": 1}
        self.env["res.config.settings"].create(page).execute()
        self.assertFalse(link.date_next_reminder)
        self.env["res.config.settings"].create(dict(page, payout_reminder_days=2)).execute()
        self.assertEqual(link.date_next_reminder, link.date_sent + timedelta(days=1))

    def test_valid_settings_are_saved(self):
        self.env["res.config.settings"].create(
            {"payout_reminder_count": 0, "payout_reminder_days": 90}).execute()
        self.assertEqual((self.company.payout_reminder_count,
                          self.company.payout_reminder_days), (0, 90))

    def test_reminder_fields_are_the_workflows(self):
        link = self._sent_link()
        for values in ({"reminder_count": 5}, {"date_next_reminder": False},
                       {"date_reminded": "2026-12-01 00:00:00"}):
            with self.subTest(values=values):
                self._assert_rpc_refused(self.user_manager, "payout.link", "write",
                                         [link.id], values,
                                         message="set by the payout workflow only")
        self.assertEqual(link.reminder_count, 0)
        self.assertTrue(link.date_next_reminder)


@tagged("post_install", "-at_install")
class TestExpiryActivity(AttackCommon):
    """At expiry, whoever can reissue the link is asked to, in one click."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_hr = new_test_user(
            cls.env, "payout_hr", groups="base.group_user,hr_payout_link.group_payout_editor")
        cls.user_boss = new_test_user(
            cls.env, "dewi_boss", groups="base.group_user,hr_payout_link.group_payout_editor")
        cls.manager = cls.env["hr.employee"].create({
            "name": "Budi Santoso", "user_id": cls.user_boss.id, "company_id": cls.company.id})
        cls.employee.parent_id = cls.manager

    def _expired_link(self, **values):
        link = self._sent_link(user_id=self.user_hr.id, **values)
        link.sudo().expiry_date = link.date_sent
        self.env["payout.link"]._cron_expire_links(with_commit=False)
        self.assertEqual(link.state, "expired")
        return link

    def _reissue_activity(self, link):
        activity = link.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.activity_type_id, self.env.ref(REISSUE_ACTIVITY))
        self.assertEqual(activity.activity_category, "payout_reissue")
        return activity

    def test_activity_goes_to_the_manager_who_may_reissue(self):
        link = self._expired_link()
        activity = self._reissue_activity(link)
        self.assertEqual(activity.user_id, self.user_boss)
        self.assertEqual(activity.summary, "Dewi Lestari did not claim it: reissue it?")

    def test_else_to_the_responsible_user(self):
        self.user_boss.groups_id = [(3, self.env.ref("hr_payout_link.group_payout_editor").id),
                                    (3, self.env.ref("hr_payout_link.group_payout_viewer").id)]
        self.assertFalse(self.user_boss.has_group("hr_payout_link.group_payout_editor"))
        self.assertEqual(self._reissue_activity(self._expired_link()).user_id, self.user_hr)
        self.employee.parent_id = False
        link = self._expired_link(recipient_email="other@example.com")
        self.assertEqual(self._reissue_activity(link).user_id, self.user_hr)

    def test_a_manager_of_another_company_is_not_asked(self):
        other = self.env["res.company"].create({"name": "Other Company"})
        self.user_boss.write({"company_ids": [(6, 0, other.ids)], "company_id": other.id})
        self.assertEqual(self._reissue_activity(self._expired_link()).user_id, self.user_hr)

    def test_expiry_seen_by_the_claim_page_asks_too(self):
        link = self._sent_link(user_id=self.user_hr.id)
        link.sudo().expiry_date = link.date_sent
        link.sudo()._expire_if_due()
        self.assertEqual(self._reissue_activity(link).user_id, self.user_boss)

    def test_no_activity_for_other_states(self):
        link = self._sent_link(user_id=self.user_hr.id)
        link.action_cancel()
        self.assertFalse(link.activity_ids.filtered(
            lambda activity: activity.activity_type_id == self.env.ref(REISSUE_ACTIVITY)))

    def test_one_click_reissue_as_the_hr_user(self):
        link = self._expired_link()
        activity = self._reissue_activity(link)
        # What the activity's Reissue button calls.
        action = link.with_user(self.user_hr).action_reissue()
        new_link = self.env["payout.link"].browse(action["res_id"])
        self.assertEqual(new_link.replaced_link_id, link)
        self.assertEqual(link.reissued_link_ids, new_link)
        self.assertEqual(new_link.state, "sent")
        self.assertEqual(len(self._claim_mails(new_link)), 1)
        self.assertTrue(new_link.date_next_reminder, "the new link is reminded again")
        self.assertFalse(activity.exists(), "the activity is done")
        self.assertTrue(link.message_ids.filtered(
            lambda message: message.mail_activity_type_id == self.env.ref(REISSUE_ACTIVITY)),
            "its done message is in the chatter")
        with self.assertRaises(UserError) as caught:
            link.with_user(self.user_hr).action_reissue()
        self.assertIn("already reissued", str(caught.exception))
        self.assertEqual(len(link.reissued_link_ids), 1)

    def test_several_expired_links_at_once(self):
        links = self._expired_link() | self._expired_link(recipient_email="b@example.com")
        links.with_user(self.user_hr).action_reissue()
        self.assertEqual(len(links.reissued_link_ids), 2)
        self.assertEqual(set(links.reissued_link_ids.mapped("state")), {"sent"})
        self.assertFalse(links.activity_ids)

    def test_without_rights_reissue_is_refused_over_rpc(self):
        link = self._expired_link()
        activity = self._reissue_activity(link)
        portal_user = new_test_user(self.env, "dewi_portal", groups="base.group_portal")
        for user in (self.user_viewer, portal_user):
            with self.subTest(user=user.login):
                self._assert_rpc_refused(user, "payout.link", "action_reissue", [link.id])
        self.assertFalse(link.reissued_link_ids)
        self.assertTrue(activity.exists())


@tagged("post_install", "-at_install")
class TestBatchUnclaimed(PayoutBatchCommon):
    """A batch shows how many lines wait for their employee, and since when."""

    def test_unclaimed_count_and_since(self):
        batch = self._batch()
        self.assertEqual((batch.unclaimed_count, batch.unclaimed_since), (0, False))
        lines = batch.link_ids.sorted("id")
        with freeze_time(SENT_AT):
            self._send_all(batch)
        with freeze_time(SENT_AT + timedelta(hours=5)):
            lines[0]._claim(self.bank, "4000000003", "Batch Employee 0")
            lines[1]._mark_opened()
            lines[2].action_cancel()
            lines[3].sudo().write({"expiry_date": SENT_AT})
            self.env["payout.link"]._cron_expire_links(with_commit=False)
        # The line reissued for the expired one is sent later.
        with freeze_time(SENT_AT + timedelta(days=1)):
            batch.action_reissue_failed()
            while self.env["payout.link"]._cron_send_batches(with_commit=False):
                pass
        batch.invalidate_recordset()
        unclaimed = lines[1] | lines[4] | lines[3].reissued_link_ids
        self.assertEqual(len(unclaimed), 3)
        self.assertEqual(batch.unclaimed_count, 3)
        self.assertEqual(batch.unclaimed_since, SENT_AT)
        listed = self.env["payout.link"].search(batch.action_view_unclaimed()["domain"])
        self.assertEqual(listed, unclaimed)
        (lines[1] | lines[4]).action_cancel()
        batch.invalidate_recordset()
        self.assertEqual((batch.unclaimed_count, batch.unclaimed_since),
                         (1, SENT_AT + timedelta(days=1)))

    def test_reissue_failed_marks_the_lines_activities_done(self):
        batch = self._batch(self.employees[:2])
        self._send_all(batch)
        batch.link_ids.sudo().expiry_date = batch.link_ids[0].date_sent
        self.env["payout.link"]._cron_expire_links(with_commit=False)
        self.assertEqual(len(batch.link_ids.activity_ids), 2)
        originals = batch.link_ids
        batch.action_reissue_failed()
        self.assertEqual(len(originals.reissued_link_ids), 2)
        self.assertFalse(originals.activity_ids)


@tagged("post_install", "-at_install")
class TestReminderMigration(ReminderCommon):
    """18.0.1.5.0 gives links sent before it a reminder schedule."""

    def _migrate(self):
        script = load_script("hr_payout_link/migrations/18.0.1.5.0/post-reminders.py",
                             "hr_payout_link_migrate_post_reminders")
        script.migrate(self.env.cr, "18.0.1.4.0")

    def test_links_waiting_get_their_next_reminder(self):
        reminded = self._send_at(recipient_email="reminded@example.com")
        waiting = self._send_at(recipient_email="waiting@example.com")
        paid = self._send_at(recipient_email="paid@example.com")
        paid._claim(self.bank, "4000000003", "Dewi Lestari")
        links = reminded | waiting | paid
        # As 18.0.1.4.0 left them: no schedule, a stamp on the one reminded.
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE payout_link SET reminder_count = 0, date_next_reminder = NULL, "
            "date_reminded = CASE WHEN id = %s THEN %s END WHERE id IN %s",
            (reminded.id, SENT_AT + timedelta(days=2), tuple(links.ids)))
        links.invalidate_recordset()

        self._migrate()

        links.invalidate_recordset()
        self.assertEqual((reminded.reminder_count, reminded.date_next_reminder), (1, False))
        self.assertEqual((waiting.reminder_count, waiting.date_next_reminder),
                         (0, SENT_AT + timedelta(days=2)))
        self.assertFalse(paid.date_next_reminder)


@tagged("post_install", "-at_install")
class TestChaseTour(PayoutCommon, HttpCase):
    """static/tests/tours/payout_chase_tour.js: the HR user opens the expired link of their
    activity and reissues it in one click."""

    def test_reissue_from_the_activity_tour(self):
        link = self._sent_link(user_id=self.user_editor.id)
        link.sudo().expiry_date = link.date_sent
        self.env["payout.link"]._cron_expire_links(with_commit=False)
        self.assertEqual(link.activity_ids.user_id, self.user_editor)

        self.start_tour(f"/odoo/action-hr_payout_link.action_payout_link/{link.id}",
                        "payout_chase_tour", login=self.user_editor.login)

        link.invalidate_recordset()
        self.assertEqual(len(link.reissued_link_ids), 1)
        self.assertEqual(link.reissued_link_ids.state, "sent")
        self.assertFalse(link.activity_ids, "the activity is done")
