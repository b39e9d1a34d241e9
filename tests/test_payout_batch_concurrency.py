import threading
from contextlib import contextmanager
from unittest.mock import patch

from psycopg2 import errorcodes
from psycopg2.extensions import TransactionRollbackError

from odoo import SUPERUSER_ID, api
from odoo.modules import module
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged

from odoo.addons.hr_payout_link.models import payout_link

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
        # Workers commit per batch as in production: no test is "current" for them.
        self.addCleanup(setattr, module, "current_test", module.current_test)
        module.current_test = None
        self.startPatcher(patch.object(payout_link, "BATCH_SIZE", CHUNK))
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
            env.cr.execute("DELETE FROM mail_message WHERE (model = 'payout.link' AND res_id IN %s)"
                           " OR (model = 'payout.batch' AND res_id = %s)",
                           (tuple(links.ids), self.batch_id))
            env.cr.execute("DELETE FROM payout_link WHERE batch_id = %s", (self.batch_id,))
            env.cr.execute("DELETE FROM payout_batch WHERE id = %s", (self.batch_id,))
            env["hr.employee"].browse(self.employee_ids).unlink()

    def _run_worker(self, taken):
        """What a cron worker does: run the sender until it finds nothing, retrying a
        transaction that PostgreSQL rolled back (serialization failure, deadlock)."""
        with self._env() as env:
            while True:
                try:
                    links = env["payout.link"]._cron_send_batches()
                    taken.extend(links.ids)
                    env.cr.commit()
                except TransactionRollbackError as error:
                    self.assertIn(error.pgcode, (errorcodes.SERIALIZATION_FAILURE,
                                                 errorcodes.DEADLOCK_DETECTED))
                    env.cr.rollback()
                    continue
                if not links:
                    return

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
                    lambda mail, link=link: link.access_token in mail.body_html)), 1)
            summaries = batch.message_ids.filtered(lambda m: "All lines sent" in (m.body or ""))
            self.assertEqual(len(summaries), 1)

    def test_two_workers_never_send_a_line_twice(self):
        original = self.registry["payout.link"]._send_batch_lines
        barrier = threading.Barrier(2, timeout=30)
        waited = set()

        def slow_send(links):
            # Each worker's first batch waits for the other's: both hold locked rows at once.
            if threading.get_ident() not in waited:
                waited.add(threading.get_ident())
                barrier.wait()
            return original(links)

        taken = {"first": [], "second": []}
        with patch.object(self.registry["payout.link"], "_send_batch_lines", slow_send):
            workers = [threading.Thread(target=self._run_worker, args=(taken[name],))
                       for name in taken]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join(timeout=120)
        self.assertFalse(any(worker.is_alive() for worker in workers))
        self.assertTrue(taken["first"] and taken["second"], "both workers sent lines")
        self.assertFalse(set(taken["first"]) & set(taken["second"]),
                         "no line was taken by both workers")
        self.assertEqual(len(taken["first"]) + len(taken["second"]), LINES)
        self._assert_each_line_sent_once()

    def test_crash_in_the_middle_then_resume(self):
        original = self.registry["payout.link"]._send_claim_links
        calls = []

        def crash_on_third_batch(links, log=True):
            calls.append(len(links))
            result = original(links, log=log)  # tokens written, emails queued: then crash
            if len(calls) == 3:
                raise RuntimeError("worker killed")
            return result

        with patch.object(self.registry["payout.link"], "_send_claim_links",
                          crash_on_third_batch), self.assertRaises(RuntimeError):
            self._run_worker([])
        with self._env() as env:
            batch = env["payout.batch"].browse(self.batch_id)
            self.assertEqual(batch.state, "sending")
            self.assertEqual(len(batch.link_ids.filtered(lambda link: link.state == "sent")),
                             2 * CHUNK, "the batches before the crash were committed")
            self.assertEqual(env["mail.mail"].search_count(
                [("email_to", "like", "concurrent.")]), 2 * CHUNK,
                "the crashed batch's emails were rolled back with it")
        taken = []
        self._run_worker(taken)  # the next cron run resumes
        self.assertEqual(len(taken), LINES - 2 * CHUNK)
        self._assert_each_line_sent_once()
