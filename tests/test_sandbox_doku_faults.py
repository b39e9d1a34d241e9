"""DokuClient against the DOKU sandbox, over real loopback HTTP: the faults the sandbox
injects, its control endpoints and server.
"""

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderBadSignature,
    ProviderMalformedResponse,
    ProviderNetworkError,
    ProviderServerError,
)
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR, parse_timestamp
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase


def _attempts(sandbox):
    """(Request-Id, body) of each request the sandbox received."""
    return [(r.headers["Request-Id"], r.body) for r in sandbox.server.requests]


@tagged("post_install", "-at_install")
class TestSandboxDokuFaults(SandboxCase):
    """The faults the DOKU sandbox injects, and how DokuClient retries through them."""

    start_sandbox = doku_sim.start

    def test_server_error_is_retried_with_the_same_request(self):
        for kind in ("http_500", "http_503"):
            with self.case(kind=kind):
                self.sandbox.server.inject(kind)
                status = self.client.initiate(_fields(), "1001")
                response = self.client.last_response
                self.assertEqual((status.raw_status, response.replayed), ("PENDING", False))
                first, second = _attempts(self.sandbox)
                self.assertEqual(first, second)
                self.assertEqual(first[0], "1001")
                self.assertEqual(self.sleeps, [0.5])

    def test_server_errors_exhaust_the_retries(self):
        self.sandbox.server.inject("http_503", count=5)
        with self.assertRaises(ProviderServerError) as caught:
            self.client.initiate(_fields(), "1001")
        self.assertEqual(caught.exception.status, 503)
        self.assertTrue(caught.exception.retryable)
        self.assertEqual(len(set(_attempts(self.sandbox))), 1)
        self.assertEqual(len(self.sandbox.server.requests), 3)
        self.assertEqual(self.sleeps, [0.5, 1.0])  # exponential backoff
        self.assertEqual(self.sandbox.payouts, {})

    def test_lost_answer_is_retried_and_replayed(self):
        """The sandbox did the work, the answer was lost: the retry does not pay twice."""
        for kind in ("timeout", "reset"):
            with self.case(kind=kind):
                client = self.sandbox.client(timeout=0.3, sleep=self.sleeps.append)
                self.sandbox.server.inject(kind, seconds=1)
                status = client.initiate(_fields(), "1001")
                response = client.last_response
                self.assertEqual(
                    (response.status, response.replayed, status.raw_status),
                    (409, True, "PENDING"),
                )
                first, second = _attempts(self.sandbox)
                self.assertEqual(first, second)
                self.assertEqual(list(self.sandbox.payouts), ["PAY_1"])

    def test_lost_answer_without_retries(self):
        self._assert_lost_answers_are_retryable(lambda client: client.status("PAY_1"))

    def test_latency_within_the_timeout(self):
        client = self.sandbox.client(timeout=2, sleep=self.sleeps.append)
        self.sandbox.server.inject("latency", seconds=0.3)
        started = time.monotonic()
        status = client.initiate(_fields(), "1001")
        response = client.last_response
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(
            (response.replayed, status.raw_status, self.sleeps), (False, "PENDING", [])
        )

    def test_damaged_answer_is_not_retried(self):
        """The work was done: a status lookup (how Odoo reconciles) finds the link."""
        for kind, error_class in (
            ("malformed_json", ProviderMalformedResponse),
            ("bad_signature", ProviderBadSignature),
        ):
            with self.case(kind=kind):
                self.sandbox.server.inject(kind)
                with self.assertRaises(error_class):
                    self.client.initiate(_fields(), "1001")
                self.assertEqual(len(self.sandbox.server.requests), 1)
                self.assertEqual(self.sleeps, [])
                self.assertEqual(self.client.status("PAY_1").raw_status, "PENDING")

    def test_response_verification_can_be_off(self):
        self.client.initiate(_fields(), "1001")
        self.sandbox.server.inject("bad_signature")
        self.assertEqual(
            self.sandbox.client(verify_responses=False).status("PAY_1").raw_status, "PENDING"
        )

    def test_unsigned_answers_are_taken_and_logged(self):
        self.sandbox.signs_answers = False
        # The level as a number: Odoo names its level 25 "INFO" too.
        with self.assertLogs(doku.__name__, level=logging.INFO) as logged:
            self.assertEqual(self.client.initiate(_fields(), "1001").raw_status, "PENDING")
        self.assertNotIn("Signature", self.client.last_response.headers)
        self.assertIn(
            "DOKU answered /v1/payout/initiate unsigned (HTTP 200)", "\n".join(logged.output)
        )
        self.sandbox.server.reset()
        self.assertTrue(self.sandbox.signs_answers, "a reset signs again")

    def test_answer_for_another_request_is_refused(self):
        sandbox = self.sandbox
        original = sandbox._sign

        def sign_for_someone_else(request, response, wrong):
            request.headers["Request-Id"] = "999"
            original(request, response, wrong)

        sandbox.server.route("POST", doku.STATUS_PATH, sandbox._status, sign=sign_for_someone_else)
        self.addCleanup(
            sandbox.server.route, "POST", doku.STATUS_PATH, sandbox._status, sign=sandbox._sign
        )
        self.client.initiate(_fields(), "1001")
        with self.assertRaisesRegex(ProviderBadSignature, "Request-Id"):
            self.client.status("PAY_1")

    def test_fault_only_hits_its_path(self):
        self.sandbox.server.inject("http_500", path=doku.STATUS_PATH)
        self.client.initiate(_fields(), "1001")
        self.assertEqual(self.sleeps, [])
        self.client.status("PAY_1")
        self.assertEqual(self.sleeps, [0.5])

    def test_fault_only_hits_the_body_it_names(self):
        self.sandbox.server.inject("http_503", path=doku.INITIATE_PATH, body_contains='"PAY_2"')
        self.client.initiate(_fields("PAY_1"), "1001")
        self.assertEqual(self.sleeps, [])
        self.client.initiate(_fields("PAY_2"), "1002")
        self.assertEqual(self.sleeps, [0.5])

    def test_requests_in_flight_are_counted(self):
        sandbox = self.sandbox
        server = sandbox.server
        server.inject("latency", count=4, seconds=0.3)
        threads = [
            threading.Thread(target=sandbox.client().initiate, args=(_fields(f"PAY_{i}"), str(i)))
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(len(sandbox.payouts), 4)
        stats = sandbox.url + "/_sandbox/stats"
        self.assertEqual(
            requests.get(stats, timeout=5).json(), {"in_flight": 0, "max_in_flight": 4}
        )
        self.assertEqual(
            requests.post(stats, timeout=5).json(), {"in_flight": 0, "max_in_flight": 4}
        )
        self.assertEqual(server.stats(), {"in_flight": 0, "max_in_flight": 0})

    def test_unknown_fault_kind(self):
        with self.assertRaisesRegex(ValueError, "Unknown fault"):
            self.sandbox.server.inject("meteor")

    def test_connection_refused(self):
        sandbox = doku_sim.start()
        sandbox.server.stop()
        with self.assertRaises(ProviderNetworkError):
            sandbox.client(max_retries=1, sleep=self.sleeps.append).status("PAY_1")
        self.assertEqual(self.sleeps, [0.5])


@tagged("post_install", "-at_install")
class TestSandboxDokuControl(SandboxCase):
    """The DOKU sandbox's control endpoints, and its server."""

    start_sandbox = doku_sim.start

    def test_control_endpoints(self):
        sandbox = self.sandbox
        control = sandbox.url + "/_sandbox/"
        self.client.initiate(_fields(), "1001")

        answer = requests.post(
            control + "faults", json={"kind": "http_503", "path": doku.STATUS_PATH}, timeout=5
        )
        self.assertEqual(answer.json(), {"faults": 1})
        answer = requests.post(control + "clock", json={"advance": 3 * HOUR}, timeout=5)
        self.assertGreater(
            parse_timestamp(answer.json()["now"]),
            datetime.now(timezone.utc) + timedelta(hours=2, minutes=59),
        )
        self.assertEqual(self.client.status("PAY_1").raw_status, "COMPLETED")
        self.assertEqual(self.sleeps, [0.5])

        journal = requests.get(control + "requests", timeout=5).json()["requests"]
        self.assertEqual(
            [(r["method"], r["path"]) for r in journal],
            [
                ("POST", doku.INITIATE_PATH),
                ("POST", doku.STATUS_PATH),
                ("POST", doku.STATUS_PATH),
            ],
        )
        self.assertEqual(journal[1]["json"], {"transaction_id": "PAY_1"})
        self.assertEqual(journal[1]["headers"]["Request-Id"], journal[2]["headers"]["Request-Id"])

        answer = requests.post(control + "clock", json={"set": "2030-01-31T10:00:00Z"}, timeout=5)
        self.assertTrue(answer.json()["now"].startswith("2030-01-31T10:00:0"))
        self.assertTrue(
            requests.get(control + "clock", timeout=5).json()["now"].startswith("2030-01-31")
        )

        self.assertEqual(requests.post(control + "reset", timeout=5).json(), {})
        self.assertFalse(sandbox.server.requests)
        self.assertEqual(sandbox.payouts, {})
        self.assertEqual(
            requests.get(control + "clock", timeout=5).json()["now"][:10],
            datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        )

    def test_control_errors(self):
        for method, path, payload, status in (
            ("post", "faults", {"kind": "meteor"}, 400),
            ("post", "faults", {"kind": "reset", "colour": "red"}, 400),
            ("post", "clock", {}, 400),
            ("post", "clock", {"set": "soon"}, 400),
            ("get", "nothing", None, 404),
        ):
            with self.case(method=method, path=path, payload=payload):
                answer = requests.request(
                    method, f"{self.sandbox.url}/_sandbox/{path}", json=payload, timeout=5
                )
                self.assertEqual(answer.status_code, status)
                self.assertTrue(answer.json()["error"]["message"])

    def test_sandbox_listens_on_loopback_only(self):
        for host in ("0.0.0.0", "10.0.0.1", "example.com", "::"):
            with self.subTest(host=host), self.assertRaisesRegex(ValueError, "loopback"):
                SandboxServer(host)

    def test_server_as_context_manager(self):
        with SandboxServer() as server:
            answer = requests.get(server.url + "/v1/anything", timeout=5)
            self.assertEqual(answer.status_code, 404)
            self.assertEqual([r.path for r in server.requests], ["/v1/anything"])
