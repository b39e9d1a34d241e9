from odoo import models


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        # An employee's work email is their work contact's: a change made on the contact
        # is a change of their payout identity, as one made on the employee is
        # (hr_employee.py).
        if "email" not in vals or self.env.context.get("payout_hold_done"):
            return super().write(vals)
        employees = self.env["hr.employee"].sudo().with_context(active_test=False).search(
            [("work_contact_id", "in", self.ids)])
        if not employees:
            return super().write(vals)
        before = employees._get_payout_snapshot()
        result = super().write(vals)
        employees.with_env(self.env)._note_payout_changes(before)
        return result
