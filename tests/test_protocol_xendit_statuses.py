"""Plain pytest tests of the Xendit protocol code (no server; see test_sandbox_xendit_*.py):
the statuses, the callbacks and their token.
"""

from datetime import datetime, timezone

import pytest

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderBadSignature,
    ProviderMalformedResponse,
)
from odoo.addons.hr_payout_link.tests.xendit_protocol_helpers import LINK, PAYOUT

# Statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_status, state",
    [
        # Current (/docs/payout-links-overview).
        ("PENDING", "sent"),
        ("CLAIMED", "processing"),
        ("COMPLETED", "done"),
        ("FAILED", "failed"),
        ("VOIDED", "cancelled"),
        # Variants: the void section's VOID, the test scenarios' ACTIVE, CANCELED, EXPIRED.
        ("VOID", "cancelled"),
        ("ACTIVE", "sent"),
        ("CANCELED", "cancelled"),
        ("EXPIRED", "expired"),
        # Legacy.
        ("ISSUED", "sent"),
        ("DISBURSING", "processing"),
        ("LOCKED", "processing"),
        ("completed", "done"),
        ("SUCCEEDED", None),  # a v2 word: unknown for a link, which keeps its state
        ("READY", None),
    ],
)
def test_link_status_mapping(raw_status, state):
    # Before the link's expiry (LINK's expiration_timestamp is 2025-01-04T10:00).
    status = xendit.parse_link({**LINK, "status": raw_status, "updated": "2025-01-02T10:00:00Z"})
    assert (status.raw_status, status.state, status.provider_reference) == (
        raw_status,
        state,
        LINK["id"],
    )


BEFORE_EXPIRY, AT_EXPIRY = "2025-01-04T09:59:59.999Z", LINK["expiration_timestamp"]


@pytest.mark.parametrize(
    "raw_status, changed, state",
    [
        # FAILED / VOIDED / VOID given at or after expiration_timestamp: an expiry.
        ("FAILED", {"failed_timestamp": AT_EXPIRY}, "expired"),
        ("FAILED", {"updated": "2025-01-05T00:00:00Z"}, "expired"),
        ("VOIDED", {"updated": AT_EXPIRY}, "expired"),
        ("VOID", {"void_timestamp": "2025-01-04T10:00:00+00:00"}, "expired"),
        ("VOIDED", {"voided_timestamp": "2025-01-04T17:00:00+07:00"}, "expired"),
        # Before it: a real failure (wrong passwords, a bank) or a void by Odoo.
        ("FAILED", {"failed_timestamp": BEFORE_EXPIRY}, "failed"),
        ("VOIDED", {"updated": BEFORE_EXPIRY}, "cancelled"),
        ("VOID", {"updated": "2025-01-04T16:59:59+07:00"}, "cancelled"),
        # The status's own time wins over `updated`.
        ("FAILED", {"failed_timestamp": BEFORE_EXPIRY, "updated": AT_EXPIRY}, "failed"),
        # Other statuses never turn into an expiry.
        ("COMPLETED", {"updated": "2025-02-01T00:00:00Z"}, "done"),
        ("CANCELED", {"updated": "2025-02-01T00:00:00Z"}, "cancelled"),
    ],
)
def test_expiry_is_told_from_a_void_by_the_expiration_timestamp(raw_status, changed, state):
    status = xendit.parse_link({**LINK, "status": raw_status, **changed,
                                "failure_reason": "INVALID_DESTINATION"})
    assert status.state == state
    # Only a failure has a reason: an expiry, a void or a payment has none.
    assert status.reason == (xendit.message_of("INVALID_DESTINATION") if state == "failed"
                             else None)


def test_expiry_without_a_change_time_is_read_at_the_answer_time():
    voided = {key: value for key, value in LINK.items() if key != "updated"}
    voided["status"] = "VOIDED"
    assert xendit.parse_link(voided, now=datetime(2025, 1, 4, 10, tzinfo=timezone.utc)).state == (
        "expired")
    assert xendit.parse_link(voided, now=datetime(2025, 1, 3, tzinfo=timezone.utc)).state == (
        "cancelled")
    # No (readable) expiration_timestamp: the status as it is.
    for expiry in (None, "soon", 12):
        data = {**voided, "expiration_timestamp": expiry, "updated": "2099-01-01T00:00:00Z"}
        assert xendit.parse_link(data).state == "cancelled"


def test_an_expired_link_carries_no_failure_reason():
    status = xendit.parse_link({**LINK, "status": "FAILED", "failure_reason": "EXPIRED_LINK",
                                "failed_timestamp": AT_EXPIRY})
    assert (status.state, status.reason) == ("expired", None)


@pytest.mark.parametrize(
    "raw_status, state",
    [
        ("ACCEPTED", "processing"),
        ("REQUESTED", "processing"),
        ("PENDING_COMPLIANCE_ASSESSMENT", "processing"),
        ("SUCCEEDED", "done"),
        ("FAILED", "failed"),
        ("COMPLIANCE_REJECTED", "failed"),
        ("REVERSED", "failed"),
        ("CANCELLED", "failed"),
        ("READY", None),
        ("COMPLETED", None),
    ],
)
def test_payout_status_mapping(raw_status, state):
    status = xendit.parse_payout({**PAYOUT, "status": raw_status})
    assert (status.raw_status, status.state) == (raw_status, state)


def test_mappings_only_name_odoo_states():
    states = {"sent", "processing", "done", "failed", "expired", "cancelled"}
    assert set(xendit.LINK_STATUS_MAPPING.values()) <= states
    assert set(xendit.PAYOUT_STATUS_MAPPING.values()) <= states


@pytest.mark.parametrize("data", [{}, {"status": ""}, {"status": 3}, [], None])
def test_parse_without_status(data):
    with pytest.raises(ProviderMalformedResponse):
        xendit.parse_link(data)
    with pytest.raises(ProviderMalformedResponse):
        xendit.parse_payout(data)


def test_parse_callback():
    event = {
        "event": "payout.succeeded",
        "business_id": "5f27a14a9bf05c73dd040bc8",
        "created": "2025-01-01T10:15:00.000Z",
        "data": {**PAYOUT, "status": "SUCCEEDED"},
    }
    answer = xendit.parse_callback(event)
    assert (answer.state, answer.provider_reference) == ("done", PAYOUT["id"])
    legacy = xendit.parse_callback({**LINK, "status": "COMPLETED"})  # a link object as is
    assert (legacy.state, legacy.provider_reference, xendit.our_reference(legacy)) == (
        "done", LINK["id"], "PAY83921251")
    for bad in ({"event": "payout.failed"}, {"event": "x", "data": []}, "text",
                {"event": "disbursement.completed", "data": "PAY83921251"}):
        with pytest.raises(ProviderMalformedResponse):
            xendit.parse_callback(bad)


DISBURSEMENT = {  # what a Payout Link event carries: the disbursement made for the claim
    "id": "disb-5f3d2a4c-0000-4c1b-8d7e-123456789abc",
    "external_id": "PAY83921251",
    "amount": 250000,
    "bank_code": "BCA",
    "account_holder_name": "Siti Rahma",
}


@pytest.mark.parametrize(
    "event, status, extra, state, reason",
    [
        ("disbursement.completed", "SUCCEEDED", {}, "done", None),  # the events table's word
        ("disbursement.completed", "COMPLETED", {}, "done", None),  # the legacy one
        ("disbursement.failed", "FAILED", {"failure_code": "REJECTED_BY_CHANNEL"}, "failed",
         ("The employee's bank refused the transfer; check that the account is active, then "
         "reissue.")),
        ("disbursement.failed", "FAILED", {}, "failed", None),
    ],
)
def test_payout_link_events_name_the_link_by_its_external_id(event, status, extra, state, reason):
    body = {"event": event, "business_id": "5f27a14a9bf05c73dd040bc8",
            "created": "2025-01-02T10:15:00.000Z",
            "data": {**DISBURSEMENT, "status": status, **extra}}
    answer = xendit.parse_callback(body)
    assert (answer.state, answer.raw_status, answer.reason) == (state, status, reason)
    # The disbursement's id is not the link's: only our external_id names the link.
    assert answer.provider_reference is None
    assert xendit.our_reference(answer) == "PAY83921251"


def test_payout_link_event_without_a_status_says_its_event():
    body = {"event": "disbursement.completed", "data": {"external_id": "PAY1"}}
    assert xendit.parse_callback(body).raw_status == "disbursement.completed"


def test_failure_message():
    failed = xendit.parse_payout(
        {**PAYOUT, "status": "FAILED", "failure_code": "INVALID_DESTINATION"}
    )
    assert xendit.failure_message(failed) == (
        "The destination bank account does not exist or cannot receive."
    )
    link = {**LINK, "status": "FAILED", "failure_reason": "INSUFFICIENT_BALANCE"}
    assert xendit.failure_message(link) == "The Xendit balance is too low for this payout."
    assert xendit.failure_message({"failure_code": "NEW_CODE"}) == "Xendit reports: NEW_CODE."
    assert xendit.failure_message(xendit.parse_payout(PAYOUT)) is None


def test_failed_answers_carry_the_reason():
    failed = xendit.parse_payout(
        {**PAYOUT, "status": "FAILED", "failure_code": "INVALID_DESTINATION"}
    )
    reason = xendit.message_of("INVALID_DESTINATION")
    assert failed.reason == xendit.failure_message(failed) == reason
    link = xendit.parse_link({**LINK, "status": "FAILED", "failure_reason": "NEW_CODE"})
    assert link.reason == "Xendit reports: NEW_CODE."
    assert xendit.parse_payout({**PAYOUT, "status": "FAILED"}).reason is None  # none given
    # Only a failed answer has a reason, whatever the object carries.
    assert xendit.parse_payout({**PAYOUT, "failure_code": "INVALID_DESTINATION"}).reason is None


# Callback token -----------------------------------------------------------------------


def test_callback_token():
    xendit.verify_callback_token("tok-1", "tok-1")


@pytest.mark.parametrize(
    "expected, received, code",
    [
        ("tok-1", None, "MISSING_CALLBACK_TOKEN"),
        ("tok-1", "", "MISSING_CALLBACK_TOKEN"),
        ("tok-1", "tok-2", "INVALID_CALLBACK_TOKEN"),
        ("tok-1", "tok-1 ", "INVALID_CALLBACK_TOKEN"),
        ("tok-1", "tök-1", "INVALID_CALLBACK_TOKEN"),
        ("", "", "NO_CALLBACK_TOKEN"),
        (None, "tok-1", "NO_CALLBACK_TOKEN"),
    ],
)
def test_callback_token_refused(expected, received, code):
    with pytest.raises(ProviderBadSignature) as caught:
        xendit.verify_callback_token(expected, received)
    assert caught.value.code == code
