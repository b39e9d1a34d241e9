import re

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.osv import expression
from odoo.tools import email_normalize

# What an employee's payout links are addressed to, and what changes it.
PAYOUT_ADDRESS_FIELDS = ("work_email", "private_email", "work_contact_id", "user_id")


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
    # Written by the hold (payout_link_guards.py) only, as sudo: see _check_payout_mark_vals.
    payout_address_changed_by_ids = fields.Many2many(
        "res.users", "hr_employee_payout_address_changed_rel", "employee_id", "user_id",
        copy=False, readonly=True,
        groups="hr_payout_link.group_payout_manager",
        help="Who changed the employee's email address since a Payout Manager last checked "
        "it: until then every new payout link of the employee is held, and only a Payout "
        "Manager who is not one of them releases it.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_payout_mark_vals(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        """Hold the payout links of employees archived or whose email address changed;
        release those of employees unarchived (payout_link_guards.py)."""
        self._check_payout_mark_vals([vals])
        watched = "active" in vals or any(name in vals for name in PAYOUT_ADDRESS_FIELDS)
        if not watched or self.env.context.get("payout_hold_done"):
            return super().write(vals)
        before = self._get_payout_snapshot()
        # The work contact's email follows: res.partner.write must not hold them twice.
        result = super(HrEmployee, self.with_context(payout_hold_done=True)).write(vals)
        self._hold_payout_links(before)
        return result

    def _check_payout_mark_vals(self, vals_list):
        # HR officers write employees: none may clear (or forge) who changed an address.
        if not self.env.su and any("payout_address_changed_by_ids" in vals
                                   for vals in vals_list):
            raise AccessError(self.env._(
                "Payout Address Changed By: set by the payout hold only; a Payout Manager "
                "clears it by releasing a held payout link of the employee."))

    def _get_payout_address_changers(self):
        # The system (OdooBot) and users archived since are changers too.
        return self.sudo().with_context(active_test=False).payout_address_changed_by_ids

    def _get_payout_snapshot(self):
        """{employee: (active, normalised payout address)}, read as sudo: HR officers may
        change an employee without reading payouts."""
        return {employee: (employee.active,
                           self._normalize_payout_email(employee._get_payout_email()))
                for employee in self.sudo().with_context(active_test=False)}

    def _hold_payout_links(self, before):
        """Hold or release the payout links of the employees of ``before`` (a snapshot)
        after a change, comparing the employees with it."""
        after = self._get_payout_snapshot()
        employees = self.browse()
        archived = employees.concat(*(e for e in after if before[e][0] and not after[e][0]))
        unarchived = employees.concat(*(e for e in after if not before[e][0] and after[e][0]))
        # A real change only: another case or surrounding spaces are the same mailbox. A
        # first address is no redirect, unless the employee lost one since the last check.
        email_changed = employees.concat(*(
            e for e in after if before[e][1] != after[e][1]
            and (before[e][1] or e.payout_address_changed_by_ids)))
        # Unchecked until a Payout Manager releases a link: new links are held too.
        email_changed.sudo().write(
            {"payout_address_changed_by_ids": [fields.Command.link(self.env.uid)]})
        links = self.env["payout.link"]
        links._release_for_employees(unarchived)
        links._hold_for_employees(archived, email_changed)

    def _get_payout_email(self):
        """The address a new payout link of the employee goes to (payout.link's
        `_compute_recipient`), and whose change holds their links."""
        self.ensure_one()
        employee = self.sudo()
        return employee.work_email or employee.private_email

    @staticmethod
    def _normalize_payout_email(email):
        return email_normalize(email or "") or (email or "").strip().lower()

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
