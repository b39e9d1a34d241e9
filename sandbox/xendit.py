"""Xendit on the sandbox: the Payout Link API (legacy) and Payouts v2, with callbacks.

Plugs into a SandboxServer next to DOKU (`XenditSandbox(server)`), or alone (`start()`).

Routes (answers are JSON; errors are `{"error_code", "message", "errors": [...]}`):

    POST /payouts                 create a Payout Link        (X-IDEMPOTENCY-KEY optional)
    GET  /payouts/{id}            read it
    POST /payouts/{id}/void       void it while PENDING       (X-IDEMPOTENCY-KEY optional)
    POST /v2/payouts              create a payout             (Idempotency-key required)
    GET  /v2/payouts/{id}         read it
    GET  /v2/payouts?reference_id=...   {"data": [payouts with that reference], "has_more"}
    POST /v2/payouts/{id}/cancel  cancel it while ACCEPTED
    GET  /balance                 {"balance": <configurable, default 1,000,000,000 IDR>}

Checks, in this order:

    401 INVALID_API_KEY           Basic auth user is not the secret key (password ignored)
    403 REQUEST_FORBIDDEN_ERROR   a POST with the read-only key (READ_ONLY_KEY)
    400 API_VALIDATION_ERROR      Idempotency-key missing on POST /v2/payouts
    409 <original answer>         same idempotency key, same method, path and body: the
                                  original object again (`replay_status`, 409 by default;
                                  `replays=False` answers every reuse with the error below)
    409 DUPLICATE_TRANSACTION_ERROR  same key with another body or path
    400 INVALID_JSON_FORMAT       a create whose body is not a JSON object
    400 API_VALIDATION_ERROR      a field breaks protocol/xendit.py's rules; the message
                                  names it ("amount: must be greater than 0")
    400 CHANNEL_CODE_NOT_SUPPORTED_ERROR  v2 channel_code not in xendit.CHANNEL_CODES
    400 RECIPIENT_AMOUNT_ERROR    v2 amount under MIN_PAYOUT_AMOUNT (10,000 IDR)
    400 MAXIMUM_TRANSFER_LIMIT_ERROR  v2 amount over MAX_PAYOUT_AMOUNT (250,000,000 IDR)
    400 RECIPIENT_ACCOUNT_NUMBER_ERROR  v2 account number 4000000000
    404 PAYOUT_NOT_FOUND          unknown id
    400 CANNOT_VOID_PAYOUT        void of a link that is not PENDING (VOIDED: 200, no-op)
    400 CANNOT_CANCEL_PAYOUT      cancel of a payout not ACCEPTED (CANCELLED: 200, no-op)

CANNOT_VOID_PAYOUT and CANNOT_CANCEL_PAYOUT are the sandbox's names: Xendit's own codes for
these refusals were not found (research/providers.md); the client maps unknown codes to
Xendit's message, so the real ones degrade gracefully.

Only successful answers are kept for replay: a refused request does not use up its key.
The real v2 API may answer any reuse of a key with DUPLICATE_TRANSACTION_ERROR (v3
documents the replay); `replays=False` lets a test show the client reconciling by lookup.

Lifecycle, driven by the sandbox clock (seconds after creation), applied in time order
whenever the sandbox is called (API, `deliver`, control endpoints):

Payout Link, by the local part of `email` (first matching prefix):

    claim...@       +1 h claimed (BCA 1234567890, "Sandbox Recipient") -> DISBURSING,
                    +15 min COMPLETED
    invalid...@     +1 h claimed with account 4000000001 -> DISBURSING,
                    +15 min FAILED (failure_reason INVALID_DESTINATION)
    wrongpass...@   +1 h 3 wrong passwords -> FAILED (TOO_MANY_WRONG_PASSWORDS)
    anything        PENDING until claimed (`POST /_sandbox/xendit/claim`)
    every link      still PENDING after 3 days -> EXPIRED

  A claim moves the link to DISBURSING; 15 min later it is COMPLETED, or FAILED when the
  account is 4000000001 (INVALID_DESTINATION), 4000000002 or the balance is short at claim
  time (INSUFFICIENT_BALANCE); accounts 4000000003 and 131313 stay DISBURSING.

Payouts v2, by `channel_properties.account_number` (TEST_ACCOUNTS):

    anything      ACCEPTED, +1 min REQUESTED, +15 min SUCCEEDED
    4000000001    ACCEPTED, +1 min REQUESTED, +15 min FAILED (failure_code INVALID_DESTINATION)
    4000000002    ACCEPTED, +1 min FAILED (INSUFFICIENT_BALANCE); so does any payout over
                  the balance at creation
    4000000003    ACCEPTED, +1 min PENDING_COMPLIANCE_ASSESSMENT, forever
    4000000004    as "anything", then +75 min (1 h after success) REVERSED
    4000000005    ACCEPTED, +1 min PENDING_COMPLIANCE_ASSESSMENT, +1 h COMPLIANCE_REJECTED
    131313        ACCEPTED forever (so cancel can be tested)

Balance: a v2 payout is debited when accepted, a link when claimed; the amount comes back
on FAILED, CANCELLED, REVERSED and COMPLIANCE_REJECTED.

Callbacks: a change made by the clock or by the recipient (not by an API call such as
void or cancel) queues one: for v2 SUCCEEDED / FAILED / REVERSED the envelope
`{"event": "payout.succeeded"|"payout.failed"|"payout.reversed", "business_id",
"created", "data": <payout>}`; for a link, the Payout Link object. Nothing is sent until
`deliver()` (or `POST /_sandbox/xendit/deliver`): it POSTs every queued callback, in
order and synchronously, to `callback_url` (loopback only) with the header
`x-callback-token: <callback_token>`, and records each attempt in `deliveries` (HTTP
status, or the error). Callbacks not answered 2xx stay queued for the next delivery.

Faults are the server's (see server.py). Xendit's answers are not signed, so
`bad_signature` changes nothing here.

Control endpoints (JSON, besides the server's):

    POST /_sandbox/xendit/config      {"callback_url", "callback_token", "balance",
                                       "replays", "replay_status"} any of them -> all
    POST /_sandbox/xendit/claim       {"id", "account_number"?, "bank_code"?,
                                       "account_holder_name"?, "wrong_passwords"?}
    POST /_sandbox/xendit/deliver     {"deliveries": [this round's attempts]}
    GET  /_sandbox/xendit/deliveries  {"deliveries": [every attempt], "pending": n}
    GET  /_sandbox/xendit/objects     {"links": [...], "payouts": [...], "balance": n}
"""

import base64
import binascii
import copy
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from urllib.parse import urlsplit

import requests

from ..protocol import xendit, xendit_codes
from ..protocol.errors import FieldValidationError
from ..protocol.timeutil import HOUR, MINUTE
from .server import ProviderSandbox, Response, _check_loopback, json_response

SECRET_KEY = "xnd_development_sandbox_not_a_secret"
READ_ONLY_KEY = "xnd_public_development_sandbox_not_a_secret"  # GET only
CALLBACK_TOKEN = "sandbox-callback-token-not-a-secret"
BUSINESS_ID = "sandbox-business-1"
MERCHANT_NAME = "Sandbox Merchant"
DEFAULT_BALANCE = 1_000_000_000
MIN_PAYOUT_AMOUNT = 10_000
MAX_PAYOUT_AMOUNT = 250_000_000
CALLBACK_TIMEOUT = 5  # seconds
LINK_VALIDITY_DAYS = 3  # an unclaimed Payout Link expires
MAX_WRONG_PASSWORDS = 3  # then the Payout Link fails
DISBURSE_TIME = 15 * MINUTE

INVALID_ACCOUNT = "4000000000"
TEST_ACCOUNTS = {
    INVALID_ACCOUNT: "Refused at once (RECIPIENT_ACCOUNT_NUMBER_ERROR)",
    "4000000001": "Fails: invalid destination",
    "4000000002": "Fails: insufficient balance",
    "4000000003": "Stays in compliance review (processing)",
    "4000000004": "Succeeds, then is reversed 1 h later",
    "4000000005": "Compliance review, then rejected",
    "131313": "Stays ACCEPTED (can be cancelled)",
}
_INSUFFICIENT = {"failure_code": "INSUFFICIENT_BALANCE"}
_REQUESTED = (MINUTE, "REQUESTED", {})
_SUCCEEDED = (DISBURSE_TIME, "SUCCEEDED", {})
PAYOUT_SCENARIOS = {  # account number: ((seconds after creation, status, fields), ...)
    "4000000001": (
        _REQUESTED,
        (DISBURSE_TIME, "FAILED", {"failure_code": "INVALID_DESTINATION"}),
    ),
    "4000000002": ((MINUTE, "FAILED", _INSUFFICIENT),),
    "4000000003": ((MINUTE, "PENDING_COMPLIANCE_ASSESSMENT", {}),),
    "4000000004": (_REQUESTED, _SUCCEEDED, (DISBURSE_TIME + HOUR, "REVERSED", {})),
    "4000000005": (
        (MINUTE, "PENDING_COMPLIANCE_ASSESSMENT", {}),
        (HOUR, "COMPLIANCE_REJECTED", {}),
    ),
    "131313": (),
}
DEFAULT_PAYOUT_SCENARIO = (_REQUESTED, _SUCCEEDED)

DEFAULT_RECIPIENT = {
    "bank_code": "BCA",
    "account_number": "1234567890",
    "account_holder_name": "Sandbox Recipient",
}
LINK_SCENARIOS = {  # email local-part prefix: (seconds after creation, what happens)
    "claim": (HOUR, {"claim": DEFAULT_RECIPIENT}),
    "invalid": (HOUR, {"claim": {**DEFAULT_RECIPIENT, "account_number": "4000000001"}}),
    "wrongpass": (HOUR, {"claim": {"wrong_passwords": MAX_WRONG_PASSWORDS}}),
}
LINK_CLAIM_OUTCOMES = {  # account number: the link's end, DISBURSE_TIME after the claim
    "4000000001": ("FAILED", {"failure_reason": "INVALID_DESTINATION"}),
    "4000000002": ("FAILED", {"failure_reason": "INSUFFICIENT_BALANCE"}),
    "4000000003": None,
    "131313": None,
}
REFUNDED = {"FAILED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED"}
FINAL = REFUNDED | {"COMPLETED", "EXPIRED", "VOIDED", "SUCCEEDED"}  # REVERSED follows too


def _ts(dt):
    """Xendit's timestamps: UTC with milliseconds and `Z`."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _check_callback_url(url):
    """Callbacks go to loopback only (the sandbox never contacts anything else)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"The callback URL must be http(s), not {url!r}.")
    _check_loopback(parts.hostname or "")


def _error(status, code, message, errors=()):
    return json_response(status, {"error_code": code, "message": message, "errors": list(errors)})


class _Refused(Exception):
    def __init__(self, status, code, message, errors=()):
        super().__init__(message)
        self.response = _error(status, code, message, errors)


@dataclass
class _Item:
    kind: str  # "link" or "payout"
    data: dict
    steps: list = field(default_factory=list)  # [(due datetime, status or "CLAIM", fields)]
    debited: bool = False


@dataclass
class _Answer:
    method: str
    path: str
    body: object  # the request's JSON (or bytes when not JSON)
    answer: bytes


@dataclass
class _Callback:
    event: str | None  # None for a link callback
    object_id: str
    status: str
    body: bytes
    attempts: int = 0


class XenditSandbox(ProviderSandbox):
    def __init__(
        self,
        server,
        *,
        secret_key=SECRET_KEY,
        read_only_key=READ_ONLY_KEY,
        callback_url=None,
        callback_token=CALLBACK_TOKEN,
        balance=DEFAULT_BALANCE,
        replays=True,
        replay_status=409,
    ):
        if callback_url:
            _check_callback_url(callback_url)
        super().__init__(server)
        self.secret_key = secret_key
        self.read_only_key = read_only_key
        self._defaults = {
            "callback_url": callback_url,
            "callback_token": callback_token,
            "balance": balance,
            "replays": replays,
            "replay_status": replay_status,
        }
        link, payout = xendit.LINK_PATH, xendit.PAYOUT_PATH
        routes = [
            ("POST", link, self._create_link, xendit.LINK_IDEMPOTENCY_HEADER),
            ("GET", link + "/{id}", self._get_link, None),
            ("POST", link + "/{id}/void", self._void_link, xendit.LINK_IDEMPOTENCY_HEADER),
            ("POST", payout, self._create_payout, xendit.PAYOUT_IDEMPOTENCY_HEADER),
            ("GET", payout, self._find_payouts, None),
            ("GET", payout + "/{id}", self._get_payout, None),
            ("POST", payout + "/{id}/cancel", self._cancel_payout, None),
            ("GET", xendit.BALANCE_PATH, lambda request: {"balance": self.balance}, None),
        ]
        for method, path, action, key_header in routes:
            server.route(method, path, self._endpoint(action, key_header))
        for method, name, action in [
            ("POST", "config", lambda params: self.configure(**params)),
            ("POST", "claim", lambda params: self.claim(**params)),
            ("POST", "deliver", lambda params: {"deliveries": self.deliver()}),
            ("GET", "deliveries", self._control_deliveries),
            ("GET", "objects", self._control_objects),
        ]:
            server.control(method, f"xendit/{name}", action)
        self.reset()

    def reset(self):
        with self._lock:
            self.links = {}  # id: _Item
            self.payouts = {}  # id: _Item
            self._answers = {}  # (header, key): _Answer
            self._outbox = []  # _Callback, oldest first
            self.deliveries = []  # every delivery attempt, oldest first
            for name, value in self._defaults.items():
                setattr(self, name, value)

    def client(self, **options):
        """A XenditClient with this sandbox's URL and secret key."""
        return xendit.XenditClient(self.url, self.secret_key, **options)

    def configure(self, **settings):
        """Change any of callback_url, callback_token, balance, replays, replay_status;
        return them all. Also `POST /_sandbox/xendit/config`. All or nothing."""
        unknown = set(settings) - set(self._defaults)
        if unknown:
            raise TypeError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        converters = {"balance": int, "replays": bool, "replay_status": int}
        values = {
            name: converters.get(name, str)(value)
            for name, value in settings.items()
            if value is not None  # None leaves a setting as it is
        }
        if "callback_url" in values:
            _check_callback_url(values["callback_url"])
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)
            return {name: getattr(self, name) for name in self._defaults}

    # Serving ---------------------------------------------------------------------------

    def _endpoint(self, action, key_header):
        def handle(request):
            try:
                self._authenticate(request)
                with self._lock:
                    self._advance(self.server.clock.now())
                    if key_header:
                        return self._idempotent(request, key_header, action)
                    return json_response(200, action(request))
            except _Refused as refusal:
                return refusal.response

        return handle

    def _authenticate(self, request):
        scheme, _, encoded = (request.headers.get("Authorization") or "").partition(" ")
        try:
            user = base64.b64decode(encoded, validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        if scheme.lower() != "basic" or not user:
            raise _Refused(401, "INVALID_API_KEY", "API key is missing or invalid.")
        if hmac.compare_digest(user.encode(), self.secret_key.encode()):
            return
        if self.read_only_key and hmac.compare_digest(user.encode(), self.read_only_key.encode()):
            if request.method == "GET":
                return
            raise _Refused(
                403, "REQUEST_FORBIDDEN_ERROR", "The API key is forbidden to perform this request."
            )
        raise _Refused(401, "INVALID_API_KEY", "API key is invalid.")

    def _idempotent(self, request, header, action):
        key = request.headers.get(header)
        if not key:
            if header == xendit.PAYOUT_IDEMPOTENCY_HEADER:
                raise _Refused(
                    400,
                    "API_VALIDATION_ERROR",
                    f"{header}: required",
                    [{"path": header, "message": "required"}],
                )
            return json_response(200, action(request))
        body = request.json if request.json is not None else request.body
        seen = self._answers.get((header.lower(), key))
        if seen:
            same = (seen.method, seen.path, seen.body) == (request.method, request.path, body)
            if same and self.replays:
                return Response(self.replay_status, seen.answer)
            raise _Refused(
                409,
                "DUPLICATE_TRANSACTION_ERROR",
                f"The {header} was already used" + (" for another request." if not same else "."),
            )
        response = json_response(200, action(request))
        self._answers[header.lower(), key] = _Answer(
            request.method, request.path, copy.deepcopy(body), response.body
        )
        return response

    # Actions (called with the lock held) -----------------------------------------------

    def _fields(self, request, build, names):
        if not isinstance(request.json, dict):
            raise _Refused(400, "INVALID_JSON_FORMAT", "The body must be a JSON object.")
        source = dict(request.json)
        if isinstance(source.get("channel_properties"), dict):
            source.update(source["channel_properties"])
        try:
            return build(**{name: source.get(name) for name in names})
        except FieldValidationError as error:
            raise _Refused(
                400,
                "API_VALIDATION_ERROR",
                error.message,
                [{"path": error.field, "message": error.rule}],
            ) from None

    def _create_link(self, request):
        body = self._fields(request, xendit.build_link_body, ("external_id", "amount", "email"))
        now = self.server.clock.now()
        link_id = str(uuid.uuid4())
        item = _Item(
            "link",
            {
                "id": link_id,
                **body,
                "merchant_name": MERCHANT_NAME,
                "status": "PENDING",
                "expiration_timestamp": _ts(now + timedelta(days=LINK_VALIDITY_DAYS)),
                "created": _ts(now),
                "updated": _ts(now),
                "payout_url": f"{self.url}/web/{link_id}",
            },
        )
        local_part = body["email"].split("@")[0].lower()
        for prefix, (offset, what) in LINK_SCENARIOS.items():
            if local_part.startswith(prefix):
                item.steps.append((now + timedelta(seconds=offset), "CLAIM", what["claim"]))
                break
        item.steps.append((now + timedelta(days=LINK_VALIDITY_DAYS), "EXPIRED", {}))
        self.links[link_id] = item
        return item.data

    def _find(self, items, request, what):
        """The item of the path's `{id}`; 404 PAYOUT_NOT_FOUND ("<what> not found.")."""
        item = items.get(request.params["id"])
        if item is None:
            raise _Refused(404, "PAYOUT_NOT_FOUND", f"{what} not found.")
        return item

    def _stop(self, item, only_from, stopped, code, refusal):
        """Move `item` from `only_from` to `stopped` (again: a no-op), as the API asked
        (no callback); refuse with `code` and `refusal` (its `{status}` filled) otherwise."""
        status = item.data["status"]
        if status == only_from:
            self._set(item, stopped, self.server.clock.now(), {}, notify=False)
        elif status != stopped:
            raise _Refused(400, code, refusal.format(status=status))
        return item.data

    def _get_link(self, request):
        return self._find(self.links, request, "Payout link").data

    def _void_link(self, request):
        item = self._find(self.links, request, "Payout link")
        refusal = "The payout link is {status}: only a PENDING (unclaimed) link can be voided."
        return self._stop(item, "PENDING", "VOIDED", "CANNOT_VOID_PAYOUT", refusal)

    def _create_payout(self, request):
        body = self._fields(
            request,
            xendit.build_payout_body,
            (
                "reference_id",
                "channel_code",
                "account_number",
                "account_holder_name",
                "amount",
                "currency",
                "description",
            ),
        )
        self._check_payout(body)
        now = self.server.clock.now()
        account = body["channel_properties"]["account_number"]
        item = _Item(
            "payout",
            {
                "id": f"disb-{uuid.uuid4()}",
                **body,
                "status": "ACCEPTED",
                "created": _ts(now),
                "updated": _ts(now),
                "estimated_arrival_time": _ts(now + timedelta(seconds=DISBURSE_TIME)),
                "business_id": BUSINESS_ID,
            },
        )
        steps = PAYOUT_SCENARIOS.get(account, DEFAULT_PAYOUT_SCENARIO)
        if account != "4000000002":
            if body["amount"] > self.balance:
                steps = PAYOUT_SCENARIOS["4000000002"]
            else:
                self.balance -= body["amount"]
                item.debited = True
        item.steps = [(now + timedelta(seconds=at), s, f) for at, s, f in steps]
        self.payouts[item.data["id"]] = item
        return item.data

    def _check_payout(self, body):
        if body["channel_code"] not in xendit.CHANNEL_CODES.values():
            raise _Refused(
                400,
                "CHANNEL_CODE_NOT_SUPPORTED_ERROR",
                f"Channel code {body['channel_code']} is not supported.",
            )
        if body["currency"] != "IDR":
            raise _Refused(
                400,
                "API_VALIDATION_ERROR",
                "currency: Indonesian channels pay IDR only",
                [{"path": "currency", "message": "Indonesian channels pay IDR only"}],
            )
        if body["amount"] < MIN_PAYOUT_AMOUNT:
            raise _Refused(
                400, "RECIPIENT_AMOUNT_ERROR", f"The minimum amount is {MIN_PAYOUT_AMOUNT} IDR."
            )
        if body["amount"] > MAX_PAYOUT_AMOUNT:
            raise _Refused(
                400,
                "MAXIMUM_TRANSFER_LIMIT_ERROR",
                f"The maximum amount is {MAX_PAYOUT_AMOUNT} IDR.",
            )
        if body["channel_properties"]["account_number"] == INVALID_ACCOUNT:
            raise _Refused(400, "RECIPIENT_ACCOUNT_NUMBER_ERROR", "The account number is invalid.")

    def _get_payout(self, request):
        return self._find(self.payouts, request, "Payout").data

    def _find_payouts(self, request):
        reference = request.query.get("reference_id")
        if not reference:
            raise _Refused(
                400,
                "API_VALIDATION_ERROR",
                "reference_id: required",
                [{"path": "reference_id", "message": "required"}],
            )
        found = [i.data for i in self.payouts.values() if i.data["reference_id"] == reference]
        return {"data": found, "has_more": False}

    def _cancel_payout(self, request):
        item = self._find(self.payouts, request, "Payout")
        refusal = "The payout is {status}: only an ACCEPTED payout can be cancelled."
        return self._stop(item, "ACCEPTED", "CANCELLED", "CANNOT_CANCEL_PAYOUT", refusal)

    # Lifecycle (lock held) -------------------------------------------------------------

    def _advance(self, now):
        """Apply every step due by `now`, all objects together in time order."""
        items = [*self.links.values(), *self.payouts.values()]
        while True:
            due = [item for item in items if item.steps and item.steps[0][0] <= now]
            if not due:
                return
            item = min(due, key=lambda i: i.steps[0][0])
            at, status, fields = item.steps.pop(0)
            if status == "CLAIM":
                if item.data["status"] == "PENDING":
                    self._claim(item, at, **fields)
            elif item.kind == "payout" or item.data["status"] in ("PENDING", "DISBURSING"):
                self._set(item, status, at, fields, notify=True)

    def _claim(self, item, at, wrong_passwords=0, **recipient):
        if item.data["status"] != "PENDING":
            raise ValueError(f"The link is {item.data['status']}: only a PENDING link is claimed.")
        wrong_passwords = int(wrong_passwords)
        if wrong_passwords >= MAX_WRONG_PASSWORDS:
            self._set(
                item,
                "FAILED",
                at,
                {"failure_reason": "TOO_MANY_WRONG_PASSWORDS", "wrong_passwords": wrong_passwords},
                notify=True,
            )
            return
        recipient = {**DEFAULT_RECIPIENT, **recipient}
        account = str(recipient["account_number"])
        outcome = LINK_CLAIM_OUTCOMES.get(account, ("COMPLETED", {}))
        if account != "4000000002":
            if item.data["amount"] > self.balance:
                outcome = LINK_CLAIM_OUTCOMES["4000000002"]
            else:
                self.balance -= item.data["amount"]
                item.debited = True
        self._set(
            item,
            "DISBURSING",
            at,
            {
                **recipient,
                "claimed_timestamp": _ts(at),
                "disbursement_id": f"disb-{uuid.uuid4()}",
            },
            notify=True,
        )
        # The claim replaces what was planned (the expiry): only the outcome is left.
        item.steps = [(at + timedelta(seconds=DISBURSE_TIME), *outcome)] if outcome else []

    def _set(self, item, status, at, fields, *, notify):
        item.data.update(fields, status=status, updated=_ts(at))
        if status == "COMPLETED":
            item.data["completed_timestamp"] = _ts(at)
        elif status in ("FAILED", "EXPIRED", "VOIDED"):
            item.data[f"{status.lower()}_timestamp"] = _ts(at)
        if status in REFUNDED and item.debited:
            self.balance += item.data["amount"]
            item.debited = False
        if status in FINAL and status != "SUCCEEDED":
            item.steps = []
        if not notify:
            return
        snapshot = copy.deepcopy(item.data)
        if item.kind == "link":
            self._queue(None, snapshot)
        elif status in xendit_codes.PAYOUT_EVENTS:
            self._queue(xendit_codes.PAYOUT_EVENTS[status], snapshot, at)

    def _queue(self, event, data, at=None):
        body = data
        if event:
            body = {"event": event, "business_id": BUSINESS_ID, "created": _ts(at), "data": data}
        self._outbox.append(_Callback(event, data["id"], data["status"], json.dumps(body).encode()))

    # Callbacks and control -------------------------------------------------------------

    def claim(self, id, **recipient):
        """The employee claims link `id` now (account_number, bank_code,
        account_holder_name, wrong_passwords: all optional). Also `POST
        /_sandbox/xendit/claim`. Returns the link."""
        with self._lock:
            now = self.server.clock.now()
            self._advance(now)
            item = self.links.get(id)
            if item is None:
                raise ValueError(f"No payout link {id!r}.")
            self._claim(item, now, **recipient)
            return copy.deepcopy(item.data)

    def deliver(self):
        """POST every queued callback to `callback_url` now; return this round's attempts
        (each: event, id, status, url, http_status, error, attempt)."""
        with self._lock:
            self._advance(self.server.clock.now())
            url, token, pending = self.callback_url, self.callback_token, list(self._outbox)
        if not url:
            raise ValueError("No callback URL is configured (POST /_sandbox/xendit/config).")
        attempts = []
        for callback in pending:
            callback.attempts += 1
            http_status, error = None, None
            try:
                answer = requests.post(
                    url,
                    data=callback.body,
                    headers={
                        "Content-Type": "application/json",
                        xendit.CALLBACK_TOKEN_HEADER: token,
                    },
                    timeout=CALLBACK_TIMEOUT,
                    allow_redirects=False,
                )
                http_status = answer.status_code
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {exc}"
            attempts.append(
                {
                    "event": callback.event,
                    "id": callback.object_id,
                    "status": callback.status,
                    "url": url,
                    "http_status": http_status,
                    "error": error,
                    "attempt": callback.attempts,
                }
            )
            if http_status and 200 <= http_status < 300:
                with self._lock:
                    if callback in self._outbox:
                        self._outbox.remove(callback)
        with self._lock:
            self.deliveries.extend(attempts)
        return attempts

    def _control_deliveries(self, params):
        with self._lock:
            return {"deliveries": list(self.deliveries), "pending": len(self._outbox)}

    def _control_objects(self, params):
        with self._lock:
            self._advance(self.server.clock.now())
            return copy.deepcopy(
                {
                    "links": [i.data for i in self.links.values()],
                    "payouts": [i.data for i in self.payouts.values()],
                    "balance": self.balance,
                }
            )



start = XenditSandbox.start
