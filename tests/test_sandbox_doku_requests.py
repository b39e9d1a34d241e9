"""DokuClient against the DOKU sandbox, over real loopback HTTP: the happy path,
validation, authentication, idempotency.
"""

import json
import time
from datetime import datetime, timedelta, timezone

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.errors import FieldValidationError, ProviderClientError
from odoo.addons.hr_payout_link.protocol.timeutil import HOUR, format_timestamp
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields, _post
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase


@tagged("post_install", "-at_install")
class TestSandboxDokuRequests(SandboxCase):
    """What DokuClient sends and the DOKU sandbox accepts: the happy path, the field rules
    on both sides, the authentication."""

    start_sandbox = doku_sim.start

    def test_initiate_then_status(self):
        client, sandbox = self.client, self.sandbox
        status = client.initiate(_fields(), "1001")
        response = client.last_response
        self.assertEqual(
            (status.raw_status, status.state, status.provider_reference),
            ("PENDING", "sent", "PAY_1"),
        )
        self.assertEqual((response.status, response.replayed), (200, False))
        data = response.data["data"]
        self.assertEqual(response.data["status"], "0")
        self.assertEqual(data["amount"], 250000)
        self.assertEqual(data["receiver_email"], "siti@example.com")
        self.assertEqual(data["currency"], "IDR")

        [received] = sandbox.server.requests
        self.assertEqual(received.path, doku.INITIATE_PATH)
        self.assertEqual(
            received.body,
            json.dumps(doku.build_initiate_body(**_fields()), separators=(",", ":")).encode(),
        )
        self.assertEqual(received.headers["Request-Id"], "1001")
        self.assertTrue(received.headers["Signature"].startswith("HMACSHA256="))
        self.assertEqual(received.headers["Request-Target"], doku.INITIATE_PATH)

        self.assertEqual(client.status("PAY_1").raw_status, "PENDING")
        self.assertEqual(sandbox.server.requests[1].json, {"transaction_id": "PAY_1"})

    def test_field_limits_send_nothing(self):
        """Nothing leaves before the fields are right."""
        for field, value in (
            ("amount", 0),
            ("amount", 1.005),
            ("amount", 10**16),
            ("sender_name", "x" * 51),
            ("receiver_name", "x" * 51),
            ("receiver_phone_number", "0812345"),  # 62812345 once normalised: too short
            ("receiver_phone_number", "62" + "1" * 13),
            ("receiver_email", "not-an-email"),
            ("receiver_email", "a@b.co" + "m" * 45),
            ("reference_id", "R" * 31),
            ("description", "d" * 31),
            ("currency", "RUPIAH"),
        ):
            with self.case(field=field, value=value):
                with self.assertRaises(FieldValidationError) as caught:
                    self.client.initiate(_fields(**{field: value}), "1001")
                self.assertEqual(caught.exception.field, field)
                self.assertFalse(self.sandbox.server.requests)

    def test_status_reference_limit_sends_nothing(self):
        with self.assertRaisesRegex(FieldValidationError, "transaction_id"):
            self.client.status("R" * 31)
        self.assertFalse(self.sandbox.server.requests)

    def test_sandbox_checks_fields_itself(self):
        for payload, message in (
            (_fields(receiver_name="x" * 51), "receiver_name: at most 50 characters"),
            (_fields(amount="250000"), "amount: must be a number"),
            ({k: v for k, v in _fields().items() if k != "sender_name"}, "sender_name: required"),
        ):
            with self.case(message=message):
                answer = _post(self.sandbox, doku.INITIATE_PATH, payload)
                self.assertEqual(answer.status_code, 400)
                self.assertEqual(
                    answer.json(), {"error": {"code": "INVALID_FIELD", "message": message}}
                )
                self.assertEqual(self.sandbox.payouts, {})

    def test_sandbox_rejects_bad_requests(self):
        for options, status, code in (
            ({"secret": "SK-wrong"}, 401, "INVALID_SIGNATURE"),
            ({"client_id": "SOMEONE-ELSE"}, 401, "UNKNOWN_CLIENT"),
            # A skew, not a timestamp: the request is signed as it is sent.
            ({"clock_skew": timedelta(minutes=-6)}, 401, "STALE_TIMESTAMP"),
            ({"clock_skew": timedelta(minutes=6)}, 401, "STALE_TIMESTAMP"),
            ({"request_id": "REQ-1"}, 400, "INVALID_REQUEST_ID"),
        ):
            with self.case(options=options):
                answer = _post(self.sandbox, doku.INITIATE_PATH, _fields(), **options)
                self.assertEqual(
                    (answer.status_code, answer.json()["error"]["code"]), (status, code)
                )
                self.assertEqual(self.sandbox.payouts, {})

    def test_sandbox_rejects_unsigned_requests(self):
        sandbox = self.sandbox
        answer = requests.post(
            sandbox.url + doku.STATUS_PATH,
            json={"transaction_id": "PAY_1"},
            headers={"Client-Id": sandbox.client_id, "Request-Id": "1"},
            timeout=5,
        )
        self.assertEqual(
            (answer.status_code, answer.json()["error"]["code"]), (401, "MISSING_SIGNATURE")
        )

    def test_sandbox_rejects_a_tampered_body(self):
        sandbox = self.sandbox
        body = json.dumps(_fields()).encode()
        headers = doku.signature_headers(
            sandbox.client_id,
            sandbox.secret_key,
            "77",
            doku.INITIATE_PATH,
            body,
            timestamp=format_timestamp(datetime.now(timezone.utc)),
        )
        answer = requests.post(
            sandbox.url + doku.INITIATE_PATH,
            data=body.replace(b"250000", b"950000"),
            headers=headers,
            timeout=5,
        )
        self.assertEqual(
            (answer.status_code, answer.json()["error"]["code"]), (401, "INVALID_SIGNATURE")
        )

    def test_client_surfaces_the_providers_message(self):
        client = doku.DokuClient(self.sandbox.url, "SOMEONE-ELSE", self.sandbox.secret_key)
        with self.assertRaises(ProviderClientError) as caught:
            client.status("PAY_1")
        error = caught.exception
        self.assertEqual((error.status, error.code), (401, "UNKNOWN_CLIENT"))
        self.assertEqual(error.message, "Unknown Client-Id.")


@tagged("post_install", "-at_install")
class TestSandboxDokuIdempotency(SandboxCase):
    """A DOKU Request-Id is answered once: a replay returns the original answer, a reuse
    with another body or a known reference is refused."""

    start_sandbox = doku_sim.start

    def test_replay_returns_the_original_answer(self):
        client = self.client
        first_status = client.initiate(_fields(), "1001")
        first = client.last_response
        self.sandbox.server.clock.advance(2 * HOUR)  # the link moved on meanwhile
        time.sleep(1.1)  # a replay signed now would show a later Response-Timestamp
        status = client.initiate(_fields(), "1001")
        again = client.last_response
        self.assertEqual((again.status, again.replayed), (409, True))
        self.assertEqual(again.body, first.body)
        signed = ("Response-Timestamp", "Signature")
        self.assertEqual(
            [again.headers[name] for name in signed], [first.headers[name] for name in signed]
        )
        self.assertEqual(status, first_status)
        self.assertEqual(status.raw_status, "PENDING")
        self.assertEqual(list(self.sandbox.payouts), ["PAY_1"])

    def test_reused_request_id_with_another_body_is_refused(self):
        self.client.initiate(_fields(), "1001")
        with self.assertRaises(ProviderClientError) as caught:
            self.client.initiate(_fields("PAY_2"), "1001")
        self.assertEqual(
            (caught.exception.status, caught.exception.code), (409, "REQUEST_ID_CONFLICT")
        )
        self.assertEqual(list(self.sandbox.payouts), ["PAY_1"])

    def test_refused_request_does_not_use_up_its_request_id(self):
        refused = _post(self.sandbox, doku.INITIATE_PATH, _fields(amount=0), request_id="1001")
        self.assertEqual(refused.status_code, 400)
        status = self.client.initiate(_fields(), "1001")
        response = self.client.last_response
        self.assertEqual((response.status, status.raw_status), (200, "PENDING"))

    def test_duplicate_reference_is_refused(self):
        self.client.initiate(_fields(), "1001")
        with self.assertRaises(ProviderClientError) as caught:
            self.client.initiate(_fields(amount=1000), "1002")
        self.assertEqual(
            (caught.exception.status, caught.exception.code), (409, "DUPLICATE_REFERENCE_ID")
        )
        self.assertIn("PAY_1", caught.exception.message)
        self.assertEqual(len(self.sandbox.server.requests), 2)
        self.assertEqual(self.sleeps, [])  # 4xx: no retry

    def test_unknown_reference(self):
        with self.assertRaises(ProviderClientError) as caught:
            self.client.status("PAY_404")
        self.assertEqual((caught.exception.status, caught.exception.code), (404, "NOT_FOUND"))
