from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .. import const


class PayoutBatchWizard(models.TransientModel):
    """Create a payout batch (or add lines to a draft one) for selected employees."""

    _name = "payout.batch.wizard"
    _description = "Pay Employees"

    batch_id = fields.Many2one(
        "payout.batch", string="Add to Batch", domain="[('state', '=', 'draft')]",
        help="Leave empty to create a new batch.",
    )
    name = fields.Char(string="Batch Name", help="e.g. Q4 2026 sales commissions")
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    payout_type = fields.Selection(
        selection=lambda self: self.env["payout.link"]._fields["payout_type"].selection,
        string="Type", required=True, default="bonus",
    )
    provider_id = fields.Many2one(
        "payout.provider", domain="[('state', '!=', 'disabled'), ('company_id', '=', company_id)]",
        default=lambda self: self.env["payout.link"]._default_provider(),
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    description = fields.Char(help=f"On every line; at most {const.MAX_DESCRIPTION} characters.")
    employee_ids = fields.Many2many(
        "hr.employee", string="Employees",
        default=lambda self: self._default_employee_ids(),
    )
    amount_mode = fields.Selection(
        selection=[("same", "Same amount for all"), ("per_employee", "An amount per employee")],
        string="Amounts", required=True, default="same",
    )
    amount = fields.Monetary(string="Amount per Employee")
    line_ids = fields.One2many(
        "payout.batch.wizard.line", "wizard_id", string="Amounts per Employee",
        compute="_compute_line_ids", store=True, readonly=False, precompute=True,
    )

    def _default_employee_ids(self):
        if self.env.context.get("active_model") == "hr.employee":
            return self.env.context.get("active_ids")
        return False

    @api.onchange("batch_id")
    def _onchange_batch_id(self):
        if batch := self.batch_id:
            self.update({field: batch[field] for field in (
                "company_id", "payout_type", "provider_id", "currency_id")})

    @api.depends("employee_ids", "amount_mode")
    def _compute_line_ids(self):
        for wizard in self:
            if wizard.amount_mode != "per_employee":
                continue  # one amount for all: no line per employee to fill in
            # In a form, records are new ones: compare what they stand for (_origin).
            employees = wizard.employee_ids._origin
            kept = wizard.line_ids.filtered(
                lambda line, employees=employees: line.employee_id._origin in employees)
            new = employees - kept.employee_id._origin
            # Amounts already typed stay with their employees.
            wizard.line_ids = [Command.unlink(line.id) for line in wizard.line_ids - kept] + [
                Command.create({"employee_id": employee.id, "amount": wizard.amount})
                for employee in new
            ]

    def _get_amounts(self):
        """(employee, amount) for each line to create."""
        if self.amount_mode == "same":
            return [(employee, self.amount) for employee in self.employee_ids]
        return [(line.employee_id, line.amount) for line in self.line_ids]

    def action_create(self):
        self.ensure_one()
        amounts = self._get_amounts()
        if not amounts:
            raise UserError(self.env._("Employees: choose at least one."))
        if not (self.batch_id or self.name):
            raise UserError(self.env._("Batch Name: required for a new batch."))
        batch = self.batch_id or self.env["payout.batch"].create({
            "name": self.name,
            "company_id": self.company_id.id,
            "payout_type": self.payout_type,
            "provider_id": self.provider_id.id,
            "currency_id": self.currency_id.id,
        })
        # One create call for every line: the ORM batches the inserts and computes. The
        # batch logs one message for them all.
        lines = self.env["payout.link"].with_context(tracking_disable=True).create([{
            "batch_id": batch.id,
            "employee_id": employee.id,
            "amount": amount,
            "description": self.description,
        } for employee, amount in amounts])
        batch.message_post(body=self.env._(
            "%(count)s lines added for %(total)s.", count=len(lines),
            total=format_amount(self.env, sum(lines.mapped("amount")), batch.currency_id),
        ))
        return {
            "type": "ir.actions.act_window",
            "res_model": "payout.batch",
            "res_id": batch.id,
            "view_mode": "form",
        }
