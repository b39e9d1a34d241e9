"""Plain pytest tests of XenditClient against the Xendit sandbox, over real loopback HTTP:
the callbacks the sandbox delivers, and its control endpoints.
"""

import json

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests import fakes, xendit_sandbox_helpers
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import CALLBACK_URL, _link, _payout

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(xendit_sim.start)
client, sleeps = fakes.client, fakes.sleeps
receiver = xendit_sandbox_helpers.receiver


# Callbacks ------------------------------------------------------------------------------


def test_payout_callbacks_are_delivered_with_the_token(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url)
    succeeded = _payout(client)
    failed = _payout(client, reference_id="PL2", account_number="4000000001", idempotency_key="2")
    reversed_ = _payout(
        client, reference_id="PL3", account_number="4000000004", idempotency_key="3"
    )
    assert sandbox.deliver() == [] and receiver.received == []  # nothing happened yet

    sandbox.server.clock.advance(2 * HOUR)
    attempts = sandbox.deliver()
    assert [(a["event"], a["id"], a["http_status"], a["error"]) for a in attempts] == [
        ("payout.succeeded", succeeded, 200, None),
        ("payout.failed", failed, 200, None),
        ("payout.succeeded", reversed_, 200, None),
        ("payout.reversed", reversed_, 200, None),
    ]
    assert all(a["url"] == receiver.url and a["attempt"] == 1 for a in attempts)
    assert len(receiver.received) == 4
    for path, headers, _body in receiver.received:
        assert path == CALLBACK_URL
        assert headers["Content-Type"] == "application/json"
        xendit.verify_callback_token(xendit_sim.CALLBACK_TOKEN, headers["x-callback-token"])
    events = [json.loads(body) for _path, _headers, body in receiver.received]
    assert set(events[0]) == {"event", "business_id", "created", "data"}
    assert events[0]["business_id"] == xendit_sim.BUSINESS_ID
    assert [xendit.parse_callback(e).state for e in events] == ["done", "failed", "done", "failed"]
    assert events[1]["data"]["failure_code"] == "INVALID_DESTINATION"
    assert events[0]["data"]["channel_properties"]["account_number"] == "1234567890"
    assert sandbox.deliver() == []  # delivered once
    assert len(sandbox.deliveries) == 4


def test_link_callbacks_are_disbursement_events(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url, callback_token="tok-odoo")
    paid = _link(client, "claim@example.com")
    failed = _link(client, "invalid@example.com", external_id="PAY2", key="k2")
    _link(client, "wrongpass@example.com", external_id="PAY3", key="k3")  # never claimed
    _link(client, external_id="PAY4", key="k4")  # expires
    sandbox.server.clock.advance(3 * DAY)
    attempts = sandbox.deliver()
    links = sandbox.links
    assert [(a["event"], a["id"], a["status"]) for a in attempts] == [
        ("disbursement.completed", links[paid].data["disbursement_id"], "SUCCEEDED"),
        ("disbursement.failed", links[failed].data["disbursement_id"], "FAILED"),
    ]
    bodies = [json.loads(body) for _path, _headers, body in receiver.received]
    assert [set(b) for b in bodies] == [{"event", "business_id", "created", "data"}] * 2
    answers = [xendit.parse_callback(b) for b in bodies]
    assert [(a.state, xendit.our_reference(a), a.provider_reference) for a in answers] == [
        ("done", "PAY1", None), ("failed", "PAY2", None)]
    assert answers[1].reason == xendit.message_of("INVALID_DESTINATION")
    assert {h["x-callback-token"] for _path, h, _body in receiver.received} == {"tok-odoo"}


def test_api_changes_send_no_callback(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url)
    client.void_payout_link(_link(client), "v1")
    client.cancel_payout(_payout(client, account_number="131313"))
    sandbox.server.clock.advance(5 * DAY)
    assert sandbox.deliver() == [] and receiver.received == []


def test_failed_delivery_stays_queued(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url)
    _payout(client)
    sandbox.server.clock.advance(HOUR)
    receiver.status = 500
    [attempt] = sandbox.deliver()
    assert (attempt["http_status"], attempt["attempt"]) == (500, 1)
    receiver.status = 200
    [attempt] = sandbox.deliver()
    assert (attempt["http_status"], attempt["attempt"]) == (200, 2)
    assert sandbox.deliver() == []
    assert [d["http_status"] for d in sandbox.deliveries] == [500, 200]


def test_unreachable_receiver_is_recorded(sandbox, client):
    port = SandboxServer()  # a free port, closed at once: nobody listens there
    url = port.url + "/hook"
    port.stop()
    sandbox.configure(callback_url=url)
    _payout(client)
    sandbox.server.clock.advance(HOUR)
    [attempt] = sandbox.deliver()
    assert attempt["http_status"] is None and "ConnectionError" in attempt["error"]
    assert (
        requests.get(sandbox.url + "/_sandbox/xendit/deliveries", timeout=5).json()["pending"] == 1
    )


def test_deliver_control_endpoint(sandbox, client, receiver):
    control = sandbox.url + "/_sandbox/xendit/"
    answer = requests.post(control + "deliver", timeout=5)
    assert answer.status_code == 400 and "callback URL" in answer.json()["error"]["message"]
    config = requests.post(
        control + "config", json={"callback_url": receiver.url, "balance": 5_000_000}, timeout=5
    ).json()
    assert config["callback_url"] == receiver.url and config["balance"] == 5_000_000
    _payout(client)
    requests.post(sandbox.url + "/_sandbox/clock", json={"advance": HOUR}, timeout=5)
    delivered = requests.post(control + "deliver", timeout=5).json()["deliveries"]
    assert [(d["event"], d["http_status"]) for d in delivered] == [("payout.succeeded", 200)]
    journal = requests.get(control + "deliveries", timeout=5).json()
    assert journal["pending"] == 0 and len(journal["deliveries"]) == 1
    objects = requests.get(control + "objects", timeout=5).json()
    assert [p["status"] for p in objects["payouts"]] == ["SUCCEEDED"]
    assert objects["balance"] == 5_000_000 - 250000 and objects["links"] == []


@pytest.mark.parametrize(
    "settings",
    [
        {"callback_url": "http://example.com/hook"},
        {"callback_url": "http://10.0.0.1/hook"},
        {"callback_url": "ftp://127.0.0.1/hook"},
        {"colour": "red"},
        {"balance": "lots"},
        {"expiry_status": "LATE"},
        {"channels": "ID_BCA"},
        {"listing": "xml"},
    ],
)
def test_config_errors(sandbox, settings):
    answer = requests.post(sandbox.url + "/_sandbox/xendit/config", json=settings, timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["message"]


def test_callback_url_must_be_loopback_from_the_start():
    with pytest.raises(ValueError, match="loopback"):
        xendit_sim.XenditSandbox(SandboxServer(), callback_url="https://example.com/hook")
