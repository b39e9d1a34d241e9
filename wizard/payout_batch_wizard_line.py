from odoo import fields, models


class PayoutBatchWizardLine(models.TransientModel):
    _name = "payout.batch.wizard.line"
    _description = "Payout Batch Wizard Line"

    wizard_id = fields.Many2one("payout.batch.wizard", required=True, ondelete="cascade")
    employee_id = fields.Many2one("hr.employee", required=True)
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    amount = fields.Monetary()
