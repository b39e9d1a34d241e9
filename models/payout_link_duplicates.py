"""The duplicate guard: a payout made twice to one employee for the same reason.

Before links or a batch are sent (`action_send`, `action_send_all`), and again when they
are approved, each line is compared with its employee's other payouts of the same type
that were paid, or are on their way, within the company's window (default: the calendar
quarter). A payout counts from the day it was sent; one not sent yet but on its way (to
approve, or a line of a batch being sent) counts as sent today. Failed, expired and
cancelled links do not count (a cancelled one does while its provider may still pay it),
nor drafts: the link a reissue replaces is failed or expired, so a reissue is not its own
duplicate. Sending refuses, naming each line and the payouts it repeats, until the user
confirms the line (`action_confirm_duplicate`, kept with who and when) or removes it.
*Reissue* checks the failed or expired links it replaces the same way (a payout made
since, by hand, would otherwise be paid again); their confirmation is theirs, and the
new link is sent without a new check.

The flag (`duplicate_link_ids`) is computed, never stored: a refused send rolls back what
it would write, and the flag is always the database's current answer. The confirmation
is stored: it names the payouts the user saw, so a payout that appears afterwards flags
the line again, and a change of what the line pays or to whom clears it.
"""

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const


class PayoutLink(models.Model):
    _inherit = "payout.link"

    duplicate_link_ids = fields.Many2many(
        "payout.link", string="Possible Duplicate Of", compute="_compute_duplicate_link_ids",
        help="The employee's other payouts of the same type, paid or on their way, within "
        "the company's duplicate window (Settings).",
    )
    duplicate_to_confirm = fields.Boolean(
        string="Duplicate to Confirm", compute="_compute_duplicate_link_ids",
        help="A possible duplicate nobody has confirmed yet: the line is not sent until "
        "someone confirms it or removes it.",
    )
    duplicate_confirmed_link_ids = fields.Many2many(
        "payout.link", "payout_link_duplicate_confirmed_rel", "link_id", "duplicate_id",
        string="Confirmed Despite", copy=False, readonly=True,
        help="The payouts this line was confirmed to come on top of.",
    )
    duplicate_confirmed_by_id = fields.Many2one(
        "res.users", copy=False, readonly=True)
    date_duplicate_confirmed = fields.Datetime(
        string="Duplicate Confirmed On", copy=False, readonly=True)

    @api.depends("employee_id", "payout_type", "company_id", "state",
                 "duplicate_confirmed_link_ids")
    def _compute_duplicate_link_ids(self):
        duplicates = self._find_duplicates()
        for link in self:
            link.duplicate_link_ids = duplicates.get(link, self.browse())
            link.duplicate_to_confirm = bool(
                link.duplicate_link_ids - link.duplicate_confirmed_link_ids)

    def _find_duplicates(self):
        """{link: its possible duplicates} for the links of ``self`` not sent yet, or to
        reissue, that have some, in one query per company whatever the number of links."""
        duplicates = {}
        # Not a link reissued already: its reissue would be its duplicate.
        unsent = self.filtered(lambda link: link.employee_id and (
            link.state in const.UNSENT_STATES
            or link.state in const.REISSUABLE_STATES and not link.reissued_link_ids))
        for company, links in unsent.grouped("company_id").items():
            start = company._get_payout_duplicate_start()
            if start is None:
                continue
            # A batch holds an employee once (`_check_batch_lines`): its own other lines
            # are closed, and the batch is left out rather than its thousands of ids.
            batch_ids = [id_ for id_ in links.batch_id._origin.ids if id_]
            own_ids = [id_ for id_ in links.filtered(lambda link: not link.batch_id)._origin.ids
                       if id_]
            groups = self.sudo()._read_group([
                ("company_id", "=", company.id),
                ("employee_id", "in", links.employee_id.ids),
                ("payout_type", "in", list(set(links.mapped("payout_type")))),
                ("batch_id", "not in", batch_ids),
                ("id", "not in", own_ids),
                "|", "|",
                "&", ("state", "in", const.DUPLICATE_PAID_STATES), ("date_sent", ">=", start),
                "&", "&", ("state", "=", "cancelled"), ("follow_after_cancel", "=", True),
                ("date_sent", ">=", start),
                "|", ("state", "=", "to_approve"),
                "&", ("state", "=", "draft"), ("batch_id.state", "=", "sending"),
            ], ["employee_id", "payout_type"], ["id:array_agg"])
            found = {(employee.id, payout_type): ids for employee, payout_type, ids in groups}
            for link in links:
                if ids := found.get((link.employee_id.id, link.payout_type)):
                    duplicates[link] = self.browse(ids)
        return duplicates

    def _get_unconfirmed_duplicates(self):
        """The links of ``self`` with a possible duplicate nobody has confirmed."""
        return self.browse(link.id for link, others in self._find_duplicates().items()
                           if others - link.duplicate_confirmed_link_ids)

    def _check_duplicates(self):
        """Refuse to send links of ``self`` that may pay their employee twice: one
        UserError naming each line and the payouts it repeats, before any is sent."""
        errors = []
        for link, others in self._find_duplicates().items():
            if unconfirmed := others - link.duplicate_confirmed_link_ids:
                errors.append(self.env._(
                    "%(link)s: %(employee)s already has %(type)s paid or on its way: "
                    "%(others)s.",
                    link=link.display_name, employee=link.employee_id.name,
                    type=link._payout_type_label(), others=", ".join(
                        f"{other.display_name} ({self._state_label(other.state)})"
                        for other in unconfirmed.sudo()),
                ))
        # A batch holds an employee once (`_check_batch_lines`): the lines of one batch
        # cannot repeat each other, and a batch of thousands needs no second pass.
        one_batch = len(set(self.mapped(lambda link: link.batch_id.id))) == 1 and self.batch_id
        guarded = self.browse() if one_batch else self.filtered(
            lambda link: link.company_id.payout_duplicate_window != "off")
        for (employee, _type), links in guarded.grouped(
                lambda link: (link.employee_id, link.payout_type)).items():
            if len(links) > 1:
                errors.append(self.env._(
                    "%(links)s: each pays %(employee)s %(type)s; send one, then the other "
                    "once you have confirmed it, or remove one.",
                    links=", ".join(links.mapped("display_name")), employee=employee.name,
                    type=links[0]._payout_type_label(),
                ))
        if errors:
            more = len(errors) - const.MAX_LINES_IN_ERROR
            raise UserError("\n".join([self.env._(
                "Possible duplicate payouts. Confirm each line that is meant (Confirm "
                "Duplicate) or remove it, then send again:"),
                *errors[:const.MAX_LINES_IN_ERROR],
                *([self.env._("… and %s more.", more)] if more > 0 else [])]))

    def _payout_type_label(self):
        self.ensure_one()
        return dict(self._fields["payout_type"]._description_selection(self.env))[
            self.payout_type].lower()

    def write(self, vals):
        result = super().write(vals)
        if const.DUPLICATE_FIELDS.intersection(vals) and (
                confirmed := self.filtered("duplicate_confirmed_by_id")):
            # A confirmation holds for what was confirmed.
            confirmed.sudo().write({"duplicate_confirmed_link_ids": [fields.Command.clear()],
                                    "duplicate_confirmed_by_id": False,
                                    "date_duplicate_confirmed": False})
        return result

    def action_confirm_duplicate(self):
        """The user who sends the line confirms it is meant, on top of the payouts it was
        flagged against; logged in its chatter."""
        self.check_access("write")
        if wrong := self.filtered(
                lambda link: link.state not in const.DUPLICATE_CHECKED_STATES):
            raise UserError(self.env._(
                "%s: only a line not sent yet, or to reissue, can be confirmed.",
                ", ".join(wrong.mapped("display_name")),
            ))
        duplicates = self._find_duplicates()
        if unflagged := self.filtered(lambda link: link not in duplicates):
            raise UserError(self.env._(
                "%s: no possible duplicate to confirm.",
                ", ".join(unflagged.mapped("display_name")),
            ))
        now = fields.Datetime.now()
        for link in self:
            others = duplicates[link]
            link.sudo().write({"duplicate_confirmed_link_ids": [fields.Command.set(others.ids)],
                               "duplicate_confirmed_by_id": self.env.uid,
                               "date_duplicate_confirmed": now})
            link.message_post(body=self.env._(
                "%(user)s confirmed this payout on top of %(others)s (%(employee)s, "
                "%(type)s, within the duplicate window).",
                user=self.env.user.name, others=", ".join(others.sudo().mapped("display_name")),
                employee=link.employee_id.name, type=link._payout_type_label(),
            ))
        return True


class PayoutBatch(models.Model):
    _inherit = "payout.batch"

    duplicate_count = fields.Integer(
        string="Possible Duplicates", compute="_compute_duplicate_count",
        help="Lines whose employee was already paid, or is waiting to be, for the same type "
        "in the duplicate window, and that nobody has confirmed: Send All refuses them.",
    )

    @api.depends("state", "link_ids.employee_id", "link_ids.payout_type")
    def _compute_duplicate_count(self):
        # Only while the lines can still be confirmed, not on every refresh of a batch
        # being sent.
        unsent = self.filtered(lambda batch: batch.state in const.UNSENT_STATES)
        flagged = unsent._get_unsent_lines()._get_unconfirmed_duplicates().grouped("batch_id")
        for batch in self:
            batch.duplicate_count = len(flagged.get(batch, []))

    def action_view_duplicates(self):
        lines = self._get_unsent_lines()._get_unconfirmed_duplicates()
        return self._action_links(self.env._("Possible Duplicates"), [("id", "in", lines.ids)])
