"""Unclaimed links are chased: reminders before they expire, a reissue once they have.

Reminders (links claimed in Odoo; providers that host the claim remind their own): a
company sends ``payout_reminder_count`` reminders per link, the first
``payout_reminder_days`` before expiry and the others spread evenly from there until
expiry (3 reminders from 3 days before go 3, 2 and 1 day before). Never two emails about a
link within `const.REMINDER_GAP_HOURS`: the first goes no sooner than that after the claim
email (a link valid for fewer days than the setting is reminded from then on), each other
one no sooner than that after the last (a late cron run, or more reminders than days,
pushes it), and one pushed to expiry is dropped: a short window holds fewer reminders.

Each link stores the date of its next reminder, set when it is sent, at each reminder, and
when its company's settings change (the reminders it was already sent count): the
reminder cron reads one indexed date.

At expiry, whoever can reissue the link gets an activity with a Reissue button
(static/src/activity): the employee's manager when they may send payout links, else the
link's responsible user. The button runs `action_reissue` with all its rules; any reissue
of the link marks the activity done.
"""

from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from .. import const

REISSUE_ACTIVITY = "hr_payout_link.mail_activity_type_payout_reissue"


class PayoutLink(models.Model):
    _inherit = "payout.link"

    reminder_count = fields.Integer(
        string="Reminders Sent", copy=False, readonly=True,
        help="How many times the employee was reminded to claim the link.",
    )
    date_next_reminder = fields.Datetime(
        string="Next Reminder", copy=False, readonly=True, index="btree_not_null",
        help="When the employee is reminded next, if the link is still unclaimed then.",
    )

    def _on_state_changed(self, state):
        super()._on_state_changed(state)
        if state == "sent":
            self.filtered("provider_id.is_claimed_in_odoo")._schedule_next_reminder()
        elif state == "expired":
            self._ask_to_reissue()

    # === Reminders === #

    def _get_reminder_times(self):
        """When the link's reminders go by its company's settings, earliest first."""
        self.ensure_one()
        company = self.company_id
        if not (company.payout_reminder_count and self.date_sent and self.expiry_date):
            return []
        gap = timedelta(hours=const.REMINDER_GAP_HOURS)
        first = max(self.expiry_date - timedelta(days=company.payout_reminder_days),
                    self.date_sent + gap)
        window = self.expiry_date - first
        if window <= timedelta(0):
            return []  # a link valid for a day at most: its claim email is fresh
        count = company.payout_reminder_count
        step = window / count  # under a day apart: `_get_next_reminder_date` spaces them
        return [(first + index * step).replace(microsecond=0) for index in range(count)]

    def _get_next_reminder_date(self):
        """When the link's next reminder goes, a day after its last email at the soonest;
        False when none is left before expiry."""
        self.ensure_one()
        times = self._get_reminder_times()[self.reminder_count:]
        if not times:
            return False
        due = max(times[0], (self.date_reminded or self.date_sent)
                  + timedelta(hours=const.REMINDER_GAP_HOURS))
        return due if due < self.expiry_date else False

    def _schedule_next_reminder(self):
        # One computation and one write per distinct schedule: a batch's links share theirs.
        by_due = defaultdict(list)
        for links in self.grouped(lambda link: (
                link.company_id, link.date_sent, link.expiry_date, link.reminder_count,
                link.date_reminded)).values():
            by_due[links[0]._get_next_reminder_date()].extend(links.ids)
        for due, link_ids in by_due.items():
            self.browse(link_ids).sudo().write({"date_next_reminder": due})

    @api.model
    def _reschedule_reminders(self, companies):
        """Put the links still waiting for their employee on their company's new
        reminder settings."""
        self.sudo().search([
            ("company_id", "in", companies.ids), ("state", "in", const.CLAIMABLE_STATES),
            ("provider_id.is_claimed_in_odoo", "=", True),
        ])._schedule_next_reminder()

    def _send_reminders(self):
        """Email due links a reminder, and schedule their next one."""
        if not self:
            return
        now = fields.Datetime.now()
        for count, links in self.grouped(lambda link: link.reminder_count + 1).items():
            links.sudo().write({"reminder_count": count, "date_reminded": now})
        self._schedule_next_reminder()
        # An employee who claims signed in has no secret to look for (payout_link_signin.py).
        signed_in = self.filtered("claim_user_id")
        for links, xmlid in ((self - signed_in, "mail_template_payout_reminder"),
                             (signed_in, "mail_template_payout_reminder_signin")):
            if links:
                self.env.ref(f"hr_payout_link.{xmlid}").send_mail_batch(links.ids)

    # === At expiry === #

    def _get_chaser(self):
        """Who is asked to reissue the expired link: the employee's manager when they may
        send payout links of its company, else the link's responsible user."""
        self.ensure_one()
        manager = self.sudo().employee_id.parent_id.user_id
        if (manager.active and self.company_id in manager.company_ids
                and manager.has_group("hr_payout_link.group_payout_editor")):
            return manager
        return self.user_id or self.create_uid

    def _ask_to_reissue(self):
        for link in self:
            link.activity_schedule(
                REISSUE_ACTIVITY,
                user_id=link._get_chaser().id,
                summary=self.env._("%s did not claim it: reissue it?",
                                   link.sudo().employee_id.name),
            )

    def _copy_for_reissue(self):
        new_links = super()._copy_for_reissue()
        self.activity_feedback([REISSUE_ACTIVITY])
        return new_links
