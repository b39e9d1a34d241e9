"""Plain pytest tests of the DOKU protocol code (no server; see test_sandbox_doku_*.py):
the error answers, DOKU's signed answers, Test Connection.
"""

import logging
from datetime import datetime, timedelta, timezone

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from odoo.addons.hr_payout_link.protocol import doku, timeutil
from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderBadSignature,
    ProviderConflict,
    ProviderError,
    ProviderMalformedResponse,
    ProviderRefusal,
    ProviderServerError,
)
from odoo.addons.hr_payout_link.tests.doku_protocol_helpers import (
    CLIENT_ID,
    FIELDS,
    KEY,
    REQUEST_ID,
    RESPONSE_BODY,
)
from odoo.addons.hr_payout_link.tests.fakes import FakeSession, error_facts

# Error answers (a fake session: these need no server) ----------------------------------


@pytest.mark.parametrize(
    "status, content, error_class, message, code",
    [
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
    ],
)
def test_error_answers(status, content, error_class, message, code):
    session = FakeSession((status, content))
    client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, session=session, max_retries=0)
    with pytest.raises(ProviderError) as caught:
        client.status("PAY_1")
    assert error_facts(caught.value) == (
        error_class, message, code, status, content.decode(), status >= 500
    )
    sent = session.calls[0]
    assert sent["timeout"] == 10 and sent["data"] == b'{"transaction_id":"PAY_1"}'


@pytest.mark.parametrize(
    "content, message",
    [
        # DOKU's Checkout answers carry a list (doku-magento-plugin RequestCheckout.php).
        (b'{"message":["amount is required","invalid email"]}',
         "amount is required; invalid email"),
        (b'{"error":{"message":["Invalid amount"],"code":"E1"}}', "Invalid amount"),
    ],
)
def test_a_list_valued_message_reads_as_text(content, message):
    client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY,
                             session=FakeSession((400, content)), max_retries=0)
    with pytest.raises(ProviderRefusal) as caught:
        client.status("PAY_1")
    assert caught.value.message == message


def test_request_target_is_also_sent_as_a_header():
    session = FakeSession((200, RESPONSE_BODY))
    client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, session=session,
                             verify_responses=False)
    client.initiate(FIELDS, REQUEST_ID)
    headers = session.calls[0]["headers"]
    assert headers["Request-Target"] == doku.INITIATE_PATH
    assert set(headers) == {"Content-Type", "Client-Id", "Request-Id", "Request-Timestamp",
                            "Signature", "Request-Target"}


# Answers DOKU signs, or not (a session that answers as DOKU would) -----------------------


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


def test_signed_answer_is_verified():
    assert _doku_like((200, RESPONSE_BODY, "signed")).status("PAY_1").raw_status == "PENDING"
    with pytest.raises(ProviderBadSignature) as caught:
        _doku_like((200, RESPONSE_BODY, "wrong")).status("PAY_1")
    assert (caught.value.code, caught.value.status) == ("INVALID_SIGNATURE", 200)
    with pytest.raises(ProviderBadSignature, match="Response-Timestamp"):
        _doku_like((200, RESPONSE_BODY, "stale")).status("PAY_1")


def test_unsigned_answer_is_taken_and_logged(caplog):
    with caplog.at_level(logging.INFO, logger=doku.__name__):
        answer = _doku_like((200, RESPONSE_BODY, None)).status("PAY_1")
    assert answer.raw_status == "PENDING"
    assert "DOKU answered /v1/payout/status unsigned" in caplog.text


def test_a_replay_keeps_its_original_timestamp():
    """A 409 replay is the original answer: signed when it was first given."""
    client = _doku_like((409, RESPONSE_BODY, "stale"))
    assert client.initiate(FIELDS, REQUEST_ID).raw_status == "PENDING"
    assert client.last_response.replayed
    with pytest.raises(ProviderBadSignature):  # a replay's signature is still checked
        _doku_like((409, RESPONSE_BODY, "wrong")).initiate(FIELDS, REQUEST_ID)


@pytest.mark.parametrize("status", [200, 409])
def test_bad_signature_on_an_accepted_initiate_keeps_the_acceptance(status):
    with pytest.raises(doku.DokuUnverifiedAcceptance) as caught:
        _doku_like((status, RESPONSE_BODY, "wrong")).initiate(FIELDS, REQUEST_ID)
    error = caught.value
    assert "holds the payout link (status PENDING)" in error.message
    assert (error.needs_person, error.refusal, error.status, error.body) == (
        True, False, status, RESPONSE_BODY.decode())


def test_bad_signature_on_an_answer_without_a_payout_is_plain():
    content = b'{"status":"0","message":"Success"}'
    with pytest.raises(ProviderBadSignature) as caught:
        _doku_like((200, content, "wrong")).initiate(FIELDS, REQUEST_ID)
    assert type(caught.value) is ProviderBadSignature and not caught.value.needs_person


# Test Connection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, content",
    [
        (404, b'{"error":{"code":"NOT_FOUND","message":"No payout link"}}'),
        (200, b'{"status":"4004","message":"Transaction not found"}'),  # no payout status
        (400, b'{"status":"4001","message":"transaction_id unknown"}'),
        (200, RESPONSE_BODY),
    ],
)
def test_any_doku_answer_proves_the_credentials(status, content):
    client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, max_retries=0,
                             session=FakeSession((status, content)), verify_responses=False)
    client.check_credentials()


@pytest.mark.parametrize(
    "status, content, error_class",
    [
        (401, b'{"error":{"code":"UNKNOWN_CLIENT","message":"Unknown Client-Id."}}',
         ProviderRefusal),
        (403, b'{"message":"Forbidden"}', ProviderRefusal),
        (404, b"<html>Not Found</html>", ProviderConflict),  # not DOKU answering
        (503, b"", ProviderServerError),
        (200, b"<html>ok</html>", ProviderMalformedResponse),
    ],
)
def test_what_does_not_prove_the_credentials(status, content, error_class):
    client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, max_retries=0,
                             session=FakeSession((status, content)), verify_responses=False)
    with pytest.raises(error_class):
        client.check_credentials()
