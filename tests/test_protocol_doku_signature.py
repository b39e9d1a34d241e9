"""The DOKU protocol code without a server (test_sandbox_doku_* talk to one): the Non-SNAP
signature, its time and its ids.
"""

import json
from datetime import datetime, timedelta, timezone

from requests.structures import CaseInsensitiveDict

from odoo.tests import BaseCase, tagged

from ..protocol import doku, timeutil
from ..protocol.errors import ProviderBadSignature
from .doku_protocol_helpers import (
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


@tagged("post_install", "-at_install")
class TestDokuSignature(BaseCase):
    """The Non-SNAP signature gives DOKU's known answers and refuses any change."""

    def test_initiate_body_serialises_to_the_vector_bytes(self):
        body = doku.build_initiate_body(**FIELDS)
        self.assertEqual(json.dumps(body, separators=(",", ":")).encode(), BODY)

    def test_component_string_layout(self):
        self.assertEqual(
            doku.component_string(
                CLIENT_ID, REQUEST_ID, "2020-12-21T07:50:11Z", doku.INITIATE_PATH, BODY
            ),
            "Client-Id:821508239190\n"
            "Request-Id:418075533589\n"
            "Request-Timestamp:2020-12-21T07:50:11Z\n"
            "Request-Target:/v1/payout/initiate\n"
            f"Digest:{BODY_DIGEST}",
        )

    def test_request_signature_known_answer(self):
        self.assertEqual(_request_headers(), {
            "Client-Id": CLIENT_ID,
            "Request-Id": REQUEST_ID,
            "Request-Timestamp": "2020-12-21T07:50:11Z",
            "Signature": REQUEST_SIGNATURE,
        })

    def test_bodiless_signature_has_no_digest(self):
        components = doku.component_string(
            CLIENT_ID, REQUEST_ID, "2020-12-21T07:50:11Z", doku.STATUS_PATH
        )
        self.assertNotIn("Digest", components)
        self.assertEqual(doku.sign(KEY, components), GET_SIGNATURE)

    def test_response_signature_known_answer(self):
        headers = doku.signature_headers(
            CLIENT_ID,
            KEY,
            REQUEST_ID,
            doku.INITIATE_PATH,
            RESPONSE_BODY,
            timestamp="2020-12-21T07:50:12Z",
            timestamp_name="Response-Timestamp",
        )
        self.assertEqual(headers["Response-Timestamp"], "2020-12-21T07:50:12Z")
        self.assertEqual(headers["Signature"], RESPONSE_SIGNATURE)
        doku.verify_signature(
            KEY,
            CaseInsensitiveDict(headers),
            doku.INITIATE_PATH,
            RESPONSE_BODY,
            timestamp_name="Response-Timestamp",
            now=SIGNED_AT,
        )

    def test_verify_accepts_any_header_case(self):
        headers = {name.lower(): value for name, value in _request_headers().items()}
        doku.verify_signature(
            KEY,
            CaseInsensitiveDict(headers),
            doku.INITIATE_PATH,
            BODY,
            now=SIGNED_AT + timedelta(seconds=299),
        )

    def test_verify_without_a_tolerance_checks_no_freshness(self):
        doku.verify_signature(
            KEY, CaseInsensitiveDict(_request_headers()), doku.INITIATE_PATH, BODY,
            tolerance=None, now=SIGNED_AT + timedelta(days=3),
        )

    def test_verify_rejects(self):
        """A changed body, key, target, signature scheme, id or time fails, each with its
        code."""
        cases = [
            ({"body": BODY.replace(b"11500", b"11501")}, "INVALID_SIGNATURE"),
            ({"key": "SK-other"}, "INVALID_SIGNATURE"),
            ({"target": doku.STATUS_PATH}, "INVALID_SIGNATURE"),
            ({"headers": {"Signature": "HMACSHA512=" + REQUEST_SIGNATURE[11:]}},
             "INVALID_SIGNATURE"),
            ({"now": SIGNED_AT + timedelta(seconds=301)}, "STALE_TIMESTAMP"),
            ({"now": SIGNED_AT - timedelta(seconds=301)}, "STALE_TIMESTAMP"),
            ({"now": SIGNED_AT + timedelta(seconds=61), "tolerance": 60}, "STALE_TIMESTAMP"),
            ({"headers": {"Signature": ""}}, "MISSING_SIGNATURE"),
            ({"headers": {"Request-Timestamp": "yesterday"}}, "INVALID_TIMESTAMP"),
            ({"headers": {"Request-Id": "418075533590"}}, "INVALID_SIGNATURE"),
        ]
        for change, code in cases:
            with self.subTest(change=change, code=code):
                headers = CaseInsensitiveDict(
                    {**_request_headers(), **change.get("headers", {})})
                with self.assertRaises(ProviderBadSignature) as caught:
                    doku.verify_signature(
                        change.get("key", KEY),
                        headers,
                        change.get("target", doku.INITIATE_PATH),
                        change.get("body", BODY),
                        tolerance=change.get("tolerance", doku.TOLERANCE),
                        now=change.get("now", SIGNED_AT),
                    )
                self.assertEqual(caught.exception.code, code)

    def test_the_schemes_are_non_snap_and_snap(self):
        """The old `hmac_sha512` (Non-SNAP lines with SHA-512) matched no DOKU scheme."""
        self.assertEqual([name for name, _label in doku.SIGNATURE_SCHEMES],
                         ["hmac_sha256", "snap"])


@tagged("post_install", "-at_install")
class TestDokuTimeAndIds(BaseCase):
    """Timestamps are UTC with a Z, read in any offset; request ids are unique digits."""

    def test_format_timestamp_is_utc_with_z(self):
        wib = timezone(timedelta(hours=7))
        self.assertEqual(
            timeutil.format_timestamp(datetime(2020, 12, 21, 14, 50, 11, 999, tzinfo=wib)),
            "2020-12-21T07:50:11Z",
        )
        self.assertEqual(timeutil.format_timestamp(datetime(2020, 12, 21, 7, 50, 11)),
                         "2020-12-21T07:50:11Z")

    def test_parse_timestamp(self):
        for value in ("2020-12-21T07:50:11Z", "2020-12-21T07:50:11.000Z",
                      "2020-12-21T14:50:11+07:00"):
            with self.subTest(value=value):
                self.assertEqual(timeutil.parse_timestamp(value), SIGNED_AT)

    def test_new_request_id_is_digits_and_unique(self):
        ids = {doku.new_request_id() for _ in range(2000)}
        self.assertEqual(len(ids), 2000)
        self.assertTrue(all(value.isdigit() and len(value) <= 30 for value in ids))
