"""The Xendit sandbox's Payouts v2 API and its channel list, as docs.xendit.co tells it.

    POST /v2/payouts              create a payout (Idempotency-key required: xendit-python
                                  payout_api.py)
    GET  /v2/payouts/{id}         read it
    GET  /v2/payouts?reference_id=...  the payouts with that reference: a bare JSON array
                                  (/docs/integration-payouts' example), or with
                                  `listing="data"` `{"data": [...], "has_more"}` (xendit-python
                                  GetPayouts200Response)
    POST /v2/payouts/{id}/cancel  cancel it while ACCEPTED (/docs/integration-payouts), else
                                  400 CANNOT_CANCEL_PAYOUT (the sandbox's name)
    GET  /payouts_channels        the channels the account can pay (`channels`), filtered by
                                  currency, channel_category and channel_code: a JSON array
                                  of Channel (xendit-python docs/PayoutApi.md, Channel.md)

Create refusals, after the field rules of protocol/xendit.py (API_VALIDATION_ERROR), in
this order (/docs/integration-payouts, "Errors In Creating the Payout"):

    400 CHANNEL_CODE_NOT_SUPPORTED     channel_code not among `channels`
    400 API_VALIDATION_ERROR           currency other than IDR (Indonesian channels)
    400 MINIMUM_TRANSFER_LIMIT_ERROR   amount under the channel's minimum (10,000 IDR)
    400 MAXIMUM_TRANSFER_LIMIT_ERROR   amount over its maximum (250,000,000 IDR)
    400 RECIPIENT_ACCOUNT_NUMBER_ERROR account number 4000000000

Lifecycle by `channel_properties.account_number` (TEST_ACCOUNTS), from creation; the
six-digit accounts are Xendit's own test accounts (/docs/test-scenarios-payouts):

    anything      ACCEPTED, +1 min REQUESTED, +15 min SUCCEEDED
    4000000001    ... +15 min FAILED (INVALID_DESTINATION); so does 121212
    123456        ... +15 min FAILED (TEMPORARY_TRANSFER_ERROR)
    999999        ... +15 min FAILED (REJECTED_BY_CHANNEL)
    4000000002    ACCEPTED, +1 min FAILED (INSUFFICIENT_BALANCE); so does any payout over
                  the balance at creation
    4000000003    ACCEPTED, +1 min PENDING_COMPLIANCE_ASSESSMENT, forever
    4000000004    as "anything", then +75 min REVERSED; 654321 +5 min after success
    4000000005    +1 min PENDING_COMPLIANCE_ASSESSMENT, +1 h COMPLIANCE_REJECTED
    131313        ACCEPTED forever (so cancel can be tested)

Callbacks: `payout.succeeded` / `payout.failed` / `payout.reversed` in the envelope of
/apidocs/payout-webhook-notification.
"""

import uuid
from datetime import timedelta

from ..protocol import xendit, xendit_codes
from ..protocol.timeutil import HOUR, MINUTE
from .xendit_base import BUSINESS_ID, DISBURSE_TIME, _event, _Item, _Refused, _ts

MIN_PAYOUT_AMOUNT = 10_000
MAX_PAYOUT_AMOUNT = 250_000_000
INVALID_ACCOUNT = "4000000000"
TEST_ACCOUNTS = {
    INVALID_ACCOUNT: "Refused at once (RECIPIENT_ACCOUNT_NUMBER_ERROR)",
    "4000000001": "Fails: invalid destination",
    "4000000002": "Fails: insufficient balance",
    "4000000003": "Stays in compliance review (processing)",
    "4000000004": "Succeeds, then is reversed 1 h later",
    "4000000005": "Compliance review, then rejected",
    "131313": "Stays ACCEPTED (can be cancelled)",
    "121212": "Fails: invalid destination (Xendit's test account)",
    "123456": "Fails: temporary transfer error (Xendit's test account)",
    "999999": "Fails: rejected by the bank (Xendit's test account)",
    "654321": "Succeeds, then is reversed 5 min later (Xendit's test account)",
}
_REQUESTED = (MINUTE, "REQUESTED", {})
_SUCCEEDED = (DISBURSE_TIME, "SUCCEEDED", {})


def _fails(code):
    """REQUESTED after a minute, FAILED with ``code`` when it would have arrived."""
    return (_REQUESTED, (DISBURSE_TIME, "FAILED", {"failure_code": code}))


PAYOUT_SCENARIOS = {  # account number: ((seconds after creation, status, fields), ...)
    "4000000001": _fails("INVALID_DESTINATION"),
    "121212": _fails("INVALID_DESTINATION"),
    "123456": _fails("TEMPORARY_TRANSFER_ERROR"),
    "999999": _fails("REJECTED_BY_CHANNEL"),
    "4000000002": ((MINUTE, "FAILED", {"failure_code": "INSUFFICIENT_BALANCE"}),),
    "4000000003": ((MINUTE, "PENDING_COMPLIANCE_ASSESSMENT", {}),),
    "4000000004": (_REQUESTED, _SUCCEEDED, (DISBURSE_TIME + HOUR, "REVERSED", {})),
    "654321": (_REQUESTED, _SUCCEEDED, (DISBURSE_TIME + 5 * MINUTE, "REVERSED", {})),
    "4000000005": (
        (MINUTE, "PENDING_COMPLIANCE_ASSESSMENT", {}),
        (HOUR, "COMPLIANCE_REJECTED", {}),
    ),
    "131313": (),
}
DEFAULT_PAYOUT_SCENARIO = (_REQUESTED, _SUCCEEDED)
_INSUFFICIENT = PAYOUT_SCENARIOS["4000000002"]
_PAYOUT_FIELDS = ("reference_id", "channel_code", "account_number", "account_holder_name",
                  "amount", "currency", "description")
# Every bank channel of protocol/xendit.py, and one e-wallet for the category filter.
DEFAULT_CHANNELS = (*sorted(xendit.CHANNEL_CODES.values()), "ID_OVO")
_CATEGORIES = {"ID_OVO": "EWALLET"}


def channel(code):
    """The Channel object of ``code`` (xendit-python docs/payout/Channel.md)."""
    return {
        "channel_code": code,
        "channel_category": _CATEGORIES.get(code, "BANK"),
        "currency": "IDR",
        "channel_name": code.removeprefix("ID_").replace("_", " "),
        "amount_limits": {"minimum": MIN_PAYOUT_AMOUNT, "maximum": MAX_PAYOUT_AMOUNT,
                          "minimum_increment": 1},
    }


class PayoutsApi:
    """The Payouts v2 routes of XenditSandbox (called with its lock held)."""

    def _create_payout(self, request):
        body = self._fields(request, xendit.build_payout_body, _PAYOUT_FIELDS)
        self._check_payout(body)
        now = self.server.clock.now()
        account = body["channel_properties"]["account_number"]
        # The fields of /docs/integration-payouts' example answer.
        item = _Item("payout", {
            "id": f"disb-{uuid.uuid4()}", **body, "status": "ACCEPTED", "created": _ts(now),
            "updated": _ts(now),
            "estimated_arrival_time": _ts(now + timedelta(seconds=DISBURSE_TIME)),
            "business_id": BUSINESS_ID,
        })
        steps = PAYOUT_SCENARIOS.get(account, DEFAULT_PAYOUT_SCENARIO)
        if steps is not _INSUFFICIENT and not self._debit(item, body["amount"]):
            steps = _INSUFFICIENT
        item.steps = [(now + timedelta(seconds=at), s, f) for at, s, f in steps]
        self.payouts[item.data["id"]] = item
        return item.data

    def _check_payout(self, body):
        code = body["channel_code"]
        if code not in self.channels:
            raise _Refused(400, "CHANNEL_CODE_NOT_SUPPORTED",
                           f"Channel code {code} is not supported.")
        if body["currency"] != "IDR":
            raise _Refused(400, "API_VALIDATION_ERROR", "currency: Indonesian channels pay IDR "
                           "only", [{"path": "currency", "message": "Indonesian channels pay "
                                     "IDR only"}])
        limits = channel(code)["amount_limits"]
        if body["amount"] < limits["minimum"]:
            raise _Refused(400, "MINIMUM_TRANSFER_LIMIT_ERROR",
                           f"The minimum amount is {limits['minimum']} IDR.")
        if body["amount"] > limits["maximum"]:
            raise _Refused(400, "MAXIMUM_TRANSFER_LIMIT_ERROR",
                           f"The maximum amount is {limits['maximum']} IDR.")
        if body["channel_properties"]["account_number"] == INVALID_ACCOUNT:
            raise _Refused(400, "RECIPIENT_ACCOUNT_NUMBER_ERROR", "The account number is invalid.")

    def _get_payout(self, request):
        return self._find(self.payouts, request, "Payout").data

    def _find_payouts(self, request):
        reference = request.query.get("reference_id")
        if not reference:
            raise _Refused(400, "API_VALIDATION_ERROR", "reference_id: required",
                           [{"path": "reference_id", "message": "required"}])
        found = [i.data for i in self.payouts.values() if i.data["reference_id"] == reference]
        return {"data": found, "has_more": False} if self.listing == "data" else found

    def _cancel_payout(self, request):
        item = self._find(self.payouts, request, "Payout")
        refusal = "The payout is {status}: only an ACCEPTED payout can be cancelled."
        return self._stop(item, "ACCEPTED", "CANCELLED", "CANNOT_CANCEL_PAYOUT", refusal)

    def _list_channels(self, request):
        wanted = {name: request.query.get(name)
                  for name in ("currency", "channel_category", "channel_code")}
        return [found for found in map(channel, self.channels)
                if all(value in (None, found[name]) for name, value in wanted.items())]

    def _payout_callback(self, item, at):
        event = xendit_codes.PAYOUT_EVENTS.get(item.data["status"])
        return event and _event(event, item.data, at)
