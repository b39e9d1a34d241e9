import re

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL, email_normalize

from .. import utils

# What an employee's payout identity is made of: their payout address, their sign-in user
# and their HR bank account (`_get_payout_identity`), and the fields that change it.
PAYOUT_IDENTITY_FIELDS = ("work_email", "private_email", "work_contact_id", "user_id",
                          "bank_account_id")
# The checked identity, written by the workflow only (as sudo).
PAYOUT_CHECKED_FIELDS = ("payout_checked_email", "payout_checked_user_id",
                         "payout_checked_bank", "payout_address_changed_by_ids")


class HrEmployee(models.Model):
    """The employee's **payout identity**: money follows only its *checked* version.

    The payout address, the sign-in user (the employee's user, else the portal user of
    their work contact) and the HR bank account are the live identity. Any change to it,
    by anyone and through any model (the employee, the work contact, the user, the bank
    account), leaves a *pending change* until a Payout Manager who did not make it checks
    it (`action_check_payout_identity`). Meanwhile new links go to the checked address,
    the signed-in claim is offered to the checked user only, and only the checked bank
    account is trusted. A change redirects nothing and freezes nothing: it waits.

    An employee's identity when created counts as checked, and so does a first address of
    an employee who never had one checked: there was nothing to redirect.
    """

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
    # === The checked identity (written as sudo only: see _check_payout_mark_vals) === #
    # Not prefetched: a user without HR rights reading an employee's name must not fetch
    # fields that hr.employee.public lacks (Odoo refuses the whole read).
    payout_checked_email = fields.Char(
        string="Checked Payout Address", copy=False, readonly=True, prefetch=False,
        groups="hr_payout_link.group_payout_viewer",
        help="The address payout links go to: the employee's email as a Payout Manager last "
        "checked it.")
    payout_checked_user_id = fields.Many2one(
        "res.users", string="Checked Sign-in User", copy=False, readonly=True, prefetch=False,
        groups="hr_payout_link.group_payout_viewer",
        help="The user who claims the employee's payouts signed in, as a Payout Manager "
        "last checked it.")
    payout_checked_bank = fields.Char(
        string="Checked Bank Account", copy=False, readonly=True, prefetch=False,
        groups="hr_payout_link.group_payout_manager",
        help="The HR bank account (bank and number) as a Payout Manager last checked it: the "
        "only one trusted at a claim.")
    payout_address_changed_by_ids = fields.Many2many(
        "res.users", "hr_employee_payout_address_changed_rel", "employee_id", "user_id",
        string="Payout Identity Changed By", copy=False, readonly=True,
        groups="hr_payout_link.group_payout_manager",
        help="Who changed the employee's payout address, sign-in user or bank account since a "
        "Payout Manager last checked them: none of them may check the change.",
    )
    payout_identity_pending = fields.Text(
        string="Pending Payout Identity Change", compute="_compute_payout_identity_pending",
        groups="hr_payout_link.group_payout_viewer",
        help="What changed in the employee's payout identity since a Payout Manager last "
        "checked it: money follows the checked identity until then.")

    @api.model_create_multi
    def create(self, vals_list):
        self._check_payout_mark_vals(vals_list)
        employees = super().create(vals_list)
        # The identity an employee is created with is their first: nothing to redirect.
        employees._set_payout_checked_identity()
        return employees

    def write(self, vals):
        """Hold the payout links of employees archived, release those of employees
        unarchived (payout_link_guards.py), and note who changed a payout identity."""
        self._check_payout_mark_vals([vals])
        watched = "active" in vals or any(name in vals for name in PAYOUT_IDENTITY_FIELDS)
        if not watched or self.env.context.get("payout_hold_done"):
            return super().write(vals)
        before = self._get_payout_snapshot()
        # The work contact's email follows: res.partner.write must not note them twice.
        result = super(HrEmployee, self.with_context(payout_hold_done=True)).write(vals)
        self._note_payout_changes(before)
        return result

    def _check_payout_mark_vals(self, vals_list):
        # HR officers write employees: none may check (or forge) a payout identity.
        if not self.env.su and any(name in vals for vals in vals_list
                                   for name in PAYOUT_CHECKED_FIELDS):
            raise AccessError(self.env._(
                "The checked payout identity is set by a Payout Manager's check only "
                "(Check Payout Identity on the employee)."))

    def _get_payout_address_changers(self):
        # The system (OdooBot) and users archived since are changers too.
        return self.sudo().with_context(active_test=False).payout_address_changed_by_ids

    # === The identity === #

    def _get_payout_email(self):
        """The employee's live payout address (what a change is measured on)."""
        self.ensure_one()
        employee = self.sudo()
        return employee.work_email or employee.private_email

    def _get_checked_payout_email(self):
        """The address a new payout link of the employee goes to: the checked one."""
        self.ensure_one()
        return self.sudo().payout_checked_email or False

    def _get_payout_signin_user(self):
        """The employee's live sign-in user (see `_get_payout_signin_users`)."""
        self.ensure_one()
        return self._get_payout_signin_users()[self.id]

    def _get_payout_signin_users(self):
        """{employee id: their live sign-in user}: their user, else the portal user of
        their work contact (Odoo's Related User offers internal users only), active only;
        one search for all the employees without a user."""
        employees = self.sudo().with_context(active_test=False)
        portal_users = {}
        if partners := employees.filtered(lambda employee: not employee.user_id).work_contact_id:
            for user in self.env["res.users"].sudo().search(
                    [("partner_id", "in", partners.ids), ("share", "=", True)], order="id"):
                portal_users.setdefault(user.partner_id.id, user)
        no_user = self.env["res.users"]
        return {employee.id: (employee.user_id if employee.user_id.active else no_user)
                if employee.user_id else portal_users.get(employee.work_contact_id.id, no_user)
                for employee in employees}

    def _get_checked_signin_user(self):
        """The user who claims the employee's links signed in: the checked one, active."""
        self.ensure_one()
        user = self.sudo().payout_checked_user_id
        return user if user.active else user.browse()

    def _get_payout_bank_key(self):
        """The live HR bank account as "bank id:number", or False."""
        self.ensure_one()
        account = self.sudo().bank_account_id
        return account and f"{account.bank_id.id or ''}:{account.sanitized_acc_number}"

    def _get_payout_identity(self, signin_user=None):
        """The live identity: (normalised address, sign-in user id, bank account key);
        ``signin_user`` when already known (`_get_payout_signin_users`)."""
        self.ensure_one()
        user = signin_user if signin_user is not None else self._get_payout_signin_user()
        return (self._normalize_payout_email(self._get_payout_email()), user.id or False,
                self._get_payout_bank_key() or False)

    def _get_checked_identity(self):
        self.ensure_one()
        employee = self.sudo()
        return (self._normalize_payout_email(employee.payout_checked_email),
                employee.payout_checked_user_id.id or False, employee.payout_checked_bank or False)

    @api.depends("work_email", "private_email", "user_id", "work_contact_id",
                 "bank_account_id", "payout_checked_email", "payout_checked_user_id",
                 "payout_checked_bank")
    def _compute_payout_identity_pending(self):
        for employee in self:
            employee.payout_identity_pending = employee._describe_pending_change() or False

    def _describe_pending_change(self):
        """The pending change of the identity, in words, or ''."""
        self.ensure_one()
        live, checked = self._get_payout_identity(), self._get_checked_identity()
        employee = self.sudo()
        lines = []
        if live[0] != checked[0]:
            lines.append(self.env._("Payout address: %(old)s → %(new)s",
                                    old=employee.payout_checked_email or "-",
                                    new=self._get_payout_email() or "-"))
        if live[1] != checked[1]:
            lines.append(self.env._("Sign-in user: %(old)s → %(new)s",
                                    old=employee.payout_checked_user_id.login or "-",
                                    new=self._get_payout_signin_user().login or "-"))
        if live[2] != checked[2]:
            lines.append(self.env._("HR bank account: %(old)s → %(new)s",
                                    old=utils.mask_account_number(
                                        (checked[2] or ":").split(":", 1)[1]) or "-",
                                    new=employee.bank_account_id.display_name or "-"))
        return "\n".join(lines)

    def _set_payout_checked_identity(self):
        """The live identity becomes the checked one, in one statement for all the
        employees (an import creates thousands)."""
        employees = self.sudo().with_context(active_test=False)
        if not employees:
            return
        users = employees._get_payout_signin_users()
        employees.flush_recordset()
        self.env.execute_query(SQL(
            """UPDATE hr_employee AS employee
                  SET payout_checked_email = new.email,
                      payout_checked_user_id = new.user_id,
                      payout_checked_bank = new.bank
                 FROM (VALUES %s) AS new(id, email, user_id, bank)
                WHERE employee.id = new.id""",
            SQL(", ").join(SQL("(%s, %s, %s::int, %s)", employee.id,
                               employee._get_payout_email() or None,
                               users[employee.id].id or None,
                               employee._get_payout_bank_key() or None)
                           for employee in employees)))
        self.env.execute_query(SQL(
            "DELETE FROM hr_employee_payout_address_changed_rel WHERE employee_id IN %s",
            tuple(employees.ids)))
        employees.invalidate_recordset([*PAYOUT_CHECKED_FIELDS, "payout_identity_pending"])

    @api.model
    def _set_all_payout_identities_checked(self):
        """Every employee's identity counts as checked (install, upgrade)."""
        # Every employee, once, at install or upgrade: no page of them would do.
        employees = self.sudo().with_context(active_test=False).search([])  # pylint: disable=no-search-all
        employees._set_payout_checked_identity()

    def _get_payout_snapshot(self):
        """{employee: (active, live identity)}, read as sudo: HR officers may change an
        employee without reading payouts."""
        employees = self.sudo().with_context(active_test=False)
        users = employees._get_payout_signin_users()
        return {employee: (employee.active, employee._get_payout_identity(users[employee.id]))
                for employee in employees}

    def _note_payout_changes(self, before):
        """After a change of the employees of ``before`` (a snapshot): hold or release the
        links of those archived or unarchived, and note who changed a payout identity."""
        after = self._get_payout_snapshot()
        employees = self.sudo().browse()  # read as the system: HR officers write employees
        archived = employees.concat(*(e for e in after if before[e][0] and not after[e][0]))
        unarchived = employees.concat(*(e for e in after if not before[e][0] and after[e][0]))
        changed = employees.concat(*(e for e in after if before[e][1] != after[e][1]))
        # A first address of an employee who never had one checked redirects nothing.
        first_address = changed.filtered(
            lambda e: not e.payout_checked_email and not e.payout_address_changed_by_ids
            and before[e][1][1:] == after[e][1][1:])
        for employee in first_address:
            employee.sudo().with_context(payout_hold_done=True).payout_checked_email = (
                employee._get_payout_email())
        pending = (changed - first_address).filtered(
            lambda e: after[e][1] != e._get_checked_identity())
        pending.sudo().with_context(payout_hold_done=True).write(
            {"payout_address_changed_by_ids": [fields.Command.link(self.env.uid)]})
        for employee in pending:
            employee.sudo().message_post(body=self.env._(
                "Payout identity changed by %(user)s, pending a Payout Manager's check "
                "(payouts follow the checked identity until then): %(change)s",
                user=self.env.user.name, change=employee._describe_pending_change()))
        # Changed back to the checked identity: nothing is pending any more.
        (changed - pending - first_address).with_context(payout_hold_done=True).write(
            {"payout_address_changed_by_ids": [fields.Command.clear()]})
        links = self.env["payout.link"]
        links._release_for_employees(unarchived)
        links._hold_for_employees(archived)

    def action_check_payout_identity(self):
        """A Payout Manager who had no hand in the change, and is not the employee, checks
        the pending change: the live identity becomes the checked one. Links still to claim
        signed in follow the new checked user."""
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can check a payout identity."))
        errors = []
        for employee in self:
            if self.env.user in employee._get_payout_address_changers():
                errors.append(self.env._(
                    "%s: you changed this payout identity; another Payout Manager must check "
                    "it.", employee.name))
            elif self.env.user in (employee.sudo().user_id | employee._get_payout_signin_user()
                                   | employee.sudo().payout_checked_user_id):
                errors.append(self.env._(
                    "%s: this is your own payout identity; another Payout Manager must check "
                    "it.", employee.name))
            elif not employee._describe_pending_change():
                errors.append(self.env._("%s: no payout identity change is pending.",
                                         employee.name))
        if errors:
            raise UserError("\n".join(errors))
        for employee in self:
            old_user = employee.sudo().payout_checked_user_id
            change = employee._describe_pending_change()
            employee._set_payout_checked_identity()
            employee.sudo().message_post(body=self.env._(
                "Payout identity checked by %(user)s: %(change)s", user=self.env.user.name,
                change=change))
            new_user = employee.sudo().payout_checked_user_id
            if old_user != new_user:
                self.env["payout.link"]._follow_checked_user(employee, old_user, new_user)
        return True

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
