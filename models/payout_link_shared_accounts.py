"""One bank account given by several employees: held for a Payout Manager's review.

The account number is encrypted and wiped once a payout is final, so it cannot be
searched: a claim keeps a keyed fingerprint of the bank and the number
(`account_fingerprint`, an HMAC keyed with the database secret, for system administrators
only), kept after the number is wiped. A claim whose account is on a link of another
employee of the company (in any state), or on another employee's HR record, waits for a
review (`submission_state` 'to_review', *Approve Bank Account*, four eyes), and its
chatter names them. Those employees' links to that account whose money has not moved yet
wait for the review too; a link already at its provider cannot be pulled back (money
moves at most once, and never back), so its chatter and its responsible user are told.
An employee who gives their own account again is not flagged. On by default, per
company (*Review Shared Bank Accounts*: a couple's joint account is a reason to turn it
off).
"""

from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.misc import hmac

from .. import const


class PayoutLink(models.Model):
    _inherit = "payout.link"

    account_fingerprint = fields.Char(
        copy=False, readonly=True, index="btree_not_null", groups="base.group_system",
        help="A keyed hash of the bank and the account number given at the claim, kept "
        "once the number is wiped: finds the account on other employees' links.",
    )

    def _account_fingerprint(self, bank, account_number):
        # Keyed with the database secret: a dump alone does not tell which account it is.
        return hmac(self.env(su=True), "payout-account", f"{bank.id}:{account_number}")

    def _get_review_reasons(self, bank, account_number):
        reasons = super()._get_review_reasons(bank, account_number)
        if not self.company_id.payout_check_shared_accounts:
            return reasons
        links, employees = self._find_account_sharers(bank, account_number)
        places = []
        if links:
            places.append(self.env._("given by another employee on %s", ", ".join(
                f"{link.name} ({link.employee_id.name}, {self._state_label(link.state)})"
                for link in links)))
        if employees:
            places.append(self.env._("on the HR record of %s", ", ".join(
                employees.mapped("name"))))
        if places:
            reasons.append(self.env._(
                "This bank account is also %s: a Payout Manager reviews it before money "
                "moves.", self.env._(" and ").join(places)))
        return reasons

    def _find_account_sharers(self, bank, account_number):
        """(links, employees) of the company, other than this link's employee, with this
        account: links it was given on, employees whose HR record holds it."""
        self.ensure_one()
        link = self.sudo()
        fingerprint = self._account_fingerprint(bank, account_number)
        # Two claims of one account at once: the second waits here until the first has
        # committed, then reads with a snapshot taken after that (this transaction's own
        # snapshot may predate it).
        self.env.execute_query(SQL("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                                   const.SHARED_ACCOUNT_LOCK_SPACE, fingerprint))
        query = SQL(
            "SELECT id FROM payout_link WHERE account_fingerprint = %s AND company_id = %s "
            "AND employee_id != %s", fingerprint, link.company_id.id, link.employee_id.id)
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

    def _claim(self, bank, account_number, holder_name):
        if not super()._claim(bank, account_number, holder_name):
            return False
        self.sudo().account_fingerprint = self._account_fingerprint(bank, account_number)
        if self.company_id.payout_check_shared_accounts:
            links, _employees = self._find_account_sharers(bank, account_number)
            links._hold_for_shared_account(self)
        return True

    def _hold_for_shared_account(self, claimed):
        """Hold for review the links of ``self`` whose money has not moved yet: another
        employee just gave their bank account on ``claimed``. Tell the others' chatter and
        responsible user: what is at a provider cannot be held."""
        if not self:
            return
        self.flush_recordset(["state", "submission_state"])
        # Locked first: a link claimed since this transaction's snapshot (found by the
        # fresh read of `_find_account_sharers`) makes PostgreSQL refuse, and Odoo retry
        # the request with a snapshot that sees it.
        self.env.execute_query(SQL(
            "SELECT id FROM payout_link WHERE id IN %s FOR NO KEY UPDATE", tuple(self.ids)))
        # Not a link that a payment run took meanwhile: that one is moving.
        rows = self.env.execute_query(SQL(
            """UPDATE payout_link SET submission_state = 'to_review'
                WHERE id IN %s AND state = 'processing' AND submission_state = 'to_submit'
            RETURNING id""", tuple(self.ids)))
        self.invalidate_recordset(["submission_state"])
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
