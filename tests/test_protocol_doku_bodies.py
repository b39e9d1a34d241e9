"""The DOKU protocol code without a server (test_sandbox_doku_* talk to one): the request
bodies and their field limits, the responses.
"""

from decimal import Decimal

from odoo.tests import BaseCase, tagged

from ..protocol import doku
from ..protocol.errors import FieldValidationError, ProviderMalformedResponse
from .doku_protocol_helpers import FIELDS

PHONE_RULE = "62 (or 0) followed by digits, 9 to 14 digits in all"
# Every DOKU limit: (field, value, rule in the message)
BAD_FIELDS = [
    ("amount", 0, "must be greater than 0"),
    ("amount", -5, "must be greater than 0"),
    ("amount", float("nan"), "must be greater than 0"),
    ("amount", "11500", "must be a number"),
    ("amount", True, "must be a number"),
    ("amount", 10.005, "at most 2 decimal places"),
    ("amount", Decimal(10**16), "at most 16 digits before the decimal point"),
    ("amount", Decimal("9999999999999999.99"), "too many digits to send exactly"),
    ("sender_name", "", "required"),
    ("sender_name", "   ", "required"),
    ("sender_name", "x" * 51, "at most 50 characters"),
    ("receiver_name", None, "required"),
    ("receiver_name", "x" * 51, "at most 50 characters"),
    ("receiver_name", 42, "must be text"),
    ("receiver_phone_number", "62812345", PHONE_RULE),
    ("receiver_phone_number", "0812345", PHONE_RULE),  # 62812345 once normalised
    ("receiver_phone_number", "62" + "1" * 13, "at most 14 characters"),
    ("receiver_phone_number", "0" + "1" * 13, "at most 14 characters"),
    ("receiver_phone_number", "+6281629127", PHONE_RULE),
    ("receiver_phone_number", "62 816291271", PHONE_RULE),
    ("receiver_phone_number", "816291271826", PHONE_RULE),
    ("receiver_phone_number", "0８16291271826", PHONE_RULE),  # a full-width digit
    ("receiver_email", "toru.example.com", "not a valid email address"),
    ("receiver_email", "toru@example", "not a valid email address"),
    ("receiver_email", "a@b.co" + "m" * 45, "at most 50 characters"),
    ("reference_id", "", "required"),
    ("reference_id", "R" * 31, "at most 30 characters"),
    ("description", "d" * 31, "at most 30 characters"),
    ("currency", "IDRX", "at most 3 characters"),
]


@tagged("post_install", "-at_install")
class TestDokuRequestBodies(BaseCase):
    """The initiate and status bodies: their defaults, exact amounts, and every field limit
    DOKU sets, checked before anything is sent."""

    def test_initiate_body_defaults(self):
        body = doku.build_initiate_body(**{**FIELDS, "description": None})
        self.assertNotIn("description", body)
        self.assertEqual(body["currency"], "IDR")
        self.assertEqual(list(body), [
            "amount",
            "sender_name",
            "receiver_name",
            "receiver_phone_number",
            "receiver_email",
            "reference_id",
            "currency",
        ])

    def test_amount_is_sent_exactly(self):
        """Whole amounts go as int, others as the float of the same decimal value."""
        cases = [
            (11500, 11500),
            (11500.0, 11500),
            (Decimal("11500.00"), 11500),
            (11500.5, 11500.5),
            (Decimal("0.01"), 0.01),
            (Decimal("9999999999999.99"), 9999999999999.99),
            (Decimal(9999999999999999), 9999999999999999),
        ]
        for amount, sent in cases:
            with self.subTest(amount=amount, sent=sent):
                body = doku.build_initiate_body(**{**FIELDS, "amount": amount})
                self.assertEqual(body["amount"], sent)
                self.assertIs(type(body["amount"]), type(sent))

    def test_field_limits(self):
        for field, value, rule in BAD_FIELDS:
            with self.subTest(field=field, value=value, rule=rule):
                with self.assertRaises(FieldValidationError) as caught:
                    doku.build_initiate_body(**{**FIELDS, field: value})
                self.assertEqual((caught.exception.field, caught.exception.rule), (field, rule))
                self.assertEqual(caught.exception.message, f"{field}: {rule}")
                self.assertIsInstance(caught.exception, ValueError)

    def test_field_limits_are_inclusive(self):
        cases = [
            ("sender_name", "x" * 50),
            ("receiver_phone_number", "628123456"),
            ("receiver_phone_number", "62" + "1" * 12),
            ("receiver_email", "a@b.co" + "m" * 44),
            ("reference_id", "R" * 30),
            ("description", "d" * 30),
        ]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                self.assertEqual(doku.build_initiate_body(**{**FIELDS, field: value})[field],
                                 value)

    def test_phone_in_national_form_is_sent_as_62(self):
        cases = [
            ("0816291271826", "62816291271826"),  # the Payout Link page's own example
            ("081234567", "6281234567"),
            ("6281629127182", "6281629127182"),
        ]
        for phone, sent in cases:
            with self.subTest(phone=phone):
                body = doku.build_initiate_body(**{**FIELDS, "receiver_phone_number": phone})
                self.assertEqual(body["receiver_phone_number"], sent)

    def test_status_body(self):
        self.assertEqual(doku.build_status_body("PAY_1"), {"transaction_id": "PAY_1"})
        with self.assertRaisesRegex(FieldValidationError,
                                    "transaction_id: at most 30 characters"):
            doku.build_status_body("R" * 31)


@tagged("post_install", "-at_install")
class TestDokuResponses(BaseCase):
    """Every DOKU status maps to an Odoo state; an answer without a status is malformed."""

    def test_status_mapping_covers_every_doku_status(self):
        self.assertEqual(doku.STATUS_MAPPING, {
            "PENDING": "sent",
            "EMAIL_SENT": "sent",
            "EMAIL_LINK_OPENED": "opened",
            "PENDING_PROCESS": "processing",
            "CONFIRMED": "processing",
            "COMPLETED": "done",
            "FAILED": "failed",
            "EXPIRED": "expired",
        })

    def test_parse_status(self):
        cases = [
            (
                {"status": "0",
                 "data": {"status": "COMPLETED", "transaction_id": "PAY_1", "x": 1}},
                "COMPLETED",
                "done",
                "PAY_1",
            ),
            (
                {"status": "EMAIL_LINK_OPENED", "reference_id": "PAY_1"},
                "EMAIL_LINK_OPENED",
                "opened",
                None,
            ),
            ({"data": {"status": "expired", "reference_id": "PAY_2"}},
             "expired", "expired", "PAY_2"),
            ({"status": "0", "data": {"status": "ON_HOLD"}}, "ON_HOLD", None, None),
        ]
        for data, raw_status, state, reference in cases:
            with self.subTest(data=data):
                status = doku.parse_status(data)
                self.assertEqual(
                    (status.raw_status, status.state, status.provider_reference),
                    (raw_status, state, reference),
                )
                self.assertIs(status.raw, data)

    def test_parse_status_without_status(self):
        for data in ({}, {"status": "0", "message": "Success"}, {"data": "PENDING"},
                     {"status": 3}):
            with self.subTest(data=data), self.assertRaises(ProviderMalformedResponse):
                doku.parse_status(data)
