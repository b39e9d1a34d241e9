"""DOKU Payout Link on the sandbox: `POST /v1/payout/initiate` and `POST /v1/payout/status`,
signed DOKU's Non-SNAP way or, with `scheme="snap"`, DOKU's SNAP way (one scheme per
sandbox, as a DOKU account has one). Each rule names its source; what no source settles
is marked "assumption" and listed in README.md ("DOKU assumptions").

Non-SNAP requests are checked in this order (error answers have the body
`{"error": {"code": ..., "message": ...}}`, as DOKU's Non-SNAP APIs answer:
doku-magento-plugin `Controller/Payment/RequestVa.php`):

    401 UNKNOWN_CLIENT          Client-Id is not the configured one
    400 INVALID_REQUEST_ID      Request-Id is not digits only (the Payout Link page:
                                "Numeric String")
    401 MISSING_SIGNATURE, INVALID_TIMESTAMP, STALE_TIMESTAMP (more than `tolerance`
        seconds from now), INVALID_SIGNATURE (jokul-php `Common/Utils.php`)
    409 <original answer>       same Client-Id, Request-Id, path and body the same day:
                                the original answer again, with its original signature
                                headers (developers.doku.com `…/idempotency-request`; the
                                headers are an assumption)
    409 REQUEST_ID_CONFLICT     same Request-Id the same day with another body or path
                                (assumption)

SNAP requests (protocol/doku_snap.py names the sources) first get a B2B token from
`POST /authorization/v1/access-token/b2b`, its X-SIGNATURE checked with the configured
public key; the token lives `token_ttl` seconds. Then each call is checked: X-PARTNER-ID,
the Bearer token (401 "Invalid Token (B2B)"), X-EXTERNAL-ID digits, CHANNEL-ID,
X-TIMESTAMP freshness, X-SIGNATURE. A reused X-EXTERNAL-ID the same day is a 409
Conflict, never a replay (SNAP's 409xx00; assumption for the Payout Link). Errors are
`{"responseCode": "<HTTP><service><case>", "responseMessage": ...}`; the Payout Link's
service code is not published: the sandbox says `SNAP_SERVICE_CODE` (assumption).

Then, for both schemes:

    400 INVALID_JSON            the body is not a JSON object
    400 INVALID_FIELD           a field breaks the Payout Link page's limits:
                                "receiver_name: at most 50 ..."
    409 DUPLICATE_REFERENCE_ID  initiate with a reference_id already used (assumption)
    404 NOT_FOUND               status of an unknown transaction_id (assumption)

Only successful answers are kept for replay: a refused request does not use up its id.
Non-SNAP answers are signed (Client-Id, Request-Id, Response-Timestamp, Signature over
the request path and the answer body: developers.doku.com `…/non-snap/
signature-componen-from-response-header`; whether the Payout Link signs them is an
assumption) unless `signs_answers` is off. SNAP answers are not signed (assumption), so
the `bad_signature` fault changes nothing on them. A successful answer (HTTP 200; the
envelope is the Payout Link page's, what `data` holds is an assumption):

    {"status": "0", "message": "Success", "timestamp": "<sandbox clock>",
     "data": {<the initiate fields>, "transaction_id": "<reference_id>",
              "status": "<DOKU status>", "created_at": "...", "updated_at": "..."}}

Lifecycle (the statuses and their meanings are the Payout Link page's; the delays are
the sandbox's): the status follows the sandbox clock since creation, by the local part of
`receiver_email` (first matching prefix):

    fail...@    PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED,
                +2 h PENDING_PROCESS (DOKU retries), +5 h FAILED (after 3 retries)
    retry...@   PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED,
                +2 h PENDING_PROCESS, +3 h COMPLETED
    expire...@  PENDING, +1 min EMAIL_SENT, +24 h EXPIRED (never opened)
    stuck...@   PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED, +2 h CONFIRMED, forever
    anything    PENDING, +1 min EMAIL_SENT, +1 h EMAIL_LINK_OPENED, +2 h CONFIRMED,
                +3 h COMPLETED

Clocks: the sandbox clock drives only the lifecycle and the timestamps in bodies.
Timestamp freshness, Response-Timestamp, token lifetimes and "the same day" of replays
use real UTC time, so a client in another process keeps working after the clock moves.
"""

import inspect
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..protocol import doku, doku_snap
from ..protocol.errors import ProviderBadSignature, ProviderClientError, ProviderError
from ..protocol.timeutil import DAY, HOUR, MINUTE, format_timestamp, parse_timestamp
from .server import ProviderSandbox, Response, error_response, json_response

CLIENT_ID = "SANDBOX-CLIENT-1"
SECRET_KEY = "SK-sandbox-not-a-secret"
TOKEN_TTL = 900  # seconds: the 15 minutes SNAP tokens commonly live (assumption)
SNAP_SERVICE_CODE = "00"  # the Payout Link's SNAP service code is not published
# SNAP case codes of the sandbox's errors (DOKU's SNAP error table); "00" otherwise.
_SNAP_CASES = {"INVALID_TOKEN": "01", "INVALID_FIELD": "01", "NOT_FOUND": "01",
               "DUPLICATE_REFERENCE_ID": "01"}

_OPENED = ((0, "PENDING"), (MINUTE, "EMAIL_SENT"), (HOUR, "EMAIL_LINK_OPENED"))
SCENARIOS = {  # local-part prefix: ((seconds after creation, status), ...)
    "fail": _OPENED + ((2 * HOUR, "PENDING_PROCESS"), (5 * HOUR, "FAILED")),
    "retry": _OPENED + ((2 * HOUR, "PENDING_PROCESS"), (3 * HOUR, "COMPLETED")),
    "expire": ((0, "PENDING"), (MINUTE, "EMAIL_SENT"), (DAY, "EXPIRED")),
    "stuck": _OPENED + ((2 * HOUR, "CONFIRMED"),),
    "": _OPENED + ((2 * HOUR, "CONFIRMED"), (3 * HOUR, "COMPLETED")),
}
_INITIATE_FIELDS = tuple(inspect.signature(doku.build_initiate_body).parameters)


def new_key_pair():
    """(private key PEM, public key PEM) of a fresh RSA key, as a merchant makes for SNAP."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private.decode(), public.decode()


@dataclass
class _Payout:
    fields: dict
    created: datetime

    def data(self, now):
        local_part = self.fields["receiver_email"].split("@")[0].lower()
        steps = next(s for prefix, s in SCENARIOS.items() if local_part.startswith(prefix))
        elapsed = (now - self.created).total_seconds()
        offset, status = [step for step in steps if step[0] <= max(elapsed, 0)][-1]
        return {
            **self.fields,
            "transaction_id": self.fields["reference_id"],
            "status": status,
            "created_at": format_timestamp(self.created),
            "updated_at": format_timestamp(self.created + timedelta(seconds=offset)),
        }


@dataclass
class _Answer:
    path: str
    body: bytes  # the request body
    answer: bytes  # the response body, sent again on replay
    headers: dict = field(default_factory=dict)  # its signature headers, sent again too


class DokuSandbox(ProviderSandbox):
    """``private_key`` is the SNAP key pair's private half when the sandbox made the pair
    (no ``public_key`` given), for the clients to sign with."""

    def __init__(
        self,
        server,
        *,
        client_id=CLIENT_ID,
        secret_key=SECRET_KEY,
        scheme=doku.DEFAULT_SCHEME,
        tolerance=doku.TOLERANCE,
        public_key=None,
        token_ttl=TOKEN_TTL,
    ):
        super().__init__(server)
        self.client_id = client_id
        self.secret_key = secret_key
        self.scheme = scheme
        self.tolerance = tolerance
        self.token_ttl = token_ttl
        self.private_key = None
        if scheme == "snap" and public_key is None:
            self.private_key, public_key = new_key_pair()
        self.public_key = public_key
        server.route("POST", doku.INITIATE_PATH, self._initiate, sign=self._sign)
        server.route("POST", doku.STATUS_PATH, self._status, sign=self._sign)
        if scheme == "snap":
            server.route("POST", doku_snap.TOKEN_PATH, self._issue_token)
        self.reset()

    def reset(self):
        with self._lock:
            self.payouts = {}  # reference_id: _Payout
            self._answers = {}  # (client id, request id, day): _Answer
            self.tokens = {}  # SNAP access token: when it expires (real UTC time)
            self.signs_answers = True  # Non-SNAP: off to answer unsigned

    def revoke_tokens(self):
        """Forget every SNAP token issued: the next call with one gets a 401."""
        with self._lock:
            self.tokens.clear()

    def client(self, **options):
        """A client with this sandbox's URL, credentials and scheme."""
        if self.scheme == "snap":
            return doku_snap.DokuSnapClient(
                self.url, self.client_id, self.secret_key, self.private_key, **options
            )
        return doku.DokuClient(self.url, self.client_id, self.secret_key, **options)

    # Authentication ---------------------------------------------------------------------

    def _initiate(self, request):
        return self._handle(request, self._create)

    def _status(self, request):
        return self._handle(request, self._lookup)

    def _handle(self, request, action):
        try:
            idempotency_key = self._authenticate(request)
            return self._answer(request, action, idempotency_key)
        except ProviderError as error:
            status = error.status or (401 if isinstance(error, ProviderBadSignature) else 400)
            return self._error(status, error.code, error.message)

    def _error(self, status, code, message):
        if self.scheme != "snap":
            return error_response(status, code, message)
        response_code = f"{status}{SNAP_SERVICE_CODE}{_SNAP_CASES.get(code, '00')}"
        return json_response(status, {"responseCode": response_code, "responseMessage": message})

    def _authenticate(self, request):
        """Check the request's credentials and signature; return its idempotency key."""
        if self.scheme == "snap":
            return self._authenticate_snap(request)
        headers = request.headers
        if headers.get("Client-Id") != self.client_id:
            raise ProviderClientError("Unknown Client-Id.", status=401, code="UNKNOWN_CLIENT")
        if not re.fullmatch(r"\d{1,128}", headers.get("Request-Id") or ""):
            raise ProviderClientError(
                "Request-Id must be digits only.", status=400, code="INVALID_REQUEST_ID"
            )
        doku.verify_signature(
            self.secret_key, headers, request.path, request.body, tolerance=self.tolerance
        )
        return headers["Request-Id"]

    def _authenticate_snap(self, request):
        headers = request.headers
        if headers.get("X-PARTNER-ID") != self.client_id:
            raise ProviderClientError(
                "Unauthorized. Unknown Client", status=401, code="UNKNOWN_CLIENT"
            )
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        with self._lock:
            expires = self.tokens.get(token)
        if not expires or expires <= datetime.now(timezone.utc):
            raise ProviderClientError("Invalid Token (B2B)", status=401, code="INVALID_TOKEN")
        external_id = headers.get("X-EXTERNAL-ID") or ""
        if not re.fullmatch(r"\d{1,36}", external_id):
            raise ProviderClientError(
                "Invalid Field Format X-EXTERNAL-ID", status=400, code="INVALID_EXTERNAL_ID"
            )
        if not headers.get("CHANNEL-ID"):
            raise ProviderClientError(
                "Invalid Mandatory Field CHANNEL-ID", status=400, code="MISSING_CHANNEL_ID"
            )
        timestamp = self._fresh_snap_timestamp(headers)
        text = doku_snap.string_to_sign(request.method, request.path, token, request.body,
                                        timestamp)
        if not doku_snap.verify_signature(self.secret_key, text, headers.get("X-SIGNATURE")):
            raise ProviderBadSignature(
                "Unauthorized. Invalid Signature", status=401, code="INVALID_SIGNATURE"
            )
        return external_id

    def _fresh_snap_timestamp(self, headers):
        timestamp = headers.get("X-TIMESTAMP") or ""
        try:
            skew = abs((datetime.now(timezone.utc) - parse_timestamp(timestamp)).total_seconds())
        except ValueError:
            raise ProviderBadSignature(
                "Invalid Field Format X-TIMESTAMP", status=400, code="INVALID_TIMESTAMP"
            ) from None
        if skew > self.tolerance:
            raise ProviderBadSignature(
                "Unauthorized. X-TIMESTAMP is stale", status=401, code="STALE_TIMESTAMP"
            )
        return timestamp

    def _issue_token(self, request):
        """`POST /authorization/v1/access-token/b2b`, answered as doku-python-library's
        `TokenB2BResponse` reads it."""
        headers = request.headers
        try:
            if headers.get("X-CLIENT-KEY") != self.client_id:
                raise ProviderClientError(
                    "Unauthorized. Unknown Client", status=401, code="UNKNOWN_CLIENT"
                )
            timestamp = self._fresh_snap_timestamp(headers)
            if not doku_snap.verify_token_request(
                self.public_key, self.client_id, timestamp, headers.get("X-SIGNATURE") or ""
            ):
                raise ProviderBadSignature(
                    "Unauthorized. Invalid Signature", status=401, code="INVALID_SIGNATURE"
                )
            if request.json != doku_snap.TOKEN_BODY:
                raise ProviderClientError(
                    "Invalid Field Format grantType", status=400, code="INVALID_FIELD"
                )
        except ProviderError as error:
            return json_response(error.status, {
                "responseCode": f"{error.status}73{_SNAP_CASES.get(error.code, '00')}",
                "responseMessage": error.message,
            })
        token = secrets.token_urlsafe(32)
        with self._lock:
            self.tokens[token] = datetime.now(timezone.utc) + timedelta(seconds=self.token_ttl)
        return json_response(200, {
            "responseCode": "2007300",
            "responseMessage": "Successful",
            "accessToken": token,
            "tokenType": "Bearer",
            "expiresIn": self.token_ttl,
            "additionalInfo": {},
        })

    # Answers ----------------------------------------------------------------------------

    def _answer(self, request, action, idempotency_key):
        now = datetime.now(timezone.utc)
        key = (self.client_id, idempotency_key, now.date())
        with self._lock:
            seen = self._answers.get(key)
            if seen:
                if self.scheme != "snap" and (seen.path, seen.body) == (
                        request.path, request.body):
                    return Response(409, seen.answer)
                if self.scheme == "snap":
                    raise ProviderClientError(
                        "Conflict", status=409, code="EXTERNAL_ID_CONFLICT"
                    )
                raise ProviderClientError(
                    "Request-Id was already used today for another request.",
                    status=409,
                    code="REQUEST_ID_CONFLICT",
                )
            if not isinstance(request.json, dict):
                raise ProviderClientError(
                    "The body must be a JSON object.", status=400, code="INVALID_JSON"
                )
            response = json_response(
                200,
                {
                    "status": "0",
                    "message": "Success",
                    "timestamp": format_timestamp(self.server.clock.now()),
                    "data": action(request.json),
                },
            )
            self._answers[key] = _Answer(request.path, request.body, response.body)
        return response

    def _create(self, fields):
        body = doku.build_initiate_body(**{name: fields.get(name) for name in _INITIATE_FIELDS})
        reference = body["reference_id"]
        if reference in self.payouts:
            raise ProviderClientError(
                f"reference_id {reference} already exists.",
                status=409,
                code="DUPLICATE_REFERENCE_ID",
            )
        payout = self.payouts[reference] = _Payout(body, self.server.clock.now())
        return payout.data(payout.created)

    def _lookup(self, fields):
        reference = doku.build_status_body(fields.get("transaction_id"))["transaction_id"]
        if reference not in self.payouts:
            raise ProviderClientError(f"No payout link {reference}.", status=404, code="NOT_FOUND")
        return self.payouts[reference].data(self.server.clock.now())

    def _sign(self, request, response, wrong):
        """Sign a Non-SNAP answer; a replay keeps the original answer's headers."""
        if self.scheme == "snap" or not (self.signs_answers or wrong):
            return
        request_id = request.headers.get("Request-Id", "")
        with self._lock:
            seen = self._answers.get((self.client_id, request_id,
                                      datetime.now(timezone.utc).date()))
        if seen and seen.headers and response.status == 409 and not wrong:
            response.headers.update(seen.headers)
            return
        headers = doku.signature_headers(
            request.headers.get("Client-Id", ""),
            self.secret_key + ("-wrong" if wrong else ""),
            request_id,
            request.path,
            response.body,
            timestamp=format_timestamp(datetime.now(timezone.utc)),
            timestamp_name="Response-Timestamp",
        )
        response.headers.update(headers)
        if seen and response.status == 200 and seen.answer == response.body and not wrong:
            seen.headers = headers


start = DokuSandbox.start
