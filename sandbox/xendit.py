"""Xendit on the sandbox: the Payout Link API and Payouts v2, with their callbacks.

Plugs into a SandboxServer next to DOKU (`XenditSandbox(server)`), or alone (`start()`).
The routes, scenarios and sources of each API are in xendit_payout_link.py and
xendit_payouts.py; what both share is in xendit_base.py; the README's "Provider sandbox"
section lists what no Xendit source settles ("Xendit assumptions").

Checks before either API's own, in this order:

    401 INVALID_API_KEY           Basic auth user is not the secret key, password ignored
                                  (xendit-node src/utils/auth.js: `key:` in Basic auth)
    403 REQUEST_FORBIDDEN_ERROR   a POST with the read-only key (READ_ONLY_KEY)
                                  (/docs/test-scenarios-payouts)
    400 API_VALIDATION_ERROR      Idempotency-key missing on POST /v2/payouts
    409 <original answer>         same idempotency key, same method, path and body: the
                                  original object again (/docs/test-scenarios-payouts and
                                  -payout-links: "the same payout as the original request";
                                  `replay_status`, 409 by default)
    409 DUPLICATE_ERROR           same key with another body or path (same pages)

With `replays=False` a repeat gets no replay: v2 answers DUPLICATE_ERROR, and a link's
key is not honoured at all (the docs promise none): its external_id is then refused as
reused (DUPLICATE_PAYOUT_ERROR). Only successful answers are kept for replay.

The lifecycle runs on the sandbox clock, applied in time order whenever the sandbox is
called (API, `deliver`, control endpoints). A change made by the clock or the employee
(not by an API call such as void or cancel) queues a callback; nothing is sent until
`deliver()` (or `POST /_sandbox/xendit/deliver`) POSTs them in order, synchronously, to
`callback_url` (loopback only) with `x-callback-token: <callback_token>`
(/docs/handling-webhooks), recording each attempt in `deliveries`. Callbacks not answered
2xx stay queued. Balance (`GET /balance`, xendit-python docs/BalanceApi.md): a v2 payout
is debited when accepted, a link when claimed; FAILED, CANCELLED, REVERSED and
COMPLIANCE_REJECTED give it back.

Faults are the server's (see server.py). Xendit's answers are not signed, so
`bad_signature` changes nothing here.

Control endpoints (JSON, besides the server's):

    POST /_sandbox/xendit/config      {"callback_url", "callback_token", "balance",
                                       "replays", "replay_status", "expiry_status",
                                       "channels", "listing"} any of them -> all
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
from dataclasses import dataclass

import requests

from ..protocol import xendit
from .server import ProviderSandbox, Response, json_response
from .xendit_base import (
    BUSINESS_ID,  # noqa: F401 (this module is the sandbox's public face)
    CALLBACK_TOKEN,
    DEFAULT_BALANCE,
    READ_ONLY_KEY,
    REFUNDED,
    SECRET_KEY,
    XenditObjects,
    _check_callback_url,
    _Refused,
)
from .xendit_payout_link import EXPIRY_STATUSES, PayoutLinkApi
from .xendit_payouts import DEFAULT_CHANNELS, PayoutsApi

CALLBACK_TIMEOUT = 5  # seconds
LISTINGS = ("array", "data")


@dataclass
class _Answer:
    method: str
    path: str
    body: object  # the request's JSON (or bytes when not JSON)
    answer: bytes


def _expiry_status(value):
    if value not in EXPIRY_STATUSES:
        raise ValueError(f"expiry_status is one of {', '.join(EXPIRY_STATUSES)}.")
    return value


def _listing(value):
    if value not in LISTINGS:
        raise ValueError(f"listing is one of {', '.join(LISTINGS)}.")
    return value


def _channels(value):
    if not isinstance(value, (list, tuple)) or not all(isinstance(c, str) for c in value):
        raise ValueError("channels is a list of channel codes.")
    return tuple(value)


class XenditSandbox(PayoutLinkApi, PayoutsApi, XenditObjects, ProviderSandbox):
    FINAL = REFUNDED | {"COMPLETED", "EXPIRED", "VOIDED"}  # SUCCEEDED may still be REVERSED
    _CONVERTERS = {"balance": int, "replays": bool, "replay_status": int,
                   "expiry_status": _expiry_status, "channels": _channels, "listing": _listing}

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
        expiry_status="VOIDED",
        channels=DEFAULT_CHANNELS,
        listing="array",
    ):
        if callback_url:
            _check_callback_url(callback_url)
        super().__init__(server)
        self.secret_key = secret_key
        self.read_only_key = read_only_key
        self._defaults = {
            "callback_url": callback_url, "callback_token": callback_token,
            "balance": balance, "replays": replays, "replay_status": replay_status,
            "expiry_status": _expiry_status(expiry_status), "channels": _channels(channels),
            "listing": _listing(listing),
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
            ("GET", xendit.CHANNELS_PATH, self._list_channels, None),
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
        """Change any of callback_url, callback_token, balance, replays, replay_status,
        expiry_status, channels (the codes the account can pay), listing (how a lookup by
        reference answers: "array" or "data"); return them all. Also `POST
        /_sandbox/xendit/config`. All or nothing."""
        unknown = set(settings) - set(self._defaults)
        if unknown:
            raise TypeError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        values = {
            name: self._CONVERTERS.get(name, str)(value)
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
                raise _Refused(400, "API_VALIDATION_ERROR", f"{header}: required",
                               [{"path": header, "message": "required"}])
            return json_response(200, action(request))
        body = request.json if request.json is not None else request.body
        seen = self._answers.get((header.lower(), key))
        if seen:
            same = (seen.method, seen.path, seen.body) == (request.method, request.path, body)
            if same and self.replays:
                return Response(self.replay_status, seen.answer)
            if not (same and header == xendit.LINK_IDEMPOTENCY_HEADER):
                # /docs/integration-payout-links' example message of a duplicate.
                raise _Refused(409, "DUPLICATE_ERROR", (
                    "A payout with this idempotency key already exists. If you meant to "
                    "execute a different request, please use another idempotency key."))
        response = json_response(200, action(request))
        self._answers.setdefault((header.lower(), key), _Answer(
            request.method, request.path, copy.deepcopy(body), response.body))
        return response

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
            elif item.kind == "payout" or item.data["status"] in ("PENDING", "CLAIMED"):
                self._set(item, status, at, fields, notify=True)

    def _callback_for(self, item, at):
        return (self._link_callback if item.kind == "link" else self._payout_callback)(item, at)

    # Callbacks and control -------------------------------------------------------------

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
