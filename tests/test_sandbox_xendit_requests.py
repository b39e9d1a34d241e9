"""XenditClient against the Xendit sandbox, over real loopback HTTP: the requests as the
sandbox receives them, authentication, validation, and the server itself.
"""

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import FieldValidationError, ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sim
from odoo.addons.hr_payout_link.sandbox.server import SandboxServer
from odoo.addons.hr_payout_link.tests.fakes import DOKU_FIELDS, PAYOUT_ARGS, PAYOUT_BODY
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase
from odoo.addons.hr_payout_link.tests.xendit_sandbox_helpers import (
    _basic,
    _link,
    _payout,
    _post,
    start_receiver,
)


@tagged("post_install", "-at_install")
class TestSandboxXenditRequests(SandboxCase):
    """What XenditClient sends as the Xendit sandbox receives it, and the sandbox's
    authentication."""

    start_sandbox = xendit_sim.start

    def test_payout_link_requests(self):
        client, sandbox = self.client, self.sandbox
        status = client.create_payout_link("PAY1", 250000, "siti@example.com", "lk-1")
        response = client.last_response
        self.assertEqual(
            (response.status, response.replayed, status.raw_status, status.state),
            (200, False, "PENDING", "sent"),
        )
        link = response.data
        self.assertEqual({k: link[k] for k in ("external_id", "amount", "email", "status")}, {
            "external_id": "PAY1",
            "amount": 250000,
            "email": "siti@example.com",
            "status": "PENDING",
        })
        self.assertTrue(link["payout_url"].endswith(link["id"]))
        self.assertGreater(link["expiration_timestamp"], link["created"])

        self.assertEqual(client.get_payout_link(link["id"]).raw_status, "PENDING")
        status = client.void_payout_link(link["id"], "void-1")
        self.assertEqual((status.raw_status, status.state), ("VOIDED", "cancelled"))

        create, get, void = sandbox.server.requests
        self.assertEqual((create.method, create.path), ("POST", "/payouts"))
        self.assertEqual(
            create.body, b'{"external_id":"PAY1","amount":250000,"email":"siti@example.com"}'
        )
        self.assertEqual(create.headers["Authorization"], _basic(sandbox.secret_key))
        self.assertEqual(create.headers["X-IDEMPOTENCY-KEY"], "lk-1")
        self.assertEqual(create.headers["Content-Type"], "application/json")
        self.assertEqual((get.method, get.path, get.body), ("GET", f"/payouts/{link['id']}", b""))
        self.assertEqual(get.headers["Authorization"], _basic(sandbox.secret_key))
        self.assertNotIn("X-IDEMPOTENCY-KEY", get.headers)
        self.assertEqual(
            (void.method, void.path, void.body), ("POST", f"/payouts/{link['id']}/void", b"")
        )
        self.assertEqual(void.headers["X-IDEMPOTENCY-KEY"], "void-1")

    def test_payout_v2_requests(self):
        client, sandbox = self.client, self.sandbox
        status = client.create_payout(**PAYOUT_ARGS)
        response = client.last_response
        payout = response.data
        self.assertEqual((status.raw_status, status.state), ("ACCEPTED", "processing"))
        self.assertTrue(payout["id"].startswith("disb-"))
        self.assertEqual(payout["business_id"], xendit_sim.BUSINESS_ID)
        self.assertEqual(client.get_payout(payout["id"]).raw_status, "ACCEPTED")
        self.assertEqual(
            [s.provider_reference for s in client.find_payouts("PL-2025-0001")], [payout["id"]]
        )
        self.assertEqual(client.find_payouts("PL-other"), [])
        self.assertEqual(client.cancel_payout(payout["id"]).raw_status, "CANCELLED")
        self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE)

        create, get, find, _find, cancel, balance = sandbox.server.requests
        self.assertEqual((create.method, create.path), ("POST", "/v2/payouts"))
        self.assertEqual(create.headers["Idempotency-key"], "db-1-PL-2025-0001")
        self.assertEqual(create.headers["Authorization"], _basic(sandbox.secret_key))
        self.assertEqual(create.json, PAYOUT_BODY)
        self.assertEqual((get.method, get.path), ("GET", f"/v2/payouts/{payout['id']}"))
        self.assertEqual(
            (find.method, find.path, find.query),
            ("GET", "/v2/payouts", {"reference_id": "PL-2025-0001"}),
        )
        self.assertEqual(
            (cancel.method, cancel.path, cancel.body),
            ("POST", f"/v2/payouts/{payout['id']}/cancel", b""),
        )
        self.assertEqual((balance.method, balance.path), ("GET", "/balance"))
        for request in (get, balance):
            self.assertEqual(request.headers["Authorization"], _basic(sandbox.secret_key))

    def test_wrong_api_key(self):
        """4xx: no retry."""
        for key in ("xnd_development_wrong", ""):
            with self.case(key=key):
                client = xendit.XenditClient(self.sandbox.url, key, sleep=self.sleeps.append)
                with self.assertRaises(ProviderClientError) as caught:
                    client.get_balance()
                error = caught.exception
                self.assertEqual((error.status, error.code), (401, "INVALID_API_KEY"))
                self.assertEqual(error.message, "The Xendit API key is wrong or missing.")
                self.assertEqual(self.sleeps, [])

    def test_missing_or_broken_auth(self):
        for headers in (
            {}, {"Authorization": "Bearer x"}, {"Authorization": "Basic !!!"},
            {"Authorization": "Basic"},
        ):
            with self.case(headers=headers):
                answer = requests.get(self.sandbox.url + "/balance", headers=headers, timeout=5)
                self.assertEqual(
                    (answer.status_code, answer.json()["error_code"]), (401, "INVALID_API_KEY")
                )

    def test_password_is_ignored(self):
        answer = requests.get(
            self.sandbox.url + "/balance", auth=(self.sandbox.secret_key, "x"), timeout=5
        )
        self.assertEqual(answer.json(), {"balance": xendit_sim.DEFAULT_BALANCE})

    def test_read_only_key_cannot_move_money(self):
        client = xendit.XenditClient(self.sandbox.url, xendit_sim.READ_ONLY_KEY)
        self.assertEqual(client.get_balance(), xendit_sim.DEFAULT_BALANCE)
        with self.assertRaises(ProviderClientError) as caught:
            client.create_payout(**PAYOUT_ARGS)
        self.assertEqual(
            (caught.exception.status, caught.exception.code), (403, "REQUEST_FORBIDDEN_ERROR")
        )
        self.assertIn("Money-out write permission", caught.exception.message)
        self.assertEqual(self.sandbox.payouts, {})


@tagged("post_install", "-at_install")
class TestSandboxXenditValidation(SandboxCase):
    """The field rules, in XenditClient (nothing leaves) and in the Xendit sandbox itself
    (nothing is created); unknown ids."""

    start_sandbox = xendit_sim.start

    def test_validation_errors_send_nothing(self):
        for name, call in (
            ("link reference", lambda c: c.create_payout_link(
                "PAY-1", 250000, "siti@example.com", "k1")),
            ("link amount", lambda c: c.create_payout_link(
                "PAY1", 100.5, "siti@example.com", "k1")),
            ("link email", lambda c: c.create_payout_link("PAY1", 250000, "siti", "k1")),
            ("account number", lambda c: c.create_payout(
                **{**PAYOUT_ARGS, "account_number": "12 34"})),
            ("no idempotency key", lambda c: c.create_payout(
                **{**PAYOUT_ARGS, "idempotency_key": None})),
            ("payout id", lambda c: c.get_payout("../balance")),
        ):
            with self.case(call=name):
                with self.assertRaises(FieldValidationError):
                    call(self.client)
                self.assertFalse(self.sandbox.server.requests)

    def test_sandbox_checks_fields_itself(self):
        for path, payload, code, message in (
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
                {"reference_id": "R1", "channel_code": "ID_BCA", "amount": 20000,
                 "currency": "IDR"},
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
        ):
            with self.case(path=path, message=message):
                sandbox = self.sandbox
                answer = _post(sandbox, path, payload, headers={"Idempotency-key": "k1"})
                self.assertEqual(answer.status_code, 400)
                self.assertEqual(
                    (answer.json()["error_code"], answer.json()["message"]), (code, message)
                )
                self.assertEqual(sandbox.links, {})
                self.assertEqual(sandbox.payouts, {})

    def test_sandbox_requires_the_v2_idempotency_key(self):
        body = xendit.build_payout_body("R1", "ID_BCA", "1234567890", "Siti", 20000)
        answer = _post(self.sandbox, "/v2/payouts", body)
        self.assertEqual(answer.status_code, 400)
        self.assertEqual(answer.json()["message"], "Idempotency-key: required")
        self.assertEqual(self.sandbox.payouts, {})

    def test_payout_refused_at_once(self):
        for overrides, code, message in (
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
        ):
            with self.case(overrides=overrides):
                with self.assertRaises(ProviderClientError) as caught:
                    _payout(self.client, **overrides)
                self.assertEqual(
                    (caught.exception.status, caught.exception.code, caught.exception.message),
                    (400, code, message),
                )
                self.assertEqual(self.sandbox.payouts, {})
                self.assertEqual(self.client.get_balance(), xendit_sim.DEFAULT_BALANCE)

    def test_unknown_ids(self):
        client = self.client
        for call in (client.get_payout_link, client.get_payout, client.cancel_payout):
            with self.subTest(call=call.__name__):
                with self.assertRaises(ProviderClientError) as caught:
                    call("nope")
                self.assertEqual(
                    (caught.exception.status, caught.exception.code), (404, "PAYOUT_NOT_FOUND")
                )
        with self.assertRaises(ProviderClientError):
            client.void_payout_link("nope", "k1")


@tagged("post_install", "-at_install")
class TestSandboxXenditServer(SandboxCase):
    """The Xendit sandbox's server: a reset, two providers on one server, path
    parameters."""

    start_sandbox = xendit_sim.start

    def test_reset_forgets_everything(self):
        sandbox, client, receiver = self.sandbox, self.client, start_receiver(self)
        sandbox.configure(callback_url=receiver.url, balance=10**6, replays=False)
        _payout(client)
        _link(client)
        sandbox.server.clock.advance(HOUR)
        sandbox.deliver()
        self.assertEqual(requests.post(sandbox.url + "/_sandbox/reset", timeout=5).json(), {})
        self.assertEqual((sandbox.links, sandbox.payouts, sandbox.deliveries), ({}, {}, []))
        self.assertEqual(
            (sandbox.callback_url, sandbox.balance, sandbox.replays),
            (None, xendit_sim.DEFAULT_BALANCE, True),
        )
        status = client.create_payout(**PAYOUT_ARGS)  # the key is free again
        self.assertEqual(status.raw_status, "ACCEPTED")

    def test_doku_and_xendit_on_one_server(self):
        with SandboxServer() as server:
            doku_sandbox = doku_sim.DokuSandbox(server)
            xendit_sandbox = xendit_sim.XenditSandbox(server)
            self.assertEqual(
                doku_sandbox.client().initiate(DOKU_FIELDS, "1001").raw_status, "PENDING"
            )
            self.assertEqual(xendit_sandbox.client().get_balance(), xendit_sim.DEFAULT_BALANCE)
            self.assertTrue(_payout(xendit_sandbox.client()).startswith("disb-"))
            self.assertEqual(
                [r.path for r in server.requests],
                ["/v1/payout/initiate", "/balance", "/v2/payouts"],
            )

    def test_path_parameters_match_one_segment(self):
        auth = {"Authorization": _basic(self.sandbox.secret_key)}
        for path in ("/payouts/a/b", "/payouts/", "/v2/payouts/x/cancel/more"):
            answer = requests.get(self.sandbox.url + path, headers=auth, timeout=5)
            self.assertEqual(answer.status_code, 404, path)
        answer = requests.get(self.sandbox.url + "/payouts/abc", headers=auth, timeout=5)
        self.assertEqual(answer.json()["error_code"], "PAYOUT_NOT_FOUND")
