"""The DOKU protocol code without a server (test_sandbox_doku_* talk to one): the SNAP
scheme: its signature, its keys, its token and its error envelope.
"""

import base64
import json
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from odoo.tests import BaseCase, tagged

from ..protocol import doku, doku_snap, timeutil
from ..protocol.errors import (
    ProviderClientError,
    ProviderConflict,
    ProviderError,
    ProviderMalformedResponse,
    ProviderRefusal,
    ProviderServerError,
)
from ..sandbox.doku import new_key_pair
from .doku_protocol_helpers import CLIENT_ID, FIELDS, KEY, REQUEST_ID, RESPONSE_BODY
from .fakes import FakeSession, error_facts

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
TOKEN_ANSWER = (200, b'{"responseCode":"2007300","accessToken":"T1","expiresIn":900}')


def _ec_key_pem():
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def _encrypted_pem(private_pem):
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase")).decode()


@tagged("post_install", "-at_install")
class TestDokuSnapProtocol(BaseCase):
    """SNAP: DOKU's published body hash, the symmetric signature, the Jakarta timestamp,
    the RSA token request and the private key checks, the client's headers, its token and
    SNAP's error envelope."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key_pair = new_key_pair()  # (private PEM, public PEM), one RSA key for the class

    def _snap_client(self, *replies):
        session = FakeSession(TOKEN_ANSWER, *replies)
        client = doku_snap.DokuSnapClient(doku.SANDBOX_URL, CLIENT_ID, KEY, self.key_pair[0],
                                          session=session, max_retries=0,
                                          tokens=doku_snap.TokenStore())
        return client, session

    # Signature, time and keys -----------------------------------------------------------

    def test_snap_body_hash_published_example(self):
        before = json.loads(SNAP_BODY)  # DOKU's "Before", as any JSON layout of it parses
        minified = json.dumps(before, separators=(",", ":")).encode()  # how the client sends
        self.assertEqual(minified, SNAP_BODY)
        self.assertEqual(doku_snap.body_hash(minified), SNAP_BODY_HASH)

    def test_snap_string_to_sign_and_signature(self):
        text = doku_snap.string_to_sign(
            "post", doku.STATUS_PATH, SNAP_TOKEN, STATUS_BODY, "2024-01-01T10:00:00+07:00")
        self.assertEqual(
            text,
            f"POST:/v1/payout/status:{SNAP_TOKEN}:{STATUS_BODY_HASH}:2024-01-01T10:00:00+07:00",
        )
        self.assertEqual(doku_snap.sign(KEY, text), SNAP_SIGNATURE)
        self.assertTrue(doku_snap.verify_signature(KEY, text, SNAP_SIGNATURE))
        self.assertFalse(doku_snap.verify_signature(KEY + "x", text, SNAP_SIGNATURE))
        self.assertFalse(doku_snap.verify_signature(KEY, text, None))

    def test_snap_timestamp_has_the_jakarta_offset(self):
        for moment in (datetime(2024, 1, 1, 3, 0, tzinfo=timezone.utc),
                       datetime(2024, 1, 1, 10, 0, 0, 999,
                                tzinfo=timezone(timedelta(hours=7)))):
            with self.subTest(moment=moment):
                self.assertEqual(doku_snap.snap_timestamp(moment), "2024-01-01T10:00:00+07:00")
                self.assertEqual(
                    timeutil.parse_timestamp(doku_snap.snap_timestamp(moment)),
                    moment.replace(microsecond=0),
                )

    def test_token_signature_verifies_with_the_public_key(self):
        private_pem, public_pem = self.key_pair
        key = doku_snap.load_private_key(private_pem)
        signature = doku_snap.sign_token_request(key, CLIENT_ID, "2024-01-01T10:00:00+07:00")
        public_key = serialization.load_pem_public_key(public_pem.encode())
        # The raises-nothing check of cryptography itself, on DOKU's `client_id|timestamp`.
        public_key.verify(base64.b64decode(signature),
                          f"{CLIENT_ID}|2024-01-01T10:00:00+07:00".encode(),
                          padding.PKCS1v15(), hashes.SHA256())
        self.assertTrue(doku_snap.verify_token_request(
            public_pem, CLIENT_ID, "2024-01-01T10:00:00+07:00", signature))
        self.assertFalse(doku_snap.verify_token_request(
            public_pem, "OTHER", "2024-01-01T10:00:00+07:00", signature))
        self.assertFalse(doku_snap.verify_token_request(
            public_pem, CLIENT_ID, "2024-01-01T10:00:01+07:00", signature))
        self.assertFalse(doku_snap.verify_token_request(
            public_pem, CLIENT_ID, "2024-01-01T10:00:00+07:00", "not base64!"))

    def test_private_key_check(self):
        """Only an unencrypted RSA private key is taken; each other PEM says why not."""
        cases = [
            ("not a key", "not_a_key"),
            ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not_a_key"),
            ("", "not_a_key"),
            (lambda pair: pair[1], "public_key"),
            (lambda pair: _ec_key_pem(), "not_rsa"),
            (lambda pair: _encrypted_pem(pair[0]), "encrypted"),
        ]
        for index, (pem, reason) in enumerate(cases):
            with self.subTest(case=index, reason=reason):
                with self.assertRaises(doku_snap.PrivateKeyError) as caught:
                    doku_snap.load_private_key(pem(self.key_pair) if callable(pem) else pem)
                self.assertEqual(caught.exception.reason, reason)
                self.assertEqual(doku_snap.load_private_key(self.key_pair[0]).key_size, 2048)

    # The client ----------------------------------------------------------------------------

    def test_snap_error_envelope(self):
        cases = [
            (400,
             b'{"responseCode":"4000001","responseMessage":"Invalid Field Format amount"}',
             ProviderRefusal, "Invalid Field Format amount", "4000001"),
            (403,
             b'{"responseCode":"4030002","responseMessage":"Exceeds Transaction Amount Limit"}',
             ProviderRefusal, "Exceeds Transaction Amount Limit", "4030002"),
            (409, b'{"responseCode":"4090000","responseMessage":"Conflict"}',
             ProviderConflict, "Conflict", "4090000"),
            (404, b'{"responseCode":"4040001","responseMessage":"Transaction Not Found"}',
             ProviderConflict, "Transaction Not Found", "4040001"),
            # A 4xx whose responseCode says conflict proves nothing either.
            (400,
             b'{"responseCode":"4090001","responseMessage":"Duplicate partnerReferenceNo"}',
             ProviderConflict, "Duplicate partnerReferenceNo", "4090001"),
            (500, b'{"responseCode":"5000000","responseMessage":"General Error"}',
             ProviderServerError, "General Error", "5000000"),
        ]
        for status, content, error_class, message, code in cases:
            with self.subTest(status=status, content=content):
                client, _session = self._snap_client((status, content))
                with self.assertRaises(ProviderError) as caught:
                    client.initiate(FIELDS, REQUEST_ID)
                self.assertEqual(error_facts(caught.exception)[:4],
                                 (error_class, message, code, status))

    def test_snap_headers_and_signature(self):
        client, session = self._snap_client((200, RESPONSE_BODY))
        self.assertEqual(client.status("PAY_83921251").raw_status, "PENDING")
        token_call, status_call = session.calls
        self.assertEqual(token_call["url"], doku.SANDBOX_URL + doku_snap.TOKEN_PATH)
        self.assertEqual(json.loads(token_call["data"]), {"grantType": "client_credentials"})
        token_headers = token_call["headers"]
        self.assertEqual(token_headers["X-CLIENT-KEY"], CLIENT_ID)
        self.assertTrue(doku_snap.verify_token_request(
            self.key_pair[1], CLIENT_ID, token_headers["X-TIMESTAMP"],
            token_headers["X-SIGNATURE"]))
        headers = status_call["headers"]
        self.assertTrue(headers["X-TIMESTAMP"].endswith("+07:00"))
        self.assertEqual(
            (headers["X-PARTNER-ID"], headers["CHANNEL-ID"], headers["Authorization"]),
            (CLIENT_ID, "H2H", "Bearer T1"),
        )
        self.assertTrue(headers["X-EXTERNAL-ID"].isdigit())
        self.assertEqual(status_call["data"], STATUS_BODY)
        expected = doku_snap.sign(KEY, f"POST:/v1/payout/status:T1:{STATUS_BODY_HASH}:"
                                       f"{headers['X-TIMESTAMP']}")
        self.assertEqual(headers["X-SIGNATURE"], expected)
        self.assertNotIn("Signature", headers)
        self.assertNotIn("Client-Id", headers)

    def test_snap_token_answer_without_a_token(self):
        for content in (b'{"responseCode":"2007300"}', b'{"accessToken":"T1","expiresIn":"soon"}',
                        b'{"accessToken":"","expiresIn":900}',
                        b'{"accessToken":"T1","expiresIn":true}'):
            with self.subTest(content=content):
                client = doku_snap.DokuSnapClient(
                    doku.SANDBOX_URL, CLIENT_ID, KEY, self.key_pair[0],
                    session=FakeSession((200, content)), max_retries=0,
                    tokens=doku_snap.TokenStore())
                with self.assertRaisesRegex(ProviderMalformedResponse, "accessToken"):
                    client.status("PAY_1")

    def test_snap_token_refused_is_a_refusal(self):
        session = FakeSession(
            (401, b'{"responseCode":"4017300","responseMessage":"Unauthorized."}'))
        client = doku_snap.DokuSnapClient(doku.SANDBOX_URL, CLIENT_ID, KEY, self.key_pair[0],
                                          session=session, max_retries=0,
                                          tokens=doku_snap.TokenStore())
        with self.assertRaises(ProviderClientError) as caught:
            client.initiate(FIELDS, REQUEST_ID)
        self.assertEqual(
            (caught.exception.status, caught.exception.code, caught.exception.refusal),
            (401, "4017300", True),
        )
        self.assertEqual(len(session.calls), 1, "no initiate without a token")

    def test_snap_token_is_shared_by_the_clients_of_one_account(self):
        """Each thread has its own client (transport.ClientPool); one token serves them all."""
        tokens = doku_snap.TokenStore()
        first, second = (
            doku_snap.DokuSnapClient(doku.SANDBOX_URL, CLIENT_ID, KEY, self.key_pair[0],
                                     tokens=tokens,
                                     session=FakeSession(TOKEN_ANSWER, (200, RESPONSE_BODY)))
            for _ in range(2))
        first.status("PAY_1")
        second.session.replies = [(200, RESPONSE_BODY)]
        second.status("PAY_1")
        self.assertEqual([len(client.session.calls) for client in (first, second)], [2, 1])
        self.assertEqual(second.session.calls[0]["headers"]["Authorization"], "Bearer T1")
