"""Offboarding: the links of an employee who left, or whose email address changed, are held.

`hr.employee.write` (and a change of the work contact's email, res_partner.py) calls
`_hold_for_employees`. A held link is not sent, approved, claimed nor paid until released:

- **Archived employee**: unarchiving the employee releases the hold (`_release_for_employees`).
- **Email changed**: a fraud path (an HR officer points a colleague's address at their own
  mailbox). A Payout Manager who did not change the address releases the hold by hand
  (`action_release_hold`), and only for links addressed to the employee's current address:
  a link emailed to the old one is never re-pointed, since its secret went there. It is
  cancelled and sent again, or, while draft, its recipient corrected first.
- **Address unchecked**: the change also marks the employee (`payout_address_changed_by_ids`,
  who changed it). A link made for them while marked (created, a draft given them as
  employee, a batch line, a reissue) goes to the new address, so it is held for the email
  change too, with those users as holders. Releasing one link is the check of the address:
  it clears the mark and releases the employee's other links held for an email change and
  addressed to that same address. A first address of an employee who had none, and was not
  marked, redirects nothing: it neither holds nor marks (clearing an address does mark).

What a provider already holds (a submission in flight or accepted, a provider-hosted link
emailed by the provider) cannot be stopped by Odoo: such links are not held, and the
responsible user is told what is at the provider and that Cancel refuses what it may still
pay. Money is never pulled back nor sent again.
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import const


class PayoutLink(models.Model):
    _inherit = "payout.link"

    hold_reason = fields.Selection(
        selection=[("employee_archived", "Employee archived"),
                   ("email_changed", "Email address changed")],
        string="On Hold", copy=False, readonly=True, index="btree_not_null", tracking=True,
        help="Not sent, claimed nor paid until released: unarchiving the employee releases "
        "an archived employee's links; a Payout Manager who did not change the address "
        "releases those held for an email change.",
    )
    date_held = fields.Datetime(string="Held On", copy=False, readonly=True)
    hold_user_ids = fields.Many2many(
        "res.users", "payout_link_hold_user_rel", "link_id", "user_id", string="Held By",
        copy=False, readonly=True,
        help="Who archived the employee or changed their email address: none of them may "
        "release an email change's hold.",
    )
    employee_status = fields.Selection(selection_add=[("on_hold", "On hold")])

    @api.depends("hold_reason")
    def _compute_employee_status(self):
        super()._compute_employee_status()
        for link in self.filtered("hold_reason"):
            link.employee_status = "on_hold"

    # === What a hold can stop === #

    def _is_at_provider(self):
        """Whether a provider already holds the payout (in flight or accepted): Odoo can no
        longer stop it, only ask the provider to cancel it."""
        self.ensure_one()
        return self.submission_state in ("submitting", "accepted")

    def _is_claimable(self):
        """Whether the employee may claim the link on the claim page now."""
        self.ensure_one()
        return self.state in const.CLAIMABLE_STATES and not self.hold_reason

    def _get_hold_message(self):
        """Why the link is held and how it is released, naming the link."""
        self.ensure_one()
        if self.hold_reason == "employee_archived":
            return self.env._(
                "%(link)s is on hold: its employee %(employee)s was archived. Unarchive the "
                "employee to release it, or cancel it.",
                link=self.display_name, employee=self.sudo().employee_id.name)
        return self.env._(
            "%(link)s is on hold: the email address of %(employee)s changed. A Payout "
            "Manager who did not change it checks the new address and releases the link, "
            "or it is cancelled.", link=self.display_name, employee=self.sudo().employee_id.name)

    def _check_ready_to_send(self):
        super()._check_ready_to_send()
        if self.hold_reason:
            raise UserError(self._get_hold_message())
        if not self.sudo().employee_id.active:
            raise UserError(self.env._(
                "%(link)s: its employee %(employee)s is archived; a departed employee is "
                "not paid by link.", link=self.display_name,
                employee=self.sudo().employee_id.name))

    def action_approve(self):
        self._check_not_held()  # before the approval is stamped
        return super().action_approve()

    def action_approve_account(self):
        self._check_not_held()
        return super().action_approve_account()

    def _claim(self, bank, account_number, holder_name):
        # Also the backstop of every claim route: a held link takes no bank account.
        if self.hold_reason:
            return False
        return super()._claim(bank, account_number, holder_name)

    def _check_not_held(self):
        if held := self.filtered("hold_reason"):
            raise UserError("\n".join(held.mapped(lambda link: link._get_hold_message())))

    # === Holding === #

    @api.model_create_multi
    def create(self, vals_list):
        links = super().create(vals_list)
        links._hold_for_unchecked_address()
        return links

    def write(self, vals):
        result = super().write(vals)
        if "employee_id" in vals:
            self._hold_for_unchecked_address()
        return result

    def _hold_for_unchecked_address(self):
        """Hold the links of employees whose address changed since a Payout Manager last
        checked it: they go to the new address. One read of the employees' marks, and one
        write per set of users who changed an address (a batch makes thousands of lines)."""
        # Changes made as the system (OdooBot, an archived user) count too.
        links = self.sudo().with_context(active_test=False)
        marked = links.employee_id.filtered("payout_address_changed_by_ids")
        if not marked:
            return
        now = fields.Datetime.now()
        to_hold = links.filtered(lambda link: link.employee_id in marked)
        for changed_by, held in to_hold.grouped(
                lambda link: link.employee_id.payout_address_changed_by_ids).items():
            held.write({"hold_reason": "email_changed", "date_held": now,
                        "hold_user_ids": [fields.Command.link(user.id) for user in changed_by]})

    def _hold_for_employees(self, archived, email_changed):
        """Hold the open links of ``archived`` employees and of those whose email address
        changed (one search for all), and tell each link's responsible user.

        An email change's hold outranks an archive's: unarchiving does not release it.
        """
        employees = archived | email_changed
        if not employees:
            return
        links = self.sudo().search([
            ("employee_id", "in", employees.ids),
            ("state", "not in", const.FINAL_STATES),
        ])
        at_provider = links.filtered(lambda link: link._is_at_provider())
        to_hold = links - at_provider
        def reason_of(link):
            if link.employee_id in email_changed or link.hold_reason == "email_changed":
                return "email_changed"
            return "employee_archived"

        now = fields.Datetime.now()
        for reason, held in to_hold.grouped(reason_of).items():
            held.write({"hold_reason": reason, "date_held": now,
                        "hold_user_ids": [fields.Command.link(self.env.uid)]})
        for link in to_hold:
            message = link._get_hold_message()
            link.message_post(body=message)
            link._schedule_hold_activity(self.env._("Payout link on hold"), message)
        for link in at_provider:
            message = self.env._(
                "%(link)s: %(event)s, but %(provider)s already holds this payout (status: "
                "%(status)s) and may still pay it; Odoo cannot stop it. Cancel it if the "
                "provider still can (Cancel refuses otherwise).",
                link=link.display_name, event=link._get_hold_event(email_changed),
                provider=link.provider_id.name,
                status=link.provider_status or link.submission_state)
            link.message_post(body=message)
            link._schedule_hold_activity(self.env._("Payout already at the provider"), message)

    def _get_hold_event(self, email_changed):
        if self.employee_id in email_changed and self.employee_id.active:
            return self.env._("the employee's email address changed")
        return self.env._("the employee was archived")

    def _schedule_hold_activity(self, summary, note):
        # One hold activity per link, saying the latest news.
        self.activity_unlink(["hr_payout_link.mail_activity_payout_hold"])
        self.activity_schedule(
            "hr_payout_link.mail_activity_payout_hold",
            user_id=(self.user_id or self.create_uid).id, summary=summary, note=note)

    # === Releasing === #

    def _release_for_employees(self, employees):
        """Unarchived ``employees``: release their links held for archiving."""
        if not employees:
            return
        self.sudo().search([
            ("employee_id", "in", employees.ids), ("hold_reason", "=", "employee_archived"),
        ])._release_hold(self.env._("the employee was unarchived"))

    def action_release_hold(self):
        """A Payout Manager who had no hand in the email change checked the new address:
        the links addressed to it are released, and the employee's address is checked (new
        links are no longer held)."""
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can release a held link."))
        self.check_access("write")
        errors = []
        for link in self:
            employee = link.sudo().employee_id
            if link.hold_reason != "email_changed":
                errors.append(link._get_hold_message() if link.hold_reason else self.env._(
                    "%s is not on hold.", link.display_name))
            elif self.env.user in (link.sudo().hold_user_ids
                                   | employee._get_payout_address_changers()):
                errors.append(self.env._(
                    "%s: you archived its employee or changed their email address; another "
                    "Payout Manager must release it.", link.display_name))
            elif self.env.user in link._get_payees():
                errors.append(self.env._("%s pays you; another Payout Manager must release "
                                         "it.", link.display_name))
            elif not employee.active:
                errors.append(self.env._("%(link)s: its employee %(employee)s is archived.",
                                         link=link.display_name, employee=employee.name))
            elif not link._is_addressed_to(employee):
                errors.append(self.env._(
                    "%(link)s was addressed to %(old)s, and the address of %(employee)s is now "
                    "%(new)s: it is not re-pointed, since its secret may have gone to the old "
                    "address. Cancel it and send a new link (or, while draft, correct its "
                    "Recipient Email), then release.",
                    link=link.display_name, old=link.recipient_email, employee=employee.name,
                    new=employee._get_payout_email() or "-"))
        if errors:
            raise UserError("\n".join(errors[:const.MAX_LINES_IN_ERROR]))
        # One check of one address: the employee's other links held for it go with it.
        employees = self.sudo().employee_id
        checked = self.sudo().search([
            ("employee_id", "in", employees.ids), ("hold_reason", "=", "email_changed"),
        ]).filtered(lambda link: self.env.user not in link.hold_user_ids
                    and link._is_addressed_to(link.employee_id))
        (self | checked)._release_hold(
            self.env._("%s checked the new email address", self.env.user.name))
        employees.write({"payout_address_changed_by_ids": [fields.Command.clear()]})
        return True

    def _on_state_changed(self, state):
        super()._on_state_changed(state)
        if state in const.FINAL_STATES and (ended := self.filtered("hold_reason")):
            # Nothing left to hold: the responsible user's activity is done.
            ended = ended.sudo()
            ended.write({"hold_reason": False, "date_held": False,
                         "hold_user_ids": [fields.Command.clear()]})
            ended.activity_feedback(["hr_payout_link.mail_activity_payout_hold"], feedback=(
                self.env._("The link is %s.", self._state_label(state))))

    def _is_addressed_to(self, employee):
        self.ensure_one()
        return employee._normalize_payout_email(self.recipient_email) == (
            employee._normalize_payout_email(employee._get_payout_email()))

    def _release_hold(self, why):
        """Clear the hold, say so on each link and close its hold activity; queued work
        (payments, batch lines) resumes at the next run of its cron."""
        links = self.sudo()
        if not links:
            return
        links.write({"hold_reason": False, "date_held": False,
                     "hold_user_ids": [fields.Command.clear()]})
        for link in links:
            message = self.env._("Hold released: %s.", why)
            link.message_post(body=message)
            link.activity_feedback(["hr_payout_link.mail_activity_payout_hold"],
                                   feedback=message)
        if links.filtered(lambda link: link.submission_state == "to_submit"):
            links._trigger_submissions()
        if links.filtered(lambda link: link.batch_id.state == "sending"):
            self.env.ref("hr_payout_link.ir_cron_payout_batch_send")._trigger()
