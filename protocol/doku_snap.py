"""DOKU SNAP: the Payout Link calls signed as DOKU's SNAP APIs are (a B2B access token,
then an HMAC-SHA512 per call), the scheme the Payout Link page's "HMAC_SHA512(clientSecret,
stringToSign)" names.

Sources:
- B2B token: `POST /authorization/v1/access-token/b2b`, headers `X-CLIENT-KEY` (client
  id), `X-TIMESTAMP`, `X-SIGNATURE` = base64(SHA256withRSA(private key,
  "<client id>|<X-TIMESTAMP>")), body `{"grantType": "client_credentials"}`; the answer
  holds `accessToken` and `expiresIn` (seconds), `responseCode` "2007300"
  (doku-python-library `src/controller/token_controller.py`,
  `src/services/token_service.py`, `src/model/token/token_b2b_request.py`).
- Each call: `X-TIMESTAMP`, `X-PARTNER-ID` (client id), `X-EXTERNAL-ID`, `CHANNEL-ID`,
  `Authorization: Bearer <token>` (doku-python-library `src/services/va_service.py`) and
  `X-SIGNATURE` = base64(HMAC-SHA512(client secret,
  "METHOD:path:token:lowercase(hex(SHA-256(minified body))):X-TIMESTAMP"))
  (developers.doku.com `…/signature-component/snap/symmetric-signature`, whose timestamp
  is `2024-03-26T16:01:41+07:00`).
- Errors: `{"responseCode", "responseMessage"}`, the code being the HTTP status, a
  service code and a case code: 401xx01 "Invalid Token (B2B)", 409xx00 a reused
  X-EXTERNAL-ID (dashboard.doku.com `…/technical-references/error-response`).

What no source settles (README, "DOKU assumptions"): that the Payout Link answers SNAP at
the Non-SNAP paths and bodies, the CHANNEL-ID, and that SNAP answers are unsigned.
"""

import base64
import hashlib
import hmac
import threading
import time
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .doku import DokuClient
from .errors import ProviderClientError, ProviderMalformedResponse

TOKEN_PATH = "/authorization/v1/access-token/b2b"
TOKEN_BODY = {"grantType": "client_credentials"}
CHANNEL_ID = "H2H"  # host to host, as DOKU's SNAP examples send it (an assumption here)
TOKEN_MARGIN = 60  # seconds before its expiry when a cached token is renewed
WIB = timezone(timedelta(hours=7))  # Jakarta, the offset DOKU's SNAP examples carry


def snap_timestamp(dt=None):
    """`YYYY-MM-DDTHH:MM:SS+07:00`, as DOKU's SNAP examples; now by default."""
    return (dt or datetime.now(timezone.utc)).astimezone(WIB).isoformat(timespec="seconds")


# Keys and the token's signature -----------------------------------------------------


class PrivateKeyError(ValueError):
    """The PEM text is not an unencrypted RSA private key; `reason` says what it is:
    'not_a_key', 'public_key', 'encrypted' or 'not_rsa'."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def load_private_key(pem):
    """The RSA private key in the PEM text ``pem``; PrivateKeyError if it is not one."""
    data = pem.encode() if isinstance(pem, str) else (pem or b"")
    if b"PUBLIC KEY-----" in data or b"CERTIFICATE-----" in data:
        raise PrivateKeyError("public_key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography: "Password was not given but private key is encrypted"
        raise PrivateKeyError("encrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise PrivateKeyError("not_a_key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PrivateKeyError("not_rsa")
    return key


def token_string(client_id, timestamp):
    return f"{client_id}|{timestamp}"


def sign_token_request(private_key, client_id, timestamp):
    """X-SIGNATURE of the token request: base64(SHA256withRSA(`client_id|timestamp`))."""
    signature = private_key.sign(
        token_string(client_id, timestamp).encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(signature).decode()


def verify_token_request(public_key_pem, client_id, timestamp, signature):
    """Whether ``signature`` is the token request's, made with the public key's pair."""
    try:
        public_key = serialization.load_pem_public_key(public_key_pem.encode())
        public_key.verify(
            base64.b64decode(signature, validate=True),
            token_string(client_id, timestamp).encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


# Each call's signature ---------------------------------------------------------------


def body_hash(body):
    """lowercase(hex(SHA-256(body))): ``body`` is the exact (minified) bytes sent."""
    return hashlib.sha256(body or b"").hexdigest()


def string_to_sign(method, path, token, body, timestamp):
    return f"{method.upper()}:{path}:{token}:{body_hash(body)}:{timestamp}"


def sign(client_secret, text):
    mac = hmac.new(client_secret.encode(), text.encode(), hashlib.sha512).digest()
    return base64.b64encode(mac).decode()


def verify_signature(client_secret, text, signature):
    return hmac.compare_digest(sign(client_secret, text).encode(), (signature or "").encode())


def parse_token(data):
    """(access token, seconds it lives) of a token answer; ProviderMalformedResponse if
    it lacks either."""
    token, expires_in = data.get("accessToken"), data.get("expiresIn")
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    if not (isinstance(token, str) and token and isinstance(expires_in, int)
            and not isinstance(expires_in, bool) and expires_in > 0):
        raise ProviderMalformedResponse("DOKU's token answer has no accessToken or expiresIn.")
    return token, expires_in


# Client -------------------------------------------------------------------------------


class TokenStore:
    """B2B tokens by DOKU account (base URL, client id, public key), shared by the clients
    of every thread: a client serves one thread (transport.ClientPool), a token serves
    them all, so a scheduled run's worker threads do not each ask DOKU for one."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}  # account: (access token, monotonic time to renew it at)

    def get(self, account, now):
        with self._lock:
            token, renew_at = self._tokens.get(account, (None, 0))
        return token if now < renew_at else None

    def put(self, account, token, renew_at):
        with self._lock:
            self._tokens[account] = (token, renew_at)

    def discard(self, account, token=None):
        """Forget the account's token; when ``token`` is given (DOKU refused it), only if
        it is still that one: another thread may have renewed it already."""
        with self._lock:
            if token is None or self._tokens.get(account, (None,))[0] == token:
                self._tokens.pop(account, None)


TOKENS = TokenStore()


class DokuSnapClient(DokuClient):
    """DokuClient's calls, signed the SNAP way. The B2B token is fetched when first needed,
    kept in `tokens` until `TOKEN_MARGIN` seconds before it expires, and renewed once when
    DOKU answers a call 401 (revoked, or expired early). The idempotency key is sent as
    X-EXTERNAL-ID. SNAP publishes no signature of a service's answer: none is checked."""

    def __init__(self, base_url, client_id, secret_key, private_key, *,
                 channel_id=CHANNEL_ID, tokens=TOKENS, monotonic=time.monotonic, **options):
        super().__init__(base_url, client_id, secret_key, verify_responses=False, **options)
        self.private_key = load_private_key(private_key)
        self.channel_id = channel_id
        self.tokens = tokens
        self.monotonic = monotonic
        # Another key is another account's token: Test Connection tries a new key for real.
        self.account = (self.base_url, client_id, self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        self._token = None  # the token this attempt signs with

    def _send_once(self, method, path, body, request_id, array=False):
        if path == TOKEN_PATH:
            return super()._send_once(method, path, body, request_id, array)
        self._token = self._access_token()
        try:
            return super()._send_once(method, path, body, request_id, array)
        except ProviderClientError as error:
            if error.status != 401:
                raise
        # DOKU no longer takes the cached token: a new one, once (a 401 again is raised).
        self.tokens.discard(self.account, self._token)
        self._token = self._access_token()
        return super()._send_once(method, path, body, request_id, array)

    def _access_token(self):
        token = self.tokens.get(self.account, self.monotonic())
        if token is None:
            token, expires_in = parse_token(self.send("POST", TOKEN_PATH, TOKEN_BODY).data)
            margin = min(TOKEN_MARGIN, expires_in // 2)
            self.tokens.put(self.account, token, self.monotonic() + expires_in - margin)
        return token

    def _signature_headers(self, method, path, body, request_id):
        timestamp = snap_timestamp()
        if path == TOKEN_PATH:
            return {
                "X-CLIENT-KEY": self.client_id,
                "X-TIMESTAMP": timestamp,
                "X-SIGNATURE": sign_token_request(self.private_key, self.client_id, timestamp),
            }
        token = self._token
        return {
            "X-TIMESTAMP": timestamp,
            "X-PARTNER-ID": self.client_id,
            "X-EXTERNAL-ID": request_id,
            "CHANNEL-ID": self.channel_id,
            "Authorization": f"Bearer {token}",
            "X-SIGNATURE": sign(
                self.secret_key, string_to_sign(method, path, token, body, timestamp)
            ),
        }

    def _is_refusal(self, status, code):
        # SNAP's responseCode starts with the HTTP status it stands for.
        return super()._is_refusal(status, code) and not (code or "").startswith(("404", "409"))

    def _error_details(self, data):
        if "responseCode" not in data:
            return super()._error_details(data)
        message, code = data.get("responseMessage"), data.get("responseCode")
        return (str(message) if message else None), (str(code) if code else None)
