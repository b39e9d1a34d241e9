import logging

from odoo.tests import tagged

from .common import PayoutCommon


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@tagged("post_install", "-at_install")
class TestPayoutMail(PayoutCommon):

    def test_claim_email_holds_url_and_secret(self):
        link = self._create_link()
        secret = self._send(link)
        mail = self._get_claim_mail(link)
        self.assertEqual(mail.state, "outgoing", "queued, not sent inline")
        self.assertEqual(mail.email_to, "dewi.lestari@example.com")
        self.assertIn(link.get_base_url() + self._claim_path(link), mail.body_html)
        self.assertIn(secret, mail.body_html)
        self.assertIn("1,500.00", mail.body_html)
        self.assertTrue(mail.auto_delete)
        self.assertFalse(mail.model, "the secret's email is not attached to the link")
        self.assertGreaterEqual(len(self._claim_token(link)), 43, "a token of at least 256 bits")
        self.assertRegex(secret, r"^[A-HJ-NP-Z2-9]{8}$", "no look-alike characters")

    def test_queued_claim_email_holds_the_secret_once(self):
        link = self._create_link()
        secret = self._send(link)
        mail = self._get_claim_mail(link)
        self.assertIn(secret, mail.body_html)
        self.assertFalse(mail.mail_message_id.body, "no copy of the body in its message")
        self.assertFalse(self.env["mail.message"].sudo().search([("body", "like", secret)]))
        self.assertEqual(mail.message_type, "email_outgoing")

    def test_claim_email_follows_its_customised_template(self):
        """Its subject, body and sender follow the template; its recipients never do (a
        template editor who adds a recipient would copy every secret to themselves)."""
        spy = self.env["res.partner"].create({"name": "Payroll", "email": "pay@example.com"})
        template = self.env.ref("hr_payout_link.mail_template_payout_link")
        template.write({
            "subject": "Payout {{ object.name }} for {{ object.recipient_name }}",
            "partner_to": str(spy.id),
            "email_to": "spy@example.com, {{ object.recipient_email }}",
            "email_cc": "payroll@example.com",
            "reply_to": "spy@example.com",
            "auto_delete": False,
            "email_from": False,
        })
        link = self._create_link()
        self._send(link)
        mail = self._get_claim_mail(link)
        self.assertEqual(mail.subject, f"Payout {link.name} for Dewi Lestari")
        self.assertEqual(mail.email_from, self.env.user.email_formatted,
                         "an empty sender falls back to Odoo's default")
        self.assertEqual((mail.email_to, mail.recipient_ids, mail.email_cc),
                         ("dewi.lestari@example.com", self.env["res.partner"], False))
        self.assertNotIn("spy@example.com", mail.reply_to or "")
        self.assertTrue(mail.auto_delete, "the only clear copy of the secret is deleted once sent")

    def test_only_a_hash_of_the_secret_is_kept(self):
        link = self._create_link()
        secret = self._send(link)
        link_sudo = link.sudo()
        self.assertEqual(link_sudo.secret_hash, link._hash_secret(secret))
        stored = link_sudo.read()[0]
        self.assertFalse([name for name, value in stored.items()
                          if isinstance(value, str) and secret in value])
        self.assertTrue(link._check_secret(secret.lower()), "typing in lower case works")
        self.assertEqual(link.failed_attempts, 0)

    def test_secret_never_in_chatter_log_or_kept_mail(self):
        capture = _Capture()
        odoo_logger, sql_logger = logging.getLogger("odoo"), logging.getLogger("odoo.sql_db")
        levels = odoo_logger.level, sql_logger.level
        odoo_logger.addHandler(capture)
        odoo_logger.setLevel(logging.DEBUG)
        # Everything at DEBUG, but the query dump of --log-sql, which by design logs every
        # parameter (users' passwords too) and is never on in production.
        sql_logger.setLevel(logging.INFO)
        try:
            link = self._create_link()
            secret = self._send(link)
            mail = self._get_claim_mail(link)
            token = self._claim_token(link)
            mail.send()
            link._check_secret("WRONG123")
            link._check_secret(secret)
        finally:
            odoo_logger.removeHandler(capture)
            odoo_logger.setLevel(levels[0])
            sql_logger.setLevel(levels[1])
        self.assertFalse(mail.exists(), "the email with the secret is deleted once sent")
        self.assertFalse(self.env["mail.mail"].sudo().search([("body_html", "like", secret)]))
        self.assertFalse(self.env["mail.message"].sudo().search([("body", "like", secret)]))
        self.assertTrue(capture.lines)
        self.assertFalse([line for line in capture.lines if secret in line])
        self.assertFalse([line for line in capture.lines if token in line])
        self.assertIn("Payout link emailed to dewi.lestari@example.com",
                      " ".join(link.message_ids.mapped("body")))

    def test_receipt_when_paid(self):
        link = self._create_link()
        self._send(link)
        self._claim_and_pay(link)
        self.assertEqual(link.state, "done")
        receipt = self._link_mails(link)
        self.assertEqual(len(receipt), 1)
        self.assertIn("Paid:", receipt.subject)
        self.assertIn("•••• 7890", receipt.body_html)
        self.assertNotIn("1234567890", receipt.body_html)
