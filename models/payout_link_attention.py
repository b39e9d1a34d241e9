"""Links whose payment nobody can vouch for: a Payout Manager decides.

A provider answer that is neither an acceptance nor a proven refusal (a timeout, a 5xx, a
malformed or duplicate answer...) leaves a link 'submitting', to be looked up again by the
payment cron, never sent again. When the lookups stay unclear
(`const.MAX_UNCLEAR_CALLS` times, or for `const.ATTENTION_AFTER_HOURS`), the link needs
attention: the cron stops asking, a Payout Manager gets an activity, and resolves it with
*Check Again*, *Confirm Paid at Provider* or *Confirm Not Paid*. Only the last makes the
link reissuable: Odoo never guesses that money did not move.
"""

from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import AccessError, UserError

from .. import const


class PayoutLink(models.Model):
    _inherit = "payout.link"

    needs_attention = fields.Boolean(
        copy=False, readonly=True, index=True,
        help="The provider's answers leave it unknown whether this payout was made: a Payout "
        "Manager checks at the provider and confirms.",
    )
    unclear_calls = fields.Integer(
        string="Unclear Answers", copy=False, readonly=True,
        help="Provider calls in a row whose answer did not say whether the payout exists.",
    )
    date_first_unclear = fields.Datetime(string="Unclear Since", copy=False, readonly=True)
    attention_resolved_by_id = fields.Many2one(
        "res.users", string="Resolved By", copy=False, readonly=True)
    date_attention_resolved = fields.Datetime(string="Resolved On", copy=False, readonly=True)
    attention_resolution = fields.Char(string="Resolution", copy=False, readonly=True)

    # === Flagging === #

    def _note_unclear_answer(self, reason, at_once=False):
        """Count an unclear answer; flag the link once the lookups have been unclear too
        often or too long, or ``at_once`` (a payout under our reference that is not ours)."""
        self.ensure_one()
        now = fields.Datetime.now()
        first = self.date_first_unclear or now
        calls = self.unclear_calls + 1
        self.sudo().write({"unclear_calls": calls, "date_first_unclear": first})
        if self.needs_attention or not (
            at_once or calls >= const.MAX_UNCLEAR_CALLS
            or now - first >= timedelta(hours=const.ATTENTION_AFTER_HOURS)
        ):
            return
        self.sudo().needs_attention = True
        self.message_post(body=self.env._(
            "Needs attention: %(provider)s gave no clear answer %(count)s times since "
            "%(since)s (last: %(reason)s). It is not known whether the payout was made: check "
            "at the provider, then confirm here. Odoo stops asking meanwhile.",
            provider=self.provider_id.name, count=calls,
            since=fields.Datetime.to_string(first), reason=reason,
        ))
        self.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self._get_attention_user().id,
            summary=self.env._("Payout outcome unknown: check at the provider"),
            note=reason,
        )

    def _clear_unclear_answers(self):
        """A clear answer came: the count starts again."""
        if flagged := self.filtered(lambda link: link.unclear_calls or link.needs_attention):
            flagged.sudo().write({"unclear_calls": 0, "date_first_unclear": False,
                                  "needs_attention": False})
            flagged.activity_unlink(["mail.mail_activity_data_todo"])

    def _get_attention_user(self):
        """A Payout Manager of the link's company: its responsible user when they are one."""
        self.ensure_one()
        managers = self.env.ref("hr_payout_link.group_payout_manager").sudo().users.filtered(
            lambda user: self.company_id in user.company_ids and not user.share)
        if self.user_id in managers:
            return self.user_id
        return managers.sorted("id")[:1] or self.user_id or self.create_uid

    # === A Payout Manager resolves it === #

    def _check_attention_resolver(self):
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can resolve payouts that "
                                         "need attention."))
        if wrong := self.filtered(lambda link: not link.needs_attention):
            raise UserError(self.env._(
                "%s: does not need attention.", ", ".join(wrong.mapped("display_name"))))

    def action_check_again(self):
        """Look the payout up at the provider now, as the payment cron would."""
        self._check_attention_resolver()
        for link in self:
            link.sudo()._reconcile_now()
        return True

    def action_resolve_attention(self):
        """Ask for the resolution and its reason (see `_resolve_attention`)."""
        self._check_attention_resolver()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Resolve Payout"),
            "res_model": "payout.attention.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids,
                        "default_resolution": self.env.context.get("payout_resolution")},
        }

    def _resolve_attention(self, resolution, reason):
        """Record a Payout Manager's finding: ``resolution`` is 'paid' (the provider holds
        the payout: the link is paid) or 'not_paid' (it does not and will not: the link
        fails and may be reissued)."""
        self._check_attention_resolver()
        if not (reason or "").strip():
            raise UserError(self.env._("Reason: required to resolve a payout."))
        user = self.env.user
        stamp = {"attention_resolved_by_id": user.id,
                 "date_attention_resolved": fields.Datetime.now(),
                 "attention_resolution": reason, "needs_attention": False,
                 "unclear_calls": 0, "date_first_unclear": False}
        for link in self:
            if resolution == "paid":
                message = self.env._("Confirmed paid at %(provider)s by %(user)s: %(reason)s",
                                     provider=link.provider_id.name, user=user.name,
                                     reason=reason)
                link.sudo().write(dict(stamp, submission_state="accepted"))
                link._update_state("done", message=message)
            else:
                message = self.env._("Confirmed not paid by %(user)s: %(reason)s",
                                     user=user.name, reason=reason)
                link.sudo().write(dict(stamp, submission_state="refused"))
                link._update_state("failed", values={"failure_reason": message},
                                   message=message)
        self.activity_unlink(["mail.mail_activity_data_todo"])
