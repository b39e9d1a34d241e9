from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import format_amount, format_date

from .. import const


class PayoutApprovalMixin(models.AbstractModel):
    """Four-eyes approval, shared by payout links and batches: over the company's threshold
    (its amount, or what it makes one employee receive in the window: see
    `_get_approval_reasons`) a payout waits for a Payout Manager who has no hand in it (see
    `_get_own_reason`)."""

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

    def _get_threshold_lines(self):
        """The links whose employees the threshold counts for these records: the links
        themselves, or a batch's lines not sent yet."""
        raise NotImplementedError

    def _get_approval_reasons(self):
        """{record: why it waits for a Payout Manager's approval} for the records of
        ``self`` that do, in one count of the employees' payouts whatever their number.

        A record needs approval when its amount is over the company's threshold, or when
        it takes what one employee receives over it: the employee's payouts paid or on
        their way in the company's window (`res.company._get_payout_threshold_start`), all
        types together, plus the links of ``self`` that pay them (sent together, they
        count together), in the company's currency. A batch needs approval when its total
        is over, or when any of its lines takes its employee over. A record whose currency
        has no rate fails closed: Odoo would convert it at par (the employee's other
        payouts are converted at today's rate, as Odoo reads it)."""
        reasons = {}
        pending = self.filtered(lambda record: record.company_id.payout_approval
                                and not record.approved_by_id)
        if not pending:
            return reasons
        totals = pending._get_threshold_lines()._get_employee_totals()
        for record in pending:
            if unchecked := record._get_unchecked_recipient_reason():
                reasons[record] = unchecked
                continue
            company = record.company_id
            company_currency = company.currency_id
            limit = company.payout_approval_threshold
            threshold = format_amount(self.env, limit, company_currency)
            if record.currency_id != company_currency and not record._has_rate(company):
                reasons[record] = self.env._(
                    "%(currency)s has no rate to compare with the approval threshold of "
                    "%(threshold)s", currency=record.currency_id.name, threshold=threshold)
                continue
            converted = company_currency._convert(
                limit, record.currency_id, company, fields.Date.context_today(self))
            if record.currency_id.compare_amounts(record._get_approval_amount(), converted) > 0:
                reasons[record] = self.env._("over the approval threshold of %s", threshold)
                continue
            over = [(employee, total) for employee in record._get_threshold_lines().employee_id
                    if (total := totals.get(employee)) is not None
                    and company_currency.compare_amounts(total, limit) > 0]
            if over:
                received = [self.env._(
                    "%(employee)s receives %(total)s", employee=employee.name,
                    total=format_amount(self.env, total, company_currency),
                ) for employee, total in over[:const.MAX_LINES_IN_ERROR]]
                reasons[record] = self.env._(
                    "with it, %(received)s since %(start)s (all payout types, paid or on "
                    "their way), over the approval threshold of %(threshold)s",
                    received=", ".join(received),
                    start=format_date(self.env, fields.Datetime.context_timestamp(
                        record, company._get_payout_threshold_start())),
                    threshold=threshold)
        return reasons

    def _get_unchecked_recipient_reason(self):
        """Why the payout is addressed to anyone but the employee's checked address, or
        False: it then waits for a Payout Manager whatever its amount."""
        return False

    def _record_approved_values(self, approver=None, date=None):
        """Keep what the approval covers, to compare the record with before money moves;
        with ``approver`` and ``date``, stamp the approval too (a batch's on its lines)."""

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

    def _get_senders(self):
        """The users who sent this payout (for approval, or to its employee)."""
        self.ensure_one()
        return self.sudo().approval_requested_by_id

    def _get_own_reason(self, user, sender=False, approver=False):
        """Why ``user`` has a hand in this payout and may not approve it, or False: they
        created it, sent it for approval, changed what it pays or to whom, or are paid.

        :param sender: also whoever sent it (`_get_senders`): they do not confirm its
            possible duplicate, nor settle whether it was paid.
        :param approver: also whoever approved it: they do not settle whether it was paid.
        """
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
        if sender and user in record._get_senders():
            return self.env._("You sent %s", name)
        if approver and record.approved_by_id == user:
            return self.env._("You approved %s", name)
        return False

    def _check_four_eyes(self, action, sender=False, approver=False):
        """Refuse ``action`` (e.g. "approve or refuse it") on records the user has a hand in
        (`_get_own_reason`, with its ``sender`` and ``approver``)."""
        if reasons := [reason for record in self if (reason := record._get_own_reason(
                self.env.user, sender=sender, approver=approver))]:
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
