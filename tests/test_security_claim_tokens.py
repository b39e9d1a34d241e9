"""Attacks on the claim URL and on a database dump.

- A Viewer or an Editor, over XML-RPC, looks for a claim URL in whatever they can read
  once a link was sent and reminded: messages, emails, activities, the link itself.
- A template editor puts a cc, partners and a reply-to on the reminder template.
- Someone with a dump of the database, and no encryption key, reads payout_link with SQL
  and recomputes its hashes with the dump's own ``database.secret``.
"""

import hashlib
import hmac

from odoo.tests import tagged
from odoo.tools import SQL

from .. import encryption
from ..controllers.claim import PayoutClaimController
from .common import ACCOUNT, ClaimPageCommon

CLAIM_URL = PayoutClaimController._claim_url
# Found nowhere else in the row (the demo phone number holds "1234567890").
NUMBER = "5550004321"


@tagged("post_install", "-at_install")
class TestAttackClaimUrlInBackOffice(ClaimPageCommon):
    """No back-office user reads a claim URL or token: the claim email and the reminders
    are queued detached from the link, to its recipient only."""

    def setUp(self):
        super().setUp()
        self.link = self._create_link(user_id=self.user_editor.id)
        self._rpc(self.user_editor, "payout.link", "action_send", [self.link.id])
        self.env.invalidate_all()
        self.secret = self._secret_in_mail(self.link)
        self.claim_token = self._claim_token(self.link)

    def _remind(self):
        self.link._send_reminders()
        self.env.flush_all()
        self.env.invalidate_all()
        return self._claim_token(self.link, reminder=True)

    def test_viewer_and_editor_read_no_claim_url(self):
        reminder_token = self._remind()
        self.assertTrue(self.claim_token and reminder_token)
        self.assertNotEqual(self.claim_token, reminder_token, "a reminder has its own")
        secrets = (CLAIM_URL, self.claim_token, reminder_token, self.secret)
        for user in (self.user_viewer, self.user_editor):
            with self.subTest(user=user.login):
                messages = self._rpc(user, "mail.message", "search_read", [],
                                     fields=["body", "subject", "preview"])
                self.assertTrue(messages, "the user reads messages")
                for secret in secrets:
                    for field in ("body", "subject"):
                        found = self._rpc(user, "mail.message", "search_read",
                                          [(field, "ilike", secret)], fields=["id"])
                        self.assertFalse(found, (field, secret))
                    self.assertFalse([message for message in messages
                                      if secret in str(message)], secret)
                # Queued emails are the system administrators' alone.
                self._assert_rpc_refused(user, "mail.mail", "search_read", [],
                                         fields=["body_html"])
                # The link's chatter, activities and every field the user reads.
                thread = self._rpc(user, "payout.link", "read", [self.link.id])[0]
                activities = self._rpc(user, "mail.activity", "search_read",
                                       [("res_model", "=", "payout.link")],
                                       fields=["summary", "note"])
                for secret in secrets:
                    self.assertNotIn(secret, str(thread))
                    self.assertNotIn(secret, str(activities))
        chatter = " ".join(self.link.message_ids.mapped("body"))
        self.assertIn("Reminder emailed to dewi.lestari@example.com", chatter)
        self.assertNotIn(CLAIM_URL, chatter)

    def test_reminder_template_recipients_are_ignored(self):
        """L6: a cc, partners and a reply-to on the reminder template reach nobody."""
        spy = self.env["res.partner"].create({"name": "Spy", "email": "spy@example.com"})
        self.env.ref("hr_payout_link.mail_template_payout_reminder").write({
            "email_cc": "spy@example.com", "partner_to": str(spy.id),
            "reply_to": "spy@example.com", "email_to": "spy@example.com"})
        self._remind()
        [mail] = self._reminder_mails(self.link)
        self.assertEqual((mail.email_to, mail.email_cc, mail.recipient_ids),
                         ("dewi.lestari@example.com", False, self.env["res.partner"]))
        self.assertNotIn("spy@example.com", mail.reply_to or "")
        self.assertFalse(mail.model or mail.res_id, "not attached to the link")
        self.assertFalse(mail.mail_message_id.body, "no copy of the body in a message")
        self.assertTrue(mail.auto_delete)

    def test_the_reminder_url_and_the_claim_email_url_both_open_the_page(self):
        reminder_token = self._remind()
        for token in (reminder_token, self.claim_token):
            with self.subTest(token=token[:4]):
                page = self._open(token)
                self.assertEqual(page.status_code, 200)
                self.assertIn(f"{CLAIM_URL}/{token}/secret", page.text,
                              "the page's forms post to the URL it was opened with")
        # The employee claims through the reminder's URL with the claim email's secret.
        data = {"secret": self.secret, "csrf_token": self.csrf_token}
        self._open(reminder_token)
        response = self.url_open(f"{CLAIM_URL}/{reminder_token}/secret", data=data,
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(f"{CLAIM_URL}/{reminder_token}"))
        response = self.url_open(f"{CLAIM_URL}/{reminder_token}/account", data={
            "bank_id": str(self.bank.id), **ACCOUNT, "csrf_token": self.csrf_token},
            allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "processing")

    def test_a_newer_reminder_replaces_the_older_one_and_cancel_closes_both(self):
        older = self._remind()
        newer = self._remind()
        self.assertEqual(self._open(older).status_code, 404)
        self.assertEqual(self._open(newer).status_code, 200)
        self.link.action_cancel()
        for token in (newer, self.claim_token):
            self.assertEqual(self._open(token).status_code, 404)
        self.assertFalse(self.link.sudo().claim_token_hash or self.link.sudo().reminder_token_hash)


@tagged("post_install", "-at_install")
class TestAttackDatabaseDump(ClaimPageCommon):
    """M3: a dump holds no claim token, and nothing its own ``database.secret`` checks a
    guessed secret or account number against."""

    def _dump_row(self, link):
        """payout_link's row as a dump holds it: {column: text}."""
        self.env.flush_all()
        [row] = self.env.execute_query_dict(SQL(
            "SELECT * FROM payout_link WHERE id = %s", link.id))
        return {column: str(value) for column, value in row.items() if value is not None}

    def _attacker_hmac(self, scope, message):
        """odoo.tools.misc.hmac, as someone with the dump recomputes it from its
        ir_config_parameter, with no Odoo and no encryption key."""
        [(secret,)] = self.env.execute_query(SQL(
            "SELECT value FROM ir_config_parameter WHERE key = 'database.secret'"))
        return hmac.new(secret.encode(), repr((scope, message)).encode(),
                        hashlib.sha256).hexdigest()

    def test_a_dump_gives_no_token_secret_or_account_away(self):
        self.link = self._create_link()
        self.secret = self._send(self.link)
        token = self._claim_token(self.link)
        self.link._send_reminders()
        reminder_token = self._claim_token(self.link, reminder=True)
        shared = self._sent_link(employee_id=self.env["hr.employee"].create({
            "name": "Budi Santoso", "work_email": "budi@example.com"}).id)
        self._claim_over_http(account_number=NUMBER)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "processing")
        # The number is wiped once the payout is final: the fingerprint stays.
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "done")
        row = self._dump_row(self.link)
        dump = " ".join(row.values())

        self.assertNotIn("claim_token", row, "no clear token column")
        for clear in (token, reminder_token, self.secret, NUMBER):
            self.assertNotIn(clear, dump)
        self.assertEqual(row["claim_token_hash"], hashlib.sha256(token.encode()).hexdigest())

        # The attacker's recomputation is right: it gives the inner values Odoo keys again.
        secret_inner = self._attacker_hmac("payout-link-secret", f"{self.link.id}:{self.secret}")
        self.assertEqual(secret_inner, self.link._hash_secret(self.secret))
        account_inner = self._attacker_hmac("payout-account",
                                            f"{self.bank.id}:{NUMBER}")
        self.assertEqual(account_inner, self.link._account_fingerprint_inner(self.bank, NUMBER))
        # ...and matches nothing stored: the right secret and account are not recognised.
        self.assertTrue(encryption.is_encrypted(row["secret_hash"]))
        self.assertTrue(encryption.is_encrypted(row["account_fingerprint_sealed"]))
        self.assertNotIn(secret_inner, dump)
        self.assertNotIn(account_inner, dump)
        guesses = {self._attacker_hmac("payout-account", f"{self.bank.id}:{number}")
                   for number in (NUMBER, "5550004322", "0000004321")}
        self.assertNotIn(row["account_fingerprint"], guesses)

        # Odoo, with its key, still finds the account on another employee's claim.
        links, _employees = shared._find_account_sharers(self.bank, NUMBER)
        self.assertIn(self.link, links)
        self.assertTrue(self.link.sudo()._check_secret(self.secret))
