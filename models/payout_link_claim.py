"""The employee-facing life of a payout link hosted by Odoo: the claim email with its token
and secret (or the signed-in claim), the claim page's checks, the bank account the employee
gives and its review, then reminders before expiry and the reissue asked at expiry.

The public claim page (controllers/claim.py) and /my/payouts (controllers/portal.py) call
these methods on a sudo record, after finding the link by its token or its signed-in user.
The secret exists in clear only in the queued email; the link keeps a keyed hash of it,
itself encrypted. The claim token too is only in the emails' URLs: the link keeps its
SHA-256 (`claim_token_hash`), and each reminder carries a fresh token of its own
(`reminder_token_hash`, the latest reminder's), so that a database dump opens no claim
page. These emails are queued detached from the link (`_queue_claim_emails`): no copy of
their URL or secret is in its chatter or in any message a back-office user reads.

**The signed-in claim.** Whether a link is claimed signed in is decided when it is sent
(`_send_claim_links`) and stored on the link (``claim_user_id``): no token nor secret is
issued for it, its email only says where to sign in, and only that user, signed in, claims
it. A later change of the employee's user neither switches a sent link back to a secret
nor hands it to another login.

**Reminders** (links claimed in Odoo; providers that host the claim remind their own): a
company sends ``payout_reminder_count`` reminders per link, the first
``payout_reminder_days`` before expiry and the others spread evenly from there until
expiry (3 reminders from 3 days before go 3, 2 and 1 day before). Never two emails about a
link within `const.REMINDER_GAP_HOURS`: the first goes no sooner than that after the claim
email (a link valid for fewer days than the setting is reminded from then on), each other
one no sooner than that after the last (a late cron run, or more reminders than days,
pushes it), and one pushed to expiry is dropped: a short window holds fewer reminders.
Each link stores the date of its next reminder, set when it is sent, at each reminder, and
when its company's settings change (the reminders it was already sent count): the
reminder cron reads one indexed date.

**At expiry**, whoever can reissue the link gets an activity with a Reissue button
(static/src/activity): the employee's manager when they may send payout links, else the
link's responsible user. The button runs `action_reissue` with all its rules; any reissue
of the link marks the activity done.
"""

import hashlib
import logging
import secrets
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, consteq, format_amount, frozendict
from odoo.tools.misc import hmac

from .. import const, encryption, utils
from ..controllers.claim import PayoutClaimController
from .payout_link import REISSUE_ACTIVITY

_logger = logging.getLogger(__name__)


class PayoutLink(models.Model):
    _inherit = "payout.link"

    # === The claim URL === #

    def _get_claim_path(self):
        """Where the employee claims: the claim page, whose only way in is its token; or,
        for a link claimed signed in, their portal page, which asks them to sign in.

        The token is not stored (only its hash is): it is known only while an email
        carrying it is rendered, and on the claim page opened with it, both of which put
        it in the context (``payout_claim_tokens``, link id -> token). Anywhere else the
        link has no claim path: False.
        """
        self.ensure_one()
        if self.claim_user_id:
            return self.access_url
        token = self.env.context.get("payout_claim_tokens", {}).get(self.id)
        return token and f"{PayoutClaimController._claim_url}/{token}"

    def _get_claim_url(self):
        """The claim page's full URL, as the claim and reminder emails give it (False
        where no token is known: see `_get_claim_path`)."""
        self.ensure_one()
        path = self._get_claim_path()
        return path and self.get_base_url() + path

    @api.model
    def _hash_claim_token(self, token):
        """What the link stores of a claim token: its SHA-256, in hex. Unkeyed on
        purpose: a token has 256 random bits, so the hash cannot be inverted, and a key
        would have to be rotated with every stored hash."""
        return hashlib.sha256(token.encode()).hexdigest()

    @api.model
    def _new_claim_token(self):
        """(token, its hash): a fresh token of 256 random bits."""
        token = secrets.token_urlsafe(32)
        return token, self._hash_claim_token(token)

    # === The signed-in claim === #

    def _get_signin_user(self):
        """The employee's checked sign-in user, if any (portal or internal, active): the one
        a link sent now is claimed by, instead of a secret. A pending change of user is
        offered nothing until a Payout Manager checks it."""
        self.ensure_one()
        return self.sudo().employee_id._get_checked_signin_user()

    def _follow_checked_user(self, employee, old_user, new_user):
        """A Payout Manager checked ``employee``'s new sign-in user: their links still to
        claim signed in by ``old_user`` are claimed by ``new_user`` (by nobody when there
        is none: cancel and send them again)."""
        links = self.sudo().search([("employee_id", "=", employee.id),
                                    ("claim_user_id", "=", old_user.id),
                                    ("state", "in", const.CLAIMABLE_STATES)]) if old_user else (
            self.browse())
        if not links:
            return
        links.write({"claim_user_id": new_user.id or False})
        for link in links:
            link.message_post(body=self.env._(
                "To be claimed signed in as %(new)s (was %(old)s): the employee's new sign-in "
                "user was checked.", new=new_user.login or "-", old=old_user.login))

    def _is_claimable_by(self, user):
        """Whether ``user``, signed in, may give the bank account of this link now."""
        self.ensure_one()
        return self.claim_user_id == user and self._is_claimable()

    # === Issuing the secret === #

    def _send_claim_links(self, log=True):
        """Implementation of the core's hook: issue a fresh token and secret per link, and
        queue their emails (claimed in Odoo).

        An employee with a user claims signed in instead: their link gets that user, and
        neither a token nor a secret.

        The secret and the token exist in clear only in the queued email, which is not
        attached to the link (no copy in the chatter) and is deleted once sent; the link
        keeps the token's hash and the secret's keyed hash, encrypted. Database work is
        constant per batch of links: one UPDATE stores every token, one render queues
        every email.
        """
        if not self:
            return
        now = fields.Datetime.now()
        link_secrets = {}
        link_tokens = {}
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
            link_tokens[link.id], token_hash = self._new_claim_token()
            rows.append(SQL("(%s, %s, %s, %s::timestamp, NULL::int)", link.id, token_hash,
                            encryption.encrypt(link._hash_secret(secret)), expiry))
        self.flush_recordset()
        self.env.execute_query(SQL(
            """UPDATE payout_link AS link
                  SET claim_token_hash = new.token_hash, reminder_token_hash = NULL,
                      secret_hash = new.secret_hash, expiry_date = new.expiry,
                      failed_attempts = 0, claim_user_id = new.claim_user_id
                 FROM (VALUES %s) AS new(id, token_hash, secret_hash, expiry, claim_user_id)
                WHERE link.id = new.id""", SQL(", ").join(rows),
        ))
        self.invalidate_recordset(["claim_token_hash", "reminder_token_hash", "secret_hash",
                                   "expiry_date", "failed_attempts", "claim_user_id"])
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
        self._queue_claim_emails("mail_template_payout_link", link_secrets, link_tokens)

    def _queue_claim_emails(self, template_xmlid, link_secrets=None, link_tokens=None):
        """Queue one email per link that carries its claim URL (the claim email, a
        reminder), rendered from the addon's mail template ``template_xmlid`` with the
        secrets and tokens given ({link id: clear value}).

        Not mail.template.send_mail_batch: it also copies each body into a message on the
        link, which anyone who reads the link reads in its chatter, sanitised for it. That
        copy would hold the token and the secret again, and sanitising it was most of the
        cost of a batch. The emails are created as sudo with no model nor record (only
        system administrators read them) and deleted once sent.
        """
        template = self.env.ref(f"hr_payout_link.{template_xmlid}").with_context(
            payout_secrets=frozendict(link_secrets or {}),
            payout_claim_tokens=frozendict(link_tokens or {}))
        rendered = self._render_claim_emails(template)
        mails_values = []
        for link in self:
            values = rendered[link.id]
            if not values.get("email_from"):
                values.pop("email_from", None)  # the mail's default sender, as Odoo does
            # The recipients are the link's, whatever the template says: an edit of the
            # template must not copy the secret or the claim URL to anyone else (cc,
            # partners, reply-to).
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
        """The keyed hash of ``secret`` that ``secret_hash`` holds, encrypted.

        Keyed with the database secret and bound to the link: a hash copied to another
        link is useless. ``database.secret`` is in a dump, so the hash is also stored
        encrypted under the key kept outside the database (`secret_hash` is an
        EncryptedChar): a dump alone holds no hash to test the short secret against, and
        bin/rotate-key re-encrypts it with the other secrets.
        """
        self.ensure_one()
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

        Raises ValidationError (naming the field) and changes nothing on bad input. A link
        the employee may not claim now (held, or no longer claimable) takes no bank
        account. The money moves in `_cron_submit_payouts`, never in the request that
        claims.

        :return: whether the account was recorded.
        """
        self.ensure_one()
        errors = self._validate_bank_account(bank, account_number, holder_name)
        if errors:
            raise ValidationError("\n".join(errors))
        # Serialise concurrent claims of the same link, then re-check its state.
        self.flush_recordset(["state", "hold_reason"])
        self.env.execute_query(SQL(
            "SELECT id FROM payout_link WHERE id = %s FOR NO KEY UPDATE", self.id
        ))
        self.invalidate_recordset(["state", "hold_reason"])
        if not self._is_claimable():
            return False
        unknown_account = self.company_id.payout_review_new_accounts and not (
            self._is_trusted_account(bank, account_number))
        employee_name = self.sudo().employee_id.name
        holder_mismatch = self.company_id.payout_check_account_holder and not utils.names_match(
            holder_name, employee_name)
        review_reasons = self._get_claim_review_reasons(bank, account_number)
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
        queue_values = self._queue_values(False if to_review else "to_submit")
        self._update_state("processing", values={
            "bank_id": bank.id,
            "account_number": account_number,
            "account_number_masked": utils.mask_account_number(account_number),
            "account_holder_name": holder_name,
            "account_holder_mismatch": holder_mismatch,
            "account_review_state": "to_review" if to_review else False,
            **queue_values,
        }, message=message)
        self._after_claim(bank, account_number)
        if to_review:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=(self.user_id or self.create_uid).id,
                summary=self.env._("Have a Payout Manager review the new bank account"),
            )
        else:
            self._trigger_submissions()
        return True

    def _is_trusted_account(self, bank, account_number):
        """Whether the account is the one HR keeps on the employee's record, as a Payout
        Manager last checked it (a pending change of it is not trusted yet)."""
        checked = self.sudo().employee_id.payout_checked_bank
        if not checked:
            return False
        bank_id, number = checked.split(":", 1)
        return number == account_number and (not bank_id or int(bank_id) == bank.id)

    @staticmethod
    def _is_same_account(partner_bank, bank, account_number):
        """Whether ``partner_bank`` (a res.partner.bank) is ``account_number`` at ``bank``:
        the same digits, at that bank or at no bank in particular."""
        return bool(partner_bank) and any(
            account.sanitized_acc_number == account_number
            and (not account.bank_id or account.bank_id == bank) for account in partner_bank)

    def action_approve_account(self):
        """A Payout Manager accepts the bank account an employee gave: money moves, once
        the money gate lets it."""
        self._check_account_reviewer()
        # The gate, as once the account is approved: nothing else may stop the money.
        with self.env.cr.savepoint():
            self.sudo().account_review_state = "approved"
            self._check_money_may_move(ask_provider=False)
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
        self.sudo().write({"account_review_state": "refused", "submission_state": False})
        self._update_state("failed", values={
            "failure_reason": self.env._("Bank account refused by %s", self.env.user.name),
            "employee_reason": self.env._("The bank account you gave was not accepted."),
        })
        return True

    def _check_account_reviewer(self):
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can review bank accounts."))
        if wrong := self.filtered(lambda link: link.account_review_state != "to_review"):
            raise UserError(self.env._(
                "%s: no bank account waits for review.", ", ".join(wrong.mapped("display_name"))
            ))
        self._check_four_eyes(self.env._("review the bank account"))
        # Nor one whose own account it is: they would approve paying a colleague's payout
        # to themselves.
        own_accounts = self.env.user.sudo().with_context(
            active_test=False).employee_ids.bank_account_id
        if own := self.sudo().filtered(lambda link: self._is_same_account(
                own_accounts, link.bank_id, link.account_number)):
            raise UserError(self.env._(
                "%s: the bank account given is the one on your own employee record; another "
                "Payout Manager must review the bank account.",
                ", ".join(own.mapped("display_name"))))

    def _validate_bank_account(self, bank, account_number, holder_name):
        errors = []
        if not bank or bank not in self.provider_id._get_payout_banks():
            errors.append(self.env._("Bank: choose a bank from the list."))
        if not const.ACCOUNT_NUMBER_RE.fullmatch(account_number or ""):
            errors.append(self.env._("Account Number: 6 to 20 digits, nothing else."))
        if not (holder_name or "").strip() or len(holder_name) > const.MAX_NAME or not (
                holder_name.isprintable()):
            errors.append(self.env._(
                "Account Holder: required, at most %s characters, no control characters.",
                const.MAX_NAME))
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

    # === Reminders and chasing === #

    def _on_state_changed(self, state):
        """Extension of the core's hook: a link sent for a claim in Odoo gets its
        reminders scheduled; an expired one, an activity asking to reissue it."""
        super()._on_state_changed(state)
        if state == "sent":
            self.filtered("provider_id.is_claimed_in_odoo")._schedule_next_reminder()
        elif state == "expired":
            self._ask_to_reissue()

    def _get_reminder_times(self):
        """When the link's reminders go by its company's settings, earliest first."""
        self.ensure_one()
        company = self.company_id
        if not (company.payout_reminder_count and self.date_sent and self.expiry_date):
            return []
        gap = timedelta(hours=const.REMINDER_GAP_HOURS)
        first = max(self.expiry_date - timedelta(days=company.payout_reminder_days),
                    self.date_sent + gap)
        window = self.expiry_date - first
        if window <= timedelta(0):
            return []  # a link valid for a day at most: its claim email is fresh
        count = company.payout_reminder_count
        step = window / count  # under a day apart: `_get_next_reminder_date` spaces them
        return [(first + index * step).replace(microsecond=0) for index in range(count)]

    def _get_next_reminder_date(self):
        """When the link's next reminder goes, a day after its last email at the soonest;
        False when none is left before expiry."""
        self.ensure_one()
        times = self._get_reminder_times()[self.reminder_count:]
        if not times:
            return False
        due = max(times[0], (self.date_reminded or self.date_sent)
                  + timedelta(hours=const.REMINDER_GAP_HOURS))
        return due if due < self.expiry_date else False

    def _schedule_next_reminder(self):
        # One computation and one write per distinct schedule: a batch's links share theirs.
        by_due = defaultdict(list)
        for links in self.grouped(lambda link: (
                link.company_id, link.date_sent, link.expiry_date, link.reminder_count,
                link.date_reminded)).values():
            by_due[links[0]._get_next_reminder_date()].extend(links.ids)
        for due, link_ids in by_due.items():
            self.browse(link_ids).sudo().write({"date_next_reminder": due})

    @api.model
    def _reschedule_reminders(self, companies):
        """Put the links still waiting for their employee on their company's new
        reminder settings."""
        self.sudo().search([
            ("company_id", "in", companies.ids), ("state", "in", const.CLAIMABLE_STATES),
            ("provider_id.is_claimed_in_odoo", "=", True),
        ])._schedule_next_reminder()

    def _send_reminders(self):
        """Implementation of the core's hook: email due links a reminder, and schedule
        their next one."""
        if not self:
            return
        now = fields.Datetime.now()
        for count, links in self.grouped(lambda link: link.reminder_count + 1).items():
            links.sudo().write({"reminder_count": count, "date_reminded": now})
        self._schedule_next_reminder()
        # An employee who claims signed in has no secret to look for.
        signed_in = self.filtered("claim_user_id")
        with_secret = self - signed_in
        # Each reminder carries a token of its own: the claim email's is not stored in
        # clear. The latest reminder's opens the claim page, as the claim email's does.
        link_tokens, rows = {}, []
        for link in with_secret:
            link_tokens[link.id], token_hash = self._new_claim_token()
            rows.append(SQL("(%s, %s)", link.id, token_hash))
        if rows:  # one statement for the cron's whole batch
            with_secret.flush_recordset(["reminder_token_hash"])
            self.env.execute_query(SQL(
                """UPDATE payout_link AS link SET reminder_token_hash = new.token_hash
                     FROM (VALUES %s) AS new(id, token_hash) WHERE link.id = new.id""",
                SQL(", ").join(rows)))
            with_secret.invalidate_recordset(["reminder_token_hash"])
        for links, xmlid in ((with_secret, "mail_template_payout_reminder"),
                             (signed_in, "mail_template_payout_reminder_signin")):
            if links:
                links._queue_claim_emails(xmlid, link_tokens=link_tokens)
        for link in self:
            link.message_post(body=self.env._("Reminder emailed to %s.", link.recipient_email))

    # === At expiry === #

    def _get_chaser(self):
        """Who is asked to reissue the expired link: the employee's manager when they may
        send payout links of its company, else the link's responsible user."""
        self.ensure_one()
        manager = self.sudo().employee_id.parent_id.user_id
        if (manager.active and self.company_id in manager.company_ids
                and manager.has_group("hr_payout_link.group_payout_editor")):
            return manager
        return self.user_id or self.create_uid

    def _ask_to_reissue(self):
        for link in self:
            link.activity_schedule(
                REISSUE_ACTIVITY,
                user_id=link._get_chaser().id,
                summary=self.env._("%s did not claim it: reissue it?",
                                   link.sudo().employee_id.name),
            )
