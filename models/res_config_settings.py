from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    company_currency_id = fields.Many2one(related="company_id.currency_id", readonly=True)
    payout_approval = fields.Boolean(related="company_id.payout_approval", readonly=False)
    payout_approval_threshold = fields.Monetary(
        related="company_id.payout_approval_threshold", readonly=False,
        currency_field="company_currency_id",
    )
    payout_check_account_holder = fields.Boolean(
        related="company_id.payout_check_account_holder", readonly=False
    )
    payout_review_new_accounts = fields.Boolean(
        related="company_id.payout_review_new_accounts", readonly=False
    )
    payout_reminder_count = fields.Integer(
        related="company_id.payout_reminder_count", readonly=False
    )
    payout_reminder_days = fields.Integer(
        related="company_id.payout_reminder_days", readonly=False
    )
    payout_duplicate_window = fields.Selection(
        related="company_id.payout_duplicate_window", readonly=False
    )
    payout_duplicate_days = fields.Integer(
        related="company_id.payout_duplicate_days", readonly=False
    )
    payout_check_shared_accounts = fields.Boolean(
        related="company_id.payout_check_shared_accounts", readonly=False
    )
