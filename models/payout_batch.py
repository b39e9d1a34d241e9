from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from .. import const


class PayoutBatch(models.Model):
    """A run of payout links sent together ("Q4 2026 sales commissions"): approved as one
    total, sent in the background, followed through one chatter. Its lines pass the links'
    money gate (`payout.link._get_money_blockers`) on Send All, approval and reissue; a
    held line waits in a sending batch for its release, or its cancel."""

    _name = "payout.batch"
    _description = "Payout Batch"
    _inherit = ["mail.thread", "mail.activity.mixin", "payout.approval.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True,
                       help="e.g. Q4 2026 sales commissions")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    provider_id = fields.Many2one(
        "payout.provider", required=True, check_company=True,
        default=lambda self: self.env["payout.link"]._default_provider(),
        domain="[('state', '!=', 'disabled')]",
    )
    payout_type = fields.Selection(
        selection=lambda self: self.env["payout.link"]._fields["payout_type"].selection,
        string="Type", required=True, default="bonus", tracking=True,
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True,
        help="Told when a line fails.",
    )
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("to_approve", "To Approve"),
            ("sending", "Sending"),
            ("sent", "Sent"),
            ("cancelled", "Cancelled"),
        ],
        required=True, default="draft", copy=False, index=True, tracking=True, readonly=True,
        workflow_only=True,
    )
    link_ids = fields.One2many("payout.link", "batch_id", string="Lines", copy=False)
    link_count = fields.Integer(string="Line Count", compute="_compute_totals")
    amount_total = fields.Monetary(string="Total", compute="_compute_totals")
    unsent_count = fields.Integer(string="Not Sent Yet", compute="_compute_totals")
    pending_count = fields.Integer(string="Waiting", compute="_compute_totals")
    amount_pending = fields.Monetary(string="Amount Waiting", compute="_compute_totals")
    paid_count = fields.Integer(string="Paid", compute="_compute_totals")
    amount_paid = fields.Monetary(compute="_compute_totals")
    failed_count = fields.Integer(string="Failed", compute="_compute_totals")
    amount_failed = fields.Monetary(compute="_compute_totals")
    cancelled_count = fields.Integer(string="Cancelled", compute="_compute_totals")
    attention_count = fields.Integer(
        string="Need Attention", compute="_compute_totals",
        help="Lines whose payment the provider's answers leave unknown: a Payout Manager "
        "checks and confirms them.")
    send_progress = fields.Float(string="Sent (%)", compute="_compute_totals")
    unclaimed_count = fields.Integer(
        string="Unclaimed", compute="_compute_totals",
        help="Lines sent that their employee has not claimed yet.")
    unclaimed_since = fields.Datetime(
        compute="_compute_totals",
        help="When the oldest line still unclaimed was sent.")
    held_count = fields.Integer(
        string="On Hold", compute="_compute_held_count",
        help="Lines whose employee was archived: they are not sent until released, or "
        "cancelled.")
    duplicate_count = fields.Integer(
        string="Possible Duplicates", compute="_compute_duplicate_count",
        help="Lines whose employee was already paid, or is waiting to be, for the same type "
        "in the duplicate window, and that nobody has confirmed: Send All refuses them.",
    )

    @api.depends("link_ids.state", "link_ids.amount", "link_ids.needs_attention",
                 "link_ids.date_sent")
    def _compute_totals(self):
        groups = self.env["payout.link"]._read_group(
            [("batch_id", "in", self.ids)], ["batch_id", "state"],
            ["__count", "amount:sum", "date_sent:min"],
        )
        attention = dict(self.env["payout.link"]._read_group(
            [("batch_id", "in", self.ids), ("needs_attention", "=", True)], ["batch_id"],
            ["__count"],
        ))
        stats = {}
        first_sent = {}
        for batch, state, count, amount, date_sent in groups:
            batch_stats = stats.setdefault(batch.id, {})
            batch_stats[state] = (count, amount)
            if state in const.CLAIMABLE_STATES and date_sent:
                first_sent[batch.id] = min(date_sent, first_sent.get(batch.id, date_sent))

        def total(batch_stats, states, index):
            return sum(batch_stats.get(state, (0, 0.0))[index] for state in states)

        for batch in self:
            batch_stats = stats.get(batch.id, {})
            live = [s for s in batch_stats if s != "cancelled"]
            batch.link_count = total(batch_stats, batch_stats, 0)
            batch.amount_total = total(batch_stats, live, 1)
            batch.unsent_count = total(batch_stats, const.UNSENT_STATES, 0)
            batch.pending_count = total(batch_stats, const.PENDING_STATES, 0)
            batch.amount_pending = total(batch_stats, const.PENDING_STATES, 1)
            batch.paid_count = total(batch_stats, ("done",), 0)
            batch.amount_paid = total(batch_stats, ("done",), 1)
            batch.failed_count = total(batch_stats, const.REISSUABLE_STATES, 0)
            batch.amount_failed = total(batch_stats, const.REISSUABLE_STATES, 1)
            batch.cancelled_count = total(batch_stats, ("cancelled",), 0)
            batch.attention_count = attention.get(batch, 0)
            batch.unclaimed_count = total(batch_stats, const.CLAIMABLE_STATES, 0)
            batch.unclaimed_since = first_sent.get(batch.id, False)
            live_count = total(batch_stats, live, 0)
            batch.send_progress = (
                100.0 * (live_count - batch.unsent_count) / live_count if live_count else 0.0
            )

    @api.depends("link_ids.hold_reason")
    def _compute_held_count(self):
        counts = dict(self.env["payout.link"]._read_group(
            [("batch_id", "in", self.ids), ("hold_reason", "!=", False)], ["batch_id"],
            ["__count"]))
        for batch in self:
            batch.held_count = counts.get(batch, 0)

    @api.depends("state", "link_ids.employee_id", "link_ids.payout_type")
    def _compute_duplicate_count(self):
        # Only while the lines can still be confirmed, not on every refresh of a batch
        # being sent.
        unsent = self.filtered(lambda batch: batch.state in const.UNSENT_STATES)
        flagged = unsent._get_unsent_lines().filtered("duplicate_to_confirm").grouped(
            "batch_id")
        for batch in self:
            batch.duplicate_count = len(flagged.get(batch, []))

    def _get_approval_amount(self):
        return self.amount_total

    def _get_unchecked_recipient_reason(self):
        self.ensure_one()
        for line in self._get_unsent_lines():
            if reason := line._get_unchecked_recipient_reason():
                return f"{line.display_name}: {reason}"
        return False

    def _get_payees(self):
        return self.sudo().link_ids.employee_id.user_id

    def _get_threshold_lines(self):
        return self._get_unsent_lines()

    # === CRUD === #

    def write(self, vals):
        # The lines follow their batch: what defines them changes with it, while draft.
        shared = {key: vals[key] for key in ("company_id", "currency_id", "provider_id",
                                              "payout_type") if key in vals}
        if shared and self.link_ids:
            if self.filtered(lambda batch: batch.state != "draft"):
                raise UserError(self.env._("Only draft batches can change their %s.", ", ".join(
                    self._fields[key].string for key in shared)))
            self.link_ids.filtered(lambda link: link.state == "draft").write(shared)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if self.filtered(lambda batch: batch.state != "draft") or self.link_ids.filtered(
            lambda link: link.state != "draft"
        ):
            raise UserError(self.env._(
                "Only draft batches whose lines are all drafts can be deleted; cancel the "
                "others to keep their history."
            ))

    # === User actions === #

    def action_send_all(self):
        """Send every line in the background, once approved when the total needs it."""
        self.check_access("write")
        for batch in self:
            if batch.state != "draft":
                raise UserError(self.env._("%s: only a draft batch can be sent.", batch.name))
            lines = batch._get_unsent_lines()
            if not lines:
                raise UserError(self.env._("%s has no line to send.", batch.name))
            lines._check_money_may_move()
            lines.sudo().with_context(tracking_disable=True).sent_by_id = self.env.user
            if reason := batch._get_approval_reasons().get(batch):
                batch.sudo().state = "to_approve"
                batch._request_approval()
                lines.with_context(tracking_disable=True)._update_state("to_approve")
                batch.message_post(body=self.env._(
                    "Submitted for approval: %(count)s lines, %(total)s (%(reason)s).",
                    count=len(lines), total=format_amount(self.env, batch.amount_total,
                                                           batch.currency_id),
                    reason=reason,
                ))
            else:
                batch._start_sending()
        return True

    def action_approve(self):
        self._stamp_approval()
        # The gate again (a payout may have been made since Send All); held lines wait in
        # the sending batch for their release.
        self._get_unsent_lines().filtered(lambda line: not line.hold_reason)._check_money_may_move(
            ask_provider=False)
        for batch in self:
            # The lines carry the batch's approval, and what it covers, in one statement.
            batch._get_unsent_lines()._record_approved_values(
                approver=self.env.user, date=batch.date_approved)
        self._start_sending()
        return True

    def _refuse(self, reason):
        self._log_refusal(reason)
        self.sudo().state = "draft"
        self._get_unsent_lines().with_context(tracking_disable=True)._update_state("draft")

    def action_cancel(self):
        """Cancel the batch and its lines not sent yet; sent links stay claimable."""
        self.check_access("write")
        if wrong := self.filtered(lambda batch: batch.state in ("sent", "cancelled")):
            raise UserError(self.env._(
                "%s: a sent or cancelled batch cannot be cancelled; cancel its links one by "
                "one instead.", ", ".join(wrong.mapped("name")),
            ))
        for batch in self:
            unsent = batch._get_unsent_lines()
            unsent.with_context(tracking_disable=True)._update_state("cancelled")
            batch.sudo().state = "cancelled"
            batch.message_post(body=self.env._(
                "Cancelled: %(unsent)s lines not sent; %(sent)s already sent are unchanged.",
                unsent=len(unsent), sent=batch.link_count - batch.cancelled_count,
            ))
        return True

    def action_reissue_failed(self):
        """Fresh links for the failed and expired lines, sent in the background."""
        self.check_access("write")
        for batch in self:
            failed = batch.link_ids.filtered(
                lambda link: link.state in const.REISSUABLE_STATES and not link.reissued_link_ids
            )
            if not failed:
                raise UserError(self.env._("%s has no failed line to reissue.", batch.name))
            failed._check_money_may_move(ask_provider=False)
            failed._check_reissue_under_threshold()
            batch._reissue_lines(failed)
        return True

    def _reissue_lines(self, lines):
        """New links for failed or expired ``lines``, sent in the background with the
        batch's others."""
        self.ensure_one()
        lines._copy_for_reissue()
        self.message_post(body=self.env._("Reissuing %s failed or expired lines.", len(lines)))
        self._start_sending()

    def action_view_links(self):
        return self._action_links(self.env._("Lines"), [("batch_id", "in", self.ids)])

    def action_view_failed(self):
        action = self._action_links(self.env._("Failed Lines"), [
            ("batch_id", "in", self.ids), ("state", "in", const.REISSUABLE_STATES),
        ])
        action["views"] = [
            (self.env.ref("hr_payout_link.payout_link_view_list_failed").id, "list"),
            (False, "form"),
        ]
        return action

    def action_view_unclaimed(self):
        return self._action_links(self.env._("Unclaimed Lines"), [
            ("batch_id", "in", self.ids), ("state", "in", const.CLAIMABLE_STATES),
        ])

    def action_view_held(self):
        return self._action_links(self.env._("Lines on Hold"), [
            ("batch_id", "in", self.ids), ("hold_reason", "!=", False),
        ])

    def action_view_duplicates(self):
        lines = self._get_unsent_lines().filtered("duplicate_to_confirm")
        return self._action_links(self.env._("Possible Duplicates"), [("id", "in", lines.ids)])

    def action_view_attention(self):
        return self._action_links(self.env._("Lines Needing Attention"), [
            ("batch_id", "in", self.ids), ("needs_attention", "=", True),
        ])

    def action_import_lines(self):
        """Odoo's import, for lines of this batch: employees by name, work email or
        identification number."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "import",
            "name": self.env._("Import Lines of %s", self.name),
            "params": {
                "active_model": "payout.link",
                "context": {**self.env.context, **self._get_line_context()},
            },
        }

    def _action_links(self, name, domain):
        action = self.env["ir.actions.act_window"]._for_xml_id("hr_payout_link.action_payout_link")
        action.update(name=name, domain=domain, context=self._get_line_context())
        return action

    def _get_line_context(self):
        return {
            "default_batch_id": self.id if len(self) == 1 else False,
            "payout_employee_lookup": True,
            "search_default_group_by_state": 0,
        }

    # === Sending in the background === #

    def _get_unsent_lines(self):
        return self.link_ids.filtered(lambda link: link.state in const.UNSENT_STATES)

    def _start_sending(self):
        for batch in self:
            batch.sudo().state = "sending"
            batch.message_post(body=self.env._(
                "Sending %s lines in the background.", batch.unsent_count))
        self.env.ref("hr_payout_link.ir_cron_payout_batch_send")._trigger()

    def _finish_sending(self):
        """Mark as sent the sending batches that have no unsent line left, with a summary.

        One statement decides, so two workers finishing at once post one summary.
        """
        if not self:
            return
        self.flush_model()
        self.env["payout.link"].flush_model(["state", "batch_id"])
        rows = self.env.execute_query(SQL(
            """UPDATE payout_batch AS batch SET state = 'sent'
                WHERE batch.id IN %s AND batch.state = 'sending' AND NOT EXISTS (
                      SELECT 1 FROM payout_link AS link
                       WHERE link.batch_id = batch.id AND link.state IN %s)
            RETURNING batch.id""", tuple(self.ids), const.UNSENT_STATES,
        ))
        self.invalidate_recordset(["state"])
        for batch in self.browse(row[0] for row in rows):
            batch.message_post(body=self.env._(
                "All lines sent: %(pending)s waiting for their employee, %(paid)s paid, "
                "%(failed)s failed.",
                pending=batch.pending_count, paid=batch.paid_count, failed=batch.failed_count,
            ))
            if batch.failed_count:
                batch.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=(batch.user_id or batch.create_uid).id,
                    summary=self.env._("%s lines failed: review and reissue them",
                                       batch.failed_count),
                )
