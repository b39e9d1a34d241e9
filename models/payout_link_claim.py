"""The claim of a payout link hosted by Odoo: the secret's whole life, from issuing it
with the claim email to the bank account the employee gives, and its review.

The public claim page (controllers/claim.py) calls these methods on a sudo record, after
finding the link by its token. The secret exists in clear only in the queued email; the
link keeps a keyed hash of it.
"""

import logging
import secrets
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, consteq, format_amount, frozendict
from odoo.tools.misc import hmac

from .. import const, utils
from ..controllers.claim import PayoutClaimController
from ..encryption import EncryptedChar

_logger = logging.getLogger(__name__)


class PayoutLink(models.Model):
    _inherit = "payout.link"

    # The claim's own token, never the portal.mixin share token (`access_token`, which
    # payout links do not use): it opens the claim page and nothing else.
    claim_token = fields.Char(copy=False, index="btree_not_null", groups="base.group_system")
    secret_hash = fields.Char(copy=False, groups="base.group_system")
    failed_attempts = fields.Integer(string="Wrong Secrets", copy=False, readonly=True)
    refused_by_recipient = fields.Boolean(
        string="Not for the Recipient", copy=False, readonly=True,
        help="Whoever received the claim email said on the claim page that it is not for "
        "them: the link was locked.")
    expiry_date = fields.Datetime(string="Expires On", copy=False, readonly=True, index=True)
    date_reminded = fields.Datetime(
        string="Last Reminded On", copy=False, readonly=True,
        help="When the employee was last reminded that the link is about to expire.",
    )
    bank_id = fields.Many2one("res.bank", copy=False, readonly=True)
    account_holder_name = fields.Char(copy=False, readonly=True)
    account_holder_mismatch = fields.Boolean(
        string="Holder Is Not the Employee", copy=False, readonly=True,
        help="The account holder typed at the claim is not the employee's name on the HR "
        "record: a Payout Manager reviews the account before money moves.")
    account_number_masked = fields.Char(string="Account", copy=False, readonly=True)
    # What the employee typed, kept only until the payout is final; never shown.
    account_number = EncryptedChar(copy=False, groups="base.group_system")

    # === The claim URL === #

    def _get_claim_path(self):
        """The claim page's path: the only way to the claim page is its token."""
        self.ensure_one()
        return f"{PayoutClaimController._claim_url}/{self.sudo().claim_token}"

    def _get_claim_url(self):
        """The claim page's full URL, as the claim and reminder emails give it."""
        self.ensure_one()
        return self.get_base_url() + self._get_claim_path()

    # === Issuing the secret === #

    def _send_claim_links(self, log=True):
        """Issue a fresh token and secret per link, and queue their emails (claimed in Odoo).

        An employee with a user claims signed in instead (payout_link_signin.py): their
        link gets that user, and neither a token nor a secret.

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
            expiry = now + timedelta(days=link.provider_id.link_validity_days)
            if claim_user := link._get_signin_user():
                rows.append(SQL("(%s, NULL, NULL, %s::timestamp, %s::int)", link.id, expiry,
                                claim_user.id))
                continue
            secret = "".join(secrets.choice(const.SECRET_ALPHABET)
                             for _index in range(const.SECRET_LENGTH))
            link_secrets[link.id] = secret
            rows.append(SQL("(%s, %s, %s, %s::timestamp, NULL::int)", link.id,
                            secrets.token_urlsafe(32), link._hash_secret(secret), expiry))
        self.flush_recordset()
        self.env.execute_query(SQL(
            """UPDATE payout_link AS link
                  SET claim_token = new.token, secret_hash = new.secret_hash,
                      expiry_date = new.expiry, failed_attempts = 0,
                      claim_user_id = new.claim_user_id
                 FROM (VALUES %s) AS new(id, token, secret_hash, expiry, claim_user_id)
                WHERE link.id = new.id""", SQL(", ").join(rows),
        ))
        self.invalidate_recordset(["claim_token", "secret_hash", "expiry_date",
                                   "failed_attempts", "claim_user_id"])
        self._update_state("sent")
        if log:
            for link in self:
                link.message_post(body=self.env._(
                    "Payout link emailed to %(email)s, to claim signed in as %(user)s; it "
                    "expires on %(expiry)s.",
                    email=link.recipient_email, user=link.claim_user_id.sudo().login,
                    expiry=fields.Datetime.to_string(link.expiry_date),
                ) if link.claim_user_id else self.env._(
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
        rendered = self._render_claim_emails(template)
        mails_values = []
        for link in self:
            values = rendered[link.id]
            if not values.get("email_from"):
                values.pop("email_from", None)  # the mail's default sender, as Odoo does
            # The recipients are the link's, whatever the template says: an edit of the
            # template must not copy the secret to anyone else (cc, partners, reply-to).
            mails_values.append(dict(values, auto_delete=True, email_to=link.recipient_email))
        self.env["mail.mail"].sudo().create(mails_values)

    def _render_claim_emails(self, template):
        """{link id: email values} rendered from ``template``.

        A body that only calls a QWeb view (as the shipped one does) is rendered from the
        view, which Odoo compiles once; a template body is compiled again for every email,
        which counts for a batch of thousands. A customised body renders as usual.
        """
        view_call = const.VIEW_CALL_RE.fullmatch(str(template.body_html or ""))
        if not view_call:
            return template._generate_template(self.ids, const.CLAIM_EMAIL_FIELDS)
        render_fields = [name for name in const.CLAIM_EMAIL_FIELDS if name != "body_html"]
        rendered = {}
        # Each email's language is rendered once: the groups' templates take it as given.
        for lang, (lang_template, link_ids) in template._classify_per_lang(self.ids).items():
            rendered.update(lang_template.with_context(
                template_preview_lang=lang)._generate_template(link_ids, render_fields))
            bodies = lang_template._render_template(
                view_call.group(1), self._name, link_ids, engine="qweb_view",
                options=template._fields["body_html"].render_options,
            )
            for link_id, body in bodies.items():
                rendered[link_id]["body_html"] = body
        return rendered

    # === Checking the secret === #

    def _hash_secret(self, secret):
        self.ensure_one()
        # Keyed with the database secret and bound to the link: a copied hash is useless,
        # and the short secret cannot be brute-forced from a dump alone.
        return hmac(self.env(su=True), "payout-link-secret", f"{self.id}:{secret}")

    def _check_secret(self, secret):
        """Return True for the right secret; count a wrong one and lock at the limit."""
        self.ensure_one()
        typed_hash = self._hash_secret(utils.normalize_secret(secret))
        if consteq(typed_hash, self.sudo().secret_hash or ""):
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
            locked = self.env._("Locked after %s wrong secrets", attempts)
            self._update_state("failed", values={"failure_reason": locked,
                                                 "employee_reason": locked})
        return False

    def _refuse_as_recipient(self):
        """Whoever holds the claim email says it is not for them: the link fails, so
        nobody claims it, and its responsible user checks the recipient before a reissue."""
        self.ensure_one()
        self._update_state("failed", values={
            "refused_by_recipient": True,
            "failure_reason": self.env._(
                "The person who received the claim email said it is not for them: check "
                "the recipient (%s) before reissuing.", self.recipient_email),
            "employee_reason": self.env._("You told us this payout is not for you."),
        })

    def _mark_opened(self):
        if self.state == "sent":
            self._update_state("opened")

    def _expire_if_due(self):
        """Expire a claimable link past its expiry now, without waiting for the cron."""
        self.ensure_one()
        if self.state in const.CLAIMABLE_STATES and self.expiry_date and (
            self.expiry_date <= fields.Datetime.now()
        ):
            self._update_state("expired")

    # === The bank account === #

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
        if self.state not in const.CLAIMABLE_STATES:
            return False
        unknown_account = self.company_id.payout_review_new_accounts and not (
            self._is_trusted_account(bank, account_number))
        employee_name = self.sudo().employee_id.name
        holder_mismatch = self.company_id.payout_check_account_holder and not utils.names_match(
            holder_name, employee_name)
        review_reasons = self._get_review_reasons(bank, account_number)
        to_review = unknown_account or holder_mismatch or bool(review_reasons)
        message = self.env._(
            "Claimed: paying to %(bank)s %(account)s.",
            bank=bank.name, account=utils.mask_account_number(account_number),
        )
        if unknown_account:
            message += " " + self.env._(
                "This is not the bank account on the employee's record: a Payout Manager "
                "reviews it before money moves."
            )
        if holder_mismatch:
            message += " " + self.env._(
                "The account holder, %(holder)s, is not the employee's name on the HR "
                "record, %(employee)s: a Payout Manager reviews it before money moves.",
                holder=holder_name, employee=employee_name,
            )
        for reason in review_reasons:
            message += " " + reason
        self._update_state("processing", values={
            "bank_id": bank.id,
            "account_number": account_number,
            "account_number_masked": utils.mask_account_number(account_number),
            "account_holder_name": holder_name,
            "account_holder_mismatch": holder_mismatch,
            **self._queue_values("to_review" if to_review else "to_submit"),
        }, message=message)
        if to_review:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=(self.user_id or self.create_uid).id,
                summary=self.env._("Have a Payout Manager review the new bank account"),
            )
        else:
            self._trigger_submissions()
        return True

    def _get_review_reasons(self, bank, account_number):
        """Sentences saying why a Payout Manager reviews the account before money moves,
        besides an account not on the HR record and a holder who is not the employee: the
        claim's other concerns add theirs."""
        return []

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
        self._trigger_submissions()
        return True

    def action_refuse_account(self):
        """A Payout Manager rejects the bank account: the link fails and can be reissued."""
        self._check_account_reviewer()
        self.sudo().submission_state = False
        self._update_state("failed", values={
            "failure_reason": self.env._("Bank account refused by %s", self.env.user.name),
            "employee_reason": self.env._("The bank account you gave was not accepted."),
        })
        return True

    def _check_account_reviewer(self):
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can review bank accounts."))
        if wrong := self.filtered(lambda link: link.submission_state != "to_review"):
            raise UserError(self.env._(
                "%s: no bank account waits for review.", ", ".join(wrong.mapped("display_name"))
            ))
        self._check_four_eyes(self.env._("review the bank account"))

    def _validate_bank_account(self, bank, account_number, holder_name):
        errors = []
        if not bank or bank not in self.provider_id._get_payout_banks():
            errors.append(self.env._("Bank: choose a bank from the list."))
        if not const.ACCOUNT_NUMBER_RE.fullmatch(account_number or ""):
            errors.append(self.env._("Account Number: 6 to 20 digits, nothing else."))
        if not (holder_name or "").strip() or len(holder_name) > const.MAX_NAME or not (
                holder_name.isprintable()):
            errors.append(self.env._(
                "Account Holder: required, at most 50 characters, no control characters."))
        return errors

    # === The claim page === #

    def _get_claim_page_values(self):
        """Values shared by the claim page and the portal page of a link."""
        self.ensure_one()
        return {
            "link": self,
            "amount": format_amount(self.env, self.amount, self.currency_id),
            "sender": self.provider_id.sender_name or self.company_id.name,
            "banks": self.provider_id._get_payout_banks(),
            "test_accounts": self.provider_id._get_test_accounts(),
        }
