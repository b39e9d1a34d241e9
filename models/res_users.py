from odoo import api, models


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model_create_multi
    def create(self, vals_list):
        # A portal user made for an employee's work contact is their sign-in user.
        partner_ids = [vals["partner_id"] for vals in vals_list if vals.get("partner_id")]
        employees = self.env["hr.employee"].sudo().with_context(active_test=False).search(
            [("work_contact_id", "in", partner_ids)]) if partner_ids else (
            self.env["hr.employee"])
        before = employees._get_payout_snapshot()
        users = super().create(vals_list)
        if employees:
            employees.with_env(self.env)._note_payout_changes(before)
        return users

    def write(self, vals):
        # A user's partner, activity or portal status changes whose sign-in user they are.
        if not {"partner_id", "active", "groups_id", "share"}.intersection(vals):
            return super().write(vals)
        employees = self._get_payout_employees()
        if vals.get("partner_id"):
            employees |= employees.search([("work_contact_id", "=", vals["partner_id"])])
        before = employees._get_payout_snapshot()
        result = super().write(vals)
        employees.with_env(self.env)._note_payout_changes(before)
        return result

    def _get_payout_employees(self):
        return self.env["hr.employee"].sudo().with_context(active_test=False).search([
            "|", ("user_id", "in", self.ids), ("work_contact_id", "in", self.partner_id.ids)])
