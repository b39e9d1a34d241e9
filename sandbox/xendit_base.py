"""What the Xendit sandbox's two APIs share: its keys, errors, timestamps and objects.

Sources are named where a behaviour comes from one; the README's "Xendit assumptions"
lists what no source settles.
"""

import json
from dataclasses import dataclass, field
from datetime import timezone
from urllib.parse import urlsplit

from ..protocol.errors import FieldValidationError
from ..protocol.timeutil import MINUTE
from .server import _check_loopback, json_response

SECRET_KEY = "xnd_development_sandbox_not_a_secret"
READ_ONLY_KEY = "xnd_public_development_sandbox_not_a_secret"  # GET only
CALLBACK_TOKEN = "sandbox-callback-token-not-a-secret"
BUSINESS_ID = "sandbox-business-1"
DEFAULT_BALANCE = 1_000_000_000
# The v2 examples of /docs/integration-payouts: estimated_arrival_time = created + 15 min.
DISBURSE_TIME = 15 * MINUTE
# Statuses whose amount goes back to the balance (/docs/payout-status-lifecycle; a failed
# link's claim, /docs/payout-links-overview).
REFUNDED = {"FAILED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED"}


def _ts(dt):
    """Xendit's timestamps: UTC with milliseconds and `Z` (every docs example)."""
    dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _check_callback_url(url):
    """Callbacks go to loopback only (the sandbox never contacts anything else)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"The callback URL must be http(s), not {url!r}.")
    _check_loopback(parts.hostname or "")


def _error(status, code, message, errors=()):
    # {error_code, message, errors[{path, message}]}: xendit-python docs/payout/Error.md.
    return json_response(status, {"error_code": code, "message": message, "errors": list(errors)})


class _Refused(Exception):
    def __init__(self, status, code, message, errors=()):
        super().__init__(message)
        self.response = _error(status, code, message, errors)


def _validation_error(field, rule):
    return _Refused(400, "API_VALIDATION_ERROR", f"{field}: {rule}",
                    [{"path": field, "message": rule}])


@dataclass
class _Callback:
    event: str
    object_id: str
    status: str
    body: bytes
    attempts: int = 0


def _event(event, data, at):
    """A callback of ``event`` about ``data``: the envelope of /apidocs/
    payout-webhook-notification, `{event, business_id, created, data}`."""
    body = {"event": event, "business_id": BUSINESS_ID, "created": _ts(at), "data": data}
    return _Callback(event, data["id"], data["status"], json.dumps(body).encode())


@dataclass
class _Item:
    kind: str  # "link" or "payout"
    data: dict
    steps: list = field(default_factory=list)  # [(due datetime, status or "CLAIM", fields)]
    debited: bool = False


class XenditObjects:
    """Helpers over the sandbox's links and payouts (called with the lock held)."""

    def _fields(self, request, build, names):
        """``build(**fields)`` from the request's JSON (channel_properties flattened);
        400 INVALID_JSON_FORMAT or API_VALIDATION_ERROR naming the field otherwise."""
        if not isinstance(request.json, dict):
            raise _Refused(400, "INVALID_JSON_FORMAT", "The body must be a JSON object.")
        source = dict(request.json)
        if isinstance(source.get("channel_properties"), dict):
            source.update(source["channel_properties"])
        try:
            return build(**{name: source.get(name) for name in names})
        except FieldValidationError as error:
            raise _validation_error(error.field, error.rule) from None

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

    def _debit(self, item, amount):
        """Take ``amount`` from the balance for ``item``; False when the balance is short."""
        if amount > self.balance:
            return False
        self.balance -= amount
        item.debited = True
        return True

    def _set(self, item, status, at, fields, *, notify):
        item.data.update(fields, status=status, updated=_ts(at))
        # <status>_timestamp: xendit-go v1 payout.go (claimed_timestamp, failed_timestamp),
        # legacy xendit-python (completed_timestamp); voided_timestamp is the sandbox's.
        if status in ("COMPLETED", "FAILED", "VOIDED", "EXPIRED"):
            item.data[f"{status.lower()}_timestamp"] = _ts(at)
        if status in REFUNDED and item.debited:
            self.balance += item.data["amount"]
            item.debited = False
        if status in self.FINAL:
            item.steps = []
        if notify and (callback := self._callback_for(item, at)):
            self._outbox.append(callback)  # a change by the clock or the employee only
