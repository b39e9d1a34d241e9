"""The fault matrix (issue 11, item 8): every provider against every fault of the sandbox.

For DOKU, Xendit v2 (claimed in Odoo) and Xendit Payout Link (claimed at Xendit), each
fault is injected into a link's submission, then the crons run until the link is settled:
its state final, or its submission accepted and following the provider's status, or a
Payout Manager asked to look (``needs_attention``). Then the sandbox and Odoo must agree:

- the sandbox holds at most one payout under the link's reference;
- an accepted link has exactly one there, whose status Odoo shows after polling;
- a failed link has none there; a link nobody can vouch for needs attention.

The faults (see sandbox/server.py): the answer lost after the provider did the work
(``reset``, a client timeout, malformed JSON), a duplicate without our payout (the key
already used by another request), 5xx, a provider that cannot be reached (nothing done:
the sandbox's ``reset`` always does the work first, so a closed port stands for a refused
connection), a worker crashing between the calls and storing the answers, and *Cancel*
while the outcome is unknown. A provider disabled mid-batch, and two users reissuing one
failed link at once on real transactions, end the matrix.
"""

import socket
import threading
from contextlib import contextmanager
from unittest.mock import patch

from psycopg2 import errorcodes
from psycopg2.extensions import TransactionRollbackError

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged

from .. import const
from ..protocol import doku, transport, xendit
from ..sandbox import doku as doku_sandbox
from ..sandbox import xendit as xendit_sandbox
from .common import ACCOUNT_NUMBER, HOLDER, PayoutCommon

CLIENT_TIMEOUT = 2  # seconds: a timeout fault costs this, not the default 10 s
UNCLEAR_CALLS = 3  # const.MAX_UNCLEAR_CALLS here: attention comes after a few runs
OTHER_REFERENCE = "FAULTMATRIXOTHER"
# The provider's statuses of a payout that no longer moves money.
DEAD_STATUSES = {"FAILED", "EXPIRED", "VOIDED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED"}

# Each provider: its provider attribute on the test class, and the path of its submission.
PROVIDERS = {
    "doku": ("doku_provider", doku.INITIATE_PATH),
    "xendit_v2": ("in_odoo", xendit.PAYOUT_PATH),
    "xendit_link": ("hosted", xendit.LINK_PATH),
}


def _fast_client_init(original):
    """ApiClient.__init__ with no backoff between retries and a short timeout."""
    def init(self, *args, **kwargs):
        kwargs.setdefault("backoff", 0)
        kwargs.setdefault("timeout", CLIENT_TIMEOUT)
        original(self, *args, **kwargs)
    return init


def _closed_port_url():
    """An http:// URL on loopback where nothing listens: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FaultMatrixMixin:
    """The providers' sandboxes seen from a test: what each holds under a reference."""

    def _held(self, kind, reference):
        """The statuses of the payouts the sandbox holds under ``reference``."""
        if kind == "doku":
            now = self.doku.server.clock.now()
            return [payout.data(now)["status"] for ref, payout in self.doku.payouts.items()
                    if ref == reference]
        items, field = ((self.xendit.payouts, "reference_id") if kind == "xendit_v2"
                        else (self.xendit.links, "external_id"))
        return [item.data["status"] for item in items.values()
                if item.data[field] == reference]


@tagged("post_install", "-at_install")
class TestFaultMatrix(FaultMatrixMixin, PayoutCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_doku()
        cls._start_xendit()
        cls.startClassPatcher(patch.object(
            transport.ApiClient, "__init__", _fast_client_init(transport.ApiClient.__init__)))
        cls.startClassPatcher(patch.object(const, "MAX_UNCLEAR_CALLS", UNCLEAR_CALLS))

    def setUp(self):
        super().setUp()
        self._reset_sandboxes()

    def _provider(self, kind):
        return getattr(self, PROVIDERS[kind][0])

    def _reset_sandboxes(self):
        self.doku.server.reset()
        self.xendit.server.reset()
        self.xendit.configure(replays=True)

    def _queued_link(self, kind):
        """A link waiting for the payment cron (``submission_state = 'to_submit'``)."""
        if kind == "xendit_v2":
            link = self._claimed_link(provider=self.in_odoo)
        else:
            link = self._create_link(self._provider(kind))
            link.action_send()
        self.assertEqual(link.submission_state, "to_submit")
        return link

    def _server(self, kind):
        return (self.doku if kind == "doku" else self.xendit).server

    def _inject(self, kind, fault, count):
        self._server(kind).inject(fault, count=count, path=PROVIDERS[kind][1],
                                  seconds=CLIENT_TIMEOUT + 1 if fault == "timeout" else None)

    # === Arranging the faults === #

    def _use_key_elsewhere(self, kind, link):
        """Another request (another reference) already used the link's idempotency key:
        the provider answers a duplicate, and holds no payout of ours."""
        key = link.submission_key
        if kind == "doku":
            body = dict(self.doku_provider._doku_initiate_fields(link),
                        reference_id=OTHER_REFERENCE)
            self.doku.client().initiate(body, key)
        elif kind == "xendit_v2":
            self.xendit.client().create_payout(
                idempotency_key=key, reference_id=OTHER_REFERENCE, channel_code="ID_BCA",
                account_number=ACCOUNT_NUMBER, account_holder_name=HOLDER, amount=link.amount)
        else:
            self.xendit.client().create_payout_link(
                OTHER_REFERENCE, link.amount, "other@example.com", key)

    def _make_unreachable(self, kind, link):
        field = "doku_base_url" if kind == "doku" else "xendit_base_url"
        self._provider(kind)[field] = _closed_port_url()

    def _make_reachable(self, kind, link):
        field = "doku_base_url" if kind == "doku" else "xendit_base_url"
        self._provider(kind)[field] = self._server(kind).url

    def _cancel_is_refused(self, kind, link):
        before = (link.state, link.submission_state, link.provider_reference)
        with self.assertRaisesRegex(UserError, "cannot be cancelled|no way to cancel"):
            link.with_user(self.user_editor).action_cancel()
        self.assertEqual((link.state, link.submission_state, link.provider_reference), before,
                         "a refused cancel changes nothing")

    # === Running and checking === #

    def _first_run(self, link, crash):
        """The payment cron's first run; with ``crash``, the worker dies after its calls
        and before storing any answer: the 'submitting' mark (committed before the calls)
        stays, the answers are lost."""
        if not crash:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            return

        def crash_now(*args, **kwargs):
            raise RuntimeError("worker killed")

        with patch.object(self.registry["payout.link"], "_apply_submission_outcome",
                          crash_now), self.assertRaisesRegex(RuntimeError, "worker killed"):
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.env.invalidate_all()

    def _is_settled(self, link):
        return (link.state in const.FINAL_STATES or link.needs_attention
                or (link.submission_state == "accepted" and bool(link.provider_reference)))

    def _settle(self, link):
        """Run the payment cron until the link is settled, then poll."""
        for _run in range(UNCLEAR_CALLS + 1):
            if self._is_settled(link):
                break
            self._retry_submissions()
        self.assertTrue(self._is_settled(link), (link.state, link.submission_state))
        self._poll()

    def _assert_agrees(self, kind, link, end):
        """Odoo's final state of ``link`` is what the sandbox holds."""
        held = self._held(kind, link.submission_reference)
        self.assertLessEqual(len(held), 1, "never two payouts for one link")
        if link.state == "failed":
            self.assertFalse(set(held) - DEAD_STATUSES, "failed only when nothing is paid")
        if end == "accepted":
            self.assertEqual(len(held), 1)
            self.assertEqual((link.submission_state, link.needs_attention), ("accepted", False))
            self.assertEqual(link.provider_status, held[0])
            self.assertEqual(link.unclear_calls, 0)
        else:
            self.assertEqual((link.submission_state, link.needs_attention),
                             ("submitting", True), "nobody can vouch for it: a person looks")
            self.assertNotEqual(link.state, "failed")
            self.assertEqual(link.unclear_calls, UNCLEAR_CALLS)
            self.assertFalse(link.can_reissue)

    def _run_fault(self, kind, spec):
        self.xendit.configure(replays=spec.get("replays", True))
        link = self._queued_link(kind)
        if arrange := spec.get("arrange"):
            arrange(self, kind, link)
        if inject := spec.get("inject"):
            self._inject(kind, *inject)
        self._first_run(link, spec.get("crash", False))
        first_state, first_held = spec["first"]
        self.assertEqual(link.submission_state, first_state)
        self.assertEqual(len(self._held(kind, link.submission_reference)), first_held,
                         "what the provider did under the fault")
        if first_state == "submitting":
            self.assertFalse(link.can_reissue or link.can_cancel)
        if after_first := spec.get("after_first"):
            after_first(self, kind, link)
        self._settle(link)
        end = spec.get("end", {}).get(kind, spec.get("end_all", "accepted"))
        self._assert_agrees(kind, link, end)

    # name: what the fault does, what the first run leaves (submission state, payouts the
    # sandbox holds under the link's reference), what it ends in when not 'accepted'.
    FAULTS = {
        "answer_lost": {"inject": ("reset", 3), "first": ("submitting", 1)},
        "answer_lost_no_replay": {
            # Xendit answers a reused key with DUPLICATE_ERROR (a reused External ID with
            # DUPLICATE_PAYOUT_ERROR): v2 finds the payout by its reference; a Payout Link
            # has no lookup, so a person looks.
            # DOKU always replays (and looks its payouts up first).
            "replays": False, "inject": ("reset", 3), "first": ("submitting", 1),
            "end": {"xendit_link": "attention"},
        },
        "answer_timed_out": {  # the client's retry, same key, gets the original answer
            "inject": ("timeout", 1), "first": ("accepted", 1)},
        "duplicate_without_payout": {
            "arrange": _use_key_elsewhere, "first": ("submitting", 0), "end_all": "attention"},
        "server_error": {"inject": ("http_500", 3), "first": ("submitting", 0)},
        "server_error_once": {"inject": ("http_503", 1), "first": ("accepted", 1)},
        "malformed_json": {"inject": ("malformed_json", 1), "first": ("submitting", 1)},
        "unreachable": {"arrange": _make_unreachable, "first": ("submitting", 0),
                        "after_first": _make_reachable},
        "crash_before_commit": {"crash": True, "first": ("submitting", 1)},
        "cancel_in_flight": {"inject": ("reset", 3), "first": ("submitting", 1),
                             "after_first": _cancel_is_refused},
    }

    def test_fault_matrix(self):
        for kind in PROVIDERS:
            for fault, spec in self.FAULTS.items():
                with self.subTest(provider=kind, fault=fault), \
                        self.env.cr.savepoint(flush=False) as savepoint:
                    try:
                        self._run_fault(kind, spec)
                    finally:
                        # Each case alone: its links and the sandboxes' payouts go.
                        self.env.invalidate_all(flush=False)
                        savepoint.rollback()
                        self._reset_sandboxes()

    def test_fault_matrix_provider_disabled_mid_batch(self):
        for kind in PROVIDERS:
            provider = self._provider(kind)
            with self.subTest(provider=kind):
                links = self.env["payout.link"].concat(
                    *(self._queued_link(kind) for _index in range(3)))
                self.env["payout.link"]._cron_submit_payouts(batch_size=1, with_commit=False)
                self.assertEqual(links.mapped("submission_state"),
                                 ["accepted", "to_submit", "to_submit"])
                provider.state = "disabled"
                self.env["payout.link"]._cron_submit_payouts(with_commit=False)
                self.assertEqual(links.mapped("submission_state"),
                                 ["accepted", "to_submit", "to_submit"], "queued links wait")
                self.assertEqual([len(self._held(kind, link.submission_reference))
                                  for link in links], [1, 0, 0])
                provider.state = "test"
                self.env["payout.link"]._cron_submit_payouts(with_commit=False)
                self._poll()
                for link in links:
                    self._assert_agrees(kind, link, "accepted")


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
                "name": "Fault Matrix Employee", "work_email": "fault.matrix@example.com",
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
