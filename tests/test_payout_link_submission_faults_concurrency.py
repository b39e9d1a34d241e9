"""The fault matrix on real workers (see test_payout_link_submission_faults.py): real,
committed transactions, two users reissuing one failed link at once, a worker killed
between its provider calls and its commit, a Cancel while another worker submits.
"""

import threading
from contextlib import contextmanager
from unittest.mock import patch

from psycopg2 import errorcodes
from psycopg2.extensions import TransactionRollbackError

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged

from ..sandbox import doku as doku_sandbox
from ..sandbox import xendit as xendit_sandbox
from .common import ACCOUNT_NUMBER, HOLDER, FaultMatrixMixin
from .common import FAULT_MATRIX_PROVIDERS as PROVIDERS


@tagged("post_install", "-at_install")
class TestFaultMatrixConcurrency(FaultMatrixMixin, BaseCase):
    """Real workers on real, committed transactions: two users reissuing one failed link
    at once, and a worker killed between its provider calls and its commit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.doku = doku_sandbox.start()
        cls.addClassCleanup(cls.doku.server.stop)
        cls.xendit = xendit_sandbox.start()
        cls.addClassCleanup(cls.xendit.server.stop)

    def setUp(self):
        super().setUp()
        self.doku.server.reset()
        self.xendit.server.reset()
        with self._env() as env:
            idr = env.ref("base.IDR")
            self.addCleanup(self._set_idr_active, idr.active)
            idr.active = True
            # Each test pays its one employee several times.
            company = env.company
            self.addCleanup(self._set_duplicate_window, company.payout_duplicate_window)
            company.payout_duplicate_window = "off"
            common = {"code": "xendit", "state": "test", "xendit_base_url": self.xendit.url,
                      "xendit_secret_key": self.xendit.secret_key}
            providers = env["payout.provider"].create([
                {"name": "Fault DOKU", "code": "doku", "state": "test",
                 "doku_environment": "custom", "doku_base_url": self.doku.url,
                 "doku_client_id": self.doku.client_id,
                 "doku_secret_key": self.doku.secret_key, "doku_rate_limit": 0},
                {**common, "name": "Fault Xendit v2", "xendit_claim_mode": "odoo"},
                {**common, "name": "Fault Xendit links", "xendit_claim_mode": "xendit"},
            ])
            self.provider_ids = dict(zip(PROVIDERS, providers.ids, strict=True))
            self.employee_id = env["hr.employee"].create({
                "name": HOLDER, "work_email": "fault.matrix@example.com",
                "mobile_phone": "0812-3456-7890",
            }).id
        self.addCleanup(self._delete_data)

    @contextmanager
    def _env(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def _set_idr_active(self, active):
        with self._env() as env:
            env.ref("base.IDR").active = active

    def _set_duplicate_window(self, window):
        with self._env() as env:
            env.company.payout_duplicate_window = window

    def _delete_data(self):
        with self._env() as env:
            links = env["payout.link"].with_context(active_test=False).search(
                [("employee_id", "=", self.employee_id)])
            if links:
                env.cr.execute("DELETE FROM mail_mail WHERE email_to LIKE 'fault.matrix%%'")
                env.cr.execute("DELETE FROM mail_activity WHERE res_model = 'payout.link' "
                               "AND res_id IN %s", (tuple(links.ids),))
                env.cr.execute("DELETE FROM mail_message WHERE model = 'payout.link' "
                               "AND res_id IN %s", (tuple(links.ids),))
                env.cr.execute("DELETE FROM mail_followers WHERE res_model = 'payout.link' "
                               "AND res_id IN %s", (tuple(links.ids),))
                env.cr.execute("DELETE FROM payout_link WHERE id IN %s", (tuple(links.ids),))
            env["hr.employee"].browse(self.employee_id).unlink()
            env["payout.provider"].browse(list(self.provider_ids.values())).unlink()

    def _new_link(self, env, kind):
        link = env["payout.link"].create({
            "employee_id": self.employee_id, "provider_id": self.provider_ids[kind],
            "currency_id": env.ref("base.IDR").id, "amount": 1500000,
            "description": "Q4 bonus", "recipient_email": "fault.matrix@example.com",
        })
        link.action_send()
        if kind == "xendit_v2":
            link._claim(env.ref("hr_payout_link.bank_id_bca"), ACCOUNT_NUMBER, HOLDER)
        return link

    def _run_in_thread(self, target, *args):
        errors = []

        def run():
            try:
                target(*args)
            except Exception as error:  # noqa: BLE001 - reported by the test's thread
                errors.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        return thread, errors

    def _reissue(self, link_id, outcomes):
        """One user's Reissue on their own transaction, retried as Odoo retries a request
        that PostgreSQL rolled back (serialization failure)."""
        with self._env() as env:
            while True:
                try:
                    env["payout.link"].browse(link_id).action_reissue()
                    env.cr.commit()
                    outcomes.append("reissued")
                    return
                except UserError as error:
                    env.cr.rollback()
                    outcomes.append(f"refused: {error.args[0]}")
                    return
                except TransactionRollbackError as error:
                    self.assertEqual(error.pgcode, errorcodes.SERIALIZATION_FAILURE)
                    env.cr.rollback()

    def _race(self, link_id):
        """Two users reissue ``link_id`` at once: each passes Reissue's checks before
        either copies the link. Returns what each got."""
        model = self.registry["payout.link"]
        original = model._copy_for_reissue
        barrier = threading.Barrier(2, timeout=30)
        waited = set()

        def copy_when_both_checked(links):
            if threading.get_ident() not in waited:
                waited.add(threading.get_ident())
                barrier.wait()
            return original(links)

        outcomes = []
        with patch.object(model, "_copy_for_reissue", copy_when_both_checked):
            workers = [self._run_in_thread(self._reissue, link_id, outcomes)
                       for _user in range(2)]
            for thread, errors in workers:
                thread.join(timeout=60)
                self.assertFalse(thread.is_alive())
                self.assertFalse(errors)
        return outcomes

    def test_fault_matrix_two_concurrent_reissues(self):
        for kind in PROVIDERS:
            with self.subTest(provider=kind):
                with self._env() as env:
                    link = self._new_link(env, kind)
                    link.sudo().write({"submission_state": "refused"})
                    link._update_state("failed", values={"failure_reason": "Refused."})
                    link_id = link.id
                outcomes = self._race(link_id)
                self.assertEqual(sorted(outcome.split(":")[0] for outcome in outcomes),
                                 ["refused", "reissued"], outcomes)
                self.assertRegex(next(o for o in outcomes if o.startswith("refused")),
                                 "already reissued")
                with self._env() as env:
                    replacements = env["payout.link"].search([("replaced_link_id", "=", link_id)])
                    self.assertEqual(len(replacements), 1, "exactly one replacement")
                    self.assertEqual(replacements.state, "sent")

    def test_fault_matrix_worker_killed_before_its_commit(self):
        for kind in PROVIDERS:
            with self.subTest(provider=kind):
                with self._env() as env:
                    link_id = self._new_link(env, kind).id

                def crash_now(*args, **kwargs):
                    raise RuntimeError("worker killed")

                with self.assertRaisesRegex(RuntimeError, "worker killed"), patch.object(
                        self.registry["payout.link"], "_apply_submission_outcome", crash_now), \
                        self._env() as env:
                    env["payout.link"]._cron_submit_payouts()
                with self._env() as env:
                    link = env["payout.link"].browse(link_id)
                    reference = link.submission_reference
                    self.assertEqual(link.submission_state, "submitting",
                                     "the mark was committed before the call")
                    self.assertEqual(len(self._held(kind, reference)), 1, "the call was made")
                    # Another worker, once the retry delay has passed, looks it up.
                    link.date_provider_call = False
                    env.cr.commit()
                    env["payout.link"]._cron_submit_payouts()
                with self._env() as env:
                    link = env["payout.link"].browse(link_id)
                    self.assertEqual(link.submission_state, "accepted")
                    self.assertEqual(self._held(kind, reference), [link.provider_status])

    def test_fault_matrix_cancel_while_another_worker_submits(self):
        model = self.registry["payout.provider"]
        original = model._run_calls
        for kind in PROVIDERS:
            with self.subTest(provider=kind):
                with self._env() as env:
                    link_id = self._new_link(env, kind).id
                calling, resume = threading.Event(), threading.Event()

                def paused(provider, calls, *args, calling=calling, resume=resume, **kwargs):
                    calling.set()  # 'submitting' committed, the link held: now the calls
                    resume.wait(timeout=30)
                    return original(provider, calls, *args, **kwargs)

                with patch.object(model, "_run_calls", paused):
                    worker, errors = self._run_in_thread(self._submit_once)
                    try:
                        self.assertTrue(calling.wait(timeout=30))
                        with self._env() as env:
                            link = env["payout.link"].browse(link_id)
                            self.assertEqual(link.submission_state, "submitting")
                            self.assertFalse(link._hold_submissions(),
                                             "held by the other worker")
                            with self.assertRaisesRegex(
                                    UserError, "cannot be cancelled|no way to cancel"):
                                link.action_cancel()
                    finally:
                        resume.set()
                        worker.join(timeout=60)
                self.assertFalse(worker.is_alive() or errors, errors)
                with self._env() as env:
                    link = env["payout.link"].browse(link_id)
                    self.assertEqual((link.submission_state, link.date_cancelled),
                                     ("accepted", False), "the cancel changed nothing")
                    self.assertNotEqual(link.state, "cancelled")
                    self.assertEqual(self._held(kind, link.submission_reference),
                                     [link.provider_status])

    def _submit_once(self):
        with self._env() as env:
            env["payout.link"]._cron_submit_payouts()
