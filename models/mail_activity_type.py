from odoo import fields, models


class MailActivityType(models.Model):
    _inherit = "mail.activity.type"

    # Activities of this category show a Reissue button (static/src/activity).
    category = fields.Selection(
        selection_add=[("payout_reissue", "Reissue Payout Link")],
        ondelete={"payout_reissue": "set default"},
    )
