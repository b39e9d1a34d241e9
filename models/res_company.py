from odoo import api, fields, models


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

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        self.env["payout.provider"]._create_demo_providers(companies)
        return companies
