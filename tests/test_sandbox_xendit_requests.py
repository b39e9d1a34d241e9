"""Plain pytest tests of XenditClient against the Xendit sandbox, over real loopback HTTP:
the requests as the sandbox receives them, authentication, validation,
and the server itself.
"""

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import FieldValidationError, ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests import fakes, xendit_sandbox_helpers
from odoo.addons.hr_payout_link.tests.fakes import DOKU_FIELDS, PAYOUT_ARGS, PAYOUT_BODY
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import _basic, _link, _payout, _post

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(xendit_sim.start)
client, sleeps = fakes.client, fakes.sleeps
receiver = xendit_sandbox_helpers.receiver


# Requests as the sandbox received them ---------------------------------------------------


def test_payout_link_requests(sandbox, client):
    status = client.create_payout_link("PAY1", 250000, "siti@example.com", "lk-1")
    response = client.last_response
    assert (response.status, response.replayed, status.raw_status, status.state) == (
        200,
        False,
        "PENDING",
        "sent",
    )
    link = response.data
    assert {k: link[k] for k in ("external_id", "amount", "email", "status")} == {
        "external_id": "PAY1",
        "amount": 250000,
        "email": "siti@example.com",
        "status": "PENDING",
    }
    assert (
        link["payout_url"].endswith(link["id"]) and link["expiration_timestamp"] > link["created"]
    )

    assert client.get_payout_link(link["id"]).raw_status == "PENDING"
    status = client.void_payout_link(link["id"], "void-1")
    assert (status.raw_status, status.state) == ("VOIDED", "cancelled")

    create, get, void = sandbox.server.requests
    assert (create.method, create.path) == ("POST", "/payouts")
    assert create.body == b'{"external_id":"PAY1","amount":250000,"email":"siti@example.com"}'
    assert create.headers["Authorization"] == _basic(sandbox.secret_key)
    assert create.headers["X-IDEMPOTENCY-KEY"] == "lk-1"
    assert create.headers["Content-Type"] == "application/json"
    assert (get.method, get.path, get.body) == ("GET", f"/payouts/{link['id']}", b"")
    assert get.headers["Authorization"] == _basic(sandbox.secret_key)
    assert "X-IDEMPOTENCY-KEY" not in get.headers
    assert (void.method, void.path, void.body) == ("POST", f"/payouts/{link['id']}/void", b"")
    assert void.headers["X-IDEMPOTENCY-KEY"] == "void-1"


def test_payout_v2_requests(sandbox, client):
    status = client.create_payout(**PAYOUT_ARGS)
    response = client.last_response
    payout = response.data
    assert (status.raw_status, status.state) == ("ACCEPTED", "processing")
    assert payout["id"].startswith("disb-") and payout["business_id"] == xendit_sim.BUSINESS_ID
    assert client.get_payout(payout["id"]).raw_status == "ACCEPTED"
    assert [s.provider_reference for s in client.find_payouts("PL-2025-0001")] == [payout["id"]]
    assert client.find_payouts("PL-other") == []
    assert client.cancel_payout(payout["id"]).raw_status == "CANCELLED"
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE

    create, get, find, _find, cancel, balance = sandbox.server.requests
    assert (create.method, create.path) == ("POST", "/v2/payouts")
    assert create.headers["Idempotency-key"] == "db-1-PL-2025-0001"
    assert create.headers["Authorization"] == _basic(sandbox.secret_key)
    assert create.json == PAYOUT_BODY
    assert (get.method, get.path) == ("GET", f"/v2/payouts/{payout['id']}")
    assert (find.method, find.path, find.query) == (
        "GET",
        "/v2/payouts",
        {"reference_id": "PL-2025-0001"},
    )
    assert (cancel.method, cancel.path, cancel.body) == (
        "POST",
        f"/v2/payouts/{payout['id']}/cancel",
        b"",
    )
    assert (balance.method, balance.path) == ("GET", "/balance")
    assert all(r.headers["Authorization"] == _basic(sandbox.secret_key) for r in (get, balance))


# Authentication --------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["xnd_development_wrong", ""])
def test_wrong_api_key(sandbox, key, sleeps):
    client = xendit.XenditClient(sandbox.url, key, sleep=sleeps.append)
    with pytest.raises(ProviderClientError) as caught:
        client.get_balance()
    error = caught.value
    assert (error.status, error.code) == (401, "INVALID_API_KEY")
    assert error.message == "The Xendit API key is wrong or missing."
    assert sleeps == []  # 4xx: no retry


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer x"}, {"Authorization": "Basic !!!"}, {"Authorization": "Basic"}],
)
def test_missing_or_broken_auth(sandbox, headers):
    answer = requests.get(sandbox.url + "/balance", headers=headers, timeout=5)
    assert (answer.status_code, answer.json()["error_code"]) == (401, "INVALID_API_KEY")


def test_password_is_ignored(sandbox):
    answer = requests.get(sandbox.url + "/balance", auth=(sandbox.secret_key, "x"), timeout=5)
    assert answer.json() == {"balance": xendit_sim.DEFAULT_BALANCE}


def test_read_only_key_cannot_move_money(sandbox):
    client = xendit.XenditClient(sandbox.url, xendit_sim.READ_ONLY_KEY)
    assert client.get_balance() == xendit_sim.DEFAULT_BALANCE
    with pytest.raises(ProviderClientError) as caught:
        client.create_payout(**PAYOUT_ARGS)
    assert (caught.value.status, caught.value.code) == (403, "REQUEST_FORBIDDEN_ERROR")
    assert "Money-out write permission" in caught.value.message
    assert sandbox.payouts == {}


# Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create_payout_link("PAY-1", 250000, "siti@example.com", "k1"),
        lambda c: c.create_payout_link("PAY1", 100.5, "siti@example.com", "k1"),
        lambda c: c.create_payout_link("PAY1", 250000, "siti", "k1"),
        lambda c: c.create_payout(**{**PAYOUT_ARGS, "account_number": "12 34"}),
        lambda c: c.create_payout(**{**PAYOUT_ARGS, "idempotency_key": None}),
        lambda c: c.get_payout("../balance"),
    ],
)
def test_validation_errors_send_nothing(sandbox, client, call):
    with pytest.raises(FieldValidationError):
        call(client)
    assert not sandbox.server.requests


@pytest.mark.parametrize(
    "path, payload, code, message",
    [
        (
            "/payouts",
            {"external_id": "PAY-1", "amount": 1000, "email": "a@example.com"},
            "API_VALIDATION_ERROR",
            "external_id: 1 to 30 letters and digits only",
        ),
        (
            "/payouts",
            {"external_id": "PAY1", "amount": 0, "email": "a@example.com"},
            "API_VALIDATION_ERROR",
            "amount: must be greater than 0",
        ),
        (
            "/payouts",
            {"external_id": "PAY1", "amount": 1000},
            "API_VALIDATION_ERROR",
            "email: required",
        ),
        ("/payouts", b"<xml/>", "INVALID_JSON_FORMAT", "The body must be a JSON object."),
        (
            "/v2/payouts",
            {"reference_id": "R1", "channel_code": "ID_BCA", "amount": 20000, "currency": "IDR"},
            "API_VALIDATION_ERROR",
            "account_number: required",
        ),
        (
            "/v2/payouts",
            {
                "reference_id": "R1",
                "channel_code": "ID_BCA",
                "channel_properties": {"account_number": "1", "account_holder_name": "A"},
                "amount": 20000,
                "currency": "USD",
            },
            "API_VALIDATION_ERROR",
            "currency: Indonesian channels pay IDR only",
        ),
    ],
)
def test_sandbox_checks_fields_itself(sandbox, path, payload, code, message):
    answer = _post(sandbox, path, payload, headers={"Idempotency-key": "k1"})
    assert answer.status_code == 400
    assert (answer.json()["error_code"], answer.json()["message"]) == (code, message)
    assert sandbox.links == {} and sandbox.payouts == {}


def test_sandbox_requires_the_v2_idempotency_key(sandbox):
    body = xendit.build_payout_body("R1", "ID_BCA", "1234567890", "Siti", 20000)
    answer = _post(sandbox, "/v2/payouts", body)
    assert answer.status_code == 400
    assert answer.json()["message"] == "Idempotency-key: required"
    assert sandbox.payouts == {}


@pytest.mark.parametrize(
    "overrides, code, message",
    [
        (
            {"channel_code": "ID_NOWHERE"},
            "CHANNEL_CODE_NOT_SUPPORTED",
            "Xendit cannot pay to this bank.",
        ),
        (
            {"amount": 9999},
            "MINIMUM_TRANSFER_LIMIT_ERROR",
            "The amount is below the minimum this bank accepts through Xendit.",
        ),
        (
            {"amount": 250_000_001},
            "MAXIMUM_TRANSFER_LIMIT_ERROR",
            "The amount is above the maximum this bank accepts through Xendit.",
        ),
        (
            {"account_number": "4000000000"},
            "RECIPIENT_ACCOUNT_NUMBER_ERROR",
            "The bank account number is not valid for this bank.",
        ),
    ],
)
def test_payout_refused_at_once(sandbox, client, overrides, code, message):
    with pytest.raises(ProviderClientError) as caught:
        _payout(client, **overrides)
    assert (caught.value.status, caught.value.code, caught.value.message) == (400, code, message)
    assert sandbox.payouts == {} and client.get_balance() == xendit_sim.DEFAULT_BALANCE


def test_unknown_ids(client):
    for call in (client.get_payout_link, client.get_payout, client.cancel_payout):
        with pytest.raises(ProviderClientError) as caught:
            call("nope")
        assert (caught.value.status, caught.value.code) == (404, "PAYOUT_NOT_FOUND")
    with pytest.raises(ProviderClientError):
        client.void_payout_link("nope", "k1")


# Server -----------------------------------------------------------------------------------


def test_reset_forgets_everything(sandbox, client, receiver):
    sandbox.configure(callback_url=receiver.url, balance=10**6, replays=False)
    _payout(client)
    _link(client)
    sandbox.server.clock.advance(HOUR)
    sandbox.deliver()
    assert requests.post(sandbox.url + "/_sandbox/reset", timeout=5).json() == {}
    assert (sandbox.links, sandbox.payouts, sandbox.deliveries) == ({}, {}, [])
    assert (sandbox.callback_url, sandbox.balance, sandbox.replays) == (
        None,
        xendit_sim.DEFAULT_BALANCE,
        True,
    )
    status = client.create_payout(**PAYOUT_ARGS)  # the key is free again
    assert status.raw_status == "ACCEPTED"


def test_doku_and_xendit_on_one_server():
    with SandboxServer() as server:
        doku_sandbox = doku_sim.DokuSandbox(server)
        xendit_sandbox = xendit_sim.XenditSandbox(server)
        assert doku_sandbox.client().initiate(DOKU_FIELDS, "1001").raw_status == "PENDING"
        assert xendit_sandbox.client().get_balance() == xendit_sim.DEFAULT_BALANCE
        assert _payout(xendit_sandbox.client()).startswith("disb-")
        assert [r.path for r in server.requests] == [
            "/v1/payout/initiate",
            "/balance",
            "/v2/payouts",
        ]


def test_path_parameters_match_one_segment(sandbox):
    auth = {"Authorization": _basic(sandbox.secret_key)}
    for path in ("/payouts/a/b", "/payouts/", "/v2/payouts/x/cancel/more"):
        answer = requests.get(sandbox.url + path, headers=auth, timeout=5)
        assert answer.status_code == 404, path
    answer = requests.get(sandbox.url + "/payouts/abc", headers=auth, timeout=5)
    assert answer.json()["error_code"] == "PAYOUT_NOT_FOUND"
