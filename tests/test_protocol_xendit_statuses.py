"""The Xendit protocol code without a server (test_sandbox_xendit_* talk to one): the
statuses, the callbacks and their token.
"""

from datetime import datetime, timezone

from odoo.tests import BaseCase, tagged

from ..protocol import xendit
from ..protocol.errors import ProviderBadSignature, ProviderMalformedResponse
from .xendit_protocol_helpers import LINK, PAYOUT

BEFORE_EXPIRY, AT_EXPIRY = "2025-01-04T09:59:59.999Z", LINK["expiration_timestamp"]

DISBURSEMENT = {  # what a Payout Link event carries: the disbursement made for the claim
    "id": "disb-5f3d2a4c-0000-4c1b-8d7e-123456789abc",
    "external_id": "PAY83921251",
    "amount": 250000,
    "bank_code": "BCA",
    "account_holder_name": "Siti Rahma",
}


@tagged("post_install", "-at_install")
class TestXenditStatuses(BaseCase):
    """Every Xendit link and payout status, current, variant or legacy, maps to an Odoo
    state; an expiry is told from a void by the link's expiration time; a failure carries
    its reason."""

    def test_link_status_mapping(self):
        cases = [
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
        ]
        for raw_status, state in cases:
            with self.subTest(raw_status=raw_status):
                # Before the link's expiry (LINK's expiration_timestamp is 2025-01-04T10:00).
                status = xendit.parse_link(
                    {**LINK, "status": raw_status, "updated": "2025-01-02T10:00:00Z"})
                self.assertEqual(
                    (status.raw_status, status.state, status.provider_reference),
                    (raw_status, state, LINK["id"]),
                )

    def test_expiry_is_told_from_a_void_by_the_expiration_timestamp(self):
        cases = [
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
        ]
        for raw_status, changed, state in cases:
            with self.subTest(raw_status=raw_status, changed=changed):
                status = xendit.parse_link({**LINK, "status": raw_status, **changed,
                                            "failure_reason": "INVALID_DESTINATION"})
                self.assertEqual(status.state, state)
                # Only a failure has a reason: an expiry, a void or a payment has none.
                self.assertEqual(
                    status.reason,
                    xendit.message_of("INVALID_DESTINATION") if state == "failed" else None,
                )

    def test_expiry_without_a_change_time_is_read_at_the_answer_time(self):
        voided = {key: value for key, value in LINK.items() if key != "updated"}
        voided["status"] = "VOIDED"
        self.assertEqual(
            xendit.parse_link(voided, now=datetime(2025, 1, 4, 10, tzinfo=timezone.utc)).state,
            "expired")
        self.assertEqual(
            xendit.parse_link(voided, now=datetime(2025, 1, 3, tzinfo=timezone.utc)).state,
            "cancelled")
        # No (readable) expiration_timestamp: the status as it is.
        for expiry in (None, "soon", 12):
            with self.subTest(expiry=expiry):
                data = {**voided, "expiration_timestamp": expiry,
                        "updated": "2099-01-01T00:00:00Z"}
                self.assertEqual(xendit.parse_link(data).state, "cancelled")

    def test_an_expired_link_carries_no_failure_reason(self):
        status = xendit.parse_link({**LINK, "status": "FAILED", "failure_reason": "EXPIRED_LINK",
                                    "failed_timestamp": AT_EXPIRY})
        self.assertEqual((status.state, status.reason), ("expired", None))

    def test_payout_status_mapping(self):
        cases = [
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
        ]
        for raw_status, state in cases:
            with self.subTest(raw_status=raw_status):
                status = xendit.parse_payout({**PAYOUT, "status": raw_status})
                self.assertEqual((status.raw_status, status.state), (raw_status, state))

    def test_mappings_only_name_odoo_states(self):
        states = {"sent", "processing", "done", "failed", "expired", "cancelled"}
        self.assertLessEqual(set(xendit.LINK_STATUS_MAPPING.values()), states)
        self.assertLessEqual(set(xendit.PAYOUT_STATUS_MAPPING.values()), states)

    def test_parse_without_status(self):
        for data in ({}, {"status": ""}, {"status": 3}, [], None):
            with self.subTest(data=data):
                with self.assertRaises(ProviderMalformedResponse):
                    xendit.parse_link(data)
                with self.assertRaises(ProviderMalformedResponse):
                    xendit.parse_payout(data)

    def test_failure_message(self):
        failed = xendit.parse_payout(
            {**PAYOUT, "status": "FAILED", "failure_code": "INVALID_DESTINATION"}
        )
        self.assertEqual(xendit.failure_message(failed),
                         "The destination bank account does not exist or cannot receive.")
        link = {**LINK, "status": "FAILED", "failure_reason": "INSUFFICIENT_BALANCE"}
        self.assertEqual(xendit.failure_message(link),
                         "The Xendit balance is too low for this payout.")
        self.assertEqual(xendit.failure_message({"failure_code": "NEW_CODE"}),
                         "Xendit reports: NEW_CODE.")
        self.assertIsNone(xendit.failure_message(xendit.parse_payout(PAYOUT)))

    def test_failed_answers_carry_the_reason(self):
        failed = xendit.parse_payout(
            {**PAYOUT, "status": "FAILED", "failure_code": "INVALID_DESTINATION"}
        )
        reason = xendit.message_of("INVALID_DESTINATION")
        self.assertEqual(failed.reason, reason)
        self.assertEqual(xendit.failure_message(failed), reason)
        link = xendit.parse_link({**LINK, "status": "FAILED", "failure_reason": "NEW_CODE"})
        self.assertEqual(link.reason, "Xendit reports: NEW_CODE.")
        # None given.
        self.assertIsNone(xendit.parse_payout({**PAYOUT, "status": "FAILED"}).reason)
        # Only a failed answer has a reason, whatever the object carries.
        self.assertIsNone(
            xendit.parse_payout({**PAYOUT, "failure_code": "INVALID_DESTINATION"}).reason)


@tagged("post_install", "-at_install")
class TestXenditCallbackParsing(BaseCase):
    """Callbacks: v2 payout events, legacy link objects and Payout Link events each name
    the payout; the callback token must be the one set."""

    def test_parse_callback(self):
        event = {
            "event": "payout.succeeded",
            "business_id": "5f27a14a9bf05c73dd040bc8",
            "created": "2025-01-01T10:15:00.000Z",
            "data": {**PAYOUT, "status": "SUCCEEDED"},
        }
        answer = xendit.parse_callback(event)
        self.assertEqual((answer.state, answer.provider_reference), ("done", PAYOUT["id"]))
        legacy = xendit.parse_callback({**LINK, "status": "COMPLETED"})  # a link object as is
        self.assertEqual(
            (legacy.state, legacy.provider_reference, xendit.our_reference(legacy)),
            ("done", LINK["id"], "PAY83921251"),
        )
        for bad in ({"event": "payout.failed"}, {"event": "x", "data": []}, "text",
                    {"event": "disbursement.completed", "data": "PAY83921251"}):
            with self.subTest(bad=bad), self.assertRaises(ProviderMalformedResponse):
                xendit.parse_callback(bad)

    def test_payout_link_events_name_the_link_by_its_external_id(self):
        cases = [
            # The events table's word, then the legacy one.
            ("disbursement.completed", "SUCCEEDED", {}, "done", None),
            ("disbursement.completed", "COMPLETED", {}, "done", None),
            ("disbursement.failed", "FAILED", {"failure_code": "REJECTED_BY_CHANNEL"}, "failed",
             ("The employee's bank refused the transfer; check that the account is active, "
              "then reissue.")),
            ("disbursement.failed", "FAILED", {}, "failed", None),
        ]
        for event, status, extra, state, reason in cases:
            with self.subTest(event=event, status=status, extra=extra):
                body = {"event": event, "business_id": "5f27a14a9bf05c73dd040bc8",
                        "created": "2025-01-02T10:15:00.000Z",
                        "data": {**DISBURSEMENT, "status": status, **extra}}
                answer = xendit.parse_callback(body)
                self.assertEqual((answer.state, answer.raw_status, answer.reason),
                                 (state, status, reason))
                # The disbursement's id is not the link's: only our external_id names the link.
                self.assertIsNone(answer.provider_reference)
                self.assertEqual(xendit.our_reference(answer), "PAY83921251")

    def test_payout_link_event_without_a_status_says_its_event(self):
        body = {"event": "disbursement.completed", "data": {"external_id": "PAY1"}}
        self.assertEqual(xendit.parse_callback(body).raw_status, "disbursement.completed")

    def test_callback_token(self):
        xendit.verify_callback_token("tok-1", "tok-1")

    def test_callback_token_refused(self):
        cases = [
            ("tok-1", None, "MISSING_CALLBACK_TOKEN"),
            ("tok-1", "", "MISSING_CALLBACK_TOKEN"),
            ("tok-1", "tok-2", "INVALID_CALLBACK_TOKEN"),
            ("tok-1", "tok-1 ", "INVALID_CALLBACK_TOKEN"),
            ("tok-1", "tök-1", "INVALID_CALLBACK_TOKEN"),
            ("", "", "NO_CALLBACK_TOKEN"),
            (None, "tok-1", "NO_CALLBACK_TOKEN"),
        ]
        for expected, received, code in cases:
            with self.subTest(expected=expected, received=received):
                with self.assertRaises(ProviderBadSignature) as caught:
                    xendit.verify_callback_token(expected, received)
                self.assertEqual(caught.exception.code, code)
