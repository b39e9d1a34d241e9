"""The base of the test_sandbox_* classes: a provider sandbox over real loopback HTTP, with
no database.

Import it absolutely, as tests/fakes.py; its name does not start with `test_`, so no runner
collects it.
"""

import time
from contextlib import contextmanager
from urllib.parse import urlsplit

from odoo.tests import BaseCase, common

from odoo.addons.hr_payout_link.protocol.errors import ProviderNetworkError, ProviderTimeout

SETTLE_TIMEOUT = 10  # seconds a test waits for the sandbox's answers still under way


class SandboxCase(BaseCase):
    """One sandbox for the class, started by ``start_sandbox`` (a provider module's
    ``start``) with ``sandbox_options`` and stopped by a class cleanup; each test (and each
    ``case``) finds it as a fresh one: no requests, payouts, faults, clock offset or
    provider settings. ``self.client`` is a client of it that records the backoff delays
    it asks for in ``self.sleeps`` instead of waiting."""

    start_sandbox = None
    sandbox_options = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox = cls.start_sandbox(**cls.sandbox_options)
        cls.addClassCleanup(cls.sandbox.server.stop)

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's test classes raise any HTTP timeout under 10 s to 10 s; the sandbox's
        # faults are timed against the client's own timeout, so loopback keeps it.
        if urlsplit(request.url).hostname in (common.HOST, "localhost"):
            return common._super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        self.fresh()

    def fresh(self):
        """The sandbox as just started, once the answers it still delays (a timeout
        fault outlives the client's wait) are out; a new ``client`` and ``sleeps``."""
        settle(self.sandbox)
        self.sandbox.server.reset()
        self.sleeps = []
        self.client = self.sandbox.client(sleep=self.sleeps.append)

    def _assert_lost_answers_are_retryable(self, call):
        """``call(client)`` against a sandbox that times out, then resets, with no retry:
        each raises its own retryable error (the outcome is unknown, never a refusal)."""
        for kind, error_class in (("timeout", ProviderTimeout), ("reset", ProviderNetworkError)):
            with self.case(kind=kind):
                client = self.sandbox.client(timeout=0.3, max_retries=0)
                self.sandbox.server.inject(kind, seconds=1)
                with self.assertRaises(error_class) as caught:
                    call(client)
                self.assertIs(type(caught.exception), error_class)
                self.assertTrue(caught.exception.retryable)

    @contextmanager
    def case(self, **params):
        """One case of a table of cases, on a fresh sandbox, reported as a subtest."""
        with self.subTest(**params):
            self.fresh()
            yield


def settle(sandbox):
    """Wait until ``sandbox`` answers no request any more."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while sandbox.server.stats()["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.02)
