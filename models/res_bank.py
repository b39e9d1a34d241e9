from odoo import fields, models


class ResBank(models.Model):
    _inherit = "res.bank"

    payout_bank_code = fields.Char(
        string="Clearing Code",
        help="The national clearing code of the bank (Indonesia: 3 digits, e.g. 014 for BCA).",
    )
    payout_available = fields.Boolean(
        string="Offered on Payout Links",
        help="Employees can choose this bank when they claim a payout link.",
    )
