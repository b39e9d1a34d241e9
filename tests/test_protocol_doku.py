"""Plain pytest tests of the DOKU protocol code (no server; see test_sandbox_doku.py)."""

import base64
import json
import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from requests.structures import CaseInsensitiveDict

from odoo.addons.hr_payout_link.protocol import doku, doku_snap, timeutil
from odoo.addons.hr_payout_link.protocol.errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderClientError,
    ProviderConflict,
    ProviderError,
    ProviderMalformedResponse,
    ProviderRefusal,
    ProviderServerError,
)
from odoo.addons.hr_payout_link.sandbox.doku import new_key_pair
from odoo.addons.hr_payout_link.tests.fakes import FakeSession, error_facts

# Known-answer vectors. The expected signatures were computed once by hand in a separate
# Python shell with hmac/hashlib/base64 from these literal inputs, per DOKU's Non-SNAP
# algorithm, not with the code under test.
CLIENT_ID = "821508239190"
REQUEST_ID = "418075533589"
KEY = "SK-hCJ42G28TA0MKG9LE2E_1"
BODY = (
    b'{"amount":11500,"sender_name":"Firman","receiver_name":"Toru Yamashita",'
    b'"receiver_phone_number":"6281629127182","receiver_email":"toru@example.com",'
    b'"reference_id":"PAY_83921251","description":"Payout for bonus 2023","currency":"IDR"}'
)
BODY_DIGEST = "r0RnhFWsvuFi8pbu7TzUtEL7eQu7C0A35geWh5SNWzY="
REQUEST_SIGNATURE = "HMACSHA256=jQYd28s1dvKnt4Yap4TAb9q846xywvy5WgpVfmrXEjE="
RESPONSE_BODY = (
    b'{"status":"0","message":"Success","data":{"reference_id":"PAY_83921251","status":"PENDING"}}'
)
RESPONSE_SIGNATURE = "HMACSHA256=7ydbFnlt01oZRtkcrCwvGVww7CDVeZUm8Uce5bSHoDE="
GET_SIGNATURE = "HMACSHA256=Vst4sVdx5lEfsBh4xj+GOeT4hT3WJtXR6Y+S+VYUj7U="
SIGNED_AT = datetime(2020, 12, 21, 7, 50, 11, tzinfo=timezone.utc)

FIELDS = {
    "amount": 11500,
    "sender_name": "Firman",
    "receiver_name": "Toru Yamashita",
    "receiver_phone_number": "6281629127182",
    "receiver_email": "toru@example.com",
    "reference_id": "PAY_83921251",
    "description": "Payout for bonus 2023",
}


def _request_headers():
    return doku.signature_headers(
        CLIENT_ID,
        KEY,
        REQUEST_ID,
        doku.INITIATE_PATH,
        BODY,
        timestamp="2020-12-21T07:50:11Z",
    )


# Signature ------------------------------------------------------------------------------


def test_initiate_body_serialises_to_the_vector_bytes():
    body = doku.build_initiate_body(**FIELDS)
    assert json.dumps(body, separators=(",", ":")).encode() == BODY


def test_component_string_layout():
    assert doku.component_string(
        CLIENT_ID, REQUEST_ID, "2020-12-21T07:50:11Z", doku.INITIATE_PATH, BODY
    ) == (
        "Client-Id:821508239190\n"
        "Request-Id:418075533589\n"
        "Request-Timestamp:2020-12-21T07:50:11Z\n"
        "Request-Target:/v1/payout/initiate\n"
        f"Digest:{BODY_DIGEST}"
    )


def test_request_signature_known_answer():
    assert _request_headers() == {
        "Client-Id": CLIENT_ID,
        "Request-Id": REQUEST_ID,
        "Request-Timestamp": "2020-12-21T07:50:11Z",
        "Signature": REQUEST_SIGNATURE,
    }


def test_bodiless_signature_has_no_digest():
    components = doku.component_string(
        CLIENT_ID, REQUEST_ID, "2020-12-21T07:50:11Z", doku.STATUS_PATH
    )
    assert "Digest" not in components
    assert doku.sign(KEY, components) == GET_SIGNATURE


def test_response_signature_known_answer():
    headers = doku.signature_headers(
        CLIENT_ID,
        KEY,
        REQUEST_ID,
        doku.INITIATE_PATH,
        RESPONSE_BODY,
        timestamp="2020-12-21T07:50:12Z",
        timestamp_name="Response-Timestamp",
    )
    assert headers["Response-Timestamp"] == "2020-12-21T07:50:12Z"
    assert headers["Signature"] == RESPONSE_SIGNATURE
    doku.verify_signature(
        KEY,
        CaseInsensitiveDict(headers),
        doku.INITIATE_PATH,
        RESPONSE_BODY,
        timestamp_name="Response-Timestamp",
        now=SIGNED_AT,
    )


def test_verify_accepts_any_header_case():
    headers = {name.lower(): value for name, value in _request_headers().items()}
    doku.verify_signature(
        KEY,
        CaseInsensitiveDict(headers),
        doku.INITIATE_PATH,
        BODY,
        now=SIGNED_AT + timedelta(seconds=299),
    )


def test_verify_without_a_tolerance_checks_no_freshness():
    doku.verify_signature(
        KEY, CaseInsensitiveDict(_request_headers()), doku.INITIATE_PATH, BODY,
        tolerance=None, now=SIGNED_AT + timedelta(days=3),
    )


@pytest.mark.parametrize(
    "change, code",
    [
        ({"body": BODY.replace(b"11500", b"11501")}, "INVALID_SIGNATURE"),
        ({"key": "SK-other"}, "INVALID_SIGNATURE"),
        ({"target": doku.STATUS_PATH}, "INVALID_SIGNATURE"),
        ({"headers": {"Signature": "HMACSHA512=" + REQUEST_SIGNATURE[11:]}}, "INVALID_SIGNATURE"),
        ({"now": SIGNED_AT + timedelta(seconds=301)}, "STALE_TIMESTAMP"),
        ({"now": SIGNED_AT - timedelta(seconds=301)}, "STALE_TIMESTAMP"),
        ({"now": SIGNED_AT + timedelta(seconds=61), "tolerance": 60}, "STALE_TIMESTAMP"),
        ({"headers": {"Signature": ""}}, "MISSING_SIGNATURE"),
        ({"headers": {"Request-Timestamp": "yesterday"}}, "INVALID_TIMESTAMP"),
        ({"headers": {"Request-Id": "418075533590"}}, "INVALID_SIGNATURE"),
    ],
)
def test_verify_rejects(change, code):
    headers = CaseInsensitiveDict({**_request_headers(), **change.get("headers", {})})
    with pytest.raises(ProviderBadSignature) as caught:
        doku.verify_signature(
            change.get("key", KEY),
            headers,
            change.get("target", doku.INITIATE_PATH),
            change.get("body", BODY),
            tolerance=change.get("tolerance", doku.TOLERANCE),
            now=change.get("now", SIGNED_AT),
        )
    assert caught.value.code == code


def test_the_schemes_are_non_snap_and_snap():
    """The old `hmac_sha512` (Non-SNAP lines with SHA-512) matched no DOKU scheme."""
    assert [name for name, _label in doku.SIGNATURE_SCHEMES] == ["hmac_sha256", "snap"]


# Time and ids ---------------------------------------------------------------------------


def test_format_timestamp_is_utc_with_z():
    wib = timezone(timedelta(hours=7))
    assert timeutil.format_timestamp(datetime(2020, 12, 21, 14, 50, 11, 999, tzinfo=wib)) == (
        "2020-12-21T07:50:11Z"
    )
    assert timeutil.format_timestamp(datetime(2020, 12, 21, 7, 50, 11)) == "2020-12-21T07:50:11Z"


@pytest.mark.parametrize(
    "value", ["2020-12-21T07:50:11Z", "2020-12-21T07:50:11.000Z", "2020-12-21T14:50:11+07:00"]
)
def test_parse_timestamp(value):
    assert timeutil.parse_timestamp(value) == SIGNED_AT


def test_new_request_id_is_digits_and_unique():
    ids = {doku.new_request_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(value.isdigit() and len(value) <= 30 for value in ids)


# Request bodies -------------------------------------------------------------------------


def test_initiate_body_defaults():
    body = doku.build_initiate_body(**{**FIELDS, "description": None})
    assert "description" not in body
    assert body["currency"] == "IDR"
    assert list(body) == [
        "amount",
        "sender_name",
        "receiver_name",
        "receiver_phone_number",
        "receiver_email",
        "reference_id",
        "currency",
    ]


@pytest.mark.parametrize(
    "amount, sent",
    [
        (11500, 11500),
        (11500.0, 11500),
        (Decimal("11500.00"), 11500),
        (11500.5, 11500.5),
        (Decimal("0.01"), 0.01),
        (Decimal("9999999999999.99"), 9999999999999.99),
        (Decimal(9999999999999999), 9999999999999999),
    ],
)
def test_amount_is_sent_exactly(amount, sent):
    body = doku.build_initiate_body(**{**FIELDS, "amount": amount})
    assert body["amount"] == sent and type(body["amount"]) is type(sent)


PHONE_RULE = "62 (or 0) followed by digits, 9 to 14 digits in all"
# Every DOKU limit: (field, value, rule in the message)
BAD_FIELDS = [
    ("amount", 0, "must be greater than 0"),
    ("amount", -5, "must be greater than 0"),
    ("amount", float("nan"), "must be greater than 0"),
    ("amount", "11500", "must be a number"),
    ("amount", True, "must be a number"),
    ("amount", 10.005, "at most 2 decimal places"),
    ("amount", Decimal(10**16), "at most 16 digits before the decimal point"),
    ("amount", Decimal("9999999999999999.99"), "too many digits to send exactly"),
    ("sender_name", "", "required"),
    ("sender_name", "   ", "required"),
    ("sender_name", "x" * 51, "at most 50 characters"),
    ("receiver_name", None, "required"),
    ("receiver_name", "x" * 51, "at most 50 characters"),
    ("receiver_name", 42, "must be text"),
    ("receiver_phone_number", "62812345", PHONE_RULE),
    ("receiver_phone_number", "0812345", PHONE_RULE),  # 62812345 once normalised
    ("receiver_phone_number", "62" + "1" * 13, "at most 14 characters"),
    ("receiver_phone_number", "0" + "1" * 13, "at most 14 characters"),
    ("receiver_phone_number", "+6281629127", PHONE_RULE),
    ("receiver_phone_number", "62 816291271", PHONE_RULE),
    ("receiver_phone_number", "816291271826", PHONE_RULE),
    ("receiver_phone_number", "0８16291271826", PHONE_RULE),  # a full-width digit
    ("receiver_email", "toru.example.com", "not a valid email address"),
    ("receiver_email", "toru@example", "not a valid email address"),
    ("receiver_email", "a@b.co" + "m" * 45, "at most 50 characters"),
    ("reference_id", "", "required"),
    ("reference_id", "R" * 31, "at most 30 characters"),
    ("description", "d" * 31, "at most 30 characters"),
    ("currency", "IDRX", "at most 3 characters"),
]


@pytest.mark.parametrize("field, value, rule", BAD_FIELDS)
def test_field_limits(field, value, rule):
    with pytest.raises(FieldValidationError) as caught:
        doku.build_initiate_body(**{**FIELDS, field: value})
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert caught.value.message == f"{field}: {rule}"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "field, value",
    [
        ("sender_name", "x" * 50),
        ("receiver_phone_number", "628123456"),
        ("receiver_phone_number", "62" + "1" * 12),
        ("receiver_email", "a@b.co" + "m" * 44),
        ("reference_id", "R" * 30),
        ("description", "d" * 30),
    ],
)
def test_field_limits_are_inclusive(field, value):
    assert doku.build_initiate_body(**{**FIELDS, field: value})[field] == value


@pytest.mark.parametrize(
    "phone, sent",
    [
        ("0816291271826", "62816291271826"),  # the Payout Link page's own example
        ("081234567", "6281234567"),
        ("6281629127182", "6281629127182"),
    ],
)
def test_phone_in_national_form_is_sent_as_62(phone, sent):
    body = doku.build_initiate_body(**{**FIELDS, "receiver_phone_number": phone})
    assert body["receiver_phone_number"] == sent


def test_status_body():
    assert doku.build_status_body("PAY_1") == {"transaction_id": "PAY_1"}
    with pytest.raises(FieldValidationError, match="transaction_id: at most 30 characters"):
        doku.build_status_body("R" * 31)


# Responses ------------------------------------------------------------------------------


def test_status_mapping_covers_every_doku_status():
    assert doku.STATUS_MAPPING == {
        "PENDING": "sent",
        "EMAIL_SENT": "sent",
        "EMAIL_LINK_OPENED": "opened",
        "PENDING_PROCESS": "processing",
        "CONFIRMED": "processing",
        "COMPLETED": "done",
        "FAILED": "failed",
        "EXPIRED": "expired",
    }


@pytest.mark.parametrize(
    "data, raw_status, state, reference",
    [
        (
            {"status": "0", "data": {"status": "COMPLETED", "transaction_id": "PAY_1", "x": 1}},
            "COMPLETED",
            "done",
            "PAY_1",
        ),
        (
            {"status": "EMAIL_LINK_OPENED", "reference_id": "PAY_1"},
            "EMAIL_LINK_OPENED",
            "opened",
            None,
        ),
        ({"data": {"status": "expired", "reference_id": "PAY_2"}}, "expired", "expired", "PAY_2"),
        ({"status": "0", "data": {"status": "ON_HOLD"}}, "ON_HOLD", None, None),
    ],
)
def test_parse_status(data, raw_status, state, reference):
    status = doku.parse_status(data)
    assert (status.raw_status, status.state, status.provider_reference) == (
        raw_status,
        state,
        reference,
    )
    assert status.raw is data


@pytest.mark.parametrize(
    "data", [{}, {"status": "0", "message": "Success"}, {"data": "PENDING"}, {"status": 3}]
)
def test_parse_status_without_status(data):
    with pytest.raises(ProviderMalformedResponse):
        doku.parse_status(data)


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


# SNAP -------------------------------------------------------------------------------------

# developers.doku.com …/snap/symmetric-signature: its minified body (each partnerServiceId
# and virtualAccountNo value starts with two spaces) and the published lowercase hex.
SNAP_BODY = (
    b'{"partnerServiceId":"  088899","customerNo":"12345678901234567890",'
    b'"virtualAccountNo":"  08889912345678901234567890","virtualAccountName":"Jokul Doe",'
    b'"virtualAccountEmail":"jokul@email.com","virtualAccountPhone":"6281828384858",'
    b'"trxId":"abcdefgh1234","totalAmount":{"value":"12345678.00","currency":"IDR"}}'
)
SNAP_BODY_HASH = "3274fab8dac896837b106a16da2a974e7e65142dcecb4b768ef0294102838977"
# Hand-computed in a separate shell (hashlib, hmac, base64), not with the code under test.
STATUS_BODY = b'{"transaction_id":"PAY_83921251"}'
STATUS_BODY_HASH = "0ab0b6715082aece2dedd3d8c2f1815240c452fb756917df5b45c5adea4b55ff"
SNAP_TOKEN = "gAAAAABtoken-b2b"
SNAP_SIGNATURE = (
    "vEJHSvysi2nCjuPxl3YaEf8JiLRnIJc6OF5UeuCHYg8fqed05O3v9IPfB9vTAVtAexa7CjtLy7fsPAZUgP3lXg=="
)


@pytest.fixture(scope="module")
def key_pair():
    return new_key_pair()


def test_snap_body_hash_published_example():
    before = json.loads(SNAP_BODY)  # DOKU's "Before", as any JSON layout of it parses
    minified = json.dumps(before, separators=(",", ":")).encode()  # how the client sends
    assert minified == SNAP_BODY
    assert doku_snap.body_hash(minified) == SNAP_BODY_HASH


def test_snap_string_to_sign_and_signature():
    text = doku_snap.string_to_sign(
        "post", doku.STATUS_PATH, SNAP_TOKEN, STATUS_BODY, "2024-01-01T10:00:00+07:00")
    assert text == (
        f"POST:/v1/payout/status:{SNAP_TOKEN}:{STATUS_BODY_HASH}:2024-01-01T10:00:00+07:00"
    )
    assert doku_snap.sign(KEY, text) == SNAP_SIGNATURE
    assert doku_snap.verify_signature(KEY, text, SNAP_SIGNATURE)
    assert not doku_snap.verify_signature(KEY + "x", text, SNAP_SIGNATURE)
    assert not doku_snap.verify_signature(KEY, text, None)


@pytest.mark.parametrize(
    "moment",
    [datetime(2024, 1, 1, 3, 0, tzinfo=timezone.utc),
     datetime(2024, 1, 1, 10, 0, 0, 999, tzinfo=timezone(timedelta(hours=7)))],
)
def test_snap_timestamp_has_the_jakarta_offset(moment):
    assert doku_snap.snap_timestamp(moment) == "2024-01-01T10:00:00+07:00"
    assert timeutil.parse_timestamp(doku_snap.snap_timestamp(moment)) == moment.replace(
        microsecond=0)


def test_token_signature_verifies_with_the_public_key(key_pair):
    private_pem, public_pem = key_pair
    key = doku_snap.load_private_key(private_pem)
    signature = doku_snap.sign_token_request(key, CLIENT_ID, "2024-01-01T10:00:00+07:00")
    public_key = serialization.load_pem_public_key(public_pem.encode())
    # The raises-nothing check of cryptography itself, on DOKU's `client_id|timestamp`.
    public_key.verify(base64.b64decode(signature),
                      f"{CLIENT_ID}|2024-01-01T10:00:00+07:00".encode(),
                      padding.PKCS1v15(), hashes.SHA256())
    assert doku_snap.verify_token_request(public_pem, CLIENT_ID, "2024-01-01T10:00:00+07:00",
                                          signature)
    assert not doku_snap.verify_token_request(public_pem, "OTHER", "2024-01-01T10:00:00+07:00",
                                              signature)
    assert not doku_snap.verify_token_request(public_pem, CLIENT_ID,
                                              "2024-01-01T10:00:01+07:00", signature)
    assert not doku_snap.verify_token_request(public_pem, CLIENT_ID,
                                              "2024-01-01T10:00:00+07:00", "not base64!")


def _ec_key_pem():
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def _encrypted_pem(private_pem):
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")).decode()


@pytest.mark.parametrize(
    "pem, reason",
    [
        ("not a key", "not_a_key"),
        ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not_a_key"),
        ("", "not_a_key"),
        (lambda pair: pair[1], "public_key"),
        (lambda pair: _ec_key_pem(), "not_rsa"),
        (lambda pair: _encrypted_pem(pair[0]), "encrypted"),
    ],
)
def test_private_key_check(key_pair, pem, reason):
    with pytest.raises(doku_snap.PrivateKeyError) as caught:
        doku_snap.load_private_key(pem(key_pair) if callable(pem) else pem)
    assert caught.value.reason == reason
    assert doku_snap.load_private_key(key_pair[0]).key_size == 2048


TOKEN_ANSWER = (200, b'{"responseCode":"2007300","accessToken":"T1","expiresIn":900}')


def _snap_client(key_pair, *replies):
    session = FakeSession(TOKEN_ANSWER, *replies)
    client = doku_snap.DokuSnapClient(doku.SANDBOX_URL, CLIENT_ID, KEY, key_pair[0],
                                      session=session, max_retries=0,
                                      tokens=doku_snap.TokenStore())
    return client, session


@pytest.mark.parametrize(
    "status, content, error_class, message, code",
    [
        (400, b'{"responseCode":"4000001","responseMessage":"Invalid Field Format amount"}',
         ProviderRefusal, "Invalid Field Format amount", "4000001"),
        (403, b'{"responseCode":"4030002","responseMessage":"Exceeds Transaction Amount Limit"}',
         ProviderRefusal, "Exceeds Transaction Amount Limit", "4030002"),
        (409, b'{"responseCode":"4090000","responseMessage":"Conflict"}',
         ProviderConflict, "Conflict", "4090000"),
        (404, b'{"responseCode":"4040001","responseMessage":"Transaction Not Found"}',
         ProviderConflict, "Transaction Not Found", "4040001"),
        # A 4xx whose responseCode says conflict proves nothing either.
        (400, b'{"responseCode":"4090001","responseMessage":"Duplicate partnerReferenceNo"}',
         ProviderConflict, "Duplicate partnerReferenceNo", "4090001"),
        (500, b'{"responseCode":"5000000","responseMessage":"General Error"}',
         ProviderServerError, "General Error", "5000000"),
    ],
)
def test_snap_error_envelope(key_pair, status, content, error_class, message, code):
    client, _session = _snap_client(key_pair, (status, content))
    with pytest.raises(ProviderError) as caught:
        client.initiate(FIELDS, REQUEST_ID)
    assert error_facts(caught.value)[:4] == (error_class, message, code, status)


def test_snap_headers_and_signature(key_pair):
    client, session = _snap_client(key_pair, (200, RESPONSE_BODY))
    assert client.status("PAY_83921251").raw_status == "PENDING"
    token_call, status_call = session.calls
    assert token_call["url"] == doku.SANDBOX_URL + doku_snap.TOKEN_PATH
    assert json.loads(token_call["data"]) == {"grantType": "client_credentials"}
    token_headers = token_call["headers"]
    assert token_headers["X-CLIENT-KEY"] == CLIENT_ID
    assert doku_snap.verify_token_request(key_pair[1], CLIENT_ID, token_headers["X-TIMESTAMP"],
                                          token_headers["X-SIGNATURE"])
    headers = status_call["headers"]
    assert headers["X-TIMESTAMP"].endswith("+07:00")
    assert (headers["X-PARTNER-ID"], headers["CHANNEL-ID"], headers["Authorization"]) == (
        CLIENT_ID, "H2H", "Bearer T1")
    assert headers["X-EXTERNAL-ID"].isdigit()
    assert status_call["data"] == STATUS_BODY
    expected = doku_snap.sign(KEY, f"POST:/v1/payout/status:T1:{STATUS_BODY_HASH}:"
                                   f"{headers['X-TIMESTAMP']}")
    assert headers["X-SIGNATURE"] == expected
    assert "Signature" not in headers and "Client-Id" not in headers


@pytest.mark.parametrize(
    "content",
    [b'{"responseCode":"2007300"}', b'{"accessToken":"T1","expiresIn":"soon"}',
     b'{"accessToken":"","expiresIn":900}', b'{"accessToken":"T1","expiresIn":true}'],
)
def test_snap_token_answer_without_a_token(key_pair, content):
    client = doku_snap.DokuSnapClient(doku.SANDBOX_URL, CLIENT_ID, KEY, key_pair[0],
                                      session=FakeSession((200, content)), max_retries=0,
                                      tokens=doku_snap.TokenStore())
    with pytest.raises(ProviderMalformedResponse, match="accessToken"):
        client.status("PAY_1")


def test_snap_token_refused_is_a_refusal(key_pair):
    session = FakeSession((401, b'{"responseCode":"4017300","responseMessage":"Unauthorized."}'))
    client = doku_snap.DokuSnapClient(doku.SANDBOX_URL, CLIENT_ID, KEY, key_pair[0],
                                      session=session, max_retries=0,
                                      tokens=doku_snap.TokenStore())
    with pytest.raises(ProviderClientError) as caught:
        client.initiate(FIELDS, REQUEST_ID)
    assert (caught.value.status, caught.value.code, caught.value.refusal) == (
        401, "4017300", True)
    assert len(session.calls) == 1, "no initiate without a token"


def test_snap_token_is_shared_by_the_clients_of_one_account(key_pair):
    """Each thread has its own client (transport.ClientPool); one token serves them all."""
    tokens = doku_snap.TokenStore()
    first, second = (
        doku_snap.DokuSnapClient(doku.SANDBOX_URL, CLIENT_ID, KEY, key_pair[0], tokens=tokens,
                                 session=FakeSession(TOKEN_ANSWER, (200, RESPONSE_BODY)))
        for _ in range(2))
    first.status("PAY_1")
    second.session.replies = [(200, RESPONSE_BODY)]
    second.status("PAY_1")
    assert [len(client.session.calls) for client in (first, second)] == [2, 1]
    assert second.session.calls[0]["headers"]["Authorization"] == "Bearer T1"
