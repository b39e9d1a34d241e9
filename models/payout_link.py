import logging
import re
import secrets
import threading
from collections import defaultdict
from datetime import timedelta

from odoo import Command, api, fields, models, modules
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, consteq, email_normalize, float_is_zero, format_amount, frozendict
from odoo.tools.misc import hmac

from ..protocol.errors import FieldValidationError, ProviderClientError

_logger = logging.getLogger(__name__)

# The state machine: the allowed source states of each target state. Every state change
# goes through `_update_state`, which reads this table.
TRANSITIONS = {
    "to_approve": ("draft",),
    "draft": ("to_approve",),
    "sent": ("draft", "to_approve"),
    "opened": ("sent",),
    "processing": ("sent", "opened"),
    "done": ("sent", "opened", "processing"),
    # draft, to_approve: a batch line that could not be sent; done: a payout reversed later
    "failed": ("draft", "to_approve", "sent", "opened", "processing", "done"),
    "expired": ("sent", "opened"),
    "cancelled": ("draft", "to_approve", "sent", "opened"),
}
STATE_DATE_FIELDS = {
    "sent": "date_sent",
    "opened": "date_opened",
    "processing": "date_processing",
    "done": "date_done",
    "failed": "date_failed",
    "expired": "date_expired",
    "cancelled": "date_cancelled",
}
CLAIMABLE_STATES = ("sent", "opened")
CLOSED_STATES = ("failed", "expired", "cancelled")
REISSUABLE_STATES = ("failed", "expired")
# Fields that define what is paid to whom: frozen once the link leaves draft.
DRAFT_ONLY_FIELDS = {
    "reference", "employee_id", "amount", "currency_id", "description", "recipient_name",
    "recipient_email", "recipient_phone", "provider_id", "company_id",
}

# 8 characters from 32 symbols without look-alikes (no 0/O, 1/I/L): easy to type.
SECRET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SECRET_LENGTH = 8
REFERENCE_RE = re.compile(r"[A-Za-z0-9]{1,30}")
PHONE_RE = re.compile(r"62\d{7,12}")
ACCOUNT_NUMBER_RE = re.compile(r"[0-9]{6,20}")  # ASCII only: \d takes any script
# Links per cron batch: amortises the per-batch SQL (lock, count, commit), small enough
# that a batch commits every few seconds even against a slow provider.
BATCH_SIZE = 1000
# Employees who have not claimed a link are reminded this long before it expires.
REMIND_HOURS_BEFORE_EXPIRY = 24
# What the claim email takes from its template: no layout nor attachments in an email
# that carries a secret.
CLAIM_EMAIL_FIELDS = ("auto_delete", "body_html", "email_cc", "email_from", "email_to",
                      "mail_server_id", "partner_to", "reply_to", "scheduled_date", "subject")
# Namespace of the advisory locks that hold links being submitted (see _hold_submissions).
SUBMISSION_LOCK_SPACE = 0x5041594F  # "PAYO"
# Lines named in one error message at most: a 10,000-line batch must stay readable.
MAX_LINES_IN_ERROR = 20
# A link is asked for its status at most once per this many minutes.
POLL_EVERY_MINUTES = 10
# A submission without a clear answer is looked up again after this many minutes, so an
# outage of the provider does not make the cron call it in a loop.
RETRY_SUBMISSION_MINUTES = 1


class ImportLineByLine(Exception):
    """Makes Odoo's import retry a failed batch line by line (see `_load_records`)."""


def normalize_phone(raw):
    """Return ``raw`` as DOKU's ``62…`` form, or None when it cannot be one."""
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    return digits if PHONE_RE.fullmatch(digits) else None


def normalize_secret(raw):
    """Employees may type the secret in lower case or with spaces and dashes."""
    return re.sub(r"[\s-]", "", raw or "").upper()


def mask_account_number(number):
    return "•••• " + number[-4:]


def can_commit():
    """Crons commit per batch, but never under test (Odoo's runner or pytest-odoo)."""
    testing = getattr(threading.current_thread(), "testing", False)
    return not (modules.module.current_test or testing)


class PayoutLink(models.Model):
    _name = "payout.link"
    _description = "Payout Link"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin", "payout.approval.mixin"]
    _order = "id desc"
    _check_company_auto = True

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
    expiry_date = fields.Datetime(string="Expires On", copy=False, readonly=True, index=True)
    date_reminded = fields.Datetime(
        string="Reminded On", copy=False, readonly=True,
        help="When the employee was reminded that the link is about to expire.",
    )
    failure_reason = fields.Char(copy=False, readonly=True)
    failed_attempts = fields.Integer(string="Wrong Secrets", copy=False, readonly=True)
    replaced_link_id = fields.Many2one(
        "payout.link", string="Replaces", copy=False, readonly=True, index="btree_not_null",
        help="The failed or expired link this one was reissued for.",
    )
    reissued_link_ids = fields.One2many("payout.link", "replaced_link_id",
                                        string="Reissued As", copy=False)
    bank_id = fields.Many2one("res.bank", copy=False, readonly=True)
    account_holder_name = fields.Char(copy=False, readonly=True)
    account_number_masked = fields.Char(string="Account", copy=False, readonly=True)
    # What the employee typed, kept only until the payout is final; never shown.
    account_number = fields.Char(copy=False, groups="base.group_system")
    secret_hash = fields.Char(copy=False, groups="base.group_system")
    access_token = fields.Char(index="btree_not_null")
    submission_state = fields.Selection(
        selection=[
            ("to_review", "Account to Review"),
            ("to_submit", "To Submit"),
            ("submitting", "Submitting"),
            ("submitted", "Submitted"),
        ],
        copy=False, readonly=True, index="btree_not_null",
        help="Money-safety mark: 'Submitting' is committed before the provider is called, "
        "so an interrupted call is reconciled instead of sent again.",
    )
    provider_status = fields.Char(
        copy=False, readonly=True, help="The provider's last status, as the provider said it."
    )
    provider_reference = fields.Char(copy=False, readonly=True, index="btree_not_null")
    date_polled = fields.Datetime(
        string="Last Provider Call", copy=False, readonly=True,
        help="When the provider was last asked about this link (status, or a submission "
        "that got no clear answer): both wait a while before asking again.",
    )
    submission_key = fields.Char(
        string="Idempotency Key", copy=False, readonly=True,
        help="Sent with every money-moving call for this link, so it is paid at most once.",
    )

    _sql_constraints = [
        (
            "reference_company_uniq",
            "UNIQUE(company_id, reference)",
            "External ID: must be unique per company.",
        ),
    ]

    # === Defaults and computes === #

    def _default_provider(self):
        return self.env["payout.provider"].search(
            [("company_id", "=", self.env.company.id), ("state", "in", ("enabled", "test"))],
            limit=1,
        )

    @api.depends("employee_id")
    def _compute_recipient(self):
        for link in self:
            employee = link.employee_id
            link.recipient_name = employee.name
            link.recipient_email = employee.work_email or employee.private_email
            link.recipient_phone = normalize_phone(
                employee.mobile_phone or employee.private_phone or employee.work_phone
            )

    def _get_approval_amount(self):
        return self.amount

    def _compute_access_url(self):
        super()._compute_access_url()
        for link in self:
            link.access_url = f"/my/payouts/{link.id}"

    def _get_claim_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/payout/claim/{self.access_token}"

    # === Field rules === #

    @api.constrains("reference")
    def _check_reference(self):
        for link in self:
            if link.reference and not REFERENCE_RE.fullmatch(link.reference):
                raise ValidationError(self.env._(
                    "External ID: letters and digits only, at most 30 characters "
                    "(%(reference)r given).", reference=link.reference,
                ))

    @api.constrains("amount", "currency_id")
    def _check_amount(self):
        for link in self:
            if link.currency_id.compare_amounts(link.amount, 0) <= 0:
                raise ValidationError(self.env._("Amount: must be greater than zero."))

    @api.constrains("description")
    def _check_description(self):
        for link in self:
            if link.description and len(link.description) > 30:
                raise ValidationError(self.env._(
                    "Description: at most 30 characters (%s given).", len(link.description)
                ))

    @api.constrains("recipient_name", "recipient_email", "recipient_phone")
    def _check_recipient(self):
        for link in self:
            if link.recipient_name and len(link.recipient_name) > 50:
                raise ValidationError(self.env._(
                    "Recipient Name: at most 50 characters (%s given).", len(link.recipient_name)
                ))
            if link.recipient_email and (
                len(link.recipient_email) > 50 or not email_normalize(link.recipient_email)
            ):
                raise ValidationError(self.env._(
                    "Recipient Email: must be a valid address of at most 50 characters "
                    "(%(email)r given).", email=link.recipient_email,
                ))
            if link.recipient_phone and not PHONE_RE.fullmatch(link.recipient_phone):
                raise ValidationError(self.env._(
                    "Recipient Phone: must be 62 followed by the number, 9 to 14 digits in all "
                    "(%(phone)r given).", phone=link.recipient_phone,
                ))

    # Not on "state": a line never leaves a closed state, so a change of state cannot make
    # a duplicate (and sending thousands of lines would check them all again).
    @api.constrains("batch_id", "employee_id", "currency_id", "provider_id", "company_id")
    def _check_batch_lines(self):
        in_batch = self.filtered("batch_id")
        for link in in_batch:
            batch = link.batch_id
            if (link.currency_id, link.provider_id, link.company_id) != (
                batch.currency_id, batch.provider_id, batch.company_id
            ):
                raise ValidationError(self.env._(
                    "Batch: %(link)s must have the currency, provider and company of its batch "
                    "%(batch)s.", link=link.display_name, batch=batch.name,
                ))
        if not in_batch:
            return
        duplicates = self.sudo()._read_group(
            [("batch_id", "in", in_batch.batch_id.ids),
             ("employee_id", "in", in_batch.employee_id.ids),
             ("state", "not in", CLOSED_STATES)],
            ["batch_id", "employee_id"], ["__count"], having=[("__count", ">", 1)], limit=1,
        )
        if duplicates:
            [(batch, employee, _count)] = duplicates
            raise ValidationError(self.env._(
                "Employee: %(employee)s already has a line in the batch %(batch)s.",
                employee=employee.name, batch=batch.name,
            ))

    def _check_before_write(self, vals_list, creating=False):
        """Rules the ORM or the database would otherwise break unclearly: a Monetary
        field rounds extra decimals silently, a missing employee or a duplicate
        reference fail as bare SQL errors. Raises ValidationError naming the field."""
        references = []  # (company id, reference) asked for, in order
        for vals in vals_list:
            if creating and not vals.get("employee_id"):
                raise ValidationError(self.env._("Employee: required."))
            if vals.get("batch_id"):
                batch = self.env["payout.batch"].browse(vals["batch_id"])
                # A reissued line joins its batch again, whatever the batch's state.
                if batch.state != "draft" and not vals.get("replaced_link_id"):
                    raise ValidationError(self.env._(
                        "Batch: %s is no longer a draft; lines cannot be added to it.",
                        batch.name,
                    ))
            if "amount" in vals:
                self._check_amount_precision(vals)
            if vals.get("reference"):
                company_ids = [vals["company_id"]] if vals.get("company_id") else (
                    self.company_id.ids or [self.env.company.id])
                references += [(company_id, vals["reference"]) for company_id in company_ids]
            if vals.get("recipient_phone"):
                vals["recipient_phone"] = normalize_phone(vals["recipient_phone"]) or vals[
                    "recipient_phone"]
        if references:
            used = {
                (link.company_id.id, link.reference)
                for link in self.sudo().search([
                    ("reference", "in", [ref for _company, ref in references]),
                    ("id", "not in", self.ids),
                ])
            }
            for key in references:
                if key in used:
                    raise ValidationError(self.env._(
                        "External ID: %(reference)s is already used in this company.",
                        reference=key[1],
                    ))
                used.add(key)

    def _check_amount_precision(self, vals):
        currencies = (
            self.env["res.currency"].browse(vals["currency_id"]) if vals.get("currency_id")
            else self.currency_id or self.env.company.currency_id
        )
        amount = vals["amount"] or 0.0
        for currency in currencies:
            if not float_is_zero(amount - currency.round(amount),
                                 precision_digits=currency.decimal_places + 3):
                raise ValidationError(self.env._(
                    "Amount: at most %(digits)s decimals for %(currency)s (%(amount)s given).",
                    digits=currency.decimal_places, currency=currency.name, amount=amount,
                ))

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        default_batch_id = self.env.context.get("default_batch_id")
        for vals in vals_list:
            if default_batch_id and "batch_id" not in vals:
                vals["batch_id"] = default_batch_id  # its lines take the batch's values below
            if vals.get("batch_id"):
                batch = self.env["payout.batch"].browse(vals["batch_id"])
                for field in ("company_id", "currency_id", "provider_id", "payout_type",
                              "user_id"):
                    vals.setdefault(field, batch[field].id if field.endswith("_id")
                                    else batch[field])
        self._check_before_write(vals_list, creating=True)
        by_company = defaultdict(list)
        for vals in vals_list:
            by_company[vals.get("company_id") or self.env.company.id].append(vals)
        for company_id, company_vals in by_company.items():
            names = self._next_names(self.env["res.company"].browse(company_id), len(company_vals))
            for vals, name in zip(company_vals, names, strict=True):
                vals["name"] = name
                if not vals.get("reference"):
                    vals["reference"] = re.sub(r"[^A-Za-z0-9]", "", name)
        return super().create(vals_list)

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
        frozen = DRAFT_ONLY_FIELDS.intersection(vals)
        if frozen and not all(link._is_draft() for link in self):
            raise UserError(self.env._(
                "Only draft payout links can be changed (%(fields)s). Cancel the link and "
                "create a new one instead.",
                fields=", ".join(self._fields[f].string for f in sorted(frozen)),
            ))
        self._check_before_write([vals])
        return super().write(vals)

    def _is_draft(self):
        """A draft link, not a line of a batch that left draft: what it pays may change."""
        return self.state == "draft" and self.batch_id.state in (False, "draft")

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if not all(link._is_draft() for link in self):
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
        allowed = TRANSITIONS[target_state]
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
        if date_field := STATE_DATE_FIELDS.get(target_state):
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
        if wrong := self.filtered(lambda link: link.state not in TRANSITIONS[target_state]):
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
                links=", ".join(in_batch[:MAX_LINES_IN_ERROR].mapped("display_name")),
                batches=", ".join(in_batch.batch_id.mapped("name")),
            ))
        self._check_lines_ready()
        to_approve = self.filtered(lambda link: link._needs_approval())
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
        self._send_links()
        return True

    def _refuse(self, reason):
        """Back to draft, for the editor to correct or cancel (reason in the chatter)."""
        self._log_refusal(reason)
        self._update_state("draft")

    def _check_lines_ready(self):
        """Raise one UserError listing every link that cannot be sent, before any is."""
        errors = list(dict.fromkeys(self._find_unsendable().values()))  # one per provider
        if errors:
            more = len(errors) - MAX_LINES_IN_ERROR
            raise UserError("\n".join(errors[:MAX_LINES_IN_ERROR] + (
                [self.env._("… and %s more.", more)] if more > 0 else [])))

    def _find_unsendable(self):
        """{link: why it cannot be sent} for the links of ``self`` that cannot be sent."""
        reasons = {}
        for link in self:
            try:
                link._check_ready_to_send()
            except UserError as error:
                reasons[link] = error.args[0]
        ready = self.filtered(lambda link: link not in reasons)
        for provider, links in ready.grouped("provider_id").items():
            try:
                provider._check_payout_requests(links)
            except UserError as error:
                reasons.update(dict.fromkeys(links, error.args[0]))
        return reasons

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

    def _send_claim_links(self, log=True):
        """Issue a fresh token and secret per link, and queue their emails (claimed in Odoo).

        The secret exists in clear only in the queued email, which is not attached to the
        link (no copy in the chatter) and is deleted once sent. Database work is constant
        per batch of links: one UPDATE stores every token, one render queues every email.
        """
        if not self:
            return
        now = fields.Datetime.now()
        link_secrets = {}
        rows = []
        for link in self:
            secret = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
            link_secrets[link.id] = secret
            expiry = now + timedelta(days=link.provider_id.link_validity_days)
            rows.append(SQL("(%s, %s, %s, %s::timestamp)", link.id, secrets.token_urlsafe(32),
                            link._hash_secret(secret), expiry))
        self.flush_recordset()
        self.env.execute_query(SQL(
            """UPDATE payout_link AS link
                  SET access_token = new.token, secret_hash = new.secret_hash,
                      expiry_date = new.expiry, failed_attempts = 0
                 FROM (VALUES %s) AS new(id, token, secret_hash, expiry)
                WHERE link.id = new.id""", SQL(", ").join(rows),
        ))
        self.invalidate_recordset(["access_token", "secret_hash", "expiry_date",
                                   "failed_attempts"])
        self._update_state("sent")
        if log:
            for link in self:
                link.message_post(body=self.env._(
                    "Payout link emailed to %(email)s; it expires on %(expiry)s.",
                    email=link.recipient_email,
                    expiry=fields.Datetime.to_string(link.expiry_date),
                ))
        self._queue_claim_emails(link_secrets)

    def _queue_claim_emails(self, link_secrets):
        """Queue one claim email per link, rendered from its mail template.

        Not mail.template.send_mail_batch: it also copies each body into the email's
        message, sanitised for a chatter these emails are kept out of. That copy would hold
        the secret a second time, and sanitising it was most of the cost of a batch.
        """
        template = self.env.ref("hr_payout_link.mail_template_payout_link").with_context(
            payout_secrets=frozendict(link_secrets))
        rendered = template._generate_template(self.ids, CLAIM_EMAIL_FIELDS)
        mails_values = []
        for link_id in self.ids:
            values = rendered[link_id]
            partner_ids = values.pop("partner_ids", ())
            if not values.get("email_from"):
                values.pop("email_from", None)  # the mail's default sender, as Odoo does
            mails_values.append(dict(values, recipient_ids=[Command.link(partner_id)
                                                            for partner_id in partner_ids]))
        self.env["mail.mail"].sudo().create(mails_values)

    def _send_to_provider(self, log=True):
        """Queue the links for their provider, which emails the employee and hosts the claim.

        The provider is called by `_cron_submit_payouts`, never in this request: a retried
        request must not create a second link at the provider.
        """
        if not self:
            return
        for link in self:
            link._update_state("sent", values={
                "submission_state": "to_submit",
                "submission_key": link.provider_id._new_submission_key(link),
            }, message=log and self.env._("Queued for %s.", link.provider_id.name))
        self.env.ref("hr_payout_link.ir_cron_payout_submit")._trigger()

    def action_check_status(self):
        """Ask the provider for the link's status now (what the polling cron does)."""
        self.check_access("read")
        self.sudo()._poll_provider_status()
        return True

    def action_cancel(self):
        self.check_access("write")
        self._check_transition("cancelled")
        for provider, links in self.grouped("provider_id").items():
            provider._cancel_payouts(links)
        self._update_state("cancelled", from_user=True)
        self.sudo().write({"access_token": False})
        return True

    def action_reissue(self):
        """Fresh links (new token and secret, same data) for failed or expired ones."""
        self.check_access("write")
        if wrong := self.filtered(lambda link: link.state not in REISSUABLE_STATES):
            raise UserError(self.env._(
                "Only failed or expired links can be reissued: %s.",
                ", ".join(wrong.mapped("display_name")),
            ))
        if reissued := self.filtered("reissued_link_ids"):
            raise UserError(self.env._(
                "%s: already reissued; a second new link would pay the same payout twice.",
                ", ".join(reissued.mapped("display_name")),
            ))
        in_batch = self.filtered("batch_id")
        for batch, lines in in_batch.grouped("batch_id").items():
            batch._reissue_lines(lines)
        new_links = (self - in_batch)._copy_for_reissue()
        new_links._check_lines_ready()
        new_links._send_links()
        if len(new_links) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "payout.link",
                "res_id": new_links.id,
                "view_mode": "form",
            }
        return True

    def _copy_for_reissue(self):
        """Draft copies of failed or expired links, approved as the originals were."""
        new_links = self.browse()
        for link in self:
            new_links |= link.copy({"replaced_link_id": link.id,
                                    "approved_by_id": link.approved_by_id.id,
                                    "date_approved": link.date_approved})
        for link, new_link in zip(self, new_links, strict=True):
            link.message_post(body=self.env._("Reissued as %s.", new_link._get_html_link()))
        return new_links

    # === The claim (called by the public controller, on a sudo record) === #

    def _hash_secret(self, secret):
        self.ensure_one()
        # Keyed with the database secret and bound to the link: a copied hash is useless,
        # and the short secret cannot be brute-forced from a dump alone.
        return hmac(self.env(su=True), "payout-link-secret", f"{self.id}:{secret}")

    def _check_secret(self, secret):
        """Return True for the right secret; count a wrong one and lock at the limit."""
        self.ensure_one()
        if consteq(self._hash_secret(normalize_secret(secret)), self.sudo().secret_hash or ""):
            return True
        # Counted in SQL so concurrent guesses cannot overwrite each other's count.
        self.flush_recordset(["failed_attempts"])
        [(attempts,)] = self.env.execute_query(SQL(
            "UPDATE payout_link SET failed_attempts = COALESCE(failed_attempts, 0) + 1 "
            "WHERE id = %s RETURNING failed_attempts", self.id,
        ))
        self.invalidate_recordset(["failed_attempts"])
        limit = self.provider_id.max_secret_attempts
        _logger.info("payout link %s: wrong secret (%s of %s)", self.name, attempts, limit)
        if attempts >= limit:
            self._update_state("failed", values={"failure_reason": self.env._(
                "Locked after %s wrong secrets", attempts
            )})
        return False

    def _mark_opened(self):
        if self.state == "sent":
            self._update_state("opened")

    def _expire_if_due(self):
        """Expire a claimable link past its expiry now, without waiting for the cron."""
        self.ensure_one()
        if self.state in CLAIMABLE_STATES and self.expiry_date and (
            self.expiry_date <= fields.Datetime.now()
        ):
            self._update_state("expired")

    def _claim(self, bank, account_number, holder_name):
        """Record the employee's bank account and hand the payment over to the provider.

        Raises ValidationError (naming the field) and changes nothing on bad input. The
        money moves in `_cron_submit_payouts`, never in the request that claims.
        """
        self.ensure_one()
        errors = self._validate_bank_account(bank, account_number, holder_name)
        if errors:
            raise ValidationError("\n".join(errors))
        # Serialise concurrent claims of the same link, then re-check its state.
        self.flush_recordset(["state"])
        self.env.execute_query(SQL(
            "SELECT id FROM payout_link WHERE id = %s FOR NO KEY UPDATE", self.id
        ))
        self.invalidate_recordset(["state"])
        if self.state not in CLAIMABLE_STATES:
            return False
        to_review = self.company_id.payout_review_new_accounts and not self._is_trusted_account(
            bank, account_number)
        message = self.env._(
            "Claimed: paying to %(bank)s %(account)s.",
            bank=bank.name, account=mask_account_number(account_number),
        )
        if to_review:
            message += " " + self.env._(
                "This is not the bank account on the employee's record: a Payout Manager "
                "reviews it before money moves."
            )
        self._update_state("processing", values={
            "bank_id": bank.id,
            "account_number": account_number,
            "account_number_masked": mask_account_number(account_number),
            "account_holder_name": holder_name,
            "submission_state": "to_review" if to_review else "to_submit",
            "submission_key": self.provider_id._new_submission_key(self),
        }, message=message)
        if to_review:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=(self.user_id or self.create_uid).id,
                summary=self.env._("Have a Payout Manager review the new bank account"),
            )
        else:
            self.env.ref("hr_payout_link.ir_cron_payout_submit")._trigger()
        return True

    def _is_trusted_account(self, bank, account_number):
        """Whether the account is the one HR keeps on the employee's record."""
        trusted = self.sudo().employee_id.bank_account_id
        return bool(trusted) and trusted.sanitized_acc_number == account_number and (
            not trusted.bank_id or trusted.bank_id == bank)

    def action_approve_account(self):
        """A Payout Manager accepts the bank account an employee gave: money moves."""
        self._check_account_reviewer()
        for link in self:
            link.message_post(body=self.env._(
                "Bank account %(account)s approved by %(user)s.",
                account=link.account_number_masked, user=self.env.user.name,
            ))
        self.sudo().submission_state = "to_submit"
        self.env.ref("hr_payout_link.ir_cron_payout_submit")._trigger()
        return True

    def action_refuse_account(self):
        """A Payout Manager rejects the bank account: the link fails and can be reissued."""
        self._check_account_reviewer()
        self.sudo().submission_state = False
        self._update_state("failed", values={"failure_reason": self.env._(
            "Bank account refused by %s", self.env.user.name)})
        return True

    def _check_account_reviewer(self):
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can review bank accounts."))
        if wrong := self.filtered(lambda link: link.submission_state != "to_review"):
            raise UserError(self.env._(
                "%s: no bank account waits for review.", ", ".join(wrong.mapped("display_name"))
            ))

    def _validate_bank_account(self, bank, account_number, holder_name):
        errors = []
        if not bank or bank not in self.provider_id._get_payout_banks():
            errors.append(self.env._("Bank: choose a bank from the list."))
        if not ACCOUNT_NUMBER_RE.fullmatch(account_number or ""):
            errors.append(self.env._("Account Number: 6 to 20 digits, nothing else."))
        if not (holder_name or "").strip() or len(holder_name) > 50:
            errors.append(self.env._("Account Holder: required, at most 50 characters."))
        return errors

    # === Scheduled actions === #

    def _lock_batch(self, domain, limit):
        """Take up to ``limit`` matching links that no other worker holds."""
        query = self.sudo()._search(domain, limit=limit, order="id")
        rows = self.env.execute_query(SQL(
            "%s FOR NO KEY UPDATE OF payout_link SKIP LOCKED", query.select("payout_link.id")
        ))
        return self.sudo().browse(row[0] for row in rows)

    def _run_batch(self, domain, process, cron_xmlid):
        """Process one locked batch, commit it, and report progress to the cron."""
        links = self._lock_batch(domain, BATCH_SIZE)
        process(links)
        if can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.sudo().search_count(domain)
        self.env["ir.cron"]._notify_progress(done=len(links), remaining=remaining)
        if remaining:
            self.env.ref(cron_xmlid)._trigger()
        return links

    @api.model
    def _cron_expire_links(self):
        domain = [
            ("state", "in", CLAIMABLE_STATES),
            ("expiry_date", "<=", fields.Datetime.now()),
            # Links claimed at a provider expire there; polling tells.
            ("provider_id.is_claimed_in_odoo", "=", True),
        ]
        return self._run_batch(
            domain, lambda links: links._update_state("expired"),
            "hr_payout_link.ir_cron_payout_expire",
        )

    @api.model
    def _cron_remind_before_expiry(self):
        """Remind employees of links they have not claimed, a day before these expire."""
        now = fields.Datetime.now()
        domain = [
            ("state", "in", CLAIMABLE_STATES),
            ("date_reminded", "=", False),
            ("expiry_date", ">", now),
            ("expiry_date", "<=", now + timedelta(hours=REMIND_HOURS_BEFORE_EXPIRY)),
            # Not a link sent less than a day ago (a one-day link): its email is fresh.
            ("date_sent", "<=", now - timedelta(hours=REMIND_HOURS_BEFORE_EXPIRY)),
            ("provider_id.is_claimed_in_odoo", "=", True),  # providers remind their own
        ]
        return self._run_batch(
            domain, lambda links: links._send_reminders(), "hr_payout_link.ir_cron_payout_remind",
        )

    def _send_reminders(self):
        if not self:
            return
        self.write({"date_reminded": fields.Datetime.now()})
        template = self.env.ref("hr_payout_link.mail_template_payout_reminder")
        template.send_mail_batch(self.ids)

    @api.model
    def _cron_send_batches(self):
        # Two workers ending the last lines of a batch at once each see the other's lines
        # as unsent: the next run marks the batch sent.
        self.env["payout.batch"].sudo().search([("state", "=", "sending")])._finish_sending()
        domain = [("batch_id.state", "=", "sending"), ("state", "in", ("draft", "to_approve"))]
        return self._run_batch(
            domain, lambda links: links._send_batch_lines(),
            "hr_payout_link.ir_cron_payout_batch_send",
        )

    def _send_batch_lines(self):
        """Send lines of batches being sent, without a chatter message per line.

        A line that can no longer be sent (its provider disabled since, say) fails with
        the reason instead of blocking the rest of its batch.
        """
        quiet = self.with_context(tracking_disable=True)
        unsendable = quiet._find_unsendable()
        for link, reason in unsendable.items():
            link._update_state("failed", values={"failure_reason": reason})
        quiet.filtered(lambda link: link not in unsendable)._send_links(log=False)
        self.batch_id._finish_sending()

    @api.model
    def _cron_submit_payouts(self):
        retry_before = fields.Datetime.now() - timedelta(minutes=RETRY_SUBMISSION_MINUTES)
        domain = [
            ("state", "in", ("sent", "opened", "processing")),  # not once cancelled
            "|", ("submission_state", "=", "to_submit"),
            "&", ("submission_state", "=", "submitting"),
            "|", ("date_polled", "=", False), ("date_polled", "<", retry_before),
        ]
        return self._run_batch(
            domain, lambda links: links._submit_to_provider(),
            "hr_payout_link.ir_cron_payout_submit",
        )

    def _submit_to_provider(self):
        """Pay each link at most once: mark 'submitting' and commit before any call.

        The whole batch is marked in one statement and one commit; then the provider calls
        run (a few at once for HTTP providers) and their answers are stored here, on this
        cursor. A link found 'submitting' was interrupted between the call and storing its
        answer: it is reconciled through the provider, never submitted again.
        """
        held = self._hold_submissions()
        try:
            held._call_provider_for_submissions()
        finally:
            held._release_submissions()

    def _hold_submissions(self):
        """The links of ``self`` that no other worker is submitting, now held by this one.

        Committing 'submitting' releases the batch's row locks while its provider calls
        are still running: a session advisory lock per link, which outlives the commit and
        dies with a crashed worker's connection, keeps another worker from taking the
        same links for an interrupted submission meanwhile.
        """
        if not self:
            return self
        rows = self.env.execute_query(SQL(
            "SELECT id FROM unnest(%s::int[]) AS id WHERE pg_try_advisory_lock(%s, id)",
            self.ids, SUBMISSION_LOCK_SPACE,
        ))
        return self.browse(row[0] for row in rows)

    def _release_submissions(self):
        if self:
            self.env.execute_query(SQL(
                "SELECT pg_advisory_unlock(%s, id) FROM unnest(%s::int[]) AS id",
                SUBMISSION_LOCK_SPACE, self.ids,
            ))

    def _call_provider_for_submissions(self):
        if not self:
            return
        interrupted = {link.id for link in self if link.submission_state == "submitting"}
        # The submission keys were stored when the links were queued.
        self.flush_recordset(["submission_state"])
        # Stamped as a provider call: other workers leave the links alone for a while.
        self.env.execute_query(SQL(
            "UPDATE payout_link SET submission_state = 'submitting', date_polled = %s "
            "WHERE id IN %s", fields.Datetime.now(), tuple(self.ids),
        ))
        self.invalidate_recordset(["submission_state", "date_polled"])
        if can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit
        for provider, links in self.grouped("provider_id").items():
            calls = [
                (provider._prepare_reconciliation if link.id in interrupted
                 else provider._prepare_submission)(link, link.sudo().account_number)
                for link in links
            ]
            for link, (answer, error) in zip(links, provider._run_calls(calls), strict=True):
                link._apply_submission_outcome(answer, error)

    def _apply_submission_outcome(self, answer, error):
        """Store what a submission or reconciliation call gave: the provider's ``answer``,
        or the ProviderError it raised."""
        self.ensure_one()
        provider = self.provider_id
        if isinstance(error, (ProviderClientError, FieldValidationError)):
            # Refused by the provider, or unfit to send: no money moves for it.
            self.submission_state = "submitted"
            self._update_state("failed", values={"failure_reason": error.message},
                               message=self.env._("%(provider)s refused: %(error)s",
                                                  provider=provider.name, error=error.message))
        elif error:
            # The call may or may not have reached the provider: stay 'submitting' so a
            # later run looks the payout up instead of sending it again.
            self.write({"submission_state": "submitting", "date_polled": fields.Datetime.now()})
            self.message_post(body=self.env._(
                "%(provider)s did not answer clearly (%(error)s); the next run checks "
                "what happened.", provider=provider.name, error=error.message,
            ))
        else:
            self.submission_state = "submitted"
            self._apply_provider_status(answer)

    def _apply_provider_status(self, answer):
        """Apply a provider's answer (a ProviderAnswer); an unknown status is kept raw and
        logged, never fatal.

        Every new raw status lands in the chatter, even when it maps to the same state.
        """
        self.ensure_one()
        provider = self.provider_id
        state, raw_status, reason = answer.state, answer.raw_status, answer.reason
        provider_reference = answer.provider_reference
        raw_changed = raw_status and raw_status != self.provider_status
        values = {}
        if raw_changed:
            values["provider_status"] = raw_status
        if provider_reference and provider_reference != self.provider_reference:
            values["provider_reference"] = provider_reference
        if values:
            self.sudo().write(values)
        if state is None:
            _logger.warning("payout link %s: unknown status %r from %s",
                            self.name, raw_status, provider.code)
            self.message_post(body=self.env._(
                "%(provider)s reported the unknown status %(status)s; the link is unchanged.",
                provider=provider.name, status=raw_status,
            ))
            return
        message = raw_changed and self.env._(
            "%(provider)s status: %(status)s", provider=provider.name, status=raw_status
        )
        if state == self.state:
            if message:
                self.message_post(body=message)
            return
        values = {"failure_reason": reason or message} if state == "failed" else {}
        self._update_state(state, values=values, message=message)

    @api.model
    def _cron_poll_provider_status(self):
        polled_before = fields.Datetime.now() - timedelta(minutes=POLL_EVERY_MINUTES)
        domain = [
            ("state", "in", ("sent", "opened", "processing")),
            ("submission_state", "=", "submitted"),
            ("provider_id.is_polled", "=", True),
            "|", ("date_polled", "=", False), ("date_polled", "<", polled_before),
        ]
        return self._run_batch(
            domain, lambda links: links._poll_provider_status(),
            "hr_payout_link.ir_cron_payout_poll",
        )

    def _poll_provider_status(self):
        """Follow each link at its provider, at no more than the provider's rate limit
        and with its calls made a few at once (all database work stays on this cursor).

        Database work stays constant per batch: the links are read together, one UPDATE
        stamps them all, and a link is written only when its status changed.
        """
        if not self:
            return
        # One statement whatever the batch size (the ORM flushes in chunks of 100 rows).
        self.env.execute_query(SQL(
            "UPDATE payout_link SET date_polled = %s WHERE id IN %s",
            fields.Datetime.now(), tuple(self.ids),
        ))
        self.invalidate_recordset(["date_polled"])
        for provider, links in self.grouped("provider_id").items():
            calls = [provider._prepare_status_check(link) for link in links]
            answers = provider._run_calls(calls, interval=provider._get_poll_interval())
            for link, (answer, error) in zip(links, answers, strict=True):
                if error:
                    link.message_post(body=self.env._(
                        "Could not get the status from %(provider)s: %(error)s",
                        provider=provider.name, error=error.message,
                    ))
                else:
                    link._apply_provider_status(answer)

    def _get_claim_page_values(self):
        """Values shared by the claim page and the portal page of a link."""
        self.ensure_one()
        return {
            "link": self,
            "amount": format_amount(self.env, self.amount, self.currency_id),
            "sender": self.provider_id.sender_name or self.company_id.name,
        }
