from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import const
from .payout_provider import MAX_LINK_VALIDITY_DAYS


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
        "needs a Payout Manager's approval; 0 means every payout does.",
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
            if not 1 <= company.payout_reminder_days <= MAX_LINK_VALIDITY_DAYS:
                raise ValidationError(self.env._(
                    "First reminder: from 1 to %(max)s days before expiry, the longest a "
                    "link may be valid (%(given)s given).",
                    max=MAX_LINK_VALIDITY_DAYS, given=company.payout_reminder_days,
                ))

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
