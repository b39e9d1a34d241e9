import threading
from contextlib import contextmanager
from unittest.mock import patch

from psycopg2 import errorcodes
from psycopg2.extensions import TransactionRollbackError

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged

from odoo.addons.hr_payout_link import const
from odoo.addons.hr_payout_link.tests.common import CLAIM_URL_IN_MAIL_RE

LINES = 60
CHUNK = 7  # links per locked batch: several batches per worker


@tagged("post_install", "-at_install")
class TestBatchSendingConcurrency(BaseCase):
    """Real workers on real, committed transactions (not the test's single cursor), as two
    Odoo cron workers (or the cron and a manual run) would take the same batch."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    def setUp(self):
        super().setUp()
        with self._env() as env:
            employees = env["hr.employee"].create([{
                "name": f"Concurrent Employee {index}",
                "work_email": f"concurrent.{index}@example.com",
            } for index in range(LINES)])
            batch = env["payout.batch"].create({
                "name": "Concurrent run",
                "provider_id": env.ref("hr_payout_link.payout_provider_demo").id,
            })
            env["payout.link"].create([
                {"batch_id": batch.id, "employee_id": employee.id, "amount": 10.0}
                for employee in employees
            ])
            batch.action_send_all()
            self.batch_id, self.employee_ids = batch.id, employees.ids
        self.addCleanup(self._delete_data)

    @contextmanager
    def _env(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def _delete_data(self):
        with self._env() as env:
            links = env["payout.link"].search([("batch_id", "=", self.batch_id)])
            env.cr.execute("DELETE FROM mail_mail WHERE email_to LIKE 'concurrent.%%'")
            env.cr.execute("DELETE FROM mail_activity WHERE res_model = 'payout.link' "
                           "AND res_id IN %s", (tuple(links.ids),))
            env.cr.execute("DELETE FROM mail_message WHERE (model = 'payout.link' AND res_id IN %s)"
                           " OR (model = 'payout.batch' AND res_id = %s)",
                           (tuple(links.ids), self.batch_id))
            env.cr.execute("DELETE FROM payout_link WHERE batch_id = %s", (self.batch_id,))
            env.cr.execute("DELETE FROM payout_batch WHERE id = %s", (self.batch_id,))
            env["hr.employee"].browse(self.employee_ids).unlink()

    def _run_worker(self, taken, cron="_cron_send_batches"):
        """What a cron worker does: run the ``cron`` method until it finds nothing,
        retrying a transaction that PostgreSQL rolled back (serialization failure,
        deadlock)."""
        with self._env() as env:
            while True:
                try:
                    # Committing per batch, as in production.
                    links = getattr(env["payout.link"], cron)(batch_size=CHUNK)
                    taken.extend(links.ids)
                    env.cr.commit()
                except TransactionRollbackError as error:
                    self.assertIn(error.pgcode, (errorcodes.SERIALIZATION_FAILURE,
                                                 errorcodes.DEADLOCK_DETECTED))
                    env.cr.rollback()
                    continue
                if not links:
                    return

    def _send_and_claim_all(self):
        """Send the batch, then claim every line as its employee would; their ids."""
        self._run_worker([])
        with self._env() as env:
            links = env["payout.batch"].browse(self.batch_id).link_ids
            bank = env.ref("hr_payout_link.bank_id_bca")
            for index, link in enumerate(links):
                # One account per employee: one given by several waits for a review.
                link._claim(bank, f"{1_000_000_000 + index}", link.recipient_name)
            return links.ids

    def _assert_each_line_sent_once(self):
        with self._env() as env:
            batch = env["payout.batch"].browse(self.batch_id)
            links = batch.link_ids
            self.assertEqual(len(links), LINES)
            self.assertEqual(set(links.mapped("state")), {"sent"})
            self.assertEqual(batch.state, "sent")
            mails = env["mail.mail"].search([("email_to", "like", "concurrent.")])
            self.assertEqual(sorted(mails.mapped("email_to")),
                             sorted(links.mapped("recipient_email")),
                             "one claim email per line, none twice")
            for link in links:
                self.assertEqual(len(mails.filtered(
                    lambda mail, link=link: link.claim_token_hash in {
                        link._hash_claim_token(token)
                        for token in CLAIM_URL_IN_MAIL_RE.findall(mail.body_html)})), 1)
            summaries = batch.message_ids.filtered(lambda m: "All lines sent" in (m.body or ""))
            self.assertEqual(len(summaries), 1)

    def _run_two_workers(self, model, method, cron):
        """Two workers running ``cron`` at once, ``model.method`` (which processes a locked
        batch) holding each worker's first batch until the other has one too. Returns the
        link ids each worker took."""
        original = getattr(model, method)
        barrier = threading.Barrier(2, timeout=30)
        waited = set()

        def held(*args, **kwargs):
            if threading.get_ident() not in waited:
                waited.add(threading.get_ident())
                barrier.wait()
            return original(*args, **kwargs)

        taken = {"first": [], "second": []}
        with patch.object(model, method, held):
            workers = [threading.Thread(target=self._run_worker, args=(taken[name], cron))
                       for name in taken]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=120)
        self.assertFalse(any(worker.is_alive() for worker in workers))
        return taken

    def test_two_workers_never_send_a_line_twice(self):
        taken = self._run_two_workers(self.registry["payout.link"], "_send_batch_lines",
                                      "_cron_send_batches")
        self.assertTrue(taken["first"] and taken["second"], "both workers sent lines")
        self.assertFalse(set(taken["first"]) & set(taken["second"]),
                         "no line was taken by both workers")
        self.assertEqual(len(taken["first"]) + len(taken["second"]), LINES)
        self._assert_each_line_sent_once()

    def test_two_payment_workers_never_pay_a_link_twice(self):
        self._send_and_claim_all()
        paid = {}  # link id: the threads that asked the provider to pay it
        provider_model = self.registry["payout.provider"]
        original = provider_model._prepare_submission

        def counted(provider, link, account_number):
            paid.setdefault(link.id, []).append(threading.get_ident())
            return original(provider, link, account_number)

        with patch.object(provider_model, "_prepare_submission", counted):
            self._run_two_workers(self.registry["payout.link"], "_submit_to_provider",
                                  "_cron_submit_payouts")
        self.assertEqual(len(paid), LINES)
        self.assertEqual({link_id: len(threads) for link_id, threads in paid.items()},
                         dict.fromkeys(paid, 1), "every link paid once, none twice")
        self.assertEqual(len({thread for threads in paid.values() for thread in threads}), 2,
                         "both workers paid links")
        with self._env() as env:
            links = env["payout.batch"].browse(self.batch_id).link_ids
            self.assertEqual(set(links.mapped("state")), {"done"})
            self.assertEqual(set(links.mapped("submission_state")), {"accepted"})

    def test_a_worker_leaves_links_another_is_paying(self):
        """Committing 'submitting' frees the row locks while the calls go on: another
        worker must not take those links as interrupted submissions."""
        link_ids = self._send_and_claim_all()
        with self._env() as first:
            held = first["payout.link"].browse(link_ids)._hold_submissions()
            self.assertEqual(held.ids, link_ids)
            try:
                with self._env() as second:
                    # Even past the retry delay, the held links are not the second's.
                    second.cr.execute("UPDATE payout_link SET submission_state = 'submitting',"
                                      " date_provider_call = NULL WHERE id IN %s",
                                      (tuple(link_ids),))
                    self.assertFalse(second["payout.link"].browse(link_ids)._hold_submissions())
                    second.cr.rollback()
            finally:
                held._release_submissions()

    def test_a_crashed_run_releases_its_locks_and_keeps_nothing(self):
        """A bug during the provider calls rolls the run back, then frees the advisory
        locks while its connection lives on: the links are neither lost nor held."""
        link_ids = self._send_and_claim_all()
        provider_model = self.registry["payout.provider"]
        crashed_cr = self.registry.cursor()  # kept open: a pooled connection lives on
        try:
            with patch.object(provider_model, "_run_calls", side_effect=RuntimeError("a bug")), \
                    self.assertRaisesRegex(RuntimeError, "a bug"):
                api.Environment(crashed_cr, SUPERUSER_ID, {})["payout.link"]._cron_submit_payouts(
                    batch_size=CHUNK)
            with self._env() as env:
                # Any session's advisory locks on these links, in this database.
                env.cr.execute("""
                    SELECT objid FROM pg_locks
                     WHERE locktype = 'advisory' AND classid = %s AND objsubid = 2
                       AND database = (SELECT oid FROM pg_database
                                        WHERE datname = current_database())
                       AND objid::int IN %s""", (const.SUBMISSION_LOCK_SPACE, tuple(link_ids)))
                self.assertFalse(env.cr.fetchall(), "no lock left behind")
                # Marked and committed before the calls: looked up, never sent blindly.
                marked = env["payout.link"].browse(sorted(link_ids)[:CHUNK])
                self.assertEqual(set(marked.mapped("submission_state")), {"submitting"})
        finally:
            crashed_cr.close()
