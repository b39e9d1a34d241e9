"""The Xendit sandbox's Payout Link API (legacy `/payouts`), as docs.xendit.co tells it.

    POST /payouts            create a link   (/docs/integration-payout-links; X-IDEMPOTENCY-KEY
                             from legacy xendit-python `_extract_params.py`)
    GET  /payouts/{id}       read it
    POST /payouts/{id}/void  void it while PENDING ("Void a Payout Link"), else
                             400 CANNOT_VOID_PAYOUT (the sandbox's name: none is published)

A reused external_id is refused with 400 DUPLICATE_PAYOUT_ERROR ("external_id has been
used before", /docs/integration-payout-links, "Error Handling"). Statuses as
/docs/payout-links-overview lists them: PENDING, CLAIMED (the employee claimed it, the
payout is initiated), COMPLETED, FAILED (locked by wrong passwords, or the bank refused),
VOIDED (voided, or expired: `expiry_status`, VOIDED by default, FAILED and EXPIRED too).

Lifecycle, by the local part of `email` (first matching prefix), from creation:

    claim...@       +1 h claimed (BCA 1234567890, "Sandbox Recipient") -> CLAIMED,
                    +15 min COMPLETED
    invalid...@     +1 h claimed with account 4000000001 -> CLAIMED, +15 min FAILED
                    (failure_reason INVALID_DESTINATION)
    wrongpass...@   +1 h 3 wrong passwords -> FAILED (TOO_MANY_WRONG_PASSWORDS)
    anything        PENDING until claimed (`claim()`, `POST /_sandbox/xendit/claim`)
    every link      still PENDING at its expiration_timestamp (3 days) -> expiry_status

A claim debits the balance; 15 min later the link is COMPLETED, or FAILED by the claimed
account as a v2 payout to it would fail (/docs/test-scenarios-payout-links: "claim the
Payout Link using the corresponding criteria [of] Payouts Test Scenarios"), or when the
balance is short at claim time (INSUFFICIENT_BALANCE). Accounts 4000000003 and 131313 stay
CLAIMED.

Callbacks: `disbursement.completed` / `disbursement.failed` ("Payout Links Events"), in
the v2 envelope, whose data is the claim's disbursement (`id` its own, `external_id` the
link's, status SUCCEEDED or FAILED as the events table says); only a claimed link has a
disbursement, so an expiry or a lock sends none.
"""

import copy
import uuid
from datetime import timedelta

from ..protocol import xendit
from ..protocol.timeutil import HOUR
from .xendit_base import DISBURSE_TIME, _event, _Item, _Refused, _ts

MERCHANT_NAME = "Sandbox Merchant"
LINK_VALIDITY_DAYS = 3  # the docs' examples: expiration_timestamp = created + 3 days
MAX_WRONG_PASSWORDS = 3  # research/providers.md: 3 wrong passwords fail the link
EXPIRY_STATUSES = ("VOIDED", "FAILED", "EXPIRED")
DEFAULT_RECIPIENT = {
    "bank_code": "BCA",
    "account_number": "1234567890",
    "account_holder_name": "Sandbox Recipient",
}
LINK_SCENARIOS = {  # email local-part prefix: (seconds after creation, the claim)
    "claim": (HOUR, DEFAULT_RECIPIENT),
    "invalid": (HOUR, {**DEFAULT_RECIPIENT, "account_number": "4000000001"}),
    "wrongpass": (HOUR, {"wrong_passwords": MAX_WRONG_PASSWORDS}),
}
LINK_CLAIM_OUTCOMES = {  # account number: the link's end, DISBURSE_TIME after the claim
    "4000000001": ("FAILED", {"failure_reason": "INVALID_DESTINATION"}),
    "4000000002": ("FAILED", {"failure_reason": "INSUFFICIENT_BALANCE"}),
    # /docs/test-scenarios-payouts' accounts.
    "121212": ("FAILED", {"failure_reason": "INVALID_DESTINATION"}),
    "123456": ("FAILED", {"failure_reason": "TEMPORARY_TRANSFER_ERROR"}),
    "999999": ("FAILED", {"failure_reason": "REJECTED_BY_CHANNEL"}),
    "4000000003": None,
    "131313": None,
}
_INSUFFICIENT = LINK_CLAIM_OUTCOMES["4000000002"]
_EVENTS = {"COMPLETED": ("disbursement.completed", "SUCCEEDED"),
           "FAILED": ("disbursement.failed", "FAILED")}


class PayoutLinkApi:
    """The Payout Link routes of XenditSandbox (called with its lock held)."""

    def _create_link(self, request):
        body = self._fields(request, xendit.build_link_body, ("external_id", "amount", "email"))
        if any(item.data["external_id"] == body["external_id"] for item in self.links.values()):
            raise _Refused(400, "DUPLICATE_PAYOUT_ERROR", (
                "external_id has been used before. Use a unique external_id and try again."))
        now = self.server.clock.now()
        link_id = str(uuid.uuid4())
        expires = now + timedelta(days=LINK_VALIDITY_DAYS)
        # The fields of /docs/integration-payout-links' example answer, and email.
        item = _Item("link", {
            "id": link_id, **body, "merchant_name": MERCHANT_NAME, "status": "PENDING",
            "expiration_timestamp": _ts(expires), "created": _ts(now), "updated": _ts(now),
            "payout_url": f"{self.url}/web/{link_id}",
        })
        local_part = body["email"].split("@")[0].lower()
        for prefix, (offset, claim) in LINK_SCENARIOS.items():
            if local_part.startswith(prefix):
                item.steps.append((now + timedelta(seconds=offset), "CLAIM", claim))
                break
        item.steps.append((expires, self.expiry_status, {}))
        self.links[link_id] = item
        return item.data

    def _get_link(self, request):
        return self._find(self.links, request, "Payout link").data

    def _void_link(self, request):
        item = self._find(self.links, request, "Payout link")
        refusal = "The payout link is {status}: only a PENDING (unclaimed) link can be voided."
        return self._stop(item, "PENDING", "VOIDED", "CANNOT_VOID_PAYOUT", refusal)

    def _claim(self, item, at, wrong_passwords=0, **recipient):
        if item.data["status"] != "PENDING":
            raise ValueError(f"The link is {item.data['status']}: only a PENDING link is claimed.")
        wrong_passwords = int(wrong_passwords)
        if wrong_passwords >= MAX_WRONG_PASSWORDS:
            self._set(item, "FAILED", at, {"failure_reason": "TOO_MANY_WRONG_PASSWORDS",
                                           "wrong_passwords": wrong_passwords}, notify=True)
            return
        recipient = {**DEFAULT_RECIPIENT, **recipient}
        account = str(recipient["account_number"])
        outcome = LINK_CLAIM_OUTCOMES.get(account, ("COMPLETED", {}))
        if outcome is not _INSUFFICIENT and not self._debit(item, item.data["amount"]):
            outcome = _INSUFFICIENT
        self._set(item, "CLAIMED", at, {
            **recipient, "claimed_timestamp": _ts(at),
            "disbursement_id": f"disb-{uuid.uuid4()}",
        }, notify=True)
        # The claim replaces what was planned (the expiry): only the outcome is left.
        item.steps = [(at + timedelta(seconds=DISBURSE_TIME), *outcome)] if outcome else []

    def _link_callback(self, item, at):
        """The disbursement event of a claimed link's end, or None."""
        data = item.data
        if data["status"] not in _EVENTS or "disbursement_id" not in data:
            return None
        event, status = _EVENTS[data["status"]]
        disbursement = {
            "id": data["disbursement_id"], "external_id": data["external_id"],
            "amount": data["amount"], "status": status, "bank_code": data["bank_code"],
            "account_holder_name": data["account_holder_name"], "created": data["created"],
            "updated": data["updated"],
        }
        if failure := data.get("failure_reason"):
            disbursement["failure_code"] = failure
        return _event(event, disbursement, at)

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
