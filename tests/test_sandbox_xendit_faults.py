"""XenditClient against the Xendit sandbox, over real loopback HTTP: the faults the
sandbox injects, and the client's retries.
"""

import time

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderMalformedResponse,
    ProviderNetworkError,
    ProviderServerError,
)
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _keys, _link


@tagged("post_install", "-at_install")
class TestSandboxXenditFaults(SandboxCase):
    """The faults the Xendit sandbox injects, one at a time or at a rate, and how
    XenditClient retries through them under the same idempotency key."""

    start_sandbox = xendit_sim.start

    def test_server_error_is_retried_with_the_same_key(self):
        for kind in ("http_500", "http_503"):
            with self.case(kind=kind):
                self.sandbox.server.inject(kind)
                status = self.client.create_payout(**PAYOUT_ARGS)
                response = self.client.last_response
                self.assertEqual((status.raw_status, response.replayed), ("ACCEPTED", False))
                first, second = _keys(self.sandbox)
                self.assertEqual(first, second)
                self.assertEqual(second, ("POST", "/v2/payouts", "db-1-PL-2025-0001"))
                self.assertEqual(self.sleeps, [0.5])
                self.assertEqual(len(self.sandbox.payouts), 1)

    def test_server_errors_exhaust_the_retries(self):
        self.sandbox.server.inject("http_503", count=5)
        with self.assertRaises(ProviderServerError) as caught:
            _link(self.client)
        self.assertEqual(caught.exception.status, 503)
        self.assertTrue(caught.exception.retryable)
        self.assertEqual(caught.exception.code, "SERVER_ERROR")
        self.assertEqual(len(set(_keys(self.sandbox))), 1)
        self.assertEqual(len(self.sandbox.server.requests), 3)
        self.assertEqual(self.sleeps, [0.5, 1.0])
        self.assertEqual(self.sandbox.links, {})

    def test_lost_answer_is_retried_with_the_same_key_and_pays_once(self):
        for kind in ("timeout", "reset"):
            with self.case(kind=kind):
                sandbox = self.sandbox
                client = sandbox.client(timeout=0.3, sleep=self.sleeps.append)
                sandbox.server.inject(kind, seconds=1)
                status = client.create_payout(**PAYOUT_ARGS)
                response = client.last_response
                self.assertEqual(
                    (response.status, response.replayed, status.raw_status),
                    (409, True, "ACCEPTED"),
                )
                first, second = _keys(sandbox)
                self.assertEqual(first, second)
                self.assertEqual(second, ("POST", "/v2/payouts", "db-1-PL-2025-0001"))
                self.assertEqual(sandbox.server.requests[0].body, sandbox.server.requests[1].body)
                self.assertEqual(len(sandbox.payouts), 1)
                self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE - 250000)

    def test_lost_link_answer_is_replayed(self):
        client = self.sandbox.client(timeout=0.3, sleep=self.sleeps.append)
        self.sandbox.server.inject("timeout", seconds=1)
        status = client.create_payout_link("PAY1", 250000, "a@example.com", "lk-1")
        response = client.last_response
        self.assertEqual((response.replayed, status.raw_status), (True, "PENDING"))
        self.assertEqual(len(self.sandbox.links), 1)
        self.assertEqual(len(set(_keys(self.sandbox))), 1)

    def test_lost_answer_without_retries(self):
        self._assert_lost_answers_are_retryable(lambda client: client.get_balance())

    def test_fault_rate_hits_only_its_path_and_method(self):
        server = self.sandbox.server
        server.inject_rate(1, kinds=["http_503"], path="/v2/payouts", method="post")
        self.assertEqual(self.client.get_balance(), xendit_sim.DEFAULT_BALANCE)
        # a GET of the same path
        self.assertEqual(self.client.find_payouts("db-1-PL-2025-0001"), [])
        with self.assertRaises(ProviderServerError):
            self.client.create_payout(**PAYOUT_ARGS)
        # the call and its 2 retries
        self.assertEqual(server.fault_rate()["injected"], {"http_503": 3})
        self.assertEqual(self.sandbox.payouts, {})

    def test_fault_rate_faults_a_share_of_the_requests(self):
        sandbox = self.sandbox
        client = sandbox.client(max_retries=0)

        def failures(seed):
            sandbox.server.inject_rate(0.3, kinds=["http_500"], seed=seed)
            failed = 0
            for _call in range(50):
                try:
                    client.get_balance()
                except ProviderServerError:
                    failed += 1
            return failed

        first = failures(seed=7)
        self.assertEqual(sandbox.server.fault_rate()["injected"], {"http_500": first})
        self.assertTrue(5 <= first <= 25, first)
        self.assertEqual(failures(seed=7), first)  # a seed repeats the draws

    def test_fault_rate_control_and_reset(self):
        control = self.sandbox.url + "/_sandbox/faults/rate"
        answer = requests.post(control, json={"rate": 1, "kinds": ["malformed_json"]}, timeout=5)
        self.assertEqual(answer.json(), {"rate": 1.0, "kinds": ["malformed_json"], "path": None,
                                         "method": None, "seconds": None, "injected": {}})
        with self.assertRaises(ProviderMalformedResponse):
            self.client.get_balance()
        self.assertEqual(
            requests.get(control, timeout=5).json()["injected"], {"malformed_json": 1}
        )
        for wrong in ({"rate": 2}, {"rate": 0.1, "kinds": ["meteor"]}, {"share": 0.1}):
            self.assertEqual(requests.post(control, json=wrong, timeout=5).status_code, 400)
        self.sandbox.server.reset()
        self.assertEqual(requests.get(control, timeout=5).json()["rate"], 0)
        self.assertEqual(self.client.get_balance(), xendit_sim.DEFAULT_BALANCE)

    def test_latency_within_the_timeout(self):
        client = self.sandbox.client(timeout=2, sleep=self.sleeps.append)
        self.sandbox.server.inject("latency", seconds=0.3)
        started = time.monotonic()
        status = client.create_payout(**PAYOUT_ARGS)
        response = client.last_response
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(
            (response.replayed, status.raw_status, self.sleeps), (False, "ACCEPTED", [])
        )

    def test_malformed_answer_is_not_retried(self):
        """The work was done: a lookup by reference (how Odoo reconciles) finds it."""
        self.sandbox.server.inject("malformed_json")
        with self.assertRaises(ProviderMalformedResponse):
            self.client.create_payout(**PAYOUT_ARGS)
        self.assertEqual(len(self.sandbox.server.requests), 1)
        self.assertEqual(self.sleeps, [])
        [found] = self.client.find_payouts(PAYOUT_ARGS["reference_id"])
        self.assertEqual(found.raw_status, "ACCEPTED")

    def test_bad_signature_fault_is_harmless(self):
        """Xendit's answers are not signed: there is nothing to damage."""
        self.sandbox.server.inject("bad_signature")
        self.assertEqual(self.client.create_payout(**PAYOUT_ARGS).raw_status, "ACCEPTED")

    def test_fault_only_hits_its_path(self):
        link_id = _link(self.client)
        self.sandbox.server.inject("http_500", path=f"/payouts/{link_id}")
        self.client.get_balance()
        self.assertEqual(self.sleeps, [])
        self.client.get_payout_link(link_id)
        self.assertEqual(self.sleeps, [0.5])

    def test_connection_refused(self):
        sandbox = xendit_sim.start()
        sandbox.server.stop()
        with self.assertRaises(ProviderNetworkError):
            sandbox.client(max_retries=1, sleep=self.sleeps.append).get_balance()
        self.assertEqual(self.sleeps, [0.5])
