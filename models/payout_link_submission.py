"""The submission engine: where a payout link's money moves, at most once.

A link claimed in Odoo, or sent to a provider that hosts the claim, waits with
``submission_state = 'to_submit'`` and an idempotency key (``submission_key``), both
stored in the request that queued it: that request never calls the provider, since Odoo
may replay a request after a serialization failure. The payment cron then submits it
(`_cron_submit_payouts`, then `_submit_to_provider`), in this order:

1. **Lock the rows** (`_lock_batch`: ``FOR NO KEY UPDATE SKIP LOCKED``): two workers never
   take the same link. Only as many as the provider's rate limit allows in
   `const.CALL_TIME_BUDGET` are taken on (`_within_call_budget`): the run ends well inside
   Odoo's ``limit_time_real``.
2. **Advisory-lock each link** (`_hold_submissions`): step 4 releases the row locks while
   the calls of step 5 still run; a session advisory lock outlives that commit and dies
   with a crashed worker's connection, so another worker cannot take the link for an
   interrupted submission meanwhile.
3. **Ask the money gate** (`_get_money_blockers`, payout_link.py) for the links to submit:
   a link it stops stays 'to_submit', due again in `const.RETRY_SUBMISSION_MINUTES`.
   **Mark 'submitting' and stamp** ``date_provider_call``: a link found 'submitting' later
   was interrupted between its call and its answer, so it is reconciled (looked up at the
   provider), never sent again; the stamp makes other workers wait
   `const.RETRY_SUBMISSION_MINUTES` before they look.
4. **Commit**: the mark and the key are durable before any money moves.
5. **Call the provider**, a few calls at once in threads (`payout.provider._run_calls`);
   the calls touch no ORM, every answer is stored on this cursor. A call that would
   start past the time budget is not made: its link is as before the run.
6. **Store the answers** (`_apply_submission_outcome`) as they come, committed every
   `const.COMMIT_EVERY_SECONDS`: accepted; a proven refusal (the link fails); or unknown
   (it stays 'submitting', looked up by a later run, and after too many unclear answers
   needs attention: see NEEDS ATTENTION below).
7. **Release** the advisory locks once the cron has committed the last answers (or
   rolled them back): never on an aborted transaction, never before another worker can
   see the answers.

Links at a provider are then followed by polling (`_poll_provider_status`) and, for
Xendit, its callbacks.

**Needs attention.** A provider answer that is neither an acceptance nor a proven refusal
(a timeout, a 5xx, a malformed or duplicate answer...) leaves a link 'submitting', to be
looked up again, never sent again. When the lookups stay unclear
(`const.MAX_UNCLEAR_CALLS` times, or for `const.ATTENTION_AFTER_HOURS`), the link needs
attention: the cron stops asking, a Payout Manager gets an activity, and resolves it with
*Check Again*, *Confirm Paid at Provider* or *Confirm Not Paid*. Only the last makes the
link reissuable: Odoo never guesses that money did not move.

The crons run on the queue helpers of payout_link_cron.py (`_run_batch`).
"""

import logging
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import const
from ..protocol.concurrency import CallSkipped

_logger = logging.getLogger(__name__)


class PayoutLink(models.Model):
    _inherit = "payout.link"

    # === Queueing === #

    def _send_to_provider(self, log=True):
        """Implementation of the core's hook: queue the links for their provider, which
        emails the employee and hosts the claim.

        The provider is called by `_cron_submit_payouts`, never in this request: a retried
        request must not create a second link at the provider.
        """
        if not self:
            return
        for link in self:
            link._update_state("sent", values=link._queue_values("to_submit"),
                               message=log and self.env._("Queued for %s.",
                                                          link.provider_id.name))
        self._trigger_submissions()

    def _get_submission_reference(self):
        """The reference the provider knows (or, before the link is queued, will know)."""
        self.ensure_one()
        return self.submission_reference or self.provider_id._new_submission_reference(self)

    # === Submitting (steps 2 to 7 of the module docstring) === #

    def _reconcile_now(self):
        """Look an unclear submission up at its provider now (Check Again), unless a
        worker is submitting it: the same steps as the cron, without its commits."""
        held = self._hold_submissions(with_commit=False)
        if busy := self - held:
            raise UserError(self.env._(
                "%s: being submitted right now; check again in a minute.",
                ", ".join(busy.mapped("display_name")),
            ))
        held._call_provider_for_submissions(with_commit=False)

    def _submit_to_provider(self, with_commit=True):
        """Pay each link at most once: mark 'submitting' and commit before any call.

        The batch is marked in one statement and one commit; then the provider calls run
        (a few at once for HTTP providers) and their answers are stored here, on this
        cursor, and committed every few calls. A link found 'submitting' was interrupted
        between the call and storing its answer: it is reconciled through the provider,
        never submitted again.
        """
        held = self._within_call_budget()._hold_submissions(with_commit)
        try:
            held._call_provider_for_submissions(with_commit)
        except Exception:
            if with_commit:
                self.env.cr.rollback()  # an aborted transaction could not unlock
                held._release_submissions()
            raise
        if with_commit:
            # Released once the cron's run has committed the answers (or rolled them
            # back): another worker never takes a link whose answer it cannot see yet.
            self.env.cr.postcommit.add(held._release_submissions)
            self.env.cr.postrollback.add(held._release_submissions)

    def _within_call_budget(self):
        """The links of ``self`` whose calls fit in one run (`const.CALL_TIME_BUDGET` at
        each provider's rate limit); the others wait for the next run."""
        budgeted = self.browse()
        for provider, links in self.grouped("provider_id").items():
            budgeted |= links[:provider._get_calls_per_run()]
        return budgeted

    def _hold_submissions(self, with_commit=True):
        """The links of ``self`` that no other worker is submitting, now held by this one.

        Committing 'submitting' releases the batch's row locks while its provider calls
        are still running: a session advisory lock per link, which outlives the commit and
        dies with a crashed worker's connection, keeps another worker from taking the
        same links for an interrupted submission meanwhile. Without commits (a button, a
        test), the lock is the transaction's: it ends with it, whatever happens.
        """
        if not self:
            return self
        lock = "pg_try_advisory_lock" if with_commit else "pg_try_advisory_xact_lock"
        rows = self.env.execute_query(SQL(
            "SELECT id FROM unnest(%s::int[]) AS id WHERE %s(%s, id)",
            self.ids, SQL(lock), const.SUBMISSION_LOCK_SPACE,
        ))
        return self.browse(row[0] for row in rows)

    def _release_submissions(self):
        if self:
            self.env.execute_query(SQL(
                "SELECT pg_advisory_unlock(%s, id) FROM unnest(%s::int[]) AS id",
                const.SUBMISSION_LOCK_SPACE, self.ids,
            ))

    def _call_provider_for_submissions(self, with_commit):
        """Steps 3 to 6: mark, commit (when ``with_commit``), call, store the answers."""
        if not self:
            return
        interrupted = {link.id for link in self if link.submission_state == "submitting"}
        # The money gate, right before the calls: an interrupted submission is only looked
        # up; a new one waits while the gate stops it.
        blocked = self.browse(link.id for link in self._get_money_blockers()
                              if link.id not in interrupted)
        if blocked:
            _logger.warning("payout links %s: not submitted, stopped by the money gate",
                            blocked.mapped("name"))
            blocked.sudo().date_provider_call = fields.Datetime.now()
        self -= blocked
        if not self:
            return
        self.flush_recordset(["submission_state"])
        # Stamped as a provider call: other workers leave the links alone for a while.
        self.env.execute_query(SQL(
            "UPDATE payout_link SET submission_state = 'submitting', date_provider_call = %s "
            "WHERE id IN %s", fields.Datetime.now(), tuple(self.ids),
        ))
        self.invalidate_recordset(["submission_state", "date_provider_call"])
        if with_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        deadline = time.monotonic() + const.CALL_TIME_BUDGET
        for provider, links in self.grouped("provider_id").items():
            # Each call carries the submission key stored when the link was queued: the
            # provider pays a retried call once.
            calls = [
                (provider._prepare_reconciliation if link.id in interrupted
                 else provider._prepare_submission)(link, link.sudo().account_number)
                for link in links
            ]
            outcomes = zip(links, provider._run_calls(calls, deadline=deadline), strict=True)
            for link, (answer, error) in self._committing(outcomes, with_commit):
                if isinstance(error, CallSkipped):
                    # Never called: as it was before this run, due at the next one.
                    link.sudo().write({
                        "submission_state": "submitting" if link.id in interrupted
                        else "to_submit", "date_provider_call": False})
                else:
                    link._apply_submission_outcome(answer, error)

    def _committing(self, items, with_commit):
        """``items``, committing what was stored of them every
        `const.COMMIT_EVERY_SECONDS`: a worker killed mid-run loses at most the answers
        since the last commit, whose links the next run finds 'submitting' and looks up."""
        last_commit = time.monotonic()
        for item in items:
            yield item
            if with_commit and time.monotonic() - last_commit >= const.COMMIT_EVERY_SECONDS:
                self.env.cr.commit()  # pylint: disable=invalid-commit
                last_commit = time.monotonic()

    def _apply_submission_outcome(self, answer, error):
        """Store what a submission or reconciliation call gave: the provider's ``answer``,
        or the ProviderError it raised."""
        self.ensure_one()
        provider = self.provider_id
        if error and error.refusal:
            # Refused by the provider, or unfit to send: no money moves for it.
            self.submission_state = "refused"
            self._clear_unclear_answers()
            self._update_state("failed", values={"failure_reason": error.message},
                               message=self.env._("%(provider)s refused: %(error)s",
                                                  provider=provider.name, error=error.message))
        elif error:
            # The call may or may not have reached the provider: stay 'submitting' so a
            # later run looks the payout up instead of sending it again.
            self.write({"submission_state": "submitting",
                        "date_provider_call": fields.Datetime.now(),
                        # What the provider seemed to say, for the person who checks.
                        **({"provider_status": error.answer.raw_status} if error.answer
                           else {})})
            self.message_post(body=self.env._(
                "%(provider)s did not answer clearly (%(error)s); the next run checks "
                "what happened.", provider=provider.name, error=error.message,
            ))
            self._note_unclear_answer(error.message, at_once=error.needs_person)
        else:
            self.submission_state = "accepted"
            self._clear_unclear_answers()
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
        if self.follow_after_cancel and state in const.FINAL_STATES:
            self.sudo().follow_after_cancel = False  # the provider's status is final
        message = raw_changed and self.env._(
            "%(provider)s status: %(status)s", provider=provider.name, status=raw_status
        )
        if state == self.state:
            if message:
                self.message_post(body=message)
            return
        values = {"failure_reason": reason or message} if state == "failed" else {}
        self._update_state(state, values=values, message=message)

    # === Following links at their provider === #

    def action_check_status(self):
        """Ask the provider for the link's status now (what the polling cron does), for
        links it holds and that are still open; never while a worker submits them."""
        self.check_access("write")
        if wrong := self.filtered(lambda link: not link.can_check_status):
            raise UserError(self.env._(
                "%s: only open links that a provider holds can be checked.",
                ", ".join(wrong.mapped("display_name")),
            ))
        if busy := self - self._hold_submissions(with_commit=False):
            raise UserError(self.env._(
                "%s: being submitted right now; check again in a minute.",
                ", ".join(busy.mapped("display_name")),
            ))
        self.sudo()._poll_provider_status()
        return True

    def _follow_callback(self, payout_id):
        """A provider's callback named this link's payout: fetch it (the callback's body is
        never trusted) and apply it. A link whose creation's answer was lost learns its
        payout here, once the fetched payout shows our reference."""
        self.ensure_one()
        if self.provider_reference or self.submission_state != "submitting":
            return self._poll_provider_status()
        if not (payout_id and self._hold_submissions(with_commit=False)):
            return None  # a worker is submitting it: its own answer settles it
        [(answer, error)] = self.provider_id._run_calls(
            [self.provider_id._prepare_status_check(self, payout_id)])
        if error or not self.provider_id._is_answer_for(self, answer):
            _logger.warning("payout link %s: callback for payout %s not confirmed by the "
                            "provider", self.name, payout_id)
            return None
        return self._apply_submission_outcome(answer, None)

    def _poll_provider_status(self, with_commit=False):
        """Follow each link at its provider, at no more than the provider's rate limit
        and with its calls made a few at once (all database work stays on this cursor).

        Database work stays constant per batch: the links are read together, one UPDATE
        stamps them all, and a link is written only when its status changed. Links whose
        call did not fit in the run's time budget are due again at the next run.
        """
        links = self._within_call_budget()
        if not links:
            return
        # One statement whatever the batch size (the ORM flushes in chunks of 100 rows).
        self.env.execute_query(SQL(
            "UPDATE payout_link SET date_provider_call = %s WHERE id IN %s",
            fields.Datetime.now(), tuple(links.ids),
        ))
        self.invalidate_recordset(["date_provider_call"])
        deadline = time.monotonic() + const.CALL_TIME_BUDGET
        for provider, provider_links in links.grouped("provider_id").items():
            calls = [provider._prepare_status_check(link) for link in provider_links]
            # All the calls first, then the database work: status reads lose nothing if a
            # worker dies, and HTTP threads do not wait for the ORM's turn at the GIL.
            answers = list(provider._run_calls(
                calls, interval=provider._get_poll_interval(), deadline=deadline))
            for link, (answer, error) in self._committing(
                    zip(provider_links, answers, strict=True), with_commit):
                if isinstance(error, CallSkipped):
                    link.date_provider_call = False
                elif error:
                    link.message_post(body=self.env._(
                        "Could not get the status from %(provider)s: %(error)s",
                        provider=provider.name, error=error.message,
                    ))
                else:
                    link._apply_provider_status(answer)

    # === Needs attention: flagging === #

    def _note_unclear_answer(self, reason, at_once=False):
        """Count an unclear answer; flag the link once the lookups have been unclear too
        often or too long, or ``at_once`` (a payout under our reference that is not ours)."""
        self.ensure_one()
        now = fields.Datetime.now()
        first = self.date_first_unclear or now
        calls = self.unclear_calls + 1
        self.sudo().write({"unclear_calls": calls, "date_first_unclear": first})
        if self.needs_attention or not (
            at_once or calls >= const.MAX_UNCLEAR_CALLS
            or now - first >= timedelta(hours=const.ATTENTION_AFTER_HOURS)
        ):
            return
        self.sudo().needs_attention = True
        self.message_post(body=self.env._(
            "Needs attention: %(provider)s gave no clear answer %(count)s times since "
            "%(since)s (last: %(reason)s). It is not known whether the payout was made: check "
            "at the provider, then confirm here. Odoo stops asking meanwhile.",
            provider=self.provider_id.name, count=calls,
            since=fields.Datetime.to_string(first), reason=reason,
        ))
        self.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self._get_attention_user().id,
            summary=self.env._("Payout outcome unknown: check at the provider"),
            note=reason,
        )

    def _clear_unclear_answers(self):
        """A clear answer came: the count starts again."""
        if flagged := self.filtered(lambda link: link.unclear_calls or link.needs_attention):
            flagged.sudo().write({"unclear_calls": 0, "date_first_unclear": False,
                                  "needs_attention": False})
            flagged.activity_unlink(["mail.mail_activity_data_todo"])

    def _get_attention_user(self):
        """A Payout Manager of the link's company: its responsible user when they are one."""
        self.ensure_one()
        managers = self.env.ref("hr_payout_link.group_payout_manager").sudo().users.filtered(
            lambda user: self.company_id in user.company_ids and not user.share)
        if self.user_id in managers:
            return self.user_id
        return managers.sorted("id")[:1] or self.user_id or self.create_uid

    # === A Payout Manager resolves it === #

    def _check_attention_resolver(self, settling=True):
        """Only a Payout Manager resolves a link that needs attention; settling whether it
        was paid (``settling``, not *Check Again*) is for one who neither made, sent nor
        approved it, nor its batch, and whom it does not pay: *Confirm Not Paid* makes it
        reissuable, which pays twice if the provider did pay."""
        if not self.env.user.has_group("hr_payout_link.group_payout_manager"):
            raise AccessError(self.env._("Only a Payout Manager can resolve payouts that "
                                         "need attention."))
        if wrong := self.filtered(lambda link: not link.needs_attention):
            raise UserError(self.env._(
                "%s: does not need attention.", ", ".join(wrong.mapped("display_name"))))
        if settling:
            action = self.env._("confirm whether it was paid")
            self._check_four_eyes(action, sender=True, approver=True)
            self.batch_id._check_four_eyes(action, sender=True, approver=True)

    def action_check_again(self):
        """Look the payout up at the provider now, as the payment cron would."""
        self._check_attention_resolver(settling=False)
        for link in self:
            link.sudo()._reconcile_now()
        return True

    def action_resolve_attention(self):
        """Ask for the resolution and its reason (see `_resolve_attention`)."""
        self._check_attention_resolver()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Resolve Payout"),
            "res_model": "payout.attention.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": self._name, "active_ids": self.ids,
                        "default_resolution": self.env.context.get("payout_resolution")},
        }

    def _resolve_attention(self, resolution, reason):
        """Record a Payout Manager's finding: ``resolution`` is 'paid' (the provider holds
        the payout: the link is paid) or 'not_paid' (it does not and will not: the link
        fails and may be reissued)."""
        self._check_attention_resolver()
        if not (reason or "").strip():
            raise UserError(self.env._("Reason: required to resolve a payout."))
        user = self.env.user
        stamp = {"attention_resolved_by_id": user.id,
                 "date_attention_resolved": fields.Datetime.now(),
                 "attention_resolution": reason, "needs_attention": False,
                 "unclear_calls": 0, "date_first_unclear": False}
        for link in self:
            if resolution == "paid":
                message = self.env._("Confirmed paid at %(provider)s by %(user)s: %(reason)s",
                                     provider=link.provider_id.name, user=user.name,
                                     reason=reason)
                link.sudo().write(dict(stamp, submission_state="accepted"))
                link._update_state("done", message=message)
            else:
                message = self.env._("Confirmed not paid by %(user)s: %(reason)s",
                                     user=user.name, reason=reason)
                link.sudo().write(dict(stamp, submission_state="refused"))
                link._update_state("failed", values={"failure_reason": message},
                                   message=message)
        self.activity_unlink(["mail.mail_activity_data_todo"])

    # === The payment and polling crons === #

    @api.model
    def _cron_submit_payouts(self, batch_size=const.BATCH_SIZE, with_commit=True):
        """Pay claimed links (the steps of the module's docstring)."""
        retry_before = fields.Datetime.now() - timedelta(minutes=const.RETRY_SUBMISSION_MINUTES)
        domain = [
            ("state", "in", const.PENDING_STATES),  # not once cancelled
            # A disabled provider submits nothing: its links wait until it is enabled again.
            ("provider_id.state", "!=", "disabled"),
            # A held link is not paid until released; one in flight is still looked up.
            "|", "&", ("submission_state", "=", "to_submit"), ("hold_reason", "=", False),
            "&", ("submission_state", "=", "submitting"), ("needs_attention", "=", False),
            # A call that got no clear answer, or a link the money gate stopped, waits a while.
            "|", ("date_provider_call", "=", False), ("date_provider_call", "<", retry_before),
        ]
        return self._run_batch(
            domain, lambda links: links._submit_to_provider(with_commit),
            "hr_payout_link.ir_cron_payout_submit", batch_size, with_commit,
            calls_provider=True,
        )

    @api.model
    def _cron_poll_provider_status(self, batch_size=const.BATCH_SIZE, with_commit=True):
        polled_before = fields.Datetime.now() - timedelta(minutes=const.POLL_EVERY_MINUTES)
        domain = [
            "|", ("state", "in", const.PENDING_STATES),
            "&", ("state", "=", "cancelled"), ("follow_after_cancel", "=", True),
            ("submission_state", "=", "accepted"),
            ("provider_id.is_polled", "=", True),
            "|", ("date_provider_call", "=", False), ("date_provider_call", "<", polled_before),
        ]
        return self._run_batch(
            domain, lambda links: links._poll_provider_status(with_commit),
            "hr_payout_link.ir_cron_payout_poll", batch_size, with_commit,
            calls_provider=True,
        )
