from odoo import models


class ResPartnerBank(models.Model):
    _inherit = "res.partner.bank"

    def write(self, vals):
        # An employee's HR bank account changed in place is a change of their payout
        # identity (hr_employee.py).
        if not {"acc_number", "bank_id"}.intersection(vals):
            return super().write(vals)
        employees = self._get_payout_employees()
        before = employees._get_payout_snapshot()
        result = super().write(vals)
        employees.with_env(self.env)._note_payout_changes(before)
        return result

    def unlink(self):
        employees = self._get_payout_employees()
        before = employees._get_payout_snapshot()
        result = super().unlink()
        employees.with_env(self.env)._note_payout_changes(before)
        return result

    def _get_payout_employees(self):
        return self.env["hr.employee"].sudo().with_context(active_test=False).search(
            [("bank_account_id", "in", self.ids)])
