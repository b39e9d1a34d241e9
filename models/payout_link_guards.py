"""The guards: what stops a payout that the rest of the link would let through.

This file only implements hooks that the core (payout_link.py) declares; every reason it
gives reaches the money gate (`_get_money_blockers`) through `_get_send_blockers`.

**Holds (offboarding).** `hr.employee.write` calls `_hold_for_employees` for the employees
it archives: their open links are not sent, approved, claimed nor paid until unarchiving
releases them (`_release_for_employees`). Why a link is held and how it is released is the
table `const.HOLD_REASONS`, with the messages of `_get_hold_texts`. A change of an
employee's payout identity holds nothing: money follows the checked identity
(hr_employee.py), and the money gate stops a link addressed anywhere else.

What a provider already holds (a submission in flight or accepted, a provider-hosted link
emailed by the provider) cannot be stopped by Odoo: such links are not held, and the
responsible user is told what is at the provider and that Cancel refuses what it may still
pay. Money is never pulled back nor sent again.

**The duplicate guard.** Before links or a batch are sent, approved or reissued, each line
is compared with its employee's other payouts of the same type that were paid, or are on
their way, within the company's window (default: the calendar quarter). A payout counts
from the day it was sent; one not sent yet but on its way (to approve, or a line of a
batch being sent) counts as sent today. Failed, expired and cancelled links do not count (a
cancelled one does while its provider may still pay it), nor drafts: the link a reissue
replaces is failed or expired, so a reissue is not its own duplicate. The gate refuses,
naming each line and the payouts it repeats, until a Payout Manager who neither made nor
sent the line (nor its batch), and whom it does not pay, confirms it
(`action_confirm_duplicate`, kept with who and when), or it is removed. *Reissue* checks the
failed or expired links it replaces the same way (a payout made since, by hand, would
otherwise be paid again); their confirmation is theirs, and the new link is sent without a
new check. The flag (`duplicate_link_ids`) is computed, never stored: a refused send rolls
back what it would write. The confirmation is stored: it names the payouts the user saw,
so a payout that appears afterwards flags the line again, and a change of what the line
pays or to whom clears it.

**Shared bank accounts.** The account number is encrypted and wiped once a payout is
final, so it cannot be searched: a claim keeps a keyed fingerprint of the bank and the
number (`account_fingerprint`, for system administrators only), kept after the number is
wiped. It is keyed with the key kept outside the database, so that a dump alone cannot
test account numbers against it: its inner value, an HMAC keyed with the database secret
(which a dump holds), is stored encrypted (`account_fingerprint_sealed`), and the
searched value is an HMAC of it under the first encryption key (`encryption.fingerprint`),
recomputed by bin/rotate-key when that key changes (`_rekey_account_fingerprints`); until
then a search tries every configured key. A claim whose account is on a link of
another employee of the company (in any state), or on another employee's HR record, waits
for a review (``account_review_state`` 'to_review', *Approve Bank Account*, four eyes), and
its chatter names them. Those employees' links to that account whose money has not moved
yet wait for the review too; a link already at its provider cannot be pulled back (money
moves at most once, and never back), so its chatter and its responsible user are told. An
employee who gives their own account again is not flagged. On by default, per company
(*Review Shared Bank Accounts*: a couple's joint account is a reason to turn it off).
"""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL
from odoo.tools.misc import hmac

from .. import const, encryption

HOLD_ACTIVITY = "hr_payout_link.mail_activity_payout_hold"


class PayoutLink(models.Model):
    _inherit = "payout.link"

    # ------------------------------------------------------------
    # HOOKS OF THE CORE
    # ------------------------------------------------------------

    def _get_send_blockers(self):
        """Implementation of the core's hook: held links, departed employees, and possible
        duplicates nobody has confirmed."""
        blockers = {}
        # The employees read as the system, once for all the links (a batch has thousands).
        employees = {employee.id: employee for employee in
                     self.sudo().with_context(active_test=False).employee_id}
        for link in self:
            employee = employees[link.employee_id.id]
            if link.hold_reason:
                blockers.setdefault(link, []).append(link._get_hold_message())
            if not employee.active:
                blockers.setdefault(link, []).append(self.env._(
                    "%(link)s: its employee %(employee)s is archived; a departed employee is "
                    "not paid by link.", link=link.display_name, employee=employee.name))
        for link, message in self._get_duplicate_messages().items():
            blockers.setdefault(link, []).extend([self.env._(
                "Possible duplicate payouts. Confirm each line that is meant (Confirm "
                "Duplicate) or remove it, then send again:"), message])
        return blockers

    def _after_write(self, vals):
        """Implementation of the core's hook: a confirmation of a duplicate holds for what
        was confirmed."""
        if const.DUPLICATE_FIELDS.intersection(vals) and (
                confirmed := self.filtered("duplicate_confirmed_by_id")):
            confirmed.sudo().write({"duplicate_confirmed_link_ids": [fields.Command.clear()],
                                    "duplicate_confirmed_by_id": False,
                                    "date_duplicate_confirmed": False})

    def _on_final_state(self, state):
        """Implementation of the core's hook: nothing is left to hold, and the responsible
        user's hold activity is done."""
        if ended := self.filtered("hold_reason"):
            ended = ended.sudo()
            ended.write({"hold_reason": False, "date_held": False,
                         "hold_user_ids": [fields.Command.clear()]})
            ended.activity_feedback([HOLD_ACTIVITY], feedback=(
                self.env._("The link is %s.", self._state_label(state))))

    def _get_claim_review_reasons(self, bank, account_number):
        """Implementation of the core's hook: an account other employees gave, or that HR
        keeps for another employee."""
        if not self.company_id.payout_check_shared_accounts:
            return []
        links, employees = self._find_account_sharers(bank, account_number)
        places = []
        if links:
            places.append(self.env._("given by another employee on %s", ", ".join(
                f"{link.name} ({link.employee_id.name}, {self._state_label(link.state)})"
                for link in links)))
        if employees:
            places.append(self.env._("on the HR record of %s", ", ".join(
                employees.mapped("name"))))
        if not places:
            return []
        return [self.env._(
            "This bank account is also %s: a Payout Manager reviews it before money "
            "moves.", self.env._(" and ").join(places))]

    def _after_claim(self, bank, account_number):
        """Implementation of the core's hook: keep the account's fingerprint, and hold the
        other employees' links to it whose money has not moved."""
        self._set_account_fingerprint(bank, account_number)
        if self.company_id.payout_check_shared_accounts:
            links, _employees = self._find_account_sharers(bank, account_number)
            links._hold_for_shared_account(self)

    # ------------------------------------------------------------
    # HOLDS
    # ------------------------------------------------------------

    def _get_hold_texts(self):
        """{reason: (why the link is held and how it is released, naming %(link)s and
        %(employee)s; the event that held it)}, one entry per `const.HOLD_REASONS`."""
        return {
            "employee_archived": (
                self.env._("%(link)s is on hold: its employee %(employee)s was archived. "
                           "Unarchive the employee to release it, or cancel it."),
                self.env._("the employee was archived"),
            ),
        }

    def _get_hold_message(self):
        """Why the link is held and how it is released, naming the link."""
        self.ensure_one()
        message, _event = self._get_hold_texts()[self.hold_reason]
        return message % {"link": self.display_name,
                          "employee": self.sudo().employee_id.name}

    def _is_at_provider(self):
        """Whether a provider already holds the payout (in flight or accepted): Odoo can no
        longer stop it, only ask the provider to cancel it."""
        self.ensure_one()
        return self.submission_state in ("submitting", "accepted")

    def _hold_for_employees(self, archived):
        """Hold the open links of ``archived`` employees (one search for all), and tell each
        link's responsible user; what a provider holds already is only reported."""
        if not archived:
            return
        links = self.sudo().search([
            ("employee_id", "in", archived.ids),
            ("state", "not in", const.FINAL_STATES),
        ])
        at_provider = links.filtered(lambda link: link._is_at_provider())
        to_hold = links - at_provider
        to_hold.write({"hold_reason": "employee_archived", "date_held": fields.Datetime.now(),
                       "hold_user_ids": [fields.Command.link(self.env.uid)]})
        for link in to_hold:
            message = link._get_hold_message()
            link.message_post(body=message)
            link._schedule_hold_activity(self.env._("Payout link on hold"), message)
        _message, event = self._get_hold_texts()["employee_archived"]
        for link in at_provider:
            message = self.env._(
                "%(link)s: %(event)s, but %(provider)s already holds this payout (status: "
                "%(status)s) and may still pay it; Odoo cannot stop it. Cancel it if the "
                "provider still can (Cancel refuses otherwise).",
                link=link.display_name, event=event, provider=link.provider_id.name,
                status=link.provider_status or link.submission_state)
            link.message_post(body=message)
            link._schedule_hold_activity(self.env._("Payout already at the provider"), message)

    def _schedule_hold_activity(self, summary, note):
        # One hold activity per link, saying the latest news.
        self.activity_unlink([HOLD_ACTIVITY])
        self.activity_schedule(
            HOLD_ACTIVITY, user_id=(self.user_id or self.create_uid).id, summary=summary,
            note=note)

    def _release_for_employees(self, employees):
        """Unarchived ``employees``: release their links held for archiving."""
        if not employees:
            return
        self.sudo().search([
            ("employee_id", "in", employees.ids),
            ("hold_reason", "in", [reason for reason, rule in const.HOLD_REASONS.items()
                                   if rule["released_by"] == "unarchive"]),
        ])._release_hold(self.env._("the employee was unarchived"))

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
            link.activity_feedback([HOLD_ACTIVITY], feedback=message)
        if links.filtered(lambda link: link.submission_state == "to_submit"):
            links._trigger_submissions()
        if links.filtered(lambda link: link.batch_id.state == "sending"):
            self.env.ref("hr_payout_link.ir_cron_payout_batch_send")._trigger()

    # ------------------------------------------------------------
    # THE DUPLICATE GUARD
    # ------------------------------------------------------------

    def _find_duplicates(self):
        """Implementation of the core's hook: {link: its possible duplicates} for the links
        of ``self`` not sent yet, or to reissue, that have some, in one query per company
        whatever the number of links."""
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
                *self._paid_or_on_its_way_domain(start),
            ], ["employee_id", "payout_type"], ["id:array_agg"])
            found = {(employee.id, payout_type): ids for employee, payout_type, ids in groups}
            for link in links:
                if ids := found.get((link.employee_id.id, link.payout_type)):
                    duplicates[link] = self.browse(ids)
        return duplicates

    def _paid_or_on_its_way_domain(self, start):
        """The links that count as paid or on their way since ``start``: sent (or paid)
        since then, cancelled while their provider may still pay them, waiting for
        approval, or lines of a batch being sent."""
        return [
            "|", "|",
            "&", ("state", "in", const.DUPLICATE_PAID_STATES), ("date_sent", ">=", start),
            "&", "&", ("state", "=", "cancelled"), ("follow_after_cancel", "=", True),
            ("date_sent", ">=", start),
            "|", ("state", "=", "to_approve"),
            "&", ("state", "=", "draft"), ("batch_id.state", "=", "sending"),
        ]

    def _get_employee_totals(self):
        """Implementation of the core's hook: one query per company and currency
        whatever the number of links. The links of ``self`` and the other lines of their
        batches (closed, since a batch holds an employee once) are counted from ``self``."""
        totals = {}
        today = fields.Date.context_today(self)
        links = self.filtered("employee_id")
        for company, company_links in links.grouped("company_id").items():
            start = company._get_payout_threshold_start()
            batch_ids = [id_ for id_ in company_links.batch_id._origin.ids if id_]
            groups = self.sudo()._read_group([
                ("company_id", "=", company.id),
                ("employee_id", "in", company_links.employee_id.ids),
                ("batch_id", "not in", batch_ids),
                ("id", "not in", [id_ for id_ in company_links._origin.ids if id_]),
                *self._paid_or_on_its_way_domain(start),
            ], ["employee_id", "currency_id"], ["amount:sum"])
            amounts = [(employee, currency, amount) for employee, currency, amount in groups]
            amounts += [(link.employee_id, link.currency_id, link.amount)
                        for link in company_links]
            for employee, currency, amount in amounts:
                totals[employee] = totals.get(employee, 0.0) + currency._convert(
                    amount, company.currency_id, company, today)
        return totals

    def _get_duplicate_messages(self):
        """{link: why it may pay its employee twice} for the links of ``self``: the payouts
        it repeats that nobody confirmed, or another link of ``self`` for the same employee
        and type."""
        messages = {}
        for link, others in self._find_duplicates().items():
            if unconfirmed := others - link.duplicate_confirmed_link_ids:
                messages[link] = self.env._(
                    "%(link)s: %(employee)s already has %(type)s paid or on its way: "
                    "%(others)s.",
                    link=link.display_name, employee=link.employee_id.name,
                    type=link._payout_type_label(), others=", ".join(
                        f"{other.display_name} ({self._state_label(other.state)})"
                        for other in unconfirmed.sudo()),
                )
        # A batch holds an employee once (`_check_batch_lines`): the lines of one batch
        # cannot repeat each other, and a batch of thousands needs no second pass.
        checked = self.filtered(lambda link: link.state in const.DUPLICATE_CHECKED_STATES)
        one_batch = len(set(checked.mapped(lambda link: link.batch_id.id))) == 1 and (
            checked.batch_id)
        guarded = self.browse() if one_batch else checked.filtered(
            lambda link: link.company_id.payout_duplicate_window != "off")
        for (employee, _type), links in guarded.grouped(
                lambda link: (link.employee_id, link.payout_type)).items():
            if len(links) > 1:
                together = self.env._(
                    "%(links)s: each pays %(employee)s %(type)s; send one, then the other "
                    "once you have confirmed it, or remove one.",
                    links=", ".join(links.mapped("display_name")), employee=employee.name,
                    type=links[0]._payout_type_label(),
                )
                for link in links:
                    messages.setdefault(link, together)
        return messages

    def action_confirm_duplicate(self):
        """A Payout Manager who neither made nor sent the line, nor its batch, and whom it
        does not pay, confirms it is meant, on top of the payouts it was flagged against;
        logged in its chatter."""
        self.check_access("write")
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._(
                "Only a Payout Manager who neither made nor sent a payout can confirm its "
                "possible duplicate."))
        self._check_four_eyes(self.env._("confirm the duplicate"), sender=True)
        self.batch_id._check_four_eyes(self.env._("confirm the duplicate"))
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

    # ------------------------------------------------------------
    # SHARED BANK ACCOUNTS
    # ------------------------------------------------------------

    def _account_fingerprint_inner(self, bank, account_number):
        """The account's inner fingerprint, stored encrypted: an HMAC keyed with the
        database secret, so that even the encryption key alone does not tell the account."""
        return hmac(self.env(su=True), "payout-account", f"{bank.id}:{account_number}")

    def _account_fingerprint(self, bank, account_number):
        """The searched fingerprint of the account: the inner one, keyed again with the
        first encryption key, which a dump does not hold."""
        return encryption.fingerprint(self._account_fingerprint_inner(bank, account_number))

    def _set_account_fingerprint(self, bank, account_number):
        inner = self._account_fingerprint_inner(bank, account_number)
        self.sudo().write({"account_fingerprint": encryption.fingerprint(inner),
                           "account_fingerprint_sealed": inner})

    @api.model
    def _rekey_account_fingerprints(self):
        """Every searched fingerprint computed again under the first encryption key from
        its sealed inner value (after a key rotation: payout.encryption).

        :return: how many were written
        """
        self.env.flush_all()
        rows = self.env.execute_query(SQL(
            "SELECT id, account_fingerprint_sealed FROM payout_link "
            "WHERE account_fingerprint_sealed IS NOT NULL"))
        updates = [SQL("(%s, %s)", link_id, encryption.fingerprint(encryption.decrypt(sealed)))
                   for link_id, sealed in rows]
        if updates:
            self.env.execute_query(SQL(
                """UPDATE payout_link AS link SET account_fingerprint = new.fingerprint
                     FROM (VALUES %s) AS new(id, fingerprint) WHERE link.id = new.id""",
                SQL(", ").join(updates)))
        self.invalidate_model(["account_fingerprint"])
        return len(updates)

    def _find_account_sharers(self, bank, account_number):
        """(links, employees) of the company, other than this link's employee, with this
        account: links it was given on, employees whose HR record holds it."""
        self.ensure_one()
        link = self.sudo()
        # Under each configured key: a new first key is in use before bin/rotate-key has
        # recomputed the stored fingerprints, and no shared account may go unseen then.
        fingerprint, *older = encryption.fingerprints(
            self._account_fingerprint_inner(bank, account_number))
        # Two claims of one account at once: the second waits here until the first has
        # committed, then reads with a snapshot taken after that (this transaction's own
        # snapshot may predate it).
        self.env.execute_query(SQL("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                                   const.SHARED_ACCOUNT_LOCK_SPACE, fingerprint))
        query = SQL(
            "SELECT id FROM payout_link WHERE account_fingerprint IN %s AND company_id = %s "
            "AND employee_id != %s", (fingerprint, *older), link.company_id.id,
            link.employee_id.id)
        self.flush_model(["account_fingerprint"])
        link_ids = {row[0] for row in self.env.execute_query(query)}
        with self.env.registry.cursor() as fresh_cr:
            fresh_cr.execute(query)
            link_ids.update(row[0] for row in fresh_cr.fetchall())
        accounts = self.env["res.partner.bank"].sudo().with_context(active_test=False).search([
            ("sanitized_acc_number", "=", account_number),
            "|", ("bank_id", "=", False), ("bank_id", "=", bank.id),
        ])
        employees = accounts and self.env["hr.employee"].sudo().with_context(
            active_test=False).search([
                ("bank_account_id", "in", accounts.ids), ("company_id", "=", link.company_id.id),
                ("id", "!=", link.employee_id.id),
            ])
        # exists(): a link made after this transaction's snapshot is not there to read yet.
        return link.browse(sorted(link_ids)).exists(), employees or self.env["hr.employee"]

    def _hold_for_shared_account(self, claimed):
        """Hold for review the links of ``self`` whose money has not moved yet: another
        employee just gave their bank account on ``claimed``. Tell the others' chatter and
        responsible user: what is at a provider cannot be held."""
        if not self:
            return
        self.flush_recordset(["state", "submission_state", "account_review_state"])
        # Locked first: a link claimed since this transaction's snapshot (found by the
        # fresh read of `_find_account_sharers`) makes PostgreSQL refuse, and Odoo retry
        # the request with a snapshot that sees it.
        self.env.execute_query(SQL(
            "SELECT id FROM payout_link WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids)))
        # Not a link that a payment run took meanwhile: that one is moving.
        rows = self.env.execute_query(SQL(
            """UPDATE payout_link SET account_review_state = 'to_review',
                                      submission_state = NULL
                WHERE id IN %s AND state = 'processing' AND submission_state = 'to_submit'
            RETURNING id""", tuple(self.ids)))
        self.invalidate_recordset(["submission_state", "account_review_state"])
        held = self.browse(row[0] for row in rows)
        given = self.env._("The bank account this link pays to was also given by %(employee)s "
                           "on %(link)s.", employee=claimed.sudo().employee_id.name,
                           link=claimed.name)
        for link in self:
            if link in held:
                body = given + " " + self.env._(
                    "Held: a Payout Manager reviews it before money moves.")
                summary = self.env._("Have a Payout Manager review a shared bank account")
            elif link.state == "done" or link.submission_state in ("submitting", "accepted"):
                body = given + " " + self.env._(
                    "This payout had already left for the provider and cannot be held: "
                    "check that the account is this employee's.")
                summary = self.env._("Check a payout to a bank account another employee gave")
            else:  # waiting for its review already, or never paid
                body, summary = given, None
            link.message_post(body=body)
            if summary:
                link.activity_schedule("mail.mail_activity_data_todo",
                                       user_id=(link.user_id or link.create_uid).id,
                                       summary=summary)
