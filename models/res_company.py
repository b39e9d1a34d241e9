from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import date_utils

from .. import const


class ResCompany(models.Model):
    _inherit = "res.company"

    payout_approval = fields.Boolean(
        help="Payouts over the threshold wait for a second person, a Payout Manager, "
        "before they are sent.",
    )
    payout_approval_threshold = fields.Monetary(
        string="Approval Threshold",
        currency_field="currency_id",
        help="A payout link or batch whose amount is over this (in the company's currency) "
        "needs a Payout Manager's approval; so does one that takes what an employee "
        "receives, all types together, over it within the Duplicate Payout Window (the "
        "calendar quarter when that is off). 0 means every payout does.",
    )
    payout_check_account_holder = fields.Boolean(
        string="Check Account Holder Names", default=True,
        help="An account holder who is not the employee's name on their HR record (case, "
        "accents, word order and initials aside) waits for a Payout Manager's review.",
    )
    payout_review_new_accounts = fields.Boolean(
        string="Review Unknown Bank Accounts",
        help="A bank account given by an employee that is not the one on their HR record "
        "waits for a Payout Manager's review before money moves.",
    )
    payout_reminder_count = fields.Integer(
        string="Reminders", default=1,
        help="How many times an employee who has not claimed a link is reminded by email "
        "before it expires (0: never). Providers that host the claim remind their own.",
    )
    payout_reminder_days = fields.Integer(
        string="First Reminder (days before expiry)", default=1,
        help="How many days before expiry the first reminder goes; the others are spread "
        "evenly until expiry, a day apart at least. Never sooner than a day after the "
        "link was sent: a link valid for fewer days gets its first reminder then.",
    )

    @api.constrains("payout_reminder_count", "payout_reminder_days")
    def _check_payout_reminders(self):
        for company in self:
            if not 0 <= company.payout_reminder_count <= const.MAX_REMINDERS:
                raise ValidationError(self.env._(
                    "Reminders: from 0 to %(max)s per link (%(given)s given).",
                    max=const.MAX_REMINDERS, given=company.payout_reminder_count,
                ))
            if not 1 <= company.payout_reminder_days <= const.MAX_LINK_VALIDITY_DAYS:
                raise ValidationError(self.env._(
                    "First reminder: from 1 to %(max)s days before expiry, the longest a "
                    "link may be valid (%(given)s given).",
                    max=const.MAX_LINK_VALIDITY_DAYS, given=company.payout_reminder_days,
                ))
    payout_check_shared_accounts = fields.Boolean(
        string="Review Shared Bank Accounts", default=True,
        help="A bank account that another employee also gave, or that is on another "
        "employee's HR record, waits for a Payout Manager's review before money moves, and "
        "so do that employee's payouts to it that have not moved yet.",
    )
    payout_duplicate_window = fields.Selection(
        selection=[("off", "Off"), ("month", "Same Calendar Month"),
                   ("quarter", "Same Calendar Quarter"), ("year", "Same Calendar Year"),
                   ("days", "Last Days")],
        string="Duplicate Payout Window", required=True, default="quarter",
        help="Before a link or a batch is sent, a line for an employee who was already "
        "paid, or is waiting to be, for the same type in this period is flagged: it is not "
        "sent until someone confirms it or removes it.",
    )
    payout_duplicate_days = fields.Integer(
        string="Duplicate Window Days", default=90,
        help="With Last Days: how many days back a payout counts as a possible duplicate.",
    )

    @api.constrains("payout_duplicate_window", "payout_duplicate_days")
    def _check_payout_duplicate_days(self):
        for company in self:
            if company.payout_duplicate_window == "days" and company.payout_duplicate_days < 1:
                raise ValidationError(self.env._("Duplicate Window Days: at least 1."))

    def _get_payout_duplicate_start(self):
        """When the duplicate guard's window starts for a payout sent now (UTC, midnight in
        the user's timezone), or None when the guard is off."""
        self.ensure_one()
        if self.payout_duplicate_window == "off":
            return None
        return self._get_payout_window_start(self.payout_duplicate_window)

    def _get_payout_threshold_start(self):
        """When the window in which the approval threshold counts what one employee
        receives starts: the duplicate guard's, or the calendar quarter when the guard is
        off (the threshold is never per link alone)."""
        self.ensure_one()
        window = self.payout_duplicate_window
        return self._get_payout_window_start("quarter" if window == "off" else window)

    def _get_payout_window_start(self, window):
        """When ``window`` (a value of the Duplicate Payout Window but 'off') starts for a
        payout sent now (UTC, midnight in the user's timezone)."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        start = today - timedelta(days=self.payout_duplicate_days) if window == "days" else (
            date_utils.start_of(today, window))
        timezone = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        return timezone.localize(datetime.combine(start, time.min)).astimezone(
            pytz.UTC).replace(tzinfo=None)

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        self.env["payout.provider"]._create_demo_providers(companies)
        return companies

    def write(self, vals):
        result = super().write(vals)
        if {"payout_reminder_count", "payout_reminder_days"}.intersection(vals):
            self.env["payout.link"]._reschedule_reminders(self)
        return result
