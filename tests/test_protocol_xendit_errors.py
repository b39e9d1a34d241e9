"""The Xendit protocol code without a server (test_sandbox_xendit_* talk to one): the
error answers, and every code Xendit publishes.
"""

import json

from odoo.tests import BaseCase, tagged

from ..protocol import xendit
from ..protocol.errors import (
    ProviderClientError,
    ProviderConflict,
    ProviderError,
    ProviderRefusal,
    ProviderServerError,
)
from .fakes import PAYOUT_ARGS, error_facts
from .xendit_protocol_helpers import PAYOUT, _client


def _error_body(code, message="provider text"):
    return json.dumps({"error_code": code, "message": message, "errors": []}).encode()


# (HTTP status, body, error class, message, code) of Xendit's error answers.
ERROR_ANSWERS = [
    (
        400,
        _error_body("RECIPIENT_ACCOUNT_NUMBER_ERROR"),
        ProviderRefusal,
        "The bank account number is not valid for this bank.",
        "RECIPIENT_ACCOUNT_NUMBER_ERROR",
    ),
    (
        400,
        _error_body("API_VALIDATION_ERROR", "amount: must be greater than 0"),
        ProviderRefusal,
        "Xendit refused a field of the request. amount: must be greater than 0",
        "API_VALIDATION_ERROR",
    ),
    (
        400,
        _error_body("CHANNEL_CODE_NOT_SUPPORTED_ERROR"),
        ProviderRefusal,
        "Xendit cannot pay to this bank.",
        "CHANNEL_CODE_NOT_SUPPORTED_ERROR",
    ),
    (
        400,
        _error_body("RECIPIENT_AMOUNT_ERROR"),
        ProviderRefusal,
        "The amount is outside what this bank accepts (minimum, maximum or increment).",
        "RECIPIENT_AMOUNT_ERROR",
    ),
    (
        400,
        _error_body("MAXIMUM_TRANSFER_LIMIT_ERROR"),
        ProviderRefusal,
        "The amount is above the maximum this bank accepts through Xendit.",
        "MAXIMUM_TRANSFER_LIMIT_ERROR",
    ),
    (
        400,
        _error_body("INSUFFICIENT_BALANCE"),
        ProviderRefusal,
        "The Xendit balance is too low for this payout.",
        "INSUFFICIENT_BALANCE",
    ),
    (
        400,
        _error_body("CANNOT_VOID_PAYOUT"),
        ProviderRefusal,
        xendit.message_of("CANNOT_VOID_PAYOUT"),
        "CANNOT_VOID_PAYOUT",
    ),
    (
        401,
        _error_body("INVALID_API_KEY"),
        ProviderRefusal,
        "The Xendit API key is wrong or missing.",
        "INVALID_API_KEY",
    ),
    (
        403,
        _error_body("REQUEST_FORBIDDEN_ERROR"),
        ProviderRefusal,
        xendit.message_of("REQUEST_FORBIDDEN_ERROR"),
        "REQUEST_FORBIDDEN_ERROR",
    ),
    (
        404,
        _error_body("DATA_NOT_FOUND"),
        ProviderConflict,
        "Xendit has no payout with this id.",
        "DATA_NOT_FOUND",
    ),
    (
        409,
        _error_body("DUPLICATE_TRANSACTION_ERROR"),
        ProviderConflict,
        xendit.message_of("DUPLICATE_TRANSACTION_ERROR"),
        "DUPLICATE_TRANSACTION_ERROR",
    ),
    (
        400,
        _error_body("BRAND_NEW_ERROR", "Something new"),
        ProviderRefusal,
        "Something new",
        "BRAND_NEW_ERROR",
    ),
    (404, b"Not Found", ProviderConflict, "Xendit refused the request (HTTP 404).", None),
    (
        500,
        _error_body("SERVER_ERROR"),
        ProviderServerError,
        xendit.message_of("SERVER_ERROR"),
        "SERVER_ERROR",
    ),
    (
        400,
        _error_body("SERVER_ERROR"),
        ProviderServerError,
        xendit.message_of("SERVER_ERROR"),
        "SERVER_ERROR",
    ),
    (
        503,
        b'{"error":{"code":"SERVER_ERROR","message":"Injected server error."}}',
        ProviderServerError,
        xendit.message_of("SERVER_ERROR"),
        "SERVER_ERROR",
    ),
    (
        502,
        b"<html>Bad Gateway</html>",
        ProviderServerError,
        "Xendit is unavailable (HTTP 502).",
        None,
    ),
]

# Every code Xendit publishes, current and legacy, with its outcome kind: a refusal (the
# link fails), unknown (looked up, never failed) or a failure code of a failed payout.
CODE_KINDS = {
    "API_VALIDATION_ERROR": "refusal",
    "CHANNEL_CODE_NOT_SUPPORTED": "refusal",
    "RECIPIENT_ACCOUNT_NUMBER_ERROR": "refusal",
    "MINIMUM_TRANSFER_LIMIT_ERROR": "refusal",
    "MAXIMUM_TRANSFER_LIMIT_ERROR": "refusal",
    "AMOUNT_INCREMENT_NOT_SUPPORTED": "refusal",
    "INSUFFICIENT_BALANCE": "refusal",
    "DUPLICATE_ERROR": "unknown",
    "DUPLICATE_PAYOUT_ERROR": "unknown",
    "INVALID_JSON_FORMAT": "refusal",
    "CHANNEL_CODE_NOT_SUPPORTED_ERROR": "refusal",
    "RECIPIENT_AMOUNT_ERROR": "refusal",
    "DUPLICATE_TRANSACTION_ERROR": "unknown",
    "REQUEST_FORBIDDEN_ERROR": "refusal",
    "INVALID_API_KEY": "refusal",
    "SERVER_ERROR": "unknown",
    "PAYOUT_NOT_FOUND": "unknown",
    "DATA_NOT_FOUND": "unknown",
    "CANNOT_VOID_PAYOUT": "refusal",
    "CANNOT_CANCEL_PAYOUT": "refusal",
    "INVALID_DESTINATION": "failure",
    "DESTINATION_MAXIMUM_LIMIT": "failure",
    "ACCOUNT_NAME_MISMATCH": "failure",
    "REJECTED_BY_CHANNEL": "failure",
    "TEMPORARY_TRANSFER_ERROR": "failure",
    "TRANSFER_ERROR": "failure",
    "TOO_MANY_WRONG_PASSWORDS": "failure",
}


@tagged("post_install", "-at_install")
class TestXenditErrors(BaseCase):
    """Xendit's error answers become the right ProviderError: a refusal, a conflict that
    proves nothing, or a server error retried with the same key; every code Xendit
    publishes has its kind and a message for HR."""

    def test_error_answers(self):
        for status, content, error_class, message, code in ERROR_ANSWERS:
            with self.subTest(status=status, content=content):
                client, session = _client((status, content), max_retries=0)
                with self.assertRaises(ProviderError) as caught:
                    client.get_payout("disb-1")
                retryable = error_class is ProviderServerError
                self.assertEqual(
                    error_facts(caught.exception),
                    (error_class, message, code, status, content.decode(), retryable),
                )
                self.assertEqual(len(session.calls), 1)

    def test_every_code_has_its_kind(self):
        self.assertEqual(
            {code: kind for code, (kind, _message) in xendit.CODES.items()}, CODE_KINDS)

    def test_an_error_answer_is_what_its_code_says(self):
        for code in sorted(CODE_KINDS):
            for status in (400, 403, 409):
                with self.subTest(code=code, status=status):
                    self._check_error_answer(code, status)

    def _check_error_answer(self, code, status):
        client, _session = _client((status, _error_body(code, "Xendit's own words")),
                                   max_retries=0)
        with self.assertRaises(ProviderError) as caught:
            client.create_payout_link("PAY1", 250000, "siti@example.com", "k1")
        error = caught.exception
        self.assertEqual((error.code, error.status), (code, status))
        self.assertTrue(error.message.startswith(xendit.message_of(code)))
        if code == "SERVER_ERROR":
            self.assertIsInstance(error, ProviderServerError)
            self.assertTrue(error.retryable)
        elif CODE_KINDS[code] == "unknown" or status == 409:  # a 409 proves nothing
            self.assertIs(type(error), ProviderConflict)
            self.assertFalse(error.refusal)
        else:
            self.assertIs(type(error), ProviderRefusal)
            self.assertTrue(error.refusal)

    def test_every_message_is_for_hr(self):
        for code in sorted(CODE_KINDS):
            with self.subTest(code=code):
                message = xendit.message_of(code)
                self.assertTrue(message[0].isupper())
                self.assertTrue(message.endswith("."))
                self.assertNotIn(code, message)  # plain words, not Xendit's codes
                self.assertNotIn("_", message)
                self.assertNotIn("idempotency", message.lower())

    def test_failure_codes_are_the_reason_of_a_failed_payout(self):
        for code in [c for c, kind in sorted(CODE_KINDS.items()) if kind == "failure"]:
            with self.subTest(code=code):
                failed = xendit.parse_payout({**PAYOUT, "status": "FAILED", "failure_code": code})
                self.assertEqual(failed.reason, xendit.message_of(code))

    def test_server_error_code_is_retried_with_the_same_key(self):
        sleeps = []
        client, session = _client(
            (400, _error_body("SERVER_ERROR")), (200, json.dumps(PAYOUT).encode()),
            sleep=sleeps.append,
        )
        status = client.create_payout(**PAYOUT_ARGS)
        self.assertEqual(status.raw_status, "ACCEPTED")
        self.assertEqual(sleeps, [0.5])
        first, second = session.calls
        self.assertEqual(first["headers"], second["headers"])
        self.assertEqual(first["data"], second["data"])

    def test_replay_is_the_original_answer(self):
        client, _session = _client((409, json.dumps(PAYOUT).encode()))
        status = client.create_payout(**PAYOUT_ARGS)
        response = client.last_response
        self.assertEqual((response.status, response.replayed, status.raw_status),
                         (409, True, "ACCEPTED"))

    def test_a_409_without_the_object_is_an_error(self):
        for content in (
            _error_body("DUPLICATE_TRANSACTION_ERROR"),
            json.dumps({**PAYOUT, "error_code": "DUPLICATE_TRANSACTION_ERROR"}).encode(),
            b'{"status":"ACCEPTED"}',
        ):
            with self.subTest(content=content):
                client, _session = _client((409, content))
                with self.assertRaises(ProviderClientError) as caught:
                    client.create_payout(**PAYOUT_ARGS)
                self.assertEqual(caught.exception.status, 409)
