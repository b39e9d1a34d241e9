"""The payout link: what is paid to whom, its state machine, the back-office actions, and
the one money gate.

This file holds the whole record: **every field** of the model, grouped by concern, its
rules, CRUD, the state machine, the user actions, reissue, what the employee reads, and
the extension hooks. Four files around it implement those hooks, each depending on this
core alone (the submission engine also runs on the cron's queue helpers):

- `payout_link_claim.py`: the employee-facing life (token, secret, signed-in claim, the
  bank account and its review, reminders and chasing);
- `payout_link_submission.py`: the money engine (submission, reconciliation, links that
  need attention, the payment and polling crons);
- `payout_link_guards.py`: holds, the duplicate guard, shared bank accounts;
- `payout_link_cron.py`: the queue helpers and the other scheduled actions.

**The money gate.** `_get_money_blockers` says, for a set of links, why money may not move
for each of them. Send, Send All, approval, the approval of a bank account, reissue, the
batch sending cron and the submission engine (right before every provider call) ask it;
the guards add their reasons through `_get_send_blockers`.

**The hooks** (declared below, under EXTENSION HOOKS, each implemented at most once):

=============================  ==========================================================
hook                           implemented by
=============================  ==========================================================
`_get_send_blockers`           guards: holds, departed employees, possible duplicates
`_find_duplicates`             guards: the duplicate guard's query
`_get_employee_totals`         guards: what employees receive, for the approval threshold
`_get_claim_review_reasons`    guards: a bank account shared with other employees
`_after_claim`                 guards: the account's fingerprint, holding the sharers
`_after_create`                guards: links made while an employee's address is unchecked
`_after_write`                 guards: a confirmation of a duplicate holds for what it saw
`_on_final_state`              guards: a hold ends with its link
`_on_state_changed`            claim: reminders once sent, a reissue asked at expiry
`_send_claim_links`            claim: the claim email with its token and secret
`_send_reminders`              claim: the reminder emails
`_send_to_provider`            submission: queued for a provider that hosts the claim
=============================  ==========================================================
"""

import functools
import logging
import re
from collections import defaultdict

import psycopg2

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, email_normalize, float_is_zero, format_datetime
from odoo.tools.misc import babel_locale_parse, get_lang, posix_to_ldml

from .. import const, utils
from ..encryption import EncryptedChar

_logger = logging.getLogger(__name__)

# The seconds of a res.lang time format ("%H:%M:%S", "%I:%M:%S %p", "%H.%M.%S"): an
# employee reads a time to the minute.
SECONDS_RE = re.compile(r"[:.]%S")
REISSUE_ACTIVITY = "hr_payout_link.mail_activity_type_payout_reissue"
# What an approval covers: {field: the field that keeps its approved value}.
APPROVED_FIELDS = {
    "amount": "approved_amount", "currency_id": "approved_currency_id",
    "employee_id": "approved_employee_id", "recipient_email": "approved_recipient_email",
    "provider_id": "approved_provider_id", "payout_type": "approved_payout_type",
}


@functools.lru_cache(maxsize=64)
def _minute_pattern(lang_code, date_format, time_format):
    """The babel pattern of a language's date and time formats, to the minute (one per
    language: a batch formats thousands of dates)."""
    locale = babel_locale_parse(lang_code)
    return "{} {}".format(posix_to_ldml(date_format, locale=locale),
                          posix_to_ldml(SECONDS_RE.sub("", time_format), locale=locale))


class ImportLineByLine(Exception):
    """Makes Odoo's import retry a failed batch line by line (see `_load_records`)."""


class PayoutLink(models.Model):
    _name = "payout.link"
    _description = "Payout Link"
    _inherit = ["portal.mixin", "mail.thread", "mail.activity.mixin", "payout.approval.mixin"]
    _order = "id desc"
    _check_company_auto = True

    # ------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------
    # `workflow_only=True`: written by the addon's own methods (as sudo) only; a user sets
    # none of them in create or write, whatever their group (payout.workflow.mixin).

    # === What is paid to whom === #

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

    # === The state machine === #

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
        workflow_only=True,
    )
    date_sent = fields.Datetime(string="Sent On", copy=False, readonly=True, workflow_only=True)
    sent_by_id = fields.Many2one(
        "res.users", copy=False, readonly=True, workflow_only=True,
        help="Who sent it (Send, Send All of its batch, or Reissue): they neither confirm "
        "its possible duplicate nor settle whether it was paid.")
    date_opened = fields.Datetime(string="Opened On", copy=False, readonly=True,
                                  workflow_only=True)
    date_processing = fields.Datetime(string="Claimed On", copy=False, readonly=True,
                                      workflow_only=True)
    date_done = fields.Datetime(string="Paid On", copy=False, readonly=True, workflow_only=True)
    date_failed = fields.Datetime(string="Failed On", copy=False, readonly=True,
                                  workflow_only=True)
    date_expired = fields.Datetime(string="Expired On", copy=False, readonly=True,
                                   workflow_only=True)
    date_cancelled = fields.Datetime(string="Cancelled On", copy=False, readonly=True,
                                     workflow_only=True)
    failure_reason = fields.Char(
        copy=False, readonly=True, workflow_only=True,
        help="Why the payout was not made, for the back office: it may name a manager, a "
        "balance or the provider's own error.",
    )
    employee_reason = fields.Char(
        string="Reason Shown to the Employee", copy=False, readonly=True, workflow_only=True,
        help="What the employee's status page says about a payout that was not made.",
    )
    employee_status = fields.Selection(
        selection=[("to_claim", "To claim"), ("on_its_way", "On its way"), ("paid", "Paid"),
                   ("not_paid", "Not paid"), ("on_hold", "On hold")],
        compute="_compute_employee_status",
        help="The payout as its employee sees it.",
    )
    replaced_link_id = fields.Many2one(
        "payout.link", string="Replaces", copy=False, readonly=True, index="btree_not_null",
        workflow_only=True, help="The failed or expired link this one was reissued for.",
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

    # === The claim (payout_link_claim.py) === #

    # The claim's own token, never the portal.mixin share token (`access_token`, which
    # payout links do not use): it opens the claim page and nothing else. Only its
    # SHA-256 is stored; the token itself is in the emailed URL alone. The claim email's
    # token and the latest reminder's each open the page.
    access_token = fields.Char(workflow_only=True)
    claim_token_hash = fields.Char(copy=False, index="btree_not_null",
                                   groups="base.group_system", workflow_only=True)
    reminder_token_hash = fields.Char(copy=False, index="btree_not_null",
                                      groups="base.group_system", workflow_only=True)
    # The keyed hash of the secret, itself encrypted under the key kept outside the
    # database (payout_link_claim.py, `_hash_secret`).
    secret_hash = EncryptedChar(copy=False, groups="base.group_system", workflow_only=True)
    claim_user_id = fields.Many2one(
        "res.users", string="Claimed Signed In As", copy=False, readonly=True,
        workflow_only=True,
        help="The employee's user when the link was sent: only this user, signed in, "
        "claims it from their portal, and no secret was emailed. Empty: the employee "
        "claims with the secret from the email.")
    failed_attempts = fields.Integer(string="Wrong Secrets", copy=False, readonly=True,
                                     workflow_only=True)
    refused_by_recipient = fields.Boolean(
        string="Not for the Recipient", copy=False, readonly=True, workflow_only=True,
        help="Whoever received the claim email said on the claim page that it is not for "
        "them: the link was locked.")
    expiry_date = fields.Datetime(string="Expires On", copy=False, readonly=True, index=True,
                                  workflow_only=True)
    date_reminded = fields.Datetime(
        string="Last Reminded On", copy=False, readonly=True, workflow_only=True,
        help="When the employee was last reminded that the link is about to expire.",
    )
    reminder_count = fields.Integer(
        string="Reminders Sent", copy=False, readonly=True, workflow_only=True,
        help="How many times the employee was reminded to claim the link.",
    )
    date_next_reminder = fields.Datetime(
        string="Next Reminder", copy=False, readonly=True, index="btree_not_null",
        workflow_only=True,
        help="When the employee is reminded next, if the link is still unclaimed then.",
    )
    bank_id = fields.Many2one("res.bank", copy=False, readonly=True, workflow_only=True)
    account_holder_name = fields.Char(copy=False, readonly=True, workflow_only=True)
    account_holder_mismatch = fields.Boolean(
        string="Holder Is Not the Employee", copy=False, readonly=True, workflow_only=True,
        help="The account holder typed at the claim is not the employee's name on the HR "
        "record: a Payout Manager reviews the account before money moves.")
    account_number_masked = fields.Char(string="Account", copy=False, readonly=True,
                                        workflow_only=True)
    # What the employee typed, kept only until the payout is final; never shown.
    account_number = EncryptedChar(copy=False, groups="base.group_system", workflow_only=True)
    # The human gate before money moves: a Payout Manager reviews the bank account given.
    account_review_state = fields.Selection(
        selection=[("to_review", "To Review"), ("approved", "Approved"),
                   ("refused", "Refused")],
        string="Bank Account Review", copy=False, readonly=True, index="btree_not_null",
        workflow_only=True,
        help="To Review: the bank account given at the claim waits for a Payout Manager "
        "before money moves (not the one on the HR record, a holder who is not the "
        "employee, or an account other employees gave).",
    )
    # A keyed hash of the bank and number given, kept once the number is wiped
    # (payout_link_guards.py, shared accounts): searched under the first encryption key,
    # recomputed from its sealed inner value when that key changes.
    account_fingerprint = fields.Char(
        copy=False, readonly=True, index="btree_not_null", groups="base.group_system",
        workflow_only=True,
        help="A keyed hash of the bank and the account number given at the claim, kept "
        "once the number is wiped: finds the account on other employees' links.",
    )
    account_fingerprint_sealed = EncryptedChar(copy=False, groups="base.group_system",
                                               workflow_only=True)

    # === The submission: the provider call (payout_link_submission.py) === #

    submission_state = fields.Selection(
        selection=[
            ("to_submit", "To Submit"), ("submitting", "Submitting"),
            ("accepted", "Accepted by Provider"), ("refused", "Refused by Provider"),
        ],
        copy=False, readonly=True, index="btree_not_null", workflow_only=True,
        help="Money-safety mark: 'Submitting' is committed before the provider is called, "
        "so an interrupted call is reconciled instead of sent again.",
    )
    submission_reference = fields.Char(
        string="Reference at Provider", copy=False, readonly=True, index="btree_not_null",
        workflow_only=True,
        help="What the provider knows the payout by: the External ID after a tag of this "
        "database and company, so those sharing one provider account never meet.",
    )
    submission_key = fields.Char(
        string="Idempotency Key", copy=False, readonly=True, workflow_only=True,
        help="Sent with every money-moving call for this link, so it is paid at most once.",
    )
    provider_status = fields.Char(
        copy=False, readonly=True, workflow_only=True,
        help="The provider's last status, as the provider said it."
    )
    provider_reference = fields.Char(copy=False, readonly=True, index="btree_not_null",
                                     workflow_only=True)
    can_check_status = fields.Boolean(compute="_compute_can_check_status")
    follow_after_cancel = fields.Boolean(
        copy=False, readonly=True, workflow_only=True,
        help="Cancelled in Odoo while its provider still holds it: followed until the "
        "provider's status is final.",
    )
    date_provider_call = fields.Datetime(
        string="Last Provider Call", copy=False, readonly=True, workflow_only=True,
        help="When the provider was last asked about this link (status, or a submission "
        "that got no clear answer): both wait a while before asking again.",
    )

    # === Needs attention (payout_link_submission.py) === #

    needs_attention = fields.Boolean(
        copy=False, readonly=True, index=True, workflow_only=True,
        help="The provider's answers leave it unknown whether this payout was made: a Payout "
        "Manager checks at the provider and confirms.",
    )
    unclear_calls = fields.Integer(
        string="Unclear Answers", copy=False, readonly=True, workflow_only=True,
        help="Provider calls in a row whose answer did not say whether the payout exists.",
    )
    date_first_unclear = fields.Datetime(string="Unclear Since", copy=False, readonly=True,
                                         workflow_only=True)
    attention_resolved_by_id = fields.Many2one(
        "res.users", string="Resolved By", copy=False, readonly=True, workflow_only=True)
    date_attention_resolved = fields.Datetime(string="Resolved On", copy=False, readonly=True,
                                              workflow_only=True)
    attention_resolution = fields.Char(string="Resolution", copy=False, readonly=True,
                                       workflow_only=True)

    # === Holds: offboarding (payout_link_guards.py) === #

    hold_reason = fields.Selection(
        selection=[(reason, rule["label"]) for reason, rule in const.HOLD_REASONS.items()],
        string="On Hold", copy=False, readonly=True, index="btree_not_null", tracking=True,
        workflow_only=True,
        help="Not sent, claimed nor paid until released: unarchiving the employee releases "
        "an archived employee's links; a Payout Manager who did not change the address "
        "releases those held for an email change.",
    )
    date_held = fields.Datetime(string="Held On", copy=False, readonly=True,
                                workflow_only=True)
    hold_user_ids = fields.Many2many(
        "res.users", "payout_link_hold_user_rel", "link_id", "user_id", string="Held By",
        copy=False, readonly=True, workflow_only=True,
        help="Who archived the employee or changed their email address: none of them may "
        "release an email change's hold.",
    )

    # === The duplicate guard (payout_link_guards.py) === #

    duplicate_link_ids = fields.Many2many(
        "payout.link", string="Possible Duplicate Of", compute="_compute_duplicate_link_ids",
        workflow_only=True,
        help="The employee's other payouts of the same type, paid or on their way, within "
        "the company's duplicate window (Settings).",
    )
    duplicate_to_confirm = fields.Boolean(
        string="Duplicate to Confirm", compute="_compute_duplicate_link_ids",
        workflow_only=True,
        help="A possible duplicate nobody has confirmed yet: the line is not sent until "
        "someone confirms it or removes it.",
    )
    duplicate_confirmed_link_ids = fields.Many2many(
        "payout.link", "payout_link_duplicate_confirmed_rel", "link_id", "duplicate_id",
        string="Confirmed Despite", copy=False, readonly=True, workflow_only=True,
        help="The payouts this line was confirmed to come on top of.",
    )
    duplicate_confirmed_by_id = fields.Many2one(
        "res.users", copy=False, readonly=True, workflow_only=True)
    date_duplicate_confirmed = fields.Datetime(
        string="Duplicate Confirmed On", copy=False, readonly=True, workflow_only=True)

    # === What an approval covers (payout.approval.mixin) === #

    # The values a Payout Manager approved: the money gate compares the link with them
    # before every send and every provider call (`_get_approval_drift`).
    approved_amount = fields.Monetary(copy=False, readonly=True, workflow_only=True)
    approved_currency_id = fields.Many2one("res.currency", copy=False, readonly=True,
                                           workflow_only=True)
    approved_employee_id = fields.Many2one("hr.employee", copy=False, readonly=True,
                                           workflow_only=True)
    approved_recipient_email = fields.Char(string="Approved Recipient", copy=False,
                                           readonly=True, workflow_only=True)
    approved_provider_id = fields.Many2one("payout.provider", copy=False, readonly=True,
                                           workflow_only=True)
    approved_payout_type = fields.Char(copy=False, readonly=True, workflow_only=True)
    approved_claim_user_id = fields.Many2one("res.users", copy=False, readonly=True,
                                             workflow_only=True)
    checked_recipient_email = fields.Char(
        string="Employee's Checked Address", compute="_compute_checked_recipient_email",
        help="Where the employee's payouts go, as a Payout Manager last checked it: a link "
        "addressed anywhere else waits for a Payout Manager's approval.")

    _sql_constraints = [
        (
            "reference_company_uniq",
            "UNIQUE(company_id, reference)",
            "External ID: must be unique per company.",
        ),
    ]

    def init(self):
        super().init()
        # At most one replacement of a link that may still be paid (a cancelled one does
        # not count): the backstop of `_copy_for_reissue` against concurrent reissues.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS payout_link_one_live_replacement
                ON payout_link (replaced_link_id)
             WHERE replaced_link_id IS NOT NULL AND state != 'cancelled'
        """)

    # ------------------------------------------------------------
    # DEFAULTS AND COMPUTES
    # ------------------------------------------------------------

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
            link.recipient_email = employee._get_checked_payout_email() if employee else False
            link.recipient_phone = utils.normalize_phone(
                employee.mobile_phone or employee.private_phone or employee.work_phone
            )

    @api.depends("employee_id")
    def _compute_checked_recipient_email(self):
        for link in self:
            link.checked_recipient_email = link.employee_id and (
                link.employee_id._get_checked_payout_email())

    def _get_approval_amount(self):
        return self.amount

    def _has_unchecked_recipient(self):
        self.ensure_one()
        employee = self.sudo().employee_id
        checked = employee._get_checked_payout_email()
        if not self.recipient_email or self.recipient_email == checked:
            return False  # as most links are: the address was taken from the employee
        return employee._normalize_payout_email(self.recipient_email) != (
            employee._normalize_payout_email(checked))

    def _get_unchecked_recipient_reason(self):
        self.ensure_one()
        return self._has_unchecked_recipient() and self.env._(
            "addressed to %(recipient)s, not to the employee's checked address %(checked)s",
            recipient=self.recipient_email, checked=self.checked_recipient_email or "-")

    # === What an approval covers === #

    def _approval_cleared(self):
        return dict(super()._approval_cleared(), **dict.fromkeys(APPROVED_FIELDS.values()))

    def _record_approved_values(self, approver=None, date=None):
        """Keep, per link, what the approval covers, and with ``approver`` and ``date`` the
        approval itself (one statement for a whole batch)."""
        if not self:
            return
        self.flush_recordset()
        stamp = [SQL("approved_by_id = %s, date_approved = %s", approver.id, date)] if (
            approver) else []
        self.env.execute_query(SQL(
            """UPDATE payout_link SET %s WHERE id IN %s""",
            SQL(", ").join(stamp + [
                SQL("%s = %s", SQL.identifier(approved), SQL.identifier(name))
                for name, approved in APPROVED_FIELDS.items()]),
            tuple(self.ids)))
        # The claim user the approval covers: the employee's checked one, active (a link
        # not sent yet; a sent one has its own claim user).
        self.env["hr.employee"].flush_model(["payout_checked_user_id"])
        self.env["res.users"].flush_model(["active"])
        self.env.execute_query(SQL(
            """UPDATE payout_link AS link
                  SET approved_claim_user_id = CASE WHEN checked.active THEN checked.id END
                 FROM hr_employee AS employee
            LEFT JOIN res_users AS checked ON checked.id = employee.payout_checked_user_id
                WHERE employee.id = link.employee_id AND link.id IN %s AND link.state IN %s""",
            tuple(self.ids), const.UNSENT_STATES))
        self.invalidate_recordset([*APPROVED_FIELDS.values(), "approved_claim_user_id",
                                   "approved_by_id", "date_approved"])

    def _get_approval_drifts(self):
        """{link: what changed since its approval, field labels} for the approved links of
        ``self`` that are no longer what was approved: one query finds them (a batch has
        thousands of approved lines), `_get_approval_drift` names the changes."""
        approved = self.filtered("approved_by_id")
        if not approved:
            return {}
        approved.flush_recordset([*APPROVED_FIELDS, *APPROVED_FIELDS.values(), "approved_by_id",
                              "approved_claim_user_id", "state", "employee_id"])
        self.env["hr.employee"].flush_model(["payout_checked_user_id"])
        self.env["res.users"].flush_model(["active"])
        rows = self.env.execute_query(SQL(
            """SELECT link.id FROM payout_link AS link
                 JOIN hr_employee AS employee ON employee.id = link.employee_id
            LEFT JOIN res_users AS checked ON checked.id = employee.payout_checked_user_id
                WHERE link.id IN %s AND link.approved_by_id IS NOT NULL AND (%s
                      OR (link.state IN %s AND link.approved_claim_user_id IS DISTINCT FROM
                          CASE WHEN checked.active THEN checked.id END))""",
            tuple(approved.ids),
            SQL(" OR ").join(SQL("link.%s IS DISTINCT FROM link.%s", SQL.identifier(name),
                                 SQL.identifier(approved))
                             for name, approved in APPROVED_FIELDS.items()),
            const.UNSENT_STATES))
        drifted = self.browse(row[0] for row in rows)
        return {link: drift for link in drifted if (drift := link._get_approval_drift())}

    def _get_approval_drift(self):
        """What changed in an approved link since its approval, field labels; [] when it is
        what was approved (or was never approved)."""
        self.ensure_one()
        link = self.sudo()
        if not link.approved_by_id:
            return []
        drift = [self._fields[name].string for name, approved in APPROVED_FIELDS.items()
                 if name != "amount" and link[name] != link[approved]]
        if link.currency_id.compare_amounts(link.amount, link.approved_amount or 0.0):
            drift.append(self._fields["amount"].string)
        if link.state in const.UNSENT_STATES and (
                link.employee_id._get_checked_signin_user() != link.approved_claim_user_id):
            drift.append(self.env._("Sign-in user"))
        return drift

    def _get_threshold_lines(self):
        return self

    def _get_senders(self):
        link = self.sudo()
        return (link.sent_by_id | link.approval_requested_by_id
                | link.batch_id.approval_requested_by_id)

    def _get_payees(self):
        # Whoever may claim the money is paid by it, even once the employee has another
        # user: they approve neither the payout nor its bank account.
        link = self.sudo()
        return link.employee_id.user_id | link.claim_user_id

    @api.depends("state", "hold_reason")
    def _compute_employee_status(self):
        for link in self:
            link.employee_status = "on_hold" if link.hold_reason else (
                const.EMPLOYEE_STATUSES.get(link.state, "not_paid"))

    @api.depends("state", "submission_state", "needs_attention", "provider_id",
                 "provider_reference")
    def _compute_allowed_actions(self):
        for link in self:
            provider = link.provider_id
            link.can_cancel = link.state in const.CANCELLABLE_STATES and bool(
                provider) and not provider._get_cancel_refusal(link)
            link.cancel_kind = provider and provider._get_cancel_kind(link)
            link.can_reissue = link._is_reissuable()

    @api.depends("state", "submission_state", "provider_id.is_polled")
    def _compute_can_check_status(self):
        for link in self:
            link.can_check_status = link.provider_id.is_polled and (
                link.submission_state == "accepted" and link.state in const.PENDING_STATES)

    @api.depends("employee_id", "payout_type", "company_id", "state",
                 "duplicate_confirmed_link_ids")
    def _compute_duplicate_link_ids(self):
        duplicates = self._find_duplicates()
        for link in self:
            link.duplicate_link_ids = duplicates.get(link, self.browse())
            link.duplicate_to_confirm = bool(
                link.duplicate_link_ids - link.duplicate_confirmed_link_ids)

    def _compute_access_url(self):
        super()._compute_access_url()
        for link in self:
            link.access_url = f"/my/payouts/{link.id}"

    # === No portal share token === #
    #
    # The employee's portal page needs their login, and the claim page has its own token
    # (`claim_token_hash`): a payout link is never shared by portal.mixin's token, which
    # `get_portal_url` would create for anyone who can read the link, and which would let
    # its holder post to the chatter.

    def _portal_ensure_token(self):
        return ""

    @api.model
    def _get_thread_with_access(self, thread_id, mode="read", **kwargs):
        # Without the portal's token and signed hash: only users with access rights.
        return super()._get_thread_with_access(thread_id, mode)

    # ------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------
    # A rule is either an `@api.constrains` method (what a stored record must satisfy) or
    # part of `_prepare_and_check_vals`, which `create` and `write` call first: it refuses
    # what the ORM or the database would break unclearly, and the fields frozen once a
    # link leaves draft. The SQL constraint on the reference backs the Python check.

    @api.constrains("reference")
    def _check_reference(self):
        for link in self:
            if link.reference and not const.REFERENCE_RE.fullmatch(link.reference):
                raise ValidationError(self.env._(
                    "External ID: letters and digits only, at most %(max)s characters "
                    "(%(reference)r given).", max=const.MAX_SUBMISSION_REFERENCE,
                    reference=link.reference,
                ))

    @api.constrains("amount", "currency_id")
    def _check_amount(self):
        for link in self:
            if link.currency_id.compare_amounts(link.amount, 0) <= 0:
                raise ValidationError(self.env._("Amount: must be greater than zero."))

    @api.constrains("description")
    def _check_description(self):
        for link in self:
            if link.description and len(link.description) > const.MAX_DESCRIPTION:
                raise ValidationError(self.env._(
                    "Description: at most %(max)s characters (%(given)s given).",
                    max=const.MAX_DESCRIPTION, given=len(link.description),
                ))

    @api.constrains("recipient_name", "recipient_email", "recipient_phone")
    def _check_recipient(self):
        for link in self:
            if link.recipient_name and len(link.recipient_name) > const.MAX_NAME:
                raise ValidationError(self.env._(
                    "Recipient Name: at most %(max)s characters (%(given)s given).",
                    max=const.MAX_NAME, given=len(link.recipient_name),
                ))
            if link.recipient_email and (
                len(link.recipient_email) > const.MAX_EMAIL
                or not email_normalize(link.recipient_email)
            ):
                raise ValidationError(self.env._(
                    "Recipient Email: must be a valid address of at most %(max)s characters "
                    "(%(email)r given).", max=const.MAX_EMAIL, email=link.recipient_email,
                ))
            if link.recipient_phone and not const.PHONE_RE.fullmatch(link.recipient_phone):
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
             ("state", "not in", const.CLOSED_STATES)],
            ["batch_id", "employee_id"], ["__count"], having=[("__count", ">", 1)], limit=1,
        )
        if duplicates:
            [(batch, employee, _count)] = duplicates
            raise ValidationError(self.env._(
                "Employee: %(employee)s already has a line in the batch %(batch)s.",
                employee=employee.name, batch=batch.name,
            ))

    def _prepare_and_check_vals(self, vals_list, creating=False):
        """Normalise ``vals_list`` in place (the phone) and refuse what the ORM or the
        database would otherwise break unclearly: a Monetary field rounds extra decimals
        silently, a missing employee or a duplicate reference fail as bare SQL errors.
        Raises ValidationError naming the field, or UserError for a frozen field."""
        frozen = () if creating else const.DRAFT_ONLY_FIELDS.intersection(set().union(*vals_list))
        if frozen and not all(link._is_editable() for link in self):
            raise UserError(self.env._(
                "Only draft payout links can be changed (%(fields)s). Cancel the link and "
                "create a new one instead.",
                fields=", ".join(self._fields[f].string for f in sorted(frozen)),
            ))
        references = []  # (company id, reference) asked for, in order
        for vals in vals_list:
            if creating and not vals.get("employee_id"):
                raise ValidationError(self.env._("Employee: required."))
            if vals.get("batch_id"):
                batch = self.env["payout.batch"].browse(vals["batch_id"])
                # Only a reissue, the workflow's, adds a line to a batch that left draft.
                if batch.state != "draft" and not (self.env.su and vals.get("replaced_link_id")):
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
                vals["recipient_phone"] = utils.normalize_phone(vals["recipient_phone"]) or vals[
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

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
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
        links = super().create(vals_list)
        # Lines added to a batch are a change of the batch: their author cannot approve it.
        links.batch_id._note_change(self.env.uid)
        links._after_create()
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
        self._prepare_and_check_vals([vals])
        changes_payee = bool(const.PAYEE_FIELDS.intersection(vals))
        changed_batches = self.batch_id
        result = super().write(vals)
        if "batch_id" in vals or APPROVED_FIELDS.keys() & vals.keys() and self.filtered(
                "approved_by_id"):
            # An approval covers what was approved, in the batch it was given in.
            self.sudo().write(self._approval_cleared())
        if changes_payee or "batch_id" in vals:
            (changed_batches | self.batch_id)._note_change(self.env.uid)
        if changes_payee:
            self._note_change(self.env.uid)
        self._after_write(vals)
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

    # ------------------------------------------------------------
    # STATE MACHINE
    # ------------------------------------------------------------

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

    # ------------------------------------------------------------
    # THE MONEY GATE
    # ------------------------------------------------------------

    def _get_money_blockers(self, ask_provider=False):
        """Why money may not move now for each link of ``self``: {link: [UserError]}, the
        links that may move left out.

        The one gate every path to money asks: sending, approving a link or a batch,
        approving a bank account, reissuing, the batch sending cron and the submission
        engine before every provider call. The guards add their reasons through
        `_get_send_blockers`; nothing else may stop a payout.

        :param ask_provider: also ask each provider whether it would take the links now
            (its field rules, a balance): before sending, not before the submission call,
            whose answer says it. A ProviderUnavailable means "not now", not "unfit".
        """
        blockers = defaultdict(list)
        drifts = self._get_approval_drifts()
        for link in self:
            if link.provider_id.state == "disabled":
                blockers[link].append(UserError(self.env._(
                    "%(link)s: the provider %(provider)s is disabled.",
                    link=link.display_name, provider=link.provider_id.name,
                )))
            if not link.recipient_email:
                blockers[link].append(UserError(self.env._(
                    "%(link)s: Recipient Email is required to send the link.",
                    link=link.display_name,
                )))
            if drift := drifts.get(link):
                blockers[link].append(UserError(self.env._(
                    "%(link)s: changed since it was approved (%(fields)s); it must be "
                    "approved again.", link=link.display_name, fields=", ".join(drift),
                )))
            if (link.state in const.UNSENT_STATES and not link.approved_by_id
                    and not link.company_id.payout_approval and link._has_unchecked_recipient()):
                blockers[link].append(UserError(self.env._(
                    "%(link)s is addressed to %(recipient)s, not to the employee's checked "
                    "address %(checked)s: correct the Recipient Email, or turn on approvals "
                    "so that a Payout Manager approves it.", link=link.display_name,
                    recipient=link.recipient_email, checked=link.checked_recipient_email or "-",
                )))
            if link.account_review_state == "to_review":
                blockers[link].append(UserError(self.env._(
                    "%s: its bank account waits for a Payout Manager's review.",
                    link.display_name,
                )))
        for link, reasons in self._get_send_blockers().items():
            blockers[link] += [UserError(reason) for reason in reasons]
        if ask_provider:
            ready = self.filtered(lambda link: link not in blockers)
            for provider, links in ready.grouped("provider_id").items():
                try:
                    provider._check_payout_requests(links)
                except UserError as error:
                    for link in links:
                        blockers[link].append(error)
        return dict(blockers)

    def _check_money_may_move(self, ask_provider=True):
        """Raise one UserError listing why money may not move for the links of ``self``,
        before any moves (the money gate, `_get_money_blockers`)."""
        blockers = self._get_money_blockers(ask_provider=ask_provider)
        # One per distinct reason: a provider's refusal of a whole batch is said once.
        errors = list(dict.fromkeys(
            error.args[0] for link in self for error in blockers.get(link, ())))
        if errors:
            more = len(errors) - const.MAX_LINES_IN_ERROR
            raise UserError("\n".join(errors[:const.MAX_LINES_IN_ERROR] + (
                [self.env._("… and %s more.", more)] if more > 0 else [])))

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

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
        self._check_money_may_move()
        self.sudo().sent_by_id = self.env.user
        self._send_or_request_approval()
        return True

    def _send_or_request_approval(self):
        """Send the links the money gate let through, or put up for approval those over
        the threshold, by their amount or by what their employee receives
        (`_get_approval_reasons`)."""
        approval_reasons = self._get_approval_reasons()
        to_approve = self.filtered(lambda link: link in approval_reasons)
        to_approve._request_approval()
        for link in to_approve:
            link._update_state("to_approve", message=self.env._(
                "Waiting for a Payout Manager's approval: %s.", approval_reasons[link]))
        (self - to_approve)._send_links()

    def _check_reissue_under_threshold(self):
        """Refuse to reissue lines of a batch that, unapproved, would take their employee
        over the approval threshold: the batch, already sent, cannot wait for approval
        again. A link reissued on its own waits for approval instead."""
        if reasons := self.filtered("batch_id")._get_approval_reasons():
            raise UserError("\n".join(self.env._(
                "%(link)s: %(reason)s; a line of a batch already sent cannot wait for "
                "approval: cancel the batch's line and send a new link instead.",
                link=link.display_name, reason=reason,
            ) for link, reason in list(reasons.items())[:const.MAX_LINES_IN_ERROR]))

    def action_approve(self):
        if in_batch := self.filtered("batch_id"):
            raise UserError(self.env._(
                "%s: lines of a batch are approved with their batch.",
                ", ".join(in_batch.mapped("display_name")),
            ))
        self._check_approver()
        # Asked again: a payout may have been made, or the employee have left, since the
        # link was sent for approval.
        self._check_money_may_move()
        self._stamp_approval()
        self._send_links()
        return True

    def _refuse(self, reason):
        """Back to draft, for the editor to correct or cancel (reason in the chatter)."""
        self._log_refusal(reason)
        self._update_state("draft")

    def _send_links(self, log=True):
        """Send links the money gate let through: Odoo emails the claim links it hosts, the
        provider the others.

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
        self.sudo().write({"claim_token_hash": False, "reminder_token_hash": False})
        for link, answer in answers.items():
            # Followed until the provider's status is final: a later payment shows.
            link.sudo().write({"provider_status": answer.raw_status,
                               "follow_after_cancel": answer.state not in const.FINAL_STATES})
        return True

    # === Queueing for the provider === #

    def _queue_values(self, submission_state):
        """The marks stored with a link queued for its provider, before any call: its
        idempotency key and the reference the provider will know it by."""
        self.ensure_one()
        provider = self.provider_id
        return {"submission_state": submission_state,
                "submission_key": provider._new_submission_key(self),
                "submission_reference": provider._new_submission_reference(self)}

    def _trigger_submissions(self):
        """Run the payment cron soon: links wait for it with 'to_submit'."""
        self.env.ref("hr_payout_link.ir_cron_payout_submit")._trigger()

    def _is_claimable(self):
        """Whether the employee may give their bank account for the link now."""
        self.ensure_one()
        return self.state in const.CLAIMABLE_STATES and not self.hold_reason

    # ------------------------------------------------------------
    # REISSUE
    # ------------------------------------------------------------
    # A new link for one that failed or expired, when no provider can still pay it. A
    # link is replaced at most once while its replacement may be paid: the originals' rows
    # are locked before the copy, and a partial unique index (`init`) refuses a second
    # live replacement that a concurrent reissue could not see yet.

    def _is_reissuable(self):
        """Whether a new link may replace this one: it failed or expired, and no provider
        can still pay it (a submission whose outcome is unknown, or that needs attention,
        might still be paid)."""
        self.ensure_one()
        return (self.state in const.REISSUABLE_STATES and not self.needs_attention
                and self.submission_state not in ("to_submit", "submitting"))

    def action_reissue(self):
        """Fresh links (new token and secret, same data) for failed or expired ones."""
        self.check_access("write")
        if wrong := self.filtered(lambda link: link.state not in const.REISSUABLE_STATES):
            raise UserError(self.env._(
                "Only failed or expired links can be reissued: %s.",
                ", ".join(wrong.mapped("display_name")),
            ))
        self._check_reissuable()
        # The gate, on the links replaced: a payout made since, by hand, would be paid again.
        self._check_money_may_move(ask_provider=False)
        in_batch = self.filtered("batch_id")
        in_batch._check_reissue_under_threshold()
        for batch, lines in in_batch.grouped("batch_id").items():
            batch._reissue_lines(lines)
        new_links = (self - in_batch)._copy_for_reissue()
        # A copy held for an unchecked email address waits as a draft for its release,
        # then Send; the others go now.
        to_send = new_links.filtered(lambda link: not link.hold_reason)
        to_send._check_money_may_move()
        # What the employee received since the link was first sent counts: the
        # replaced link, failed or expired, does not.
        to_send._send_or_request_approval()
        if len(new_links) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "payout.link",
                "res_id": new_links.id,
                "view_mode": "form",
            }
        return True

    def _check_reissuable(self):
        if unsure := self.filtered(lambda link: not link._is_reissuable()):
            raise UserError(self.env._(
                "%s: the provider may still pay it (its outcome is not known yet, or needs "
                "attention); it cannot be reissued until a Payout Manager confirms it was not "
                "paid.", ", ".join(unsure.mapped("display_name")),
            ))
        if reissued := self.filtered("reissued_link_ids"):
            raise UserError(self.env._(
                "%s: already reissued; a second new link would pay the same payout twice.",
                ", ".join(reissued.mapped("display_name")),
            ))

    def _copy_for_reissue(self):
        """Draft copies of failed or expired links, approved (and confirmed as meant despite
        a possible duplicate) as the originals were.

        Two users reissuing one link at once make one copy: the originals' rows are locked
        first, so the second waits for the first, and the database refuses a second live
        replacement of a link (the unique index of `init`) whose copy it could not see yet.
        Any reissue of a link marks its expiry's "reissue it?" activity done.
        """
        if not self:
            return self
        self.flush_recordset()
        self.env.execute_query(SQL(
            "SELECT id FROM payout_link WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids)))
        self.invalidate_recordset()
        self._check_reissuable()
        new_links = self.browse()
        try:
            with self.env.cr.savepoint():
                for link in self:
                    # As sudo: the replaced link, the approval and the confirmation of a
                    # duplicate are the workflow's; the new link carries the original's.
                    new_links |= link.sudo().copy({
                        "replaced_link_id": link.id,
                        "sent_by_id": self.env.uid,
                        "approved_by_id": link.approved_by_id.id,
                        "date_approved": link.date_approved,
                        **{approved: link[approved]._origin.id if isinstance(
                            link[approved], models.BaseModel) else link[approved]
                           for approved in (*APPROVED_FIELDS.values(),
                                            "approved_claim_user_id")},
                        "duplicate_confirmed_link_ids": [
                            Command.set(link.duplicate_confirmed_link_ids.ids)],
                        "duplicate_confirmed_by_id": link.duplicate_confirmed_by_id.id,
                        "date_duplicate_confirmed": link.date_duplicate_confirmed,
                    }).with_env(self.env)
                new_links.flush_recordset()
        except psycopg2.errors.UniqueViolation as error:
            raise UserError(self.env._(
                "%s: already reissued by someone else just now; a second new link would pay "
                "the same payout twice.", ", ".join(self.mapped("display_name")),
            )) from error
        for link, new_link in zip(self, new_links, strict=True):
            link.message_post(body=self.env._("Reissued as %s.", new_link._get_html_link()))
        self.activity_feedback([REISSUE_ACTIVITY])
        return new_links

    # ------------------------------------------------------------
    # DISPLAY: what the employee reads
    # ------------------------------------------------------------
    # Dates in the employee's own time zone and language, the same instant on the claim
    # page, in the emails and on /my/payouts.

    def _get_employee_lang(self):
        """The language the employee reads: their work contact's, else the company's
        (the first of them that is installed)."""
        self.ensure_one()
        employee = self.sudo().employee_id
        installed = dict(self.env["res.lang"].get_installed())
        for code in (employee.work_contact_id.lang, self.company_id.partner_id.lang):
            if code in installed:
                return code
        return get_lang(self.env).code

    def _get_employee_tz(self):
        """The employee's time zone, else the company's (its working hours'), else UTC."""
        self.ensure_one()
        employee = self.sudo().employee_id
        company = self.company_id
        return (employee.tz or company.resource_calendar_id.tz or company.partner_id.tz
                or "UTC")

    def _format_for_employee(self, value):
        """``value``, a UTC datetime, as the employee reads it: in their time zone, in
        their language's date and time formats, to the minute."""
        self.ensure_one()
        if not value:
            return ""
        lang = get_lang(self.env, self._get_employee_lang())
        return format_datetime(self.env, value, tz=self._get_employee_tz(),
                               dt_format=_minute_pattern(lang.code, lang.date_format,
                                                         lang.time_format),
                               lang_code=lang.code)

    def _get_payout_kind(self):
        """What the email calls the payout ("sent you a bonus"), in the email's language
        (a template renders in its recipient's)."""
        self.ensure_one()
        if self.payout_type == "bonus":
            return self.env._("bonus")
        if self.payout_type == "commission":
            return self.env._("commission")
        return self.env._("payment")

    def _payout_type_label(self):
        self.ensure_one()
        return dict(self._fields["payout_type"]._description_selection(self.env))[
            self.payout_type].lower()

    # ------------------------------------------------------------
    # EXTENSION HOOKS
    # ------------------------------------------------------------
    # Declared here, each implemented at most once, by the file named.

    def _get_send_blockers(self):
        """Why the guards stop money for links of ``self``: {link: [message]}. Asked by the
        money gate (`_get_money_blockers`) on every path to money.

        Implemented by payout_link_guards.py: holds, departed employees, possible
        duplicates.
        """
        return {}

    def _find_duplicates(self):
        """{link: its possible duplicates} for the links of ``self`` not sent yet, or to
        reissue. Implemented by payout_link_guards.py."""
        return {}

    def _get_employee_totals(self):
        """{employee: what they receive in the approval threshold's window, in the company's
        currency}: their payouts paid or on their way, as the duplicate guard counts them
        but of every type, plus the links of ``self``. Asked by `_get_approval_reasons`.
        Implemented by payout_link_guards.py."""
        return {}

    def _get_claim_review_reasons(self, bank, account_number):
        """Sentences saying why a Payout Manager reviews the bank account given at the
        claim before money moves, besides an account not on the HR record and a holder who
        is not the employee. Implemented by payout_link_guards.py (shared accounts)."""
        return []

    def _after_claim(self, bank, account_number):
        """Called once the employee's bank account is recorded on the link. Implemented by
        payout_link_guards.py (shared accounts)."""

    def _after_create(self):
        """Called on the links just created. Implemented by payout_link_guards.py (links
        made while an employee's address is unchecked are held)."""

    def _after_write(self, vals):
        """Called after ``vals`` were written. Implemented by payout_link_guards.py."""

    def _on_state_changed(self, state):
        """What follows a state change: the receipt, or telling the responsible user.

        Extended by payout_link_claim.py (reminders, the reissue asked at expiry).
        """
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
        if state in const.FINAL_STATES:
            self._on_final_state(state)

    def _on_final_state(self, state):
        """Called once links reached a final state. Implemented by payout_link_guards.py
        (a hold ends with its link)."""

    def _send_claim_links(self, log=True):
        """Email the links the employee claims in Odoo, and mark them sent. Implemented by
        payout_link_claim.py."""
        raise NotImplementedError

    def _send_reminders(self):
        """Email due links a reminder. Implemented by payout_link_claim.py."""
        raise NotImplementedError

    def _send_to_provider(self, log=True):
        """Queue links for a provider that hosts the claim, and mark them sent. Implemented
        by payout_link_submission.py."""
        raise NotImplementedError
