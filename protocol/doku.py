"""DOKU Payout Link: signature, request bodies, status parsing and the API client.

Endpoints (developers.doku.com/payout/payout-link): `POST /v1/payout/initiate` creates a
link that DOKU emails to the employee; `POST /v1/payout/status` reads its status.

Signature (DOKU Non-SNAP, research/providers.md §1.2; jokul-php `Common/Utils.php`,
jokul-java `GenerateSignature.java`): the lines `Client-Id:…`, `Request-Id:…`,
`Request-Timestamp:…`, `Request-Target:<path>` and, when there is a body,
`Digest:<base64(SHA-256(body bytes))>`, joined by "\\n" without a trailing newline,
HMAC-SHA256'd with the Secret Key; header `Signature: HMACSHA256=<base64>`. Responses are
signed the same way with `Response-Timestamp` (developers.doku.com, "signature component
from response header"), when DOKU signs them at all: no DOKU SDK checks them, so an
unsigned answer is taken and logged. The Payout Link page's "HMAC_SHA512(clientSecret,
stringToSign)" is DOKU's SNAP scheme: doku_snap.py.
"""

import base64
import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import urlsplit

from .answers import ProviderAnswer
from .errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderClientError,
    ProviderError,
    ProviderMalformedResponse,
    ProviderMismatch,
)
from .timeutil import MINUTE, format_timestamp, parse_timestamp
from .transport import ApiClient, decode_json
from .validation import exact_float, positive_amount
from .validation import text as check_text

_logger = logging.getLogger(__name__)

SANDBOX_URL = "https://api-sandbox.doku.com"
PRODUCTION_URL = "https://api.doku.com"
INITIATE_PATH = "/v1/payout/initiate"
STATUS_PATH = "/v1/payout/status"

STATUS_MAPPING = {
    "PENDING": "sent",
    "EMAIL_SENT": "sent",
    "EMAIL_LINK_OPENED": "opened",
    "PENDING_PROCESS": "processing",  # confirmation failed, DOKU retries it
    "CONFIRMED": "processing",
    "COMPLETED": "done",
    "FAILED": "failed",  # still failing after 3 retries
    "EXPIRED": "expired",  # never opened
}

# How the calls are signed: DOKU's Non-SNAP lines (here), or SNAP (doku_snap.py).
SIGNATURE_SCHEMES = [
    ("hmac_sha256", "Non-SNAP (HMAC-SHA256)"),
    ("snap", "SNAP (B2B token, HMAC-SHA512)"),
]
DEFAULT_SCHEME = "hmac_sha256"
# Test Connection asks for this payout: none has it (Odoo's references start with a tag of
# the database), and any answer DOKU gives about it proves the credentials.
CONNECTION_TEST_REFERENCE = "ODOOCONNECTIONTEST"
TOLERANCE = 5 * MINUTE  # clock skew accepted on signed timestamps, in seconds
DEFAULT_CURRENCY = "IDR"
MAX_AMOUNT_DIGITS = 16  # before the decimal point

# field: (max length, pattern, rule shown when the pattern does not match)
_TEXT_RULES = {
    "sender_name": (50, None, None),
    "receiver_name": (50, None, None),
    "receiver_phone_number": (
        14,
        re.compile(r"62[0-9]{7,12}"),  # ASCII digits: \d takes any script
        "62 (or 0) followed by digits, 9 to 14 digits in all",
    ),
    "receiver_email": (50, re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+"), "not a valid email address"),
    "reference_id": (30, None, None),
    "description": (30, None, None),
    "currency": (3, None, None),
    "transaction_id": (30, None, None),
}


# Ids --------------------------------------------------------------------------------


def new_request_id():
    """Digits only, unique within the day: UTC time of day to the microsecond + 8 random."""
    now = datetime.now(timezone.utc).strftime("%H%M%S%f")
    return f"{now}{secrets.randbelow(10**8):08d}"


# Signature --------------------------------------------------------------------------


def component_string(
    client_id, request_id, timestamp, target, body=None, *, timestamp_name="Request-Timestamp"
):
    """The string DOKU signs; `body` is None for bodiless (GET) messages."""
    lines = [
        f"Client-Id:{client_id}",
        f"Request-Id:{request_id}",
        f"{timestamp_name}:{timestamp}",
        f"Request-Target:{target}",
    ]
    if body is not None:
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        lines.append(f"Digest:{digest}")
    return "\n".join(lines)


def sign(secret_key, components):
    mac = hmac.new(secret_key.encode(), components.encode(), hashlib.sha256).digest()
    return f"HMACSHA256={base64.b64encode(mac).decode()}"


def signature_headers(
    client_id, secret_key, request_id, target, body, *, timestamp,
    timestamp_name="Request-Timestamp",
):
    """The four DOKU headers of a signed request (or response, with Response-Timestamp)."""
    components = component_string(
        client_id, request_id, timestamp, target, body, timestamp_name=timestamp_name
    )
    return {
        "Client-Id": client_id,
        "Request-Id": request_id,
        timestamp_name: timestamp,
        "Signature": sign(secret_key, components),
    }


def verify_signature(
    secret_key,
    headers,
    target,
    body,
    *,
    timestamp_name="Request-Timestamp",
    tolerance=TOLERANCE,
    now=None,
):
    """Check a signed message's headers (any case-insensitive mapping) against its exact
    body bytes; raise ProviderBadSignature (with a `code`) if anything is off. A
    `tolerance` of None checks no freshness (a replayed answer keeps its old timestamp)."""
    names = ("Client-Id", "Request-Id", timestamp_name, "Signature")
    values = [headers.get(name) for name in names]
    if not all(values):
        raise ProviderBadSignature(
            f"Missing DOKU signature headers ({', '.join(names)}).", code="MISSING_SIGNATURE"
        )
    client_id, request_id, timestamp, signature = values
    try:
        signed_at = parse_timestamp(timestamp)
    except ValueError:
        raise ProviderBadSignature(
            f"{timestamp_name} is not a valid timestamp.", code="INVALID_TIMESTAMP"
        ) from None
    skew = abs(((now or datetime.now(timezone.utc)) - signed_at).total_seconds())
    if tolerance is not None and skew > tolerance:
        raise ProviderBadSignature(
            f"{timestamp_name} is more than {tolerance} seconds off.", code="STALE_TIMESTAMP"
        )
    components = component_string(
        client_id, request_id, timestamp, target, body, timestamp_name=timestamp_name
    )
    if not hmac.compare_digest(sign(secret_key, components).encode(), signature.encode()):
        raise ProviderBadSignature("The DOKU signature does not match.", code="INVALID_SIGNATURE")


# Request bodies ---------------------------------------------------------------------


def _text(field, value, *, required=True):
    limit, pattern, rule = _TEXT_RULES[field]
    return check_text(field, value, pattern, rule, limit=limit, required=required)


def _phone(value):
    """DOKU's `62…` form of ``value``; the page's own example, `0816291271826`, is the
    national form, whose leading 0 stands for the country code 62."""
    if isinstance(value, str) and value.startswith("0"):
        value = "62" + value[1:]
    return _text("receiver_phone_number", value)


def _amount(value):
    """The amount as a JSON number with at most 2 decimals (an int when whole, as in
    DOKU's example `11500`). Refuses rather than rounds: money is never altered here."""
    amount = positive_amount(value)
    if amount.adjusted() >= MAX_AMOUNT_DIGITS:
        raise FieldValidationError(
            "amount", f"at most {MAX_AMOUNT_DIGITS} digits before the decimal point"
        )
    if amount % Decimal("0.01"):
        raise FieldValidationError("amount", "at most 2 decimal places")
    if amount == amount.to_integral_value():
        return int(amount)
    return exact_float(amount)


def build_initiate_body(
    *,
    amount,
    sender_name,
    receiver_name,
    receiver_phone_number,
    receiver_email,
    reference_id,
    description=None,
    currency=DEFAULT_CURRENCY,
):
    """Body of `POST /v1/payout/initiate`; FieldValidationError names the first bad field."""
    body = {
        "amount": _amount(amount),
        "sender_name": _text("sender_name", sender_name),
        "receiver_name": _text("receiver_name", receiver_name),
        "receiver_phone_number": _phone(receiver_phone_number),
        "receiver_email": _text("receiver_email", receiver_email),
        "reference_id": _text("reference_id", reference_id),
    }
    if description := _text("description", description, required=False):
        body["description"] = description
    body["currency"] = _text("currency", currency or DEFAULT_CURRENCY)
    return body


def build_status_body(reference_id):
    """Body of `POST /v1/payout/status`: DOKU's `transaction_id` is our reference_id."""
    return {"transaction_id": _text("transaction_id", reference_id)}


# Responses --------------------------------------------------------------------------


def _inner(data):
    return data.get("data") if isinstance(data.get("data"), dict) else {}


def _find_status(data):
    """The payout status in `data.status`, else top level. DOKU's envelope `status` is a
    numeric result code ("0" = success), never a payout status, so digits are skipped."""
    for value in (_inner(data).get("status"), data.get("status")):
        if isinstance(value, str) and value and not value.isdigit():
            return value
    return None


def parse_status(data):
    """The ProviderAnswer in a DOKU answer (initiate or status); DOKU gives no reason."""
    raw_status = _find_status(data)
    if raw_status is None:
        raise ProviderMalformedResponse("DOKU's answer has no payout status.")
    inner = _inner(data)
    return ProviderAnswer(
        state=STATUS_MAPPING.get(raw_status.upper()),
        raw_status=raw_status,
        provider_reference=inner.get("transaction_id") or inner.get("reference_id"),
        raw=data,
    )


def is_same_payout(answer, body):
    """Whether the payout DOKU holds (a status ``answer``) is the one ``body`` asks for:
    same amount, same recipient. Another company or database sharing the DOKU account may
    have used the reference; DOKU's status is assumed to echo the initiate's fields, so a
    payout that does not show them is not ours either."""
    data = _inner(answer.raw) or answer.raw
    try:
        same_amount = Decimal(str(data.get("amount"))) == Decimal(str(body["amount"]))
    except ArithmeticError:
        return False
    email = str(data.get("receiver_email") or "")
    return same_amount and email.lower() == str(body["receiver_email"]).lower()


# Client -----------------------------------------------------------------------------


class DokuUnverifiedAcceptance(ProviderBadSignature):
    """DOKU answered an initiate with an accepted payout link whose signature does not
    check out: the link may exist at DOKU (and be paid), or the answer is not DOKU's.
    Neither adopted nor refused: a person checks at DOKU at once."""

    needs_person = True


class DokuClient(ApiClient):
    """Both calls return a ProviderAnswer; `last_response.replayed` says DOKU answered a
    repeat (same Request-Id and body) with the original result.

    Answers that carry a `Signature` are verified (unless `verify_responses` is off);
    unsigned ones are taken and logged, as no DOKU SDK checks them."""

    name = "DOKU"

    def __init__(
        self,
        base_url,
        client_id,
        secret_key,
        *,
        verify_responses=True,
        tolerance=TOLERANCE,
        **options,
    ):
        super().__init__(base_url, **options)
        self.client_id = client_id
        self.secret_key = secret_key
        self.verify_responses = verify_responses
        self.tolerance = tolerance

    def initiate(self, body, request_id):
        """Create a payout link. `body` holds build_initiate_body's fields (validated again
        here, before anything is sent); `request_id` is the idempotency key, persisted by
        the caller and reused on every retry."""
        try:
            response = self.send(
                "POST", INITIATE_PATH, build_initiate_body(**body), request_id=request_id
            )
        except ProviderBadSignature as error:
            acceptance = _unverified_acceptance(error)
            if acceptance is None:
                raise
            raise acceptance from error
        return parse_status(response.data)

    def status(self, reference_id):
        """The payout's current status at DOKU (a read: any new Request-Id will do)."""
        response = self.send(
            "POST", STATUS_PATH, build_status_body(reference_id), request_id=new_request_id()
        )
        return parse_status(response.data)

    def submit_or_follow(self, body, request_id):
        """Initiate the payout link; when DOKU already has a link with this reference (HTTP
        409), follow it with `reconcile`: never create another. Raises ProviderMismatch
        when the link under the reference is not ours."""
        try:
            return self.initiate(body, request_id)
        except ProviderClientError as error:
            if error.status != 409:
                raise
        return self.reconcile(body, request_id)

    def reconcile(self, body, request_id):
        """Look the payout up by its reference; initiate it (same Request-Id and body) if
        DOKU never created it (HTTP 404). A payout under the reference that is not ours
        (`is_same_payout`) is never adopted: ProviderMismatch, a person checks."""
        try:
            answer = self.status(body["reference_id"])
        except ProviderClientError as error:
            if error.status != 404:
                # Not a refusal of the payout: what happened is still unknown.
                raise ProviderError(error.message, status=error.status) from error
            return self.initiate(body, request_id)
        if not is_same_payout(answer, body):
            raise ProviderMismatch(
                "DOKU holds a payout link under this reference with another amount or "
                "recipient."
            )
        return answer

    def check_credentials(self):
        """Ask for a payout that does not exist: any DOKU answer (a JSON envelope, found or
        not) proves the credentials. Raises ProviderClientError when DOKU refuses them
        (401, 403), another ProviderError when DOKU was not reached or did not answer as
        DOKU does (no JSON envelope, a bad signature)."""
        try:
            self.send(
                "POST", STATUS_PATH, build_status_body(CONNECTION_TEST_REFERENCE),
                request_id=new_request_id(),
            )
        except ProviderClientError as error:
            if error.status in (401, 403) or decode_json(error.body or "") is None:
                raise

    def _build_headers(self, method, path, body, request_id):
        headers = super()._build_headers(method, path, body, request_id)
        headers.update(self._signature_headers(method, path, body, request_id))
        return headers

    def _signature_headers(self, method, path, body, request_id):
        """The headers that authenticate a call (rebuilt for every attempt)."""
        headers = signature_headers(
            self.client_id,
            self.secret_key,
            request_id,
            path,
            body if method == "POST" else None,
            timestamp=format_timestamp(datetime.now(timezone.utc)),
        )
        # Signed as a line, and also sent as a header as DOKU's SDKs send it (jokul-php
        # `PaycodeGeneratorVa.php`, jokul-java `ClientSetup.java`).
        headers["Request-Target"] = path
        return headers

    def _is_replay(self, response):
        # A repeat of a successful call (same Request-Id, same body) gets HTTP 409 with the
        # original answer, whose `data` holds the payout; a conflict error has no such data.
        if response.status_code != 409:
            return False
        return bool(_inner(decode_json(response.content) or {}).get("status"))

    def _parse_response(self, response):
        if self.verify_responses:
            self._verify(response)
        return super()._parse_response(response)

    def _verify(self, response):
        sent = response.request
        if not response.headers.get("Signature"):
            _logger.info("DOKU answered %s unsigned (HTTP %s): taken as it is.",
                         urlsplit(sent.url).path, response.status_code)
            return
        try:
            for name in ("Client-Id", "Request-Id"):
                # Signed ids that are not ours: an answer captured from another request.
                if response.headers.get(name) != sent.headers[name]:
                    raise ProviderBadSignature(
                        f"DOKU's answer does not echo our {name}.", code="OTHER_REQUEST"
                    )
            verify_signature(
                self.secret_key,
                response.headers,
                urlsplit(sent.url).path,
                response.content if sent.method == "POST" else None,
                timestamp_name="Response-Timestamp",
                # A replay is the original answer, signed when it was first given.
                tolerance=None if response.status_code == 409 else self.tolerance,
            )
        except ProviderBadSignature as error:
            raise ProviderBadSignature(
                error.message, status=response.status_code, code=error.code,
                body=response.text,
            ) from None

    def _error_details(self, data):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        message = error.get("message") or data.get("message")
        if isinstance(message, list):  # as DOKU's Checkout answers (doku-magento-plugin)
            message = "; ".join(str(item) for item in message)
        code = error.get("code") or data.get("code") or data.get("status")
        return (str(message) if message else None), (str(code) if code else None)


def _unverified_acceptance(error):
    """A DokuUnverifiedAcceptance when the badly signed answer ``error`` accepted a payout
    (HTTP 200, or a replay of one), else None."""
    data = decode_json(error.body or "")
    if error.status not in (200, 201, 409) or data is None or _find_status(data) is None:
        return None
    answer = parse_status(data)
    return DokuUnverifiedAcceptance(
        f"DOKU answered that it holds the payout link (status {answer.raw_status}), but "
        f"the answer's signature does not check out ({error.message}): check the link at "
        "DOKU.",
        status=error.status, code=error.code, body=error.body, answer=answer,
    )
