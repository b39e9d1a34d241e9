"""Plain pytest tests of the DOKU protocol code (no server; see test_sandbox_doku.py)."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from requests.structures import CaseInsensitiveDict

from odoo.addons.hr_payout_link.protocol import doku, timeutil
from odoo.addons.hr_payout_link.protocol.errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderConflict,
    ProviderError,
    ProviderMalformedResponse,
    ProviderRefusal,
    ProviderServerError,
)
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
REQUEST_SIGNATURE_512 = (
    "HMACSHA512=f5+qEvVkhopEU0Q7Byo1wjWm31ZH75dlqfDErXsHXwv83786waipFjPWaToohT3JCejjuTjn2vA9"
    "pLJcB8MLQA=="
)
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


def _request_headers(scheme="hmac_sha256"):
    return doku.signature_headers(
        CLIENT_ID,
        KEY,
        REQUEST_ID,
        doku.INITIATE_PATH,
        BODY,
        timestamp="2020-12-21T07:50:11Z",
        scheme=scheme,
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


def test_request_signature_known_answer_sha512():
    assert _request_headers("hmac_sha512")["Signature"] == REQUEST_SIGNATURE_512


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


@pytest.mark.parametrize("scheme", ["hmac_sha256", "hmac_sha512"])
def test_verify_accepts_any_header_case(scheme):
    headers = {name.lower(): value for name, value in _request_headers(scheme).items()}
    doku.verify_signature(
        KEY,
        CaseInsensitiveDict(headers),
        doku.INITIATE_PATH,
        BODY,
        scheme=scheme,
        now=SIGNED_AT + timedelta(seconds=299),
    )


@pytest.mark.parametrize(
    "change, code",
    [
        ({"body": BODY.replace(b"11500", b"11501")}, "INVALID_SIGNATURE"),
        ({"key": "SK-other"}, "INVALID_SIGNATURE"),
        ({"target": doku.STATUS_PATH}, "INVALID_SIGNATURE"),
        ({"scheme": "hmac_sha512"}, "INVALID_SIGNATURE"),
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
            scheme=change.get("scheme", "hmac_sha256"),
            tolerance=change.get("tolerance", doku.TOLERANCE),
            now=change.get("now", SIGNED_AT),
        )
    assert caught.value.code == code


def test_unknown_scheme_is_refused_up_front():
    with pytest.raises(ValueError):
        doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, scheme="rsa")
    assert [name for name, _label in doku.SIGNATURE_SCHEMES] == ["hmac_sha256", "hmac_sha512"]


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
    ("receiver_phone_number", "081629127182", "62 followed by digits, 9 to 14 digits in all"),
    ("receiver_phone_number", "62812345", "62 followed by digits, 9 to 14 digits in all"),
    ("receiver_phone_number", "62" + "1" * 13, "at most 14 characters"),
    ("receiver_phone_number", "+6281629127", "62 followed by digits, 9 to 14 digits in all"),
    ("receiver_phone_number", "62 816291271", "62 followed by digits, 9 to 14 digits in all"),
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
