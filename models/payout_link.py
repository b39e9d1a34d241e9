"""The payout link: what is paid to whom, its state machine and the back-office actions.

A link's other concerns extend the model in files of their own, loaded after this one:
its field rules (`payout_link_rules.py`), its reissue (`payout_link_reissue.py`), the
claim (`payout_link_claim.py`), the duplicate guard (`payout_link_duplicates.py`), bank
accounts given by several employees (`payout_link_shared_accounts.py`), the money-moving
calls (`payout_link_submission.py`), the links that need attention
(`payout_link_attention.py`), the scheduled actions (`payout_link_cron.py`) and the
chasing of unclaimed links (`payout_link_chasing.py`).
"""

import logging
import re
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount

from .. import const, utils

_logger = logging.getLogger(__name__)


class ImportLineByLine(Exception):
    """Makes Odoo's import retry a failed batch line by line (see `_load_records`)."""


class PayoutLink(models.Model):
    _name = "payout.link"
    _description = "Payout Link"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin", "payout.approval.mixin"]
    _order = "id desc"
    _check_company_auto = True
    _workflow_fields = const.LINK_WORKFLOW_FIELDS

    name = fields.Char(
        string="Number", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    reference = fields.Char(
        string="External ID",
        copy=False,
        index=True,
        help="Unique per company; letters and digits only, at most 30 characters. "
        "Generated when left empty; used to reconcile with the provider.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    batch_id = fields.Many2one(
        "payout.batch", index="btree_not_null", check_company=True,
        ondelete="cascade", help="The bulk run this link is a line of; it is sent with it.",
    )
    employee_id = fields.Many2one(
        "hr.employee", required=True, index=True, check_company=True, ondelete="restrict",
        tracking=True,
    )
    department_id = fields.Many2one(related="employee_id.department_id", store=True)
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True,
        help="Told when the link fails or gets locked.",
    )
    payout_type = fields.Selection(
        selection=[("bonus", "Bonus"), ("commission", "Commission"), ("other", "Other")],
        string="Type", required=True, default="bonus", tracking=True,
    )
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.company.currency_id
    )
    amount = fields.Monetary(required=True, tracking=True)
    description = fields.Char(help="At most 30 characters (DOKU's limit).")
    recipient_name = fields.Char(
        compute="_compute_recipient", store=True, readonly=False, precompute=True
    )
    recipient_email = fields.Char(
        compute="_compute_recipient", store=True, readonly=False, precompute=True
    )
    recipient_phone = fields.Char(
        compute="_compute_recipient", store=True, readonly=False, precompute=True,
        help="Normalised to 62… (9 to 14 digits).",
    )
    provider_id = fields.Many2one(
        "payout.provider", required=True, check_company=True, index=True,
        default=lambda self: self._default_provider(),
        domain="[('state', '!=', 'disabled')]",
    )
    provider_code = fields.Selection(related="provider_id.code")
    state = fields.Selection(
        selection=[
            ("draft", "Draft"),
            ("to_approve", "To Approve"),
            ("sent", "Sent"),
            ("opened", "Opened"),
            ("processing", "Processing"),
            ("done", "Paid"),
            ("failed", "Failed"),
            ("expired", "Expired"),
            ("cancelled", "Cancelled"),
        ],
        required=True, default="draft", copy=False, index=True, tracking=True, readonly=True,
    )
    date_sent = fields.Datetime(string="Sent On", copy=False, readonly=True)
    date_opened = fields.Datetime(string="Opened On", copy=False, readonly=True)
    date_processing = fields.Datetime(string="Claimed On", copy=False, readonly=True)
    date_done = fields.Datetime(string="Paid On", copy=False, readonly=True)
    date_failed = fields.Datetime(string="Failed On", copy=False, readonly=True)
    date_expired = fields.Datetime(string="Expired On", copy=False, readonly=True)
    date_cancelled = fields.Datetime(string="Cancelled On", copy=False, readonly=True)
    failure_reason = fields.Char(
        copy=False, readonly=True,
        help="Why the payout was not made, for the back office: it may name a manager, a "
        "balance or the provider's own error.",
    )
    employee_reason = fields.Char(
        string="Reason Shown to the Employee", copy=False, readonly=True,
        help="What the employee's status page says about a payout that was not made.",
    )
    employee_status = fields.Selection(
        selection=[("to_claim", "To claim"), ("on_its_way", "On its way"), ("paid", "Paid"),
                   ("not_paid", "Not paid")],
        compute="_compute_employee_status",
        help="The payout as its employee sees it.",
    )
    replaced_link_id = fields.Many2one(
        "payout.link", string="Replaces", copy=False, readonly=True, index="btree_not_null",
        help="The failed or expired link this one was reissued for.",
    )
    reissued_link_ids = fields.One2many("payout.link", "replaced_link_id",
                                        string="Reissued As", copy=False)
    # What the form's buttons offer, from the state tables of const.py.
    can_cancel = fields.Boolean(compute="_compute_allowed_actions")
    cancel_kind = fields.Selection(
        selection=[("claim", "Claim in Odoo"), ("queued", "Not sent yet"),
                   ("void", "Void at the provider"), ("payout", "Cancel at the provider")],
        compute="_compute_allowed_actions",
        help="What Cancel does, so that its confirmation says it.",
    )
    can_reissue = fields.Boolean(compute="_compute_allowed_actions")

    _sql_constraints = [
        (
            "reference_company_uniq",
            "UNIQUE(company_id, reference)",
            "External ID: must be unique per company.",
        ),
    ]

    # === Defaults and computes === #

    def _default_provider(self):
        """The company's first enabled provider that moves money; the Demo provider, or one
        in Test Mode, only when there is none."""
        providers = self.env["payout.provider"].search(
            [("company_id", "=", self.env.company.id), ("state", "in", ("enabled", "test"))])
        return providers.sorted(
            lambda provider: (provider.state != "enabled" or provider.code == "demo"))[:1]

    @api.depends("employee_id")
    def _compute_recipient(self):
        for link in self:
            employee = link.employee_id
            link.recipient_name = employee.name
            link.recipient_email = employee._get_payout_email() if employee else False
            link.recipient_phone = utils.normalize_phone(
                employee.mobile_phone or employee.private_phone or employee.work_phone
            )

    def _get_approval_amount(self):
        return self.amount

    def _get_payees(self):
        return self.sudo().employee_id.user_id

    @api.depends("state")
    def _compute_employee_status(self):
        for link in self:
            link.employee_status = const.EMPLOYEE_STATUSES.get(link.state, "not_paid")

    @api.depends("state", "submission_state", "needs_attention", "provider_id",
                 "provider_reference")
    def _compute_allowed_actions(self):
        for link in self:
            provider = link.provider_id
            link.can_cancel = link.state in const.CANCELLABLE_STATES and bool(
                provider) and not provider._get_cancel_refusal(link)
            link.cancel_kind = provider and provider._get_cancel_kind(link)
            link.can_reissue = link._is_reissuable()

    def _compute_access_url(self):
        super()._compute_access_url()
        for link in self:
            link.access_url = f"/my/payouts/{link.id}"

    # === No portal share token === #
    #
    # The employee's portal page needs their login, and the claim page has its own token
    # (`claim_token`): a payout link is never shared by portal.mixin's token, which
    # `get_portal_url` would create for anyone who can read the link, and which would let
    # its holder post to the chatter.

    def _portal_ensure_token(self):
        return ""

    @api.model
    def _get_thread_with_access(self, thread_id, mode="read", **kwargs):
        # Without the portal's token and signed hash: only users with access rights.
        return super()._get_thread_with_access(thread_id, mode)

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        self._check_workflow_vals(vals_list)
        default_batch_id = self.env.context.get("default_batch_id")
        for vals in vals_list:
            if default_batch_id and "batch_id" not in vals:
                vals["batch_id"] = default_batch_id
            if vals.get("batch_id"):
                # A line takes what it shares with its batch from the batch.
                batch = self.env["payout.batch"].browse(vals["batch_id"])
                for name in const.BATCH_LINE_FIELDS:
                    vals.setdefault(name, batch._fields[name].convert_to_write(batch[name], batch))
        self._prepare_and_check_vals(vals_list, creating=True)
        by_company = defaultdict(list)
        for vals in vals_list:
            by_company[vals.get("company_id") or self.env.company.id].append(vals)
        for company_id, company_vals in by_company.items():
            names = self._next_names(self.env["res.company"].browse(company_id), len(company_vals))
            for vals, name in zip(company_vals, names, strict=True):
                vals["name"] = name
                if not vals.get("reference"):
                    vals["reference"] = re.sub(r"[^A-Za-z0-9]", "", name)
        links = super(PayoutLink, self._without_workflow_defaults()).create(vals_list)
        # Lines added to a batch are a change of the batch: their author cannot approve it.
        links.batch_id._note_change(self.env.uid)
        return links

    def _next_names(self, company, count):
        """``count`` numbers of the company's payout link sequence, in one query when the
        sequence is a plain PostgreSQL one (a batch creates thousands of links)."""
        sequence = self.env["ir.sequence"].with_company(company)
        sequence = sequence.search([("code", "=", "payout.link"),
                                    ("company_id", "in", (company.id, False))],
                                   order="company_id", limit=1)
        if not sequence:
            return ["/"] * count
        if sequence.implementation != "standard" or sequence.use_date_range:
            return [sequence._next() for _index in range(count)]
        rows = self.env.execute_query(SQL(
            "SELECT nextval(%s) FROM generate_series(1, %s)",
            f"ir_sequence_{sequence.id:03d}", count,
        ))
        return [sequence.get_next_char(number) for (number,) in rows]

    def _load_records(self, data_list, update=False):
        # Odoo's import first creates every line in one batch, and reports a UserError
        # raised there against the file's first line. Any other error makes it retry line
        # by line, where each line gets its own error.
        try:
            return super()._load_records(data_list, update)
        except UserError as error:
            if len(data_list) == 1:
                raise
            raise ImportLineByLine(str(error)) from error

    def write(self, vals):
        self._check_workflow_vals([vals])
        self._prepare_and_check_vals([vals])
        changes_payee = bool(const.PAYEE_FIELDS.intersection(vals))
        if not changes_payee and "batch_id" not in vals:
            return super().write(vals)
        changed_batches = self.batch_id
        if "batch_id" in vals:
            # An approval holds for the batch it was given in.
            vals = dict(vals, **self._approval_cleared())
        result = super().write(vals)
        (changed_batches | self.batch_id)._note_change(self.env.uid)
        if changes_payee:
            self._note_change(self.env.uid)
        return result

    def unlink(self):
        self.batch_id._note_change(self.env.uid)
        return super().unlink()

    def _is_editable(self):
        """Whether what the link pays, and to whom, may still change: a draft link, not a
        line of a batch that left draft."""
        return self.state == "draft" and self.batch_id.state in (False, "draft")

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if not all(link._is_editable() for link in self):
            raise UserError(self.env._(
                "Only draft payout links can be deleted; cancel the others to keep their history."
            ))

    # === The state machine === #

    def _update_state(self, target_state, *, message=None, values=None, from_user=False):
        """Move the links to ``target_state`` where ``TRANSITIONS`` allows it.

        Links already in the target state are left alone (a repeated provider event is
        harmless). Links in a wrong state raise a UserError when a user asked for the
        change, and are logged to their chatter and skipped when a provider or a
        scheduled job did.

        :return: the links whose state changed.
        """
        if from_user:
            self._check_transition(target_state)
        allowed = const.TRANSITIONS[target_state]
        to_change = self.filtered(lambda link: link.state in allowed)
        already = self.filtered(lambda link: link.state == target_state)
        wrong = self - to_change - already
        target_label = self._state_label(target_state)
        for link in wrong:
            _logger.warning(
                "payout link %s: ignored change from %s to %s", link.name, link.state, target_state
            )
            link.message_post(body=self.env._(
                "Ignored a change to %(target)s: the link is %(state)s.",
                target=target_label, state=self._state_label(link.state),
            ))
        if already:
            _logger.info("payout links %s: already %s", already.mapped("name"), target_state)
        if not to_change:
            return to_change
        vals = dict(values or {}, state=target_state)
        if target_state == "failed":
            vals.setdefault("employee_reason", self.env._("The payment could not be made."))
        if date_field := const.STATE_DATE_FIELDS.get(target_state):
            vals[date_field] = fields.Datetime.now()
        to_change.sudo().write(vals)
        if message:
            for link in to_change:
                link.message_post(body=message)
        to_change._on_state_changed(target_state)
        return to_change

    def _state_label(self, state):
        return dict(self._fields["state"]._description_selection(self.env))[state]

    def _check_transition(self, target_state):
        """Refuse a user's action on links it does not apply to, naming them."""
        if wrong := self.filtered(lambda link: link.state not in const.TRANSITIONS[target_state]):
            raise UserError(self.env._(
                "%(links)s cannot become %(target)s from %(states)s.",
                links=", ".join(wrong.mapped("display_name")),
                target=self._state_label(target_state),
                states=", ".join(sorted({self._state_label(s) for s in wrong.mapped("state")})),
            ))

    def _on_state_changed(self, state):
        """What follows a state change: the receipt, or telling the responsible user."""
        if state == "done":
            # Providers that host the claim send their own receipt.
            template = self.env.ref("hr_payout_link.mail_template_payout_receipt")
            for link in self.filtered("provider_id.is_claimed_in_odoo"):
                template.send_mail(link.id)
        if state == "failed":
            for link in self:
                link.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=(link.user_id or link.create_uid).id,
                    summary=self.env._("Payout link failed: reissue it"),
                    note=link.failure_reason,
                )
        if state in ("done", "failed"):
            # The account number was only needed to pay; keep the masked form.
            self.sudo().account_number = False

    # === User actions === #

    def action_send(self):
        """Send draft links, or put those over the approval threshold up for approval."""
        self.check_access("write")
        if wrong := self.filtered(lambda link: link.state != "draft"):
            raise UserError(self.env._(
                "Only draft links can be sent: %s.", ", ".join(wrong.mapped("display_name"))
            ))
        if in_batch := self.filtered("batch_id"):
            raise UserError(self.env._(
                "%(links)s: lines of a batch are sent with it (Send All on %(batches)s).",
                links=", ".join(in_batch[:const.MAX_LINES_IN_ERROR].mapped("display_name")),
                batches=", ".join(in_batch.batch_id.mapped("name")),
            ))
        self._check_lines_ready()
        self._check_duplicates()
        to_approve = self.filtered(lambda link: link._needs_approval())
        to_approve._request_approval()
        for link in to_approve:
            link._update_state("to_approve", message=self.env._(
                "Waiting for a Payout Manager's approval: over the approval threshold of %s.",
                format_amount(self.env, link.company_id.payout_approval_threshold,
                              link.company_id.currency_id),
            ))
        (self - to_approve)._send_links()
        return True

    def action_approve(self):
        if in_batch := self.filtered("batch_id"):
            raise UserError(self.env._(
                "%s: lines of a batch are approved with their batch.",
                ", ".join(in_batch.mapped("display_name")),
            ))
        self._stamp_approval()
        self._check_lines_ready()
        self._check_duplicates()  # a payout may have been made since it was sent
        self._send_links()
        return True

    def _refuse(self, reason):
        """Back to draft, for the editor to correct or cancel (reason in the chatter)."""
        self._log_refusal(reason)
        self._update_state("draft")

    def _check_lines_ready(self):
        """Raise one UserError listing every link that cannot be sent, before any is."""
        # One per distinct reason: a provider's refusal of a whole batch is said once.
        errors = list(dict.fromkeys(error.args[0] for error in self._find_unsendable().values()))
        if errors:
            more = len(errors) - const.MAX_LINES_IN_ERROR
            raise UserError("\n".join(errors[:const.MAX_LINES_IN_ERROR] + (
                [self.env._("… and %s more.", more)] if more > 0 else [])))

    def _find_unsendable(self):
        """{link: the UserError saying why it cannot be sent} for the links of ``self``
        that cannot be sent (a ProviderUnavailable: not now)."""
        errors = {}
        for link in self:
            try:
                link._check_ready_to_send()
            except UserError as error:
                errors[link] = error
        ready = self.filtered(lambda link: link not in errors)
        for provider, links in ready.grouped("provider_id").items():
            try:
                provider._check_payout_requests(links)
            except UserError as error:
                errors.update(dict.fromkeys(links, error))
        return errors

    def _check_ready_to_send(self):
        self.ensure_one()
        if self.provider_id.state == "disabled":
            raise UserError(self.env._(
                "%(link)s: the provider %(provider)s is disabled.",
                link=self.display_name, provider=self.provider_id.name,
            ))
        if not self.recipient_email:
            raise UserError(self.env._(
                "%(link)s: Recipient Email is required to send the link.",
                link=self.display_name,
            ))

    def _send_links(self, log=True):
        """Send checked links: Odoo emails the claim links it hosts, the provider the others.

        :param log: a chatter message per link; a batch logs one summary instead.
        """
        in_odoo = self.filtered("provider_id.is_claimed_in_odoo")
        in_odoo._send_claim_links(log=log)
        (self - in_odoo)._send_to_provider(log=log)

    def action_cancel(self):
        """Cancel in Odoo and, where the provider holds them, at the provider; refuse,
        changing nothing, what the provider could still pay."""
        self.check_access("write")
        self._check_transition("cancelled")
        if refusals := [reason for link in self
                        if (reason := link.provider_id._get_cancel_refusal(link))]:
            raise UserError("\n".join(refusals))
        answers = {}
        for provider, links in self.grouped("provider_id").items():
            answers.update(provider._cancel_payouts(links))
        self._update_state("cancelled")
        self.sudo().write({"claim_token": False})
        for link, answer in answers.items():
            # Followed until the provider's status is final: a later payment shows.
            link.sudo().write({"provider_status": answer.raw_status,
                               "follow_after_cancel": answer.state not in const.FINAL_STATES})
        return True
