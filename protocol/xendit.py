"""Xendit: the Payout Link API (legacy `/payouts`) and Payouts v2 (`/v2/payouts`).

Sources: research/providers.md §2. Both APIs use HTTP Basic auth with the secret API key
as the user name and an empty password; answers are plain JSON (not signed). Errors have
the body `{"error_code": ..., "message": ..., "errors": [...]}`.

Payout Link: `POST /payouts` {external_id, amount, email} creates a link that Xendit
emails to the employee with a secret password; `GET /payouts/{id}`; `POST
/payouts/{id}/void` while it is not claimed. Idempotency header `X-IDEMPOTENCY-KEY`.

Payouts v2: `POST /v2/payouts` pays a bank account now (idempotency header
`Idempotency-key`, required); `GET /v2/payouts/{id}`; `GET /v2/payouts?reference_id=`;
`POST /v2/payouts/{id}/cancel` only while ACCEPTED; `GET /balance`.

Callbacks carry the header `x-callback-token`, to compare with the dashboard's token
(`verify_callback_token`). v2 callbacks are `{event, business_id, created, data}` with
event `payout.succeeded` / `payout.failed` / `payout.reversed`; a link's callback is the
Payout Link object itself (its shape is not documented: re-fetch it before trusting it).

A repeat of a successful call (same idempotency key, same body) answered with HTTP 409
and the original object counts as the original answer (`last_response.replayed`); a 409
`DUPLICATE_TRANSACTION_ERROR` without it means "key already used": look the payout up
(`find_payouts(reference_id)`) rather than send it again under a new key.
"""

import hmac
import re
from decimal import Decimal
from urllib.parse import urlencode

from .answers import ProviderAnswer
from .errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderMalformedResponse,
    ProviderServerError,
)
from .transport import ApiClient, decode_json
from .validation import exact_float, positive_amount
from .validation import text as check_text

API_URL = "https://api.xendit.co"  # test and live alike: the key tells them apart
TEST_KEY_PREFIX = "xnd_development_"
LINK_PATH = "/payouts"
PAYOUT_PATH = "/v2/payouts"
BALANCE_PATH = "/balance"
LINK_IDEMPOTENCY_HEADER = "X-IDEMPOTENCY-KEY"
PAYOUT_IDEMPOTENCY_HEADER = "Idempotency-key"
CALLBACK_TOKEN_HEADER = "x-callback-token"
PAYOUT_EVENTS = {  # v2 callback events, by the payout status they announce
    "SUCCEEDED": "payout.succeeded",
    "FAILED": "payout.failed",
    "REVERSED": "payout.reversed",
}
DEFAULT_CURRENCY = "IDR"

LINK_STATUS_MAPPING = {
    "PENDING": "sent",
    "ISSUED": "sent",  # legacy name of PENDING
    "DISBURSING": "processing",  # claimed, money moving
    "LOCKED": "processing",
    "COMPLETED": "done",
    "FAILED": "failed",  # final: create a new link
    "EXPIRED": "expired",  # not claimed in time
    "VOIDED": "cancelled",
}

PAYOUT_STATUS_MAPPING = {
    "ACCEPTED": "processing",
    "REQUESTED": "processing",
    "PENDING_COMPLIANCE_ASSESSMENT": "processing",
    "SUCCEEDED": "done",
    "FAILED": "failed",
    "COMPLIANCE_REJECTED": "failed",
    "REVERSED": "failed",  # after SUCCEEDED: the bank sent the money back
    # Cancelled at Xendit (only possible before any money moved): the employee was not
    # paid and has already claimed, so the link fails and can be reissued.
    "CANCELLED": "failed",
}

# Bank clearing code (res.bank.payout_bank_code) -> Xendit channel code, for the
# Indonesian banks shipped in data/res_bank_data.xml.
CHANNEL_CODES = {
    "014": "ID_BCA",
    "008": "ID_MANDIRI",
    "009": "ID_BNI",
    "002": "ID_BRI",
    "022": "ID_CIMB",
    "013": "ID_PERMATA",
    "011": "ID_DANAMON",
    "451": "ID_BSI",
    "200": "ID_BTN",
    "016": "ID_MAYBANK",
    "028": "ID_OCBC",
    "019": "ID_PANIN",
    "426": "ID_MEGA",
    "213": "ID_BTPN",
    "536": "ID_BCA_SYR",
    "542": "ID_JAGO",
    "535": "ID_SEABANK",
    "110": "ID_BJB",
}

# Error codes (and failure codes of failed payouts) -> what to tell the user.
ERROR_MESSAGES = {
    "API_VALIDATION_ERROR": "Xendit refused a field of the request.",
    "INVALID_JSON_FORMAT": "Xendit could not read the request.",
    "RECIPIENT_ACCOUNT_NUMBER_ERROR": "The bank account number is not valid for this bank.",
    "RECIPIENT_AMOUNT_ERROR": (
        "The amount is outside what this bank accepts (minimum, maximum or increment)."
    ),
    "MAXIMUM_TRANSFER_LIMIT_ERROR": "The amount is above Xendit's transfer limit.",
    "CHANNEL_CODE_NOT_SUPPORTED_ERROR": "Xendit cannot pay to this bank.",
    "DUPLICATE_TRANSACTION_ERROR": (
        "This idempotency key was already used for another request: look the payout up "
        "instead of sending it again."
    ),
    "DUPLICATE_ERROR": (
        "Xendit already has a payout with this idempotency key: look it up instead of "
        "sending it again."
    ),
    "DUPLICATE_PAYOUT_ERROR": (
        "Xendit already has a payout link with this external id: Odoo waits for its "
        "callback instead of creating another."
    ),
    "INSUFFICIENT_BALANCE": "The Xendit balance is too low for this payout.",
    "REQUEST_FORBIDDEN_ERROR": (
        "The Xendit API key may not do this: it needs the Money-out write permission."
    ),
    "INVALID_API_KEY": "The Xendit API key is wrong or missing.",
    "CANNOT_VOID_PAYOUT": (
        "The payout link can no longer be voided: the employee already claimed it, or it "
        "is finished."
    ),
    "CANNOT_CANCEL_PAYOUT": "The payout can no longer be cancelled: Xendit already sent it.",
    "PAYOUT_NOT_FOUND": "Xendit has no payout with this id.",
    "DATA_NOT_FOUND": "Xendit has no payout with this id.",
    "SERVER_ERROR": "Xendit had an internal error; the same request can be sent again.",
    # Failure codes of payouts and links that failed after they were accepted.
    "INVALID_DESTINATION": "The destination bank account does not exist or cannot receive.",
    "TOO_MANY_WRONG_PASSWORDS": (
        "The employee entered a wrong secret password too many times; create a new link."
    ),
}
# Xendit may hold the payout already: its outcome is unknown until looked up, never a
# refusal (the current name of each, and the legacy v2 one).
DUPLICATE_CODES = {"DUPLICATE_ERROR", "DUPLICATE_PAYOUT_ERROR", "DUPLICATE_TRANSACTION_ERROR"}
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


def _parse(data, mapping, what):
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, str) or not status:
        raise ProviderMalformedResponse(f"Xendit's answer has no {what} status.")
    state = mapping.get(status.upper())
    return ProviderAnswer(
        state=state,
        raw_status=status,
        reason=failure_message(data) if state == "failed" else None,
        provider_reference=data.get("id"),
        raw=data,
    )


def parse_link(data):
    """ProviderAnswer of a Payout Link object (a GET answer or a link callback)."""
    return _parse(data, LINK_STATUS_MAPPING, "payout link")


def parse_payout(data):
    """ProviderAnswer of a v2 payout object."""
    return _parse(data, PAYOUT_STATUS_MAPPING, "payout")


def parse_callback(data):
    """ProviderAnswer of a callback body: a v2 event envelope or a Payout Link object."""
    if not isinstance(data, dict):
        raise ProviderMalformedResponse("Xendit's callback is not a JSON object.")
    if "event" in data:
        if not isinstance(data.get("data"), dict):
            raise ProviderMalformedResponse("Xendit's payout event has no data.")
        return parse_payout(data["data"])
    return parse_link(data)


def failure_message(answer):
    """Plain English for why a payout or link failed (None if it gives no reason), from a
    ProviderAnswer or the object it was read from."""
    raw = answer.raw if isinstance(answer, ProviderAnswer) else answer
    code = raw.get("failure_code") or raw.get("failure_reason")
    if not code:
        return None
    return ERROR_MESSAGES.get(code, f"Xendit reports: {code}.")


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
        response = self.send("GET", f"{PAYOUT_PATH}?{urlencode({'reference_id': reference_id})}")
        items = response.data.get("data")
        if not isinstance(items, list):
            raise ProviderMalformedResponse("Xendit's payout list has no data.")
        return [parse_payout(item) for item in items]

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
        # error (DUPLICATE_TRANSACTION_ERROR) has an error_code and no status.
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
        return super()._is_refusal(status, code) and code not in DUPLICATE_CODES

    def _error_details(self, data):
        nested = data.get("error") if isinstance(data.get("error"), dict) else {}
        code = data.get("error_code") or nested.get("code")
        detail = data.get("message") or nested.get("message")
        code = str(code) if code else None
        detail = str(detail) if detail else None
        message = ERROR_MESSAGES.get(code)
        if message and detail and code in _DETAILED:
            message = f"{message} {detail}"
        return message or detail, code
