"""XenditClient against the Xendit sandbox, over real loopback HTTP: the callbacks the
sandbox delivers, and its control endpoints.
"""

import json

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import (
    CALLBACK_URL,
    _link,
    _payout,
    start_receiver,
)


@tagged("post_install", "-at_install")
class TestSandboxXenditCallbacks(SandboxCase):
    """The Xendit sandbox delivers a callback for each change Xendit makes on its own
    (not for those the API asked for), once, with the callback token; its control
    endpoints."""

    start_sandbox = xendit_sim.start

    def test_payout_callbacks_are_delivered_with_the_token(self):
        sandbox, client, receiver = self.sandbox, self.client, start_receiver(self)
        sandbox.configure(callback_url=receiver.url)
        succeeded = _payout(client)
        failed = _payout(client, reference_id="PL2", account_number="4000000001",
                         idempotency_key="2")
        reversed_ = _payout(
            client, reference_id="PL3", account_number="4000000004", idempotency_key="3"
        )
        # nothing happened yet
        self.assertEqual(sandbox.deliver(), [])
        self.assertEqual(receiver.received, [])

        sandbox.server.clock.advance(2 * HOUR)
        attempts = sandbox.deliver()
        self.assertEqual(
            [(a["event"], a["id"], a["http_status"], a["error"]) for a in attempts],
            [
                ("payout.succeeded", succeeded, 200, None),
                ("payout.failed", failed, 200, None),
                ("payout.succeeded", reversed_, 200, None),
                ("payout.reversed", reversed_, 200, None),
            ],
        )
        self.assertTrue(all(a["url"] == receiver.url and a["attempt"] == 1 for a in attempts))
        self.assertEqual(len(receiver.received), 4)
        for path, headers, _body in receiver.received:
            self.assertEqual(path, CALLBACK_URL)
            self.assertEqual(headers["Content-Type"], "application/json")
            xendit.verify_callback_token(xendit_sim.CALLBACK_TOKEN, headers["x-callback-token"])
        events = [json.loads(body) for _path, _headers, body in receiver.received]
        self.assertEqual(set(events[0]), {"event", "business_id", "created", "data"})
        self.assertEqual(events[0]["business_id"], xendit_sim.BUSINESS_ID)
        self.assertEqual(
            [xendit.parse_callback(e).state for e in events], ["done", "failed", "done", "failed"]
        )
        self.assertEqual(events[1]["data"]["failure_code"], "INVALID_DESTINATION")
        self.assertEqual(events[0]["data"]["channel_properties"]["account_number"], "1234567890")
        self.assertEqual(sandbox.deliver(), [])  # delivered once
        self.assertEqual(len(sandbox.deliveries), 4)

    def test_link_callbacks_are_disbursement_events(self):
        sandbox, client, receiver = self.sandbox, self.client, start_receiver(self)
        sandbox.configure(callback_url=receiver.url, callback_token="tok-odoo")
        paid = _link(client, "claim@example.com")
        failed = _link(client, "invalid@example.com", external_id="PAY2", key="k2")
        _link(client, "wrongpass@example.com", external_id="PAY3", key="k3")  # never claimed
        _link(client, external_id="PAY4", key="k4")  # expires
        sandbox.server.clock.advance(3 * DAY)
        attempts = sandbox.deliver()
        links = sandbox.links
        self.assertEqual([(a["event"], a["id"], a["status"]) for a in attempts], [
            ("disbursement.completed", links[paid].data["disbursement_id"], "SUCCEEDED"),
            ("disbursement.failed", links[failed].data["disbursement_id"], "FAILED"),
        ])
        bodies = [json.loads(body) for _path, _headers, body in receiver.received]
        self.assertEqual(
            [set(b) for b in bodies], [{"event", "business_id", "created", "data"}] * 2
        )
        answers = [xendit.parse_callback(b) for b in bodies]
        self.assertEqual(
            [(a.state, xendit.our_reference(a), a.provider_reference) for a in answers],
            [("done", "PAY1", None), ("failed", "PAY2", None)],
        )
        self.assertEqual(answers[1].reason, xendit.message_of("INVALID_DESTINATION"))
        self.assertEqual(
            {h["x-callback-token"] for _path, h, _body in receiver.received}, {"tok-odoo"}
        )

    def test_api_changes_send_no_callback(self):
        sandbox, client, receiver = self.sandbox, self.client, start_receiver(self)
        sandbox.configure(callback_url=receiver.url)
        client.void_payout_link(_link(client), "v1")
        client.cancel_payout(_payout(client, account_number="131313"))
        sandbox.server.clock.advance(5 * DAY)
        self.assertEqual(sandbox.deliver(), [])
        self.assertEqual(receiver.received, [])

    def test_failed_delivery_stays_queued(self):
        sandbox, client, receiver = self.sandbox, self.client, start_receiver(self)
        sandbox.configure(callback_url=receiver.url)
        _payout(client)
        sandbox.server.clock.advance(HOUR)
        receiver.status = 500
        [attempt] = sandbox.deliver()
        self.assertEqual((attempt["http_status"], attempt["attempt"]), (500, 1))
        receiver.status = 200
        [attempt] = sandbox.deliver()
        self.assertEqual((attempt["http_status"], attempt["attempt"]), (200, 2))
        self.assertEqual(sandbox.deliver(), [])
        self.assertEqual([d["http_status"] for d in sandbox.deliveries], [500, 200])

    def test_unreachable_receiver_is_recorded(self):
        sandbox = self.sandbox
        port = SandboxServer()  # a free port, closed at once: nobody listens there
        url = port.url + "/hook"
        port.stop()
        sandbox.configure(callback_url=url)
        _payout(self.client)
        sandbox.server.clock.advance(HOUR)
        [attempt] = sandbox.deliver()
        self.assertIsNone(attempt["http_status"])
        self.assertIn("ConnectionError", attempt["error"])
        self.assertEqual(
            requests.get(sandbox.url + "/_sandbox/xendit/deliveries", timeout=5).json()["pending"],
            1,
        )

    def test_deliver_control_endpoint(self):
        sandbox, client, receiver = self.sandbox, self.client, start_receiver(self)
        control = sandbox.url + "/_sandbox/xendit/"
        answer = requests.post(control + "deliver", timeout=5)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("callback URL", answer.json()["error"]["message"])
        config = requests.post(
            control + "config", json={"callback_url": receiver.url, "balance": 5_000_000},
            timeout=5,
        ).json()
        self.assertEqual(config["callback_url"], receiver.url)
        self.assertEqual(config["balance"], 5_000_000)
        _payout(client)
        requests.post(sandbox.url + "/_sandbox/clock", json={"advance": HOUR}, timeout=5)
        delivered = requests.post(control + "deliver", timeout=5).json()["deliveries"]
        self.assertEqual(
            [(d["event"], d["http_status"]) for d in delivered], [("payout.succeeded", 200)]
        )
        journal = requests.get(control + "deliveries", timeout=5).json()
        self.assertEqual(journal["pending"], 0)
        self.assertEqual(len(journal["deliveries"]), 1)
        objects = requests.get(control + "objects", timeout=5).json()
        self.assertEqual([p["status"] for p in objects["payouts"]], ["SUCCEEDED"])
        self.assertEqual(objects["balance"], 5_000_000 - 250000)
        self.assertEqual(objects["links"], [])

    def test_config_errors(self):
        for settings in (
            {"callback_url": "http://example.com/hook"},
            {"callback_url": "http://10.0.0.1/hook"},
            {"callback_url": "ftp://127.0.0.1/hook"},
            {"colour": "red"},
            {"balance": "lots"},
            {"expiry_status": "LATE"},
            {"channels": "ID_BCA"},
            {"listing": "xml"},
        ):
            with self.case(settings=settings):
                answer = requests.post(
                    self.sandbox.url + "/_sandbox/xendit/config", json=settings, timeout=5
                )
                self.assertEqual(answer.status_code, 400)
                self.assertTrue(answer.json()["error"]["message"])

    def test_callback_url_must_be_loopback_from_the_start(self):
        with self.assertRaisesRegex(ValueError, "loopback"):
            xendit_sim.XenditSandbox(SandboxServer(), callback_url="https://example.com/hook")
