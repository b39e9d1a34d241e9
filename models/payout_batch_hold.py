from odoo import api, fields, models


class PayoutBatch(models.Model):
    """Offboarding, on the batch: how many lines are held (payout_link_hold.py). A sending
    batch waits for them, released or cancelled, before it is sent."""

    _inherit = "payout.batch"

    held_count = fields.Integer(
        string="On Hold", compute="_compute_held_count",
        help="Lines whose employee was archived or whose email address changed: they are "
        "not sent until released, or cancelled.")

    @api.depends("link_ids.hold_reason")
    def _compute_held_count(self):
        counts = dict(self.env["payout.link"]._read_group(
            [("batch_id", "in", self.ids), ("hold_reason", "!=", False)], ["batch_id"],
            ["__count"]))
        for batch in self:
            batch.held_count = counts.get(batch, 0)

    def action_view_held(self):
        return self._action_links(self.env._("Lines on Hold"), [
            ("batch_id", "in", self.ids), ("hold_reason", "!=", False),
        ])
