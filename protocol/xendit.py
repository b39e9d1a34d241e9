"""Xendit: the Payout Link API (legacy `/payouts`) and Payouts v2 (`/v2/payouts`).

Sources (docs.xendit.co as copied on 2026-04-23 in Adianjayaditya/xendit-docs-rag, and
Xendit's SDKs): research/2026-12-review/providers-audit.md, items X1-X24. Both APIs use
HTTP Basic auth with the secret API key as the user name and an empty password; answers
are plain JSON (not signed). Errors have the body `{"error_code", "message", "errors"}`.

Payout Link: `POST /payouts` {external_id, amount, email} creates a link that Xendit
emails to the employee with a secret password; `GET /payouts/{id}`; `POST
/payouts/{id}/void` while it is PENDING. Idempotency header `X-IDEMPOTENCY-KEY` (legacy
xendit-python only; the docs promise none for links). A reused external_id is refused
with DUPLICATE_PAYOUT_ERROR (/docs/integration-payout-links).

Payouts v2: `POST /v2/payouts` pays a bank account now (idempotency header
`Idempotency-key`, required); `GET /v2/payouts/{id}`; `GET /v2/payouts?reference_id=`
(a bare JSON array in the docs, `{"data": [...]}` in the SDKs: both are read);
`POST /v2/payouts/{id}/cancel` only while ACCEPTED; `GET /payouts_channels` (a JSON
array of channels, xendit-python docs/PayoutApi.md); `GET /balance`.

Callbacks carry the header `x-callback-token`, to compare with the dashboard's token
(`verify_callback_token`). They are `{event, business_id, created, data}`: v2 events
`payout.succeeded` / `payout.failed` / `payout.reversed`; Payout Link events
`disbursement.completed` / `disbursement.failed`, whose data is the disbursement (its id
is not the link's: it is matched by its external_id). A Payout Link object posted as is
(the legacy callback) is read too. A callback is a hint: the payout is fetched again.

A repeat of a successful call (same idempotency key, same body) answered with HTTP 409
and the original object counts as the original answer (`last_response.replayed`); every
duplicate code (DUPLICATE_CODES) means "Xendit may hold it already": look it up, never
send it again under a new key.
"""

import hmac
import re
from datetime import datetime, timezone
from decimal import Decimal
from urllib.parse import urlencode

from .answers import ProviderAnswer
from .errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderClientError,
    ProviderError,
    ProviderMalformedResponse,
    ProviderMismatch,
    ProviderServerError,
)
from .timeutil import parse_timestamp
from .transport import ApiClient, decode_json
from .validation import exact_float, positive_amount
from .validation import text as check_text
from .xendit_codes import (
    CHANNEL_CODES,
    CODES,
    EXPIRABLE_LINK_STATUSES,
    LINK_EVENTS,
    LINK_STATUS_MAPPING,
    PAYOUT_STATUS_MAPPING,
    UNKNOWN,
)

API_URL = "https://api.xendit.co"  # test and live alike: the key tells them apart
TEST_KEY_PREFIX = "xnd_development_"
LINK_PATH = "/payouts"
PAYOUT_PATH = "/v2/payouts"
BALANCE_PATH = "/balance"
CHANNELS_PATH = "/payouts_channels"
LINK_IDEMPOTENCY_HEADER = "X-IDEMPOTENCY-KEY"
PAYOUT_IDEMPOTENCY_HEADER = "Idempotency-key"
CALLBACK_TOKEN_HEADER = "x-callback-token"
DEFAULT_CURRENCY = "IDR"

_DETAILED = {"API_VALIDATION_ERROR", "INVALID_JSON_FORMAT"}  # the provider's text names the field

_EXTERNAL_ID = re.compile(r"[A-Za-z0-9]{1,30}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CHANNEL_CODE = re.compile(r"[A-Z]{2}_[A-Z0-9_]{2,40}")
_ACCOUNT_NUMBER = re.compile(r"\d{1,30}")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")  # a provider id, safe inside a URL path
_KEY = re.compile(r"[\x21-\x7e]{1,100}")  # visible ASCII: safe as a header value
MAX_EMAIL = 254
MAX_REFERENCE = 255
MAX_HOLDER_NAME = 100
MAX_DESCRIPTION = 100


# Validation -------------------------------------------------------------------------


def _amount(value, currency=DEFAULT_CURRENCY):
    """A JSON number: whole for IDR (Xendit has no IDR cents), 2 decimals otherwise.
    Refuses rather than rounds: money is never altered here."""
    amount = positive_amount(value)
    if amount == amount.to_integral_value():
        return int(amount)
    if currency == "IDR":
        raise FieldValidationError("amount", "must be a whole number of rupiah")
    if amount % Decimal("0.01"):
        raise FieldValidationError("amount", "at most 2 decimal places")
    return exact_float(amount, "at most 2 decimal places")


def _payout_id(field, value):
    return check_text(field, value, _ID, "letters, digits, '-' and '_' only, at most 100")


def _idempotency_key(value):
    return check_text("idempotency_key", value, _KEY,
                      "1 to 100 visible ASCII characters, no spaces")


def build_link_body(external_id, amount, email):
    """Body of `POST /payouts`; FieldValidationError names the first bad field."""
    return {
        "external_id": check_text(
            "external_id", external_id, _EXTERNAL_ID, "1 to 30 letters and digits only"
        ),
        "amount": _amount(amount),
        "email": check_text("email", email, _EMAIL, "not a valid email address", limit=MAX_EMAIL),
    }


def build_payout_body(
    reference_id,
    channel_code,
    account_number,
    account_holder_name,
    amount,
    currency=DEFAULT_CURRENCY,
    description=None,
):
    """Body of `POST /v2/payouts`; FieldValidationError names the first bad field."""
    currency = check_text("currency", currency or DEFAULT_CURRENCY, _CURRENCY, "3 capital letters")
    body = {
        "reference_id": check_text("reference_id", reference_id, limit=MAX_REFERENCE),
        "channel_code": check_text(
            "channel_code", channel_code, _CHANNEL_CODE, "a Xendit channel code like ID_BCA"
        ),
        "channel_properties": {
            "account_number": check_text(
                "account_number", account_number, _ACCOUNT_NUMBER, "1 to 30 digits only"
            ),
            "account_holder_name": check_text(
                "account_holder_name", account_holder_name, limit=MAX_HOLDER_NAME
            ),
        },
        "amount": _amount(amount, currency),
        "currency": currency,
    }
    if description := check_text("description", description, limit=MAX_DESCRIPTION, required=False):
        body["description"] = description
    return body


def channel_code(bank_code):
    """The Xendit channel code of a bank clearing code (res.bank.payout_bank_code)."""
    try:
        return CHANNEL_CODES[bank_code]
    except KeyError:
        raise FieldValidationError(
            "bank", f"Xendit has no payout channel for bank code {bank_code!r}"
        ) from None


# Responses --------------------------------------------------------------------------


def _parse(data, mapping, what, state_of=None):
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, str) or not status:
        raise ProviderMalformedResponse(f"Xendit's answer has no {what} status.")
    state = (state_of or mapping.get)(status.upper())
    return ProviderAnswer(
        state=state,
        raw_status=status,
        reason=failure_message(data) if state == "failed" else None,
        provider_reference=data.get("id"),
        raw=data,
    )


def _timestamp(value):
    try:
        return parse_timestamp(value)
    except (AttributeError, TypeError, ValueError):
        return None


def _link_state(data, status, now):
    """A link's Odoo state: FAILED or VOIDED given at or after its expiration_timestamp
    is an expiry, told by when Xendit says it changed (its `<status>_timestamp`, else
    `updated`), else by ``now``."""
    state = LINK_STATUS_MAPPING.get(status)
    if status not in EXPIRABLE_LINK_STATUSES:
        return state
    expires = _timestamp(data.get("expiration_timestamp"))
    changed = (_timestamp(data.get(f"{status.lower()}_timestamp"))
               or _timestamp(data.get("updated")) or now or datetime.now(timezone.utc))
    return "expired" if expires and changed >= expires else state


def parse_link(data, now=None):
    """ProviderAnswer of a Payout Link object (a GET answer or a legacy link callback);
    ``now`` (an aware datetime) is when the answer came, for a status without its time."""
    return _parse(data, LINK_STATUS_MAPPING, "payout link",
                  lambda status: _link_state(data, status, now))


def parse_payout(data):
    """ProviderAnswer of a v2 payout object."""
    return _parse(data, PAYOUT_STATUS_MAPPING, "payout")


def parse_callback(data):
    """ProviderAnswer of a callback body: a v2 payout event, a Payout Link event (whose
    answer names no link: the disbursement's id is not the link's), or a Payout Link
    object. Only its references are trusted, to find the payout and fetch it."""
    if not isinstance(data, dict):
        raise ProviderMalformedResponse("Xendit's callback is not a JSON object.")
    if "event" not in data:
        return parse_link(data)
    event = data["event"]
    if not isinstance(data.get("data"), dict):
        raise ProviderMalformedResponse("Xendit's payout event has no data.")
    if event in LINK_EVENTS:
        disbursement = data["data"]
        state = LINK_EVENTS[event]
        return ProviderAnswer(
            state=state,
            raw_status=str(disbursement.get("status") or event),
            reason=failure_message(disbursement) if state == "failed" else None,
            raw=disbursement,
        )
    return parse_payout(data["data"])


def _listed(data, what):
    """The items of a list answer: a bare JSON array, or `{"data": [...]}`."""
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ProviderMalformedResponse(f"Xendit's {what} list has no data.")
    return items


def parse_channels(data, currency=DEFAULT_CURRENCY):
    """The sorted channel codes of a `GET /payouts_channels` answer that pay bank
    accounts in ``currency`` (xendit-python docs/payout/Channel.md: channel_code,
    channel_category, currency, channel_name, amount_limits). A list with no such channel
    is malformed: it would leave employees no bank to choose."""
    codes = set()
    for channel in _listed(data, "channel"):
        code = channel.get("channel_code") if isinstance(channel, dict) else None
        if not (isinstance(code, str) and _CHANNEL_CODE.fullmatch(code)):
            raise ProviderMalformedResponse("Xendit listed a payout channel without its code.")
        if channel.get("channel_category") == "BANK" and channel.get("currency") == currency:
            codes.add(code)
    if not codes:
        raise ProviderMalformedResponse(f"Xendit listed no bank channel paying {currency}.")
    return sorted(codes)


def failure_message(answer):
    """Plain English for why a payout or link failed (None if it gives no reason), from a
    ProviderAnswer or the object it was read from."""
    raw = answer.raw if isinstance(answer, ProviderAnswer) else answer
    code = raw.get("failure_code") or raw.get("failure_reason")
    if not code:
        return None
    return message_of(code) or f"Xendit reports: {code}."


def message_of(code):
    """What HR reads for a Xendit error or failure code (None for a code not in CODES)."""
    return CODES.get(code, (None, None))[1]


def our_reference(answer):
    """The reference we gave the payout or link an ``answer`` is about (a Payout Link's
    external_id, a v2 payout's reference_id), or None."""
    reference = answer.raw.get("external_id") or answer.raw.get("reference_id")
    return str(reference) if reference else None


def is_same_payout(answer, body):
    """Whether a v2 payout Xendit holds (``answer``, found by reference) is the one
    ``body`` (build_payout_body's) asks for: same amount, channel and account."""
    data = answer.raw
    properties = data.get("channel_properties") or {}
    try:
        same_amount = Decimal(str(data.get("amount"))) == Decimal(str(body["amount"]))
    except ArithmeticError:
        return False
    return same_amount and (data.get("channel_code"), properties.get("account_number")) == (
        body["channel_code"], body["channel_properties"]["account_number"])


def verify_callback_token(expected, received):
    """Raise ProviderBadSignature unless `received` (the `x-callback-token` header) is
    the configured token; compared in constant time."""
    if not expected:
        raise ProviderBadSignature(
            "No Xendit callback token is configured.", code="NO_CALLBACK_TOKEN"
        )
    if not received:
        raise ProviderBadSignature(
            "The Xendit callback has no x-callback-token.", code="MISSING_CALLBACK_TOKEN"
        )
    if not hmac.compare_digest(str(expected).encode(), str(received).encode()):
        raise ProviderBadSignature(
            "The Xendit callback token does not match.", code="INVALID_CALLBACK_TOKEN"
        )


# Client -----------------------------------------------------------------------------


class XenditClient(ApiClient):
    """Payout calls return a ProviderAnswer (`find_payouts` a list of them); after a
    money-moving call, `last_response.replayed` says Xendit answered a repeat with the
    original result."""

    name = "Xendit"

    def __init__(self, base_url, secret_key, **options):
        super().__init__(base_url, **options)
        self.secret_key = secret_key

    # Payout Link (legacy) --------------------------------------------------------------

    def create_payout_link(self, external_id, amount, email, idempotency_key):
        body = build_link_body(external_id, amount, email)
        response = self.send("POST", LINK_PATH, body, request_id=_idempotency_key(idempotency_key))
        return parse_link(response.data)

    def get_payout_link(self, payout_id):
        response = self.send("GET", f"{LINK_PATH}/{_payout_id('payout_id', payout_id)}")
        return parse_link(response.data)

    def void_payout_link(self, payout_id, idempotency_key):
        path = f"{LINK_PATH}/{_payout_id('payout_id', payout_id)}/void"
        response = self.send("POST", path, request_id=_idempotency_key(idempotency_key))
        return parse_link(response.data)

    # Payouts v2 ------------------------------------------------------------------------

    def create_payout(self, *, idempotency_key=None, **fields):
        """Pay a bank account now. `fields` are build_payout_body's, by name (validated
        here, before anything is sent); `idempotency_key`, which Xendit requires, is
        persisted by the caller and reused on every retry."""
        body = build_payout_body(**fields)
        response = self.send(
            "POST", PAYOUT_PATH, body, request_id=_idempotency_key(idempotency_key)
        )
        return parse_payout(response.data)

    def get_payout(self, payout_id):
        response = self.send("GET", f"{PAYOUT_PATH}/{_payout_id('payout_id', payout_id)}")
        return parse_payout(response.data)

    def find_payouts(self, reference_id):
        """The payouts created with `reference_id` (how to reconcile a lost answer)."""
        reference_id = check_text("reference_id", reference_id, limit=MAX_REFERENCE)
        query = urlencode({"reference_id": reference_id})
        response = self.send("GET", f"{PAYOUT_PATH}?{query}", array=True)
        return [parse_payout(item) for item in _listed(response.data, "payout")]

    def reconcile_payout(self, *, idempotency_key=None, **fields):
        """Find the v2 payout by its reference; create it (`create_payout`, same
        idempotency key) if there is none. `fields` are build_payout_body's, by name. A
        payout under the reference that is not ours (another amount or account,
        `is_same_payout`) is never adopted: ProviderMismatch, a person checks."""
        try:
            payouts = self.find_payouts(fields["reference_id"])
        except ProviderClientError as error:
            # Not a refusal of the payout: what happened is still unknown.
            raise ProviderError(error.message, status=error.status) from error
        body = build_payout_body(**fields)
        if ours := [answer for answer in payouts if is_same_payout(answer, body)]:
            return ours[0]
        if payouts:
            raise ProviderMismatch(
                "Xendit holds a payout under this reference with another amount or account."
            )
        return self.create_payout(idempotency_key=idempotency_key, **fields)

    def get_payout_channels(self, currency=DEFAULT_CURRENCY):
        """The codes of the bank channels this account can pay in ``currency``."""
        currency = check_text("currency", currency, _CURRENCY, "3 capital letters")
        query = urlencode({"currency": currency, "channel_category": "BANK"})
        response = self.send("GET", f"{CHANNELS_PATH}?{query}", array=True)
        return parse_channels(response.data, currency)

    def cancel_payout(self, payout_id):
        """Cancel a v2 payout while Xendit has not sent it. Odoo never does (a claimed link
        is paid or fails); kept for the tests, which cancel a payout at Xendit as someone
        could from Xendit's dashboard."""
        path = f"{PAYOUT_PATH}/{_payout_id('payout_id', payout_id)}/cancel"
        response = self.send("POST", path)
        return parse_payout(response.data)

    def get_balance(self):
        """The available balance (cash account), as an int when whole."""
        balance = self.send("GET", BALANCE_PATH).data.get("balance")
        if isinstance(balance, bool) or not isinstance(balance, (int, float)):
            raise ProviderMalformedResponse("Xendit's balance answer has no balance.")
        return int(balance) if balance == int(balance) else balance

    # Hooks -----------------------------------------------------------------------------

    def _build_headers(self, method, path, body, request_id):
        headers = super()._build_headers(method, path, body, request_id)
        if request_id:
            v2 = path == PAYOUT_PATH or path.startswith(PAYOUT_PATH + "/")
            headers[PAYOUT_IDEMPOTENCY_HEADER if v2 else LINK_IDEMPOTENCY_HEADER] = request_id
        return headers

    def _build_auth(self):
        return (self.secret_key, "")

    def _is_replay(self, response):
        # A repeat with the same key and body answered with the original object; a 409
        # error (a duplicate code) has an error_code and no status.
        if response.status_code != 409:
            return False
        data = decode_json(response.content) or {}
        return bool(data.get("id") and data.get("status")) and "error_code" not in data

    def _parse_error(self, response):
        error = super()._parse_error(response)
        if error.code == "SERVER_ERROR" and not isinstance(error, ProviderServerError):
            return ProviderServerError(
                error.message, status=error.status, code=error.code, body=error.body
            )
        return error

    def _is_refusal(self, status, code):
        # A code's kind decides (a duplicate is never a refusal, whatever its status).
        return super()._is_refusal(status, code) and CODES.get(code, (None,))[0] != UNKNOWN

    def _error_details(self, data):
        nested = data.get("error") if isinstance(data.get("error"), dict) else {}
        code = data.get("error_code") or nested.get("code")
        detail = data.get("message") or nested.get("message")
        code = str(code) if code else None
        detail = str(detail) if detail else None
        message = message_of(code)
        if message and detail and code in _DETAILED:
            message = f"{message} {detail}"
        return message or detail, code
