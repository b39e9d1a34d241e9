"""The DOKU protocol code without a server (test_sandbox_doku_* talk to one): the error
answers, DOKU's signed answers, Test Connection.
"""

import logging
from datetime import datetime, timedelta, timezone

import requests
from requests.structures import CaseInsensitiveDict

from odoo.tests import BaseCase, tagged

from ..protocol import doku, timeutil
from ..protocol.errors import (
    ProviderBadSignature,
    ProviderConflict,
    ProviderError,
    ProviderMalformedResponse,
    ProviderRefusal,
    ProviderServerError,
)
from .doku_protocol_helpers import CLIENT_ID, FIELDS, KEY, REQUEST_ID, RESPONSE_BODY
from .fakes import FakeSession, error_facts


class DokuLikeSession:
    """Answers each request with (HTTP status, body, how it is signed): "signed" (now),
    "stale" (signed an hour ago), "wrong" (with another key) or None (unsigned); the
    request is attached to the response, as requests does."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.calls = 0

    def request(self, method, url, data=None, headers=None, **kwargs):
        status, content, signed = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        prepared = requests.Request(method, url, data=data, headers=headers).prepare()
        response = requests.Response()
        response.status_code, response._content, response.url = status, content, url
        response.request = prepared
        if signed:
            at = datetime.now(timezone.utc) - timedelta(hours=1 if signed == "stale" else 0)
            response.headers = CaseInsensitiveDict(doku.signature_headers(
                headers["Client-Id"], KEY + ("-wrong" if signed == "wrong" else ""),
                headers["Request-Id"], doku.INITIATE_PATH if "initiate" in url else
                doku.STATUS_PATH, content, timestamp=timeutil.format_timestamp(at),
                timestamp_name="Response-Timestamp"))
        return response


def _doku_like(*replies):
    return doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, max_retries=0,
                           session=DokuLikeSession(*replies))


@tagged("post_install", "-at_install")
class TestDokuErrorAnswers(BaseCase):
    """DOKU's error answers become the right ProviderError, with DOKU's own message and
    code (a fake session: these need no server)."""

    def test_error_answers(self):
        cases = [
            (
                400,
                b'{"status":"4001","message":"Invalid amount"}',
                ProviderRefusal,
                "Invalid amount",
                "4001",
            ),
            (
                401,
                b'{"error":{"code":"invalid_signature","message":"Invalid Signature"}}',
                ProviderRefusal,
                "Invalid Signature",
                "invalid_signature",
            ),
            (
                409,
                b'{"error":{"code":"DUPLICATE","message":"Duplicate"}}',
                ProviderConflict,
                "Duplicate",
                "DUPLICATE",
            ),
            (
                409,
                b'{"status":"DUPLICATE_REQUEST","message":"Duplicate request"}',
                ProviderConflict,
                "Duplicate request",
                "DUPLICATE_REQUEST",
            ),
            (404, b"Not Found", ProviderConflict, "DOKU refused the request (HTTP 404).", None),
            (
                502,
                b"<html>Bad Gateway</html>",
                ProviderServerError,
                "DOKU is unavailable (HTTP 502).",
                None,
            ),
        ]
        for status, content, error_class, message, code in cases:
            with self.subTest(status=status, content=content):
                session = FakeSession((status, content))
                client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, session=session,
                                         max_retries=0)
                with self.assertRaises(ProviderError) as caught:
                    client.status("PAY_1")
                self.assertEqual(
                    error_facts(caught.exception),
                    (error_class, message, code, status, content.decode(), status >= 500),
                )
                sent = session.calls[0]
                self.assertEqual(sent["timeout"], 10)
                self.assertEqual(sent["data"], b'{"transaction_id":"PAY_1"}')

    def test_a_list_valued_message_reads_as_text(self):
        cases = [
            # DOKU's Checkout answers carry a list (doku-magento-plugin RequestCheckout.php).
            (b'{"message":["amount is required","invalid email"]}',
             "amount is required; invalid email"),
            (b'{"error":{"message":["Invalid amount"],"code":"E1"}}', "Invalid amount"),
        ]
        for content, message in cases:
            with self.subTest(content=content):
                client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY,
                                         session=FakeSession((400, content)), max_retries=0)
                with self.assertRaises(ProviderRefusal) as caught:
                    client.status("PAY_1")
                self.assertEqual(caught.exception.message, message)

    def test_request_target_is_also_sent_as_a_header(self):
        session = FakeSession((200, RESPONSE_BODY))
        client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, session=session,
                                 verify_responses=False)
        client.initiate(FIELDS, REQUEST_ID)
        headers = session.calls[0]["headers"]
        self.assertEqual(headers["Request-Target"], doku.INITIATE_PATH)
        self.assertEqual(set(headers), {"Content-Type", "Client-Id", "Request-Id",
                                        "Request-Timestamp", "Signature", "Request-Target"})


@tagged("post_install", "-at_install")
class TestDokuSignedAnswers(BaseCase):
    """DOKU's answers are verified when signed, taken and logged when not (a session that
    answers as DOKU would)."""

    def test_signed_answer_is_verified(self):
        self.assertEqual(
            _doku_like((200, RESPONSE_BODY, "signed")).status("PAY_1").raw_status, "PENDING")
        with self.assertRaises(ProviderBadSignature) as caught:
            _doku_like((200, RESPONSE_BODY, "wrong")).status("PAY_1")
        self.assertEqual((caught.exception.code, caught.exception.status),
                         ("INVALID_SIGNATURE", 200))
        with self.assertRaisesRegex(ProviderBadSignature, "Response-Timestamp"):
            _doku_like((200, RESPONSE_BODY, "stale")).status("PAY_1")

    def test_unsigned_answer_is_taken_and_logged(self):
        with self.assertLogs(doku.__name__, level=logging.INFO) as logged:
            answer = _doku_like((200, RESPONSE_BODY, None)).status("PAY_1")
        self.assertEqual(answer.raw_status, "PENDING")
        self.assertIn("DOKU answered /v1/payout/status unsigned", "\n".join(logged.output))

    def test_a_replay_keeps_its_original_timestamp(self):
        """A 409 replay is the original answer: signed when it was first given."""
        client = _doku_like((409, RESPONSE_BODY, "stale"))
        self.assertEqual(client.initiate(FIELDS, REQUEST_ID).raw_status, "PENDING")
        self.assertTrue(client.last_response.replayed)
        with self.assertRaises(ProviderBadSignature):  # a replay's signature is still checked
            _doku_like((409, RESPONSE_BODY, "wrong")).initiate(FIELDS, REQUEST_ID)

    def test_bad_signature_on_an_accepted_initiate_keeps_the_acceptance(self):
        """A badly signed answer that accepts the payout leaves it to a person, as accepted."""
        for status in (200, 409):
            with self.subTest(status=status):
                with self.assertRaises(doku.DokuUnverifiedAcceptance) as caught:
                    _doku_like((status, RESPONSE_BODY, "wrong")).initiate(FIELDS, REQUEST_ID)
                error = caught.exception
                self.assertIn("holds the payout link (status PENDING)", error.message)
                self.assertEqual(
                    (error.needs_person, error.refusal, error.status, error.body),
                    (True, False, status, RESPONSE_BODY.decode()),
                )

    def test_bad_signature_on_an_answer_without_a_payout_is_plain(self):
        content = b'{"status":"0","message":"Success"}'
        with self.assertRaises(ProviderBadSignature) as caught:
            _doku_like((200, content, "wrong")).initiate(FIELDS, REQUEST_ID)
        self.assertIs(type(caught.exception), ProviderBadSignature)
        self.assertFalse(caught.exception.needs_person)


@tagged("post_install", "-at_install")
class TestDokuTestConnection(BaseCase):
    """Test Connection: any answer from DOKU proves the credentials; a refusal, an outage
    or a page that is not DOKU's does not."""

    def _client(self, status, content):
        return doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, max_retries=0,
                               session=FakeSession((status, content)), verify_responses=False)

    def test_any_doku_answer_proves_the_credentials(self):
        cases = [
            (404, b'{"error":{"code":"NOT_FOUND","message":"No payout link"}}'),
            (200, b'{"status":"4004","message":"Transaction not found"}'),  # no payout status
            (400, b'{"status":"4001","message":"transaction_id unknown"}'),
            (200, RESPONSE_BODY),
        ]
        for status, content in cases:
            with self.subTest(status=status, content=content):
                self._client(status, content).check_credentials()

    def test_what_does_not_prove_the_credentials(self):
        cases = [
            (401, b'{"error":{"code":"UNKNOWN_CLIENT","message":"Unknown Client-Id."}}',
             ProviderRefusal),
            (403, b'{"message":"Forbidden"}', ProviderRefusal),
            (404, b"<html>Not Found</html>", ProviderConflict),  # not DOKU answering
            (503, b"", ProviderServerError),
            (200, b"<html>ok</html>", ProviderMalformedResponse),
        ]
        for status, content, error_class in cases:
            with (self.subTest(status=status, content=content),
                  self.assertRaises(error_class)):
                self._client(status, content).check_credentials()
