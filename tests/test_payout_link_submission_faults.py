"""The fault matrix: every provider against every fault of the sandbox.

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
failed link at once on real transactions
(test_payout_link_submission_faults_concurrency.py), end the matrix.
"""

import socket
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .. import const
from ..protocol import transport
from .common import ACCOUNT_NUMBER, HOLDER, FaultMatrixMixin, PayoutCommon
from .common import FAULT_MATRIX_PROVIDERS as PROVIDERS

CLIENT_TIMEOUT = 2  # seconds: a timeout fault costs this, not the default 10 s
UNCLEAR_CALLS = 3  # const.MAX_UNCLEAR_CALLS here: attention comes after a few runs
OTHER_REFERENCE = "FAULTMATRIXOTHER"
# The provider's statuses of a payout that no longer moves money.
DEAD_STATUSES = {"FAILED", "EXPIRED", "VOIDED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED"}


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
