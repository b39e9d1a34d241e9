from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class PayoutApprovalMixin(models.AbstractModel):
    """Four-eyes approval, shared by payout links and batches: over the company's threshold
    a payout waits for a Payout Manager who did not create it."""

    _name = "payout.approval.mixin"
    _description = "Payout Approval"

    approved_by_id = fields.Many2one("res.users", copy=False,
                                     readonly=True)
    date_approved = fields.Datetime(string="Approved On", copy=False, readonly=True)

    def _get_approval_amount(self):
        """The amount the threshold applies to, in the record's currency."""
        self.ensure_one()
        raise NotImplementedError

    def _needs_approval(self):
        self.ensure_one()
        company = self.company_id
        if not company.payout_approval or self.approved_by_id:
            return False
        threshold = company.currency_id._convert(
            company.payout_approval_threshold, self.currency_id, company,
            fields.Date.context_today(self),
        )
        return self.currency_id.compare_amounts(self._get_approval_amount(), threshold) > 0

    def _check_approver(self):
        """Only a Payout Manager approves or refuses, and never what they created."""
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can approve or refuse payouts."))
        if own := self.filtered(lambda record: record.create_uid == self.env.user):
            raise UserError(self.env._(
                "You created %s: another Payout Manager must approve or refuse it.",
                ", ".join(own.mapped("display_name")),
            ))
        if wrong := self.filtered(lambda record: record.state != "to_approve"):
            raise UserError(self.env._(
                "%s: only payouts waiting for approval can be approved or refused.",
                ", ".join(wrong.mapped("display_name")),
            ))

    def _stamp_approval(self):
        """Record who approved and when, in the fields and in the chatter."""
        self._check_approver()
        self.sudo().write({"approved_by_id": self.env.user.id,
                           "date_approved": fields.Datetime.now()})
        for record in self:
            record.message_post(body=self.env._("Approved by %s.", self.env.user.name))

    def _log_refusal(self, reason):
        self._check_approver()
        for record in self:
            record.message_post(body=self.env._(
                "Refused by %(user)s: %(reason)s", user=self.env.user.name, reason=reason
            ))

    def action_refuse(self):
        """Ask for the reason, then refuse (see `_refuse`)."""
        self._check_approver()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Refuse"),
            "res_model": "payout.refuse.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids},
        }
