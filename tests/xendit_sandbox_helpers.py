"""What the test_sandbox_xendit_* classes share: a receiver of the sandbox's callbacks
and the requests they make by hand.

Import it absolutely, as tests/fakes.py; its name does not start with `test_`, so no runner
collects it.
"""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from requests.structures import CaseInsensitiveDict

from odoo.addons.hr_payout_link.controllers.xendit import XenditCallbackController
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS

CALLBACK_URL = XenditCallbackController._payouts_url  # Odoo's route for v2 events


class _ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.received.append((self.path, CaseInsensitiveDict(self.headers.items()), body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args):
        pass


def start_receiver(test):
    """A tiny local HTTP server standing in for Odoo's callback controller, stopped by a
    cleanup of ``test`` (a TestCase): ``.url``, ``.received`` (path, headers, body of each
    callback) and ``.status`` (what it answers, 200 until a test changes it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ReceiverHandler)
    server.daemon_threads = True
    server.received, server.status = [], 200
    server.url = f"http://127.0.0.1:{server.server_address[1]}{CALLBACK_URL}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    test.addCleanup(server.server_close)
    test.addCleanup(thread.join)
    test.addCleanup(server.shutdown)
    return server


def _basic(key):
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _link(client, email="siti@example.com", external_id="PAY1", key="link-key-1", amount=250000):
    status = client.create_payout_link(external_id, amount, email, key)
    return status.provider_reference


def _payout(client, **overrides):
    status = client.create_payout(**{**PAYOUT_ARGS, **overrides})
    return status.provider_reference


def _post(sandbox, path, payload=None, *, key=None, headers=None):
    """A raw request, to send what XenditClient never would."""
    body = payload if isinstance(payload, bytes) or payload is None else json.dumps(payload)
    return requests.post(
        sandbox.url + path,
        data=body,
        headers={"Authorization": _basic(key or sandbox.secret_key), **(headers or {})},
        timeout=5,
    )


def _keys(sandbox):
    """(method, path, idempotency key) of each request the sandbox received."""
    return [
        (
            r.method,
            r.path,
            r.headers.get("Idempotency-key") or r.headers.get("X-IDEMPOTENCY-KEY"),
        )
        for r in sandbox.server.requests
    ]
