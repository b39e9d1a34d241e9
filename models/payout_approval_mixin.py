from odoo import fields, models
from odoo.exceptions import AccessError, UserError


class PayoutApprovalMixin(models.AbstractModel):
    """Four-eyes approval, shared by payout links and batches: over the company's threshold
    a payout waits for a Payout Manager who has no hand in it (see `_get_own_reason`)."""

    _name = "payout.approval.mixin"
    _inherit = "payout.workflow.mixin"
    _description = "Payout Approval"

    approval_requested_by_id = fields.Many2one(
        "res.users", string="Sent for Approval By", copy=False, readonly=True,
        workflow_only=True)
    date_approval_requested = fields.Datetime(string="Sent for Approval On", copy=False,
                                              readonly=True, workflow_only=True)
    approved_by_id = fields.Many2one("res.users", copy=False, readonly=True,
                                     workflow_only=True)
    date_approved = fields.Datetime(string="Approved On", copy=False, readonly=True,
                                    workflow_only=True)
    changed_by_ids = fields.Many2many(
        "res.users", copy=False, readonly=True, workflow_only=True,
        help="Who changed what it pays, or to whom, after it was created: they cannot "
        "approve it.",
    )

    def write(self, vals):
        if vals.get("state") == "draft":
            # An approval holds for what was approved: back in draft, it can change.
            vals = dict(vals, **self._approval_cleared())
        return super().write(vals)

    def _approval_cleared(self):
        return {"approved_by_id": False, "date_approved": False,
                "approval_requested_by_id": False, "date_approval_requested": False}

    def _get_approval_amount(self):
        """The amount the threshold applies to, in the record's currency."""
        self.ensure_one()
        raise NotImplementedError

    def _get_payees(self):
        """The users this payout pays (the employees' own users)."""
        raise NotImplementedError

    def _needs_approval(self):
        """Whether the amount is over the company's threshold. A currency without a rate
        fails closed: Odoo would convert it at par."""
        self.ensure_one()
        company = self.company_id
        if not company.payout_approval or self.approved_by_id:
            return False
        if self._has_unchecked_recipient():
            return True
        if self.currency_id != company.currency_id and not self._has_rate(company):
            return True
        threshold = company.currency_id._convert(
            company.payout_approval_threshold, self.currency_id, company,
            fields.Date.context_today(self),
        )
        return self.currency_id.compare_amounts(self._get_approval_amount(), threshold) > 0

    def _has_unchecked_recipient(self):
        """Whether the payout is addressed to anyone but the employee's checked address:
        it then waits for a Payout Manager whatever its amount."""
        return False

    def _record_approved_values(self):
        """Keep what the approval covers, to compare the record with before money moves."""

    def _has_rate(self, company):
        """Whether the record's currency has a rate for ``company``, as Odoo reads them."""
        return bool(self.env["res.currency.rate"].sudo().search_count([
            ("currency_id", "=", self.currency_id.id),
            ("company_id", "in", (False, company.root_id.id)),
        ], limit=1))

    def _request_approval(self):
        """Stamp who sent the records for approval, and when."""
        self.sudo().write({"approval_requested_by_id": self.env.uid,
                           "date_approval_requested": fields.Datetime.now()})

    def _get_own_reason(self, user):
        """Why ``user`` has a hand in this payout and may not approve it, or False: they
        created it, sent it for approval, changed what it pays or to whom, or are paid."""
        self.ensure_one()
        record = self.sudo()
        name = self.display_name
        if record.create_uid == user:
            return self.env._("You created %s", name)
        if record.approval_requested_by_id == user:
            return self.env._("You sent %s for approval", name)
        if user in record.changed_by_ids:
            return self.env._("You changed %s after it was created", name)
        if user in record._get_payees():
            return self.env._("%s pays you", name)
        return False

    def _check_four_eyes(self, action):
        """Refuse ``action`` (e.g. "approve or refuse it") on records the user has a hand in."""
        if reasons := [reason for record in self if (reason := record._get_own_reason(
                self.env.user))]:
            raise UserError(self.env._(
                "%(reasons)s: another Payout Manager must %(action)s.",
                reasons="; ".join(reasons), action=action))

    def _check_approver(self):
        """Only a Payout Manager with no hand in the payout approves or refuses it."""
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can approve or refuse payouts."))
        self._check_four_eyes(self.env._("approve or refuse it"))
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
        self._record_approved_values()
        for record in self:
            record.message_post(body=self.env._("Approved by %s.", self.env.user.name))

    def _note_change(self, user_id):
        """``user_id`` changed what this pays or to whom: they cannot approve it (its
        creator cannot already)."""
        if changed := self.filtered(lambda record: record.create_uid.id != user_id
                                    and user_id not in record.changed_by_ids.ids):
            changed.sudo().write({"changed_by_ids": [fields.Command.link(user_id)]})

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
