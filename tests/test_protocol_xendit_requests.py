"""The Xendit protocol code without a server (test_sandbox_xendit_* talk to one): the
requests, the field checks before sending, the banks.
"""

import base64
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import requests

from odoo.tests import BaseCase, tagged

from ..protocol import xendit
from ..protocol.answers import ProviderAnswer
from ..protocol.errors import FieldValidationError, ProviderMalformedResponse
from .fakes import PAYOUT_ARGS, PAYOUT_BODY
from .xendit_protocol_helpers import KEY, LINK, PAYOUT, _client


def _channel(code, category="BANK", currency="IDR", name=None):
    """A Channel as xendit-python docs/payout/Channel.md describes it."""
    return {"channel_code": code, "channel_category": category, "currency": currency,
            "channel_name": name or code, "amount_limits": {
                "minimum": 10000, "maximum": 100000000, "minimum_increment": 1}}


CHANNELS = [_channel("ID_MANDIRI"), _channel("ID_BCA"), _channel("ID_OVO", "EWALLET"),
            _channel("PH_BDO", currency="PHP")]
LINK_ARGS = {"external_id": "PAY1", "amount": 250000, "email": "siti@example.com"}


@tagged("post_install", "-at_install")
class TestXenditProtocolRequests(BaseCase):
    """What the client sends to Xendit: methods, URLs, headers, authentication and bodies;
    what it takes back from the lists and the balance."""

    def test_create_payout_link_request(self):
        client, session = _client()
        status = client.create_payout_link("PAY83921251", 250000, "siti@example.com", "k1")
        response = client.last_response
        [call] = session.calls
        self.assertEqual((call["method"], call["url"]), ("POST", "https://api.xendit.co/payouts"))
        self.assertEqual(
            call["data"],
            b'{"external_id":"PAY83921251","amount":250000,"email":"siti@example.com"}',
        )
        self.assertEqual(call["headers"],
                         {"Content-Type": "application/json", "X-IDEMPOTENCY-KEY": "k1"})
        self.assertEqual(call["auth"], (KEY, ""))  # Basic: the secret key, an empty password
        self.assertEqual(call["timeout"], 10)
        self.assertIs(call["allow_redirects"], False)
        self.assertEqual(
            (status.raw_status, status.state, status.provider_reference),
            ("PENDING", "sent", LINK["id"]),
        )
        self.assertIsInstance(status, ProviderAnswer)
        self.assertFalse(response.replayed)

    def test_basic_auth_header_is_xendits_published_example(self):
        # xendit.github.io/apireference, Authentication: this key gives this header.
        prepared = requests.Request(
            "GET", xendit.API_URL + "/balance", auth=xendit.XenditClient("x", KEY)._build_auth()
        ).prepare()
        self.assertEqual(
            prepared.headers["Authorization"],
            "Basic eG5kX2RldmVsb3BtZW50X1A0cURmT3NzME9DcGw4UnRLclJPSGphUVlOQ2s5ZE41bFNmaytSMWw5V2Jl"
            "K3JTaUN3WjNqdz09Og==",
        )

    def test_basic_auth_header_is_the_key_and_an_empty_password(self):
        prepared = requests.Request(
            "GET", xendit.API_URL + "/balance", auth=xendit.XenditClient("x", KEY)._build_auth()
        ).prepare()
        expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
        self.assertEqual(prepared.headers["Authorization"], expected)

    def test_get_and_void_payout_link_requests(self):
        client, session = _client()
        self.assertEqual(client.get_payout_link(LINK["id"]).raw_status, "PENDING")
        client.void_payout_link(LINK["id"], "void-1")
        get, void = session.calls
        self.assertEqual(
            (get["method"], get["url"], get["data"]),
            ("GET", f"https://api.xendit.co/payouts/{LINK['id']}", None),
        )
        self.assertEqual(get["headers"], {})
        self.assertEqual(
            (void["method"], void["url"], void["data"]),
            ("POST", f"https://api.xendit.co/payouts/{LINK['id']}/void", None),
        )
        self.assertEqual(void["headers"], {"X-IDEMPOTENCY-KEY": "void-1"})

    def test_create_payout_request(self):
        client, session = _client((200, json.dumps(PAYOUT).encode()))
        status = client.create_payout(**{**PAYOUT_ARGS, "amount": Decimal("250000.00")})
        [call] = session.calls
        self.assertEqual((call["method"], call["url"]),
                         ("POST", "https://api.xendit.co/v2/payouts"))
        self.assertEqual(call["headers"], {
            "Content-Type": "application/json",
            "Idempotency-key": "db-1-PL-2025-0001",
        })
        self.assertEqual(json.loads(call["data"]), PAYOUT_BODY)
        self.assertEqual((status.raw_status, status.state), ("ACCEPTED", "processing"))

    def test_other_v2_requests(self):
        listing = {"data": [PAYOUT], "has_more": False}
        client, session = _client(
            (200, json.dumps(PAYOUT).encode()),
            (200, json.dumps({**PAYOUT, "status": "CANCELLED"}).encode()),
            (200, json.dumps(listing).encode()),
            (200, b'{"balance":1241231}'),
        )
        self.assertEqual(client.get_payout(PAYOUT["id"]).state, "processing")
        status = client.cancel_payout(PAYOUT["id"])
        self.assertEqual((status.raw_status, status.state), ("CANCELLED", "failed"))
        self.assertEqual([s.provider_reference for s in client.find_payouts("PL 2025/1")],
                         [PAYOUT["id"]])
        self.assertEqual(client.get_balance(), 1241231)
        urls = [(c["method"], c["url"], c["headers"]) for c in session.calls]
        self.assertEqual(urls, [
            ("GET", f"https://api.xendit.co/v2/payouts/{PAYOUT['id']}", {}),
            ("POST", f"https://api.xendit.co/v2/payouts/{PAYOUT['id']}/cancel", {}),
            ("GET", "https://api.xendit.co/v2/payouts?reference_id=PL+2025%2F1", {}),
            ("GET", "https://api.xendit.co/balance", {}),
        ])

    def test_malformed_balance_or_listing(self):
        for content in (b'{"balance":"12"}', b'{"balance":true}', b"{}", b'{"data":{}}'):
            with self.subTest(content=content):
                client, _session = _client((200, content))
                with self.assertRaises(ProviderMalformedResponse):
                    client.get_balance() if b"data" not in content else client.find_payouts("R1")

    def test_lookup_by_reference_reads_both_shapes(self):
        cases = [
            # the docs' example (/docs/integration-payouts): a bare array
            ("bare array", [PAYOUT]),
            # xendit-python GetPayouts200Response
            ("data", {"data": [PAYOUT], "has_more": False}),
        ]
        for shape, listing in cases:
            with self.subTest(shape=shape):
                client, _session = _client((200, json.dumps(listing).encode()))
                [found] = client.find_payouts("PL-2025-0001")
                self.assertEqual((found.provider_reference, found.state),
                                 (PAYOUT["id"], "processing"))
                client, _session = _client((200, b"[]"))
                self.assertEqual(client.find_payouts("PL-2025-0001"), [])

    def test_malformed_lookup_by_reference(self):
        for content in (b'{"data":{}}', b"{}", b'"text"', b"[1]", b"null"):
            with self.subTest(content=content):
                client, _session = _client((200, content))
                with self.assertRaises(ProviderMalformedResponse):
                    client.find_payouts("R1")

    def test_only_lists_answer_a_list_call(self):
        # Every other call still takes a JSON object only.
        client, _session = _client((200, json.dumps([LINK]).encode()))
        with self.assertRaises(ProviderMalformedResponse):
            client.get_payout_link(LINK["id"])

    def test_channel_list(self):
        for shape, wrap in (("array", list), ("data", lambda items: {"data": items})):
            with self.subTest(shape=shape):
                client, session = _client((200, json.dumps(wrap(CHANNELS)).encode()))
                # IDR banks, sorted
                self.assertEqual(client.get_payout_channels(), ["ID_BCA", "ID_MANDIRI"])
                [call] = session.calls
                self.assertEqual(
                    (call["method"], call["url"], call["headers"]),
                    ("GET",
                     "https://api.xendit.co/payouts_channels?currency=IDR&channel_category=BANK",
                     {}),
                )

    def test_malformed_channel_list(self):
        cases = [
            [],  # no channel at all: employees would have no bank to choose
            [_channel("ID_OVO", "EWALLET")],  # none paying bank accounts
            [_channel("ID_BCA"), {"channel_name": "no code"}],
            [_channel("ID_BCA"), _channel("bca")],
            [_channel("ID_BCA"), "ID_BNI"],
            {"channels": []},
        ]
        for listing in cases:
            with self.subTest(listing=listing):
                client, _session = _client((200, json.dumps(listing).encode()))
                with self.assertRaises(ProviderMalformedResponse):
                    client.get_payout_channels()

    def test_channel_list_of_another_currency(self):
        self.assertEqual(xendit.parse_channels(CHANNELS, "PHP"), ["PH_BDO"])
        with self.assertRaises(FieldValidationError):
            _client()[0].get_payout_channels("peso")


@tagged("post_install", "-at_install")
class TestXenditFieldChecks(BaseCase):
    """Nothing leaves before the fields, ids and keys are right."""

    def test_link_fields_send_nothing(self):
        cases = [
            ("external_id", "", "required"),
            ("external_id", None, "required"),
            ("external_id", "PAY-1", "1 to 30 letters and digits only"),
            ("external_id", "PAY 1", "1 to 30 letters and digits only"),
            ("external_id", "P" * 31, "1 to 30 letters and digits only"),
            ("external_id", 1234, "must be text"),
            ("amount", 0, "must be greater than 0"),
            ("amount", -5, "must be greater than 0"),
            ("amount", 100.5, "must be a whole number of rupiah"),
            ("amount", Decimal("0.01"), "must be a whole number of rupiah"),
            ("amount", "250000", "must be a number"),
            ("amount", True, "must be a number"),
            ("amount", float("nan"), "must be greater than 0"),
            ("email", "not-an-email", "not a valid email address"),
            ("email", "a b@example.com", "not a valid email address"),
            ("email", None, "required"),
        ]
        for field, value, rule in cases:
            with self.subTest(field=field, value=value):
                client, session = _client()
                with self.assertRaises(FieldValidationError) as caught:
                    client.create_payout_link(**{**LINK_ARGS, field: value}, idempotency_key="k1")
                self.assertEqual((caught.exception.field, caught.exception.rule), (field, rule))
                self.assertEqual(caught.exception.message, f"{field}: {rule}")
                self.assertEqual(session.calls, [])

    def test_link_limits_are_inclusive(self):
        body = xendit.build_link_body("P" * 30, Decimal("250000.00"), "x@example.co")
        self.assertEqual(body, {"external_id": "P" * 30, "amount": 250000,
                                "email": "x@example.co"})
        self.assertIsInstance(body["amount"], int)

    def test_payout_fields_send_nothing(self):
        cases = [
            ("reference_id", ""),
            ("reference_id", "R" * 256),
            ("channel_code", "BCA"),
            ("channel_code", "id_bca"),
            ("account_number", "12-34"),
            ("account_number", "1" * 31),
            ("account_number", None),
            ("account_holder_name", " "),
            ("account_holder_name", "x" * 101),
            ("amount", 0),
            ("amount", 1000.5),
            ("currency", "rupiah"),
            ("description", "d" * 101),
            ("idempotency_key", None),
            ("idempotency_key", ""),
            ("idempotency_key", "has space"),
            ("idempotency_key", "k" * 101),
        ]
        for field, value in cases:
            with self.subTest(field=field, value=value):
                client, session = _client()
                with self.assertRaises(FieldValidationError) as caught:
                    client.create_payout(**{**PAYOUT_ARGS, field: value})
                self.assertEqual(caught.exception.field, field)
                self.assertEqual(session.calls, [])

    def test_payout_body_defaults_and_other_currencies(self):
        body = xendit.build_payout_body("R1", "ID_BNI", "0012", "Budi", 10000)
        self.assertEqual(body["currency"], "IDR")
        self.assertNotIn("description", body)
        self.assertEqual(
            xendit.build_payout_body("R1", "PH_BDO", "1", "Juan", 100.25, "PHP")["amount"],
            100.25)
        with self.assertRaisesRegex(FieldValidationError, "at most 2 decimal places"):
            xendit.build_payout_body("R1", "PH_BDO", "1", "Juan", 100.255, "PHP")
        with self.assertRaisesRegex(FieldValidationError, "at most 2 decimal places"):
            # Two decimals, but beyond a float's precision: it would be sent altered.
            xendit.build_payout_body("R1", "PH_BDO", "1", "Juan",
                                     Decimal("9999999999999999.99"), "PHP")

    def test_ids_and_keys_are_checked_before_sending(self):
        cases = [
            ("get_payout_link ../balance", lambda c: c.get_payout_link("../balance")),
            ("get_payout_link empty", lambda c: c.get_payout_link("")),
            ("void_payout_link a/b", lambda c: c.void_payout_link("a/b", "k1")),
            ("void_payout_link no key", lambda c: c.void_payout_link(LINK["id"], None)),
            ("get_payout with a query", lambda c: c.get_payout("disb-1?x=1")),
            ("cancel_payout None", lambda c: c.cancel_payout(None)),
            ("find_payouts empty", lambda c: c.find_payouts("")),
        ]
        for name, call in cases:
            with self.subTest(call=name):
                client, session = _client()
                with self.assertRaises(FieldValidationError):
                    call(client)
                self.assertEqual(session.calls, [])


@tagged("post_install", "-at_install")
class TestXenditBanks(BaseCase):
    """Every bank the addon ships has its Xendit channel code, and only those."""

    def test_channel_codes_cover_the_shipped_banks(self):
        data = Path(__file__).resolve().parent.parent / "data" / "res_bank_data.xml"
        codes = {
            node.text
            for node in ET.parse(data).getroot().iter("field")
            if node.get("name") == "payout_bank_code"
        }
        self.assertEqual(codes, set(xendit.CHANNEL_CODES))
        self.assertEqual(xendit.channel_code("014"), "ID_BCA")
        self.assertEqual(xendit.channel_code("213"), "ID_BTPN")
        self.assertEqual(len(set(xendit.CHANNEL_CODES.values())), len(xendit.CHANNEL_CODES))

    def test_unknown_bank_code(self):
        with self.assertRaises(FieldValidationError) as caught:
            xendit.channel_code("999")
        self.assertEqual(caught.exception.field, "bank")
        self.assertIn("999", caught.exception.rule)
