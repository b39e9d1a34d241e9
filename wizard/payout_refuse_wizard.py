from odoo import fields, models
from odoo.exceptions import UserError

REFUSABLE_MODELS = ("payout.link", "payout.batch")


class PayoutRefuseWizard(models.TransientModel):
    _name = "payout.refuse.wizard"
    _description = "Refuse Payouts"

    reason = fields.Char(required=True, help="Logged on the payout for its editor.")

    def action_refuse(self):
        model = self.env.context.get("active_model")
        if model not in REFUSABLE_MODELS:
            raise UserError(self.env._("Only payout links and batches can be refused."))
        self.env[model].browse(self.env.context.get("active_ids"))._refuse(self.reason)
        return {"type": "ir.actions.act_window_close"}
