"""The queue helpers of payout links' scheduled actions (data/ir_cron_data.xml), in
account_edi's shape, and the crons that are neither the money engine's
(payout_link_submission.py) nor the claim's: expiry, reminders, batch sending.

Each cron takes a batch of links that no other worker holds (`_lock_batch`), processes it,
commits, reports its progress and triggers itself again while work remains
(`_run_batch`). The batch size comes from the cron's code (``batch_size=``) and committing
is a parameter (``with_commit``): a test passes a small batch and no commit.
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .. import const
from .payout_provider import ProviderUnavailable


class PayoutLink(models.Model):
    _inherit = "payout.link"

    def _lock_batch(self, domain, limit):
        """Take up to ``limit`` matching links that no other worker holds."""
        query = self.sudo()._search(domain, limit=limit, order="id")
        rows = self.env.execute_query(SQL(
            "%s FOR NO KEY UPDATE OF payout_link SKIP LOCKED", query.select("payout_link.id")
        ))
        return self.sudo().browse(row[0] for row in rows)

    def _run_batch(self, domain, process, cron_xmlid, batch_size, with_commit,
                   calls_provider=False):
        """Process one locked batch, commit it, and report progress to the cron.

        ``remaining`` also counts links another worker holds; triggering the cron again
        for them is harmless, since Odoo never runs one cron twice at the same time.

        :param calls_provider: the batch's provider calls take up to
            `const.CALL_TIME_BUDGET`. Odoo runs a job that reports remaining work up to 10
            times in a row under one ``limit_time_real``: such a batch reports none left,
            and the cron's trigger runs it again as a job of its own, with its own limit.
        """
        links = self._lock_batch(domain, batch_size)
        process(links)
        if with_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.sudo().search_count(domain)
        self.env["ir.cron"]._notify_progress(
            done=len(links), remaining=0 if calls_provider else remaining)
        if remaining:
            self.env.ref(cron_xmlid)._trigger()
        return links

    @api.model
    def _cron_expire_links(self, batch_size=const.BATCH_SIZE, with_commit=True):
        domain = [
            ("state", "in", const.CLAIMABLE_STATES),
            ("expiry_date", "<=", fields.Datetime.now()),
            # Links claimed at a provider expire there; polling tells.
            ("provider_id.is_claimed_in_odoo", "=", True),
        ]
        return self._run_batch(
            domain, lambda links: links._update_state("expired"),
            "hr_payout_link.ir_cron_payout_expire", batch_size, with_commit,
        )

    @api.model
    def _cron_remind_before_expiry(self, batch_size=const.BATCH_SIZE, with_commit=True):
        """Remind employees of links they have not claimed, on the schedule each link was
        given (models/payout_link_claim.py)."""
        now = fields.Datetime.now()
        domain = [
            ("state", "in", const.CLAIMABLE_STATES),
            ("date_next_reminder", "<=", now),
            ("expiry_date", ">", now),
            ("provider_id.is_claimed_in_odoo", "=", True),  # providers remind their own
            ("hold_reason", "=", False),  # a held link cannot be claimed
        ]
        return self._run_batch(
            domain, lambda links: links._send_reminders(),
            "hr_payout_link.ir_cron_payout_remind", batch_size, with_commit,
        )

    @api.model
    def _cron_send_batches(self, batch_size=const.BATCH_SIZE, with_commit=True):
        # Two workers ending the last lines of a batch at once each see the other's lines
        # as unsent: the next run marks the batch sent.
        self.env["payout.batch"].sudo().search([("state", "=", "sending")])._finish_sending()
        retry_before = fields.Datetime.now() - timedelta(minutes=const.RETRY_SUBMISSION_MINUTES)
        domain = [
            ("batch_id.state", "=", "sending"), ("state", "in", const.UNSENT_STATES),
            # Held lines wait for their release (payout_link_guards.py), or their cancel.
            ("hold_reason", "=", False),
            # Lines whose provider could not be asked a moment ago wait a while.
            "|", ("date_provider_call", "=", False), ("date_provider_call", "<", retry_before),
        ]
        return self._run_batch(
            domain, lambda links: links._send_batch_lines(),
            "hr_payout_link.ir_cron_payout_batch_send", batch_size, with_commit,
        )

    def _send_batch_lines(self):
        """Send lines of batches being sent, without a chatter message per line.

        A line the money gate stops (its provider disabled since, say) fails with the
        reason instead of blocking the rest of its batch. A line whose provider could not
        be asked (a balance call that failed) waits for the next run.
        """
        quiet = self.with_context(tracking_disable=True)
        unsendable = quiet._get_money_blockers(ask_provider=True)
        for link, errors in unsendable.items():
            if any(isinstance(error, ProviderUnavailable) for error in errors):
                link.sudo().date_provider_call = fields.Datetime.now()
            else:
                link._update_state("failed", values={"failure_reason": errors[0].args[0]})
        quiet.filtered(lambda link: link not in unsendable)._send_links(log=False)
        self.batch_id._finish_sending()
