"""Plain pytest tests of the DOKU protocol code (no server; see test_sandbox_doku_*.py):
the Non-SNAP signature, its time and its ids.
"""

import json
from datetime import datetime, timedelta, timezone

import pytest
from requests.structures import CaseInsensitiveDict

from odoo.addons.hr_payout_link.protocol import doku, timeutil
from odoo.addons.hr_payout_link.protocol.errors import ProviderBadSignature
from odoo.addons.hr_payout_link.tests.doku_protocol_helpers import (
    BODY,
    BODY_DIGEST,
    CLIENT_ID,
    FIELDS,
    GET_SIGNATURE,
    KEY,
    REQUEST_ID,
    REQUEST_SIGNATURE,
    RESPONSE_BODY,
    RESPONSE_SIGNATURE,
    SIGNED_AT,
)


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
