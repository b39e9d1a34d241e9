import re

from odoo import fields, models
from odoo.osv import expression


class HrEmployee(models.Model):
    _inherit = "hr.employee"

    payout_link_count = fields.Integer(
        compute="_compute_payout_stats", groups="hr_payout_link.group_payout_viewer"
    )
    payout_paid_total = fields.Monetary(
        string="Paid Out",
        compute="_compute_payout_stats",
        currency_field="currency_id",
        groups="hr_payout_link.group_payout_viewer",
        help="Total of paid payout links, in the company currency.",
    )

    def _search_display_name(self, operator, value):
        # Payout lines are imported with the employee by name, work email or identification
        # number: Odoo's import looks records up with name_search(value, operator="=").
        domain = super()._search_display_name(operator, value)
        if operator == "=" and value and self.env.context.get("payout_employee_lookup"):
            email_pattern = re.sub(r"([\\%_])", r"\\\1", value)  # literal, any case
            # Editors need not be HR officers, who alone may read identification numbers.
            matches = self.sudo()._search(["|", ("work_email", "=ilike", email_pattern),
                                           ("identification_id", "=", value)])
            domain = expression.OR([domain, [("id", "in", matches)]])
        return domain

    def _compute_payout_stats(self):
        links = self.env["payout.link"]
        counts = dict(links._read_group([("employee_id", "in", self.ids)], ["employee_id"],
                                        ["__count"]))
        paid = links._read_group(
            [("employee_id", "in", self.ids), ("state", "=", "done")],
            ["employee_id", "currency_id"], ["amount:sum"],
        )
        totals = dict.fromkeys(self, 0.0)
        today = fields.Date.context_today(self)
        for employee, currency, amount in paid:
            totals[employee] += currency._convert(
                amount, employee.currency_id, employee.company_id, today
            )
        for employee in self:
            employee.payout_link_count = counts.get(employee, 0)
            employee.payout_paid_total = totals[employee]

    def action_open_payout_links(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hr_payout_link.action_payout_link")
        action["domain"] = [("employee_id", "=", self.id)]
        action["context"] = {"default_employee_id": self.id}
        return action
