from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from odoo.addons.hr_payout_link.models.payout_provider import PayoutProvider
from odoo.addons.hr_payout_link.protocol.answers import ProviderAnswer

from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestPayoutCron(PayoutCommon):

    def _expired_links(self, count):
        links = self._sent_links(count)
        links.write({"expiry_date": fields.Datetime.now() - timedelta(minutes=1)})
        return links

    def _triggers(self, xmlid):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(xmlid).id)])

    def test_expiry_only_touches_due_links_and_is_idempotent(self):
        due = self._expired_links(2)
        not_due = self._sent_links(1)
        claimed = self._expired_links(1)
        claimed._claim(self.bank, "4000000003", "Dewi")  # stays processing
        self.env["payout.link"]._cron_expire_links(with_commit=False)
        self.assertEqual(set(due.mapped("state")), {"expired"})
        self.assertTrue(all(due.mapped("date_expired")))
        self.assertEqual(not_due.state, "sent")
        self.assertEqual(claimed.state, "processing")
        self.assertFalse(self.env["payout.link"]._cron_expire_links(with_commit=False),
                         "a second run is a no-op")

    def test_expiry_works_in_batches_and_triggers_itself_again(self):
        links = self._expired_links(5)
        cron = "hr_payout_link.ir_cron_payout_expire"
        triggers_before = len(self._triggers(cron))
        expire = self.env["payout.link"]._cron_expire_links
        first = expire(batch_size=2, with_commit=False)
        self.assertEqual(len(first), 2)
        self.assertEqual(len(self._triggers(cron)), triggers_before + 1)
        expire(batch_size=2, with_commit=False)
        last = expire(batch_size=2, with_commit=False)
        self.assertEqual(len(last), 1)
        self.assertEqual(set(links.mapped("state")), {"expired"})

    def test_demo_outcomes(self):
        cases = {
            "1234567890": ("done", False),
            "4000000001": ("failed", "Invalid destination account"),
            "4000000002": ("failed", "Insufficient balance"),
            "4000000003": ("processing", False),
        }
        for account, (state, reason) in cases.items():
            with self.subTest(account=account):
                link = self._create_link()
                self._send(link)
                self._claim_and_pay(link, account)
                self.assertEqual((link.state, link.failure_reason), (state, reason))
                self.assertEqual(link.submission_state, "accepted")
                self.assertEqual(link.account_number_masked, "•••• " + account[-4:])
                if state != "processing":
                    self.assertFalse(link.sudo().account_number, "not kept once final")

    def test_claim_hands_payment_to_the_cron(self):
        link = self._create_link()
        self._send(link)
        cron = "hr_payout_link.ir_cron_payout_submit"
        triggers_before = len(self._triggers(cron))
        self.assertTrue(link._claim(self.bank, "1234567890", "Dewi Lestari"))
        self.assertEqual((link.state, link.submission_state), ("processing", "to_submit"))
        self.assertTrue(link.submission_key.endswith(link.reference))
        self.assertEqual(len(self._triggers(cron)), triggers_before + 1)
        self.assertFalse(link._claim(self.bank, "9999999999", "Someone Else"),
                         "a second claim changes nothing")
        self.assertEqual(link.sudo().account_number, "1234567890")

    def test_money_moves_once(self):
        links = self._claimed_links(3)
        submit = PayoutProvider._prepare_submission
        with patch.object(PayoutProvider, "_prepare_submission", autospec=True,
                          side_effect=submit) as submitted:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(sorted(call.args[1].id for call in submitted.call_args_list),
                         sorted(links.ids))
        self.assertEqual(set(links.mapped("state")), {"done"})

    def test_interrupted_submission_is_reconciled_not_resent(self):
        link = self._create_link()
        self._send(link)
        link._claim(self.bank, "1234567890", "Dewi Lestari")
        # A crash after 'submitting' was committed and before the answer was stored.
        link.submission_state = "submitting"
        with patch.object(PayoutProvider, "_prepare_submission", autospec=True) as submitted, \
                patch.object(PayoutProvider, "_prepare_reconciliation", autospec=True,
                             return_value=lambda: ProviderAnswer("done")) as reconciled:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        submitted.assert_not_called()
        reconciled.assert_called_once()
        self.assertEqual((link.state, link.submission_state), ("done", "accepted"))


@tagged("post_install", "-at_install")
class TestExpiryReminder(PayoutCommon):
    """A day before an unclaimed link expires, the employee is reminded, once."""

    def _link_sent(self, days_ago, expires_in_hours, email="dewi@example.com"):
        link = self._sent_link(recipient_email=email)
        now = fields.Datetime.now()
        link.write({"date_sent": now - timedelta(days=days_ago),
                    "expiry_date": now + timedelta(hours=expires_in_hours)})
        link._schedule_next_reminder()  # as when it was sent then
        return link

    def _reminders(self, link):
        return self.env["mail.mail"].sudo().search([
            ("subject", "like", "expires soon"), ("email_to", "=", link.recipient_email)])

    def test_unclaimed_link_is_reminded_once_a_day_before_expiry(self):
        link = self._link_sent(days_ago=2, expires_in_hours=12)
        secret = self._secret_in_mail(link)
        reminded = self.env["payout.link"]._cron_remind_before_expiry(with_commit=False)
        self.assertEqual(reminded, link)
        mail = self._reminders(link)
        self.assertEqual(len(mail), 1)
        self.assertIn(self._claim_path(link, reminder=True), mail.body_html)
        self.assertNotIn(secret, mail.body_html, "the secret is only in the first email")
        self.assertEqual(mail.state, "outgoing")
        self.assertTrue(link.date_reminded)
        self.assertFalse(self.env["payout.link"]._cron_remind_before_expiry(with_commit=False),
                         "only once")
        self.assertEqual(len(self._reminders(link)), 1)

    def test_links_not_due_are_not_reminded(self):
        not_yet = self._link_sent(days_ago=1, expires_in_hours=48, email="a@example.com")
        fresh = self._link_sent(days_ago=0, expires_in_hours=20, email="b@example.com")
        opened = self._link_sent(days_ago=2, expires_in_hours=12, email="c@example.com")
        opened._mark_opened()
        claimed = self._link_sent(days_ago=2, expires_in_hours=12, email="d@example.com")
        claimed._claim(self.bank, "4000000003", "Dewi")  # stays processing
        reminded = self.env["payout.link"]._cron_remind_before_expiry(with_commit=False)
        self.assertEqual(reminded, opened, "an opened link is still unclaimed")
        for link in (not_yet, fresh, claimed):
            self.assertFalse(self._reminders(link))
