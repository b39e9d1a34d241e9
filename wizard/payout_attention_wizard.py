from odoo import fields, models


class PayoutAttentionWizard(models.TransientModel):
    _name = "payout.attention.wizard"
    _description = "Resolve Payouts that Need Attention"

    resolution = fields.Selection(
        selection=[("paid", "Paid at the provider"), ("not_paid", "Not paid")],
        required=True,
        help="Paid: the provider holds the payout; the link shows paid. Not paid: the "
        "provider does not and will not pay it; the link fails and may be reissued.",
    )
    reason = fields.Char(
        required=True,
        help="What you checked at the provider (logged on the link with your name).",
    )

    def action_resolve(self):
        links = self.env["payout.link"].browse(self.env.context.get("active_ids"))
        links._resolve_attention(self.resolution, self.reason)
        return {"type": "ir.actions.act_window_close"}
