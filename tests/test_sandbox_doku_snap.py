"""DokuSnapClient against the DOKU sandbox, over real loopback HTTP: a DOKU account on
SNAP.
"""

import json

import requests

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import doku, doku_snap
from odoo.addons.hr_payout_link.protocol.errors import (
    FieldValidationError,
    ProviderConflict,
    ProviderRefusal,
)
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase


def _paths(sandbox):
    return [r.path for r in sandbox.server.requests]


def _snap_post(snap, path, body, **headers):
    """A hand-made SNAP call with a fresh token, to send what DokuSnapClient never would."""
    client = snap.client()
    token = client._access_token()
    timestamp = doku_snap.snap_timestamp()
    values = {
        "X-TIMESTAMP": timestamp, "X-PARTNER-ID": snap.client_id, "X-EXTERNAL-ID": "77",
        "CHANNEL-ID": "H2H", "Authorization": f"Bearer {token}",
        "X-SIGNATURE": doku_snap.sign(
            snap.secret_key, doku_snap.string_to_sign("POST", path, token, body, timestamp)),
        "Content-Type": "application/json",
    }
    values.update(headers)
    return requests.post(snap.url + path, data=body, timeout=5,
                         headers={k: v for k, v in values.items() if v is not None})


@tagged("post_install", "-at_install")
class TestSandboxDokuSnap(SandboxCase):
    """A DOKU account on SNAP (a sandbox with a key pair it made): access tokens, the
    headers the sandbox checks, and its X-EXTERNAL-ID."""

    start_sandbox = doku_sim.start
    sandbox_options = {"scheme": "snap"}

    def fresh(self):
        super().fresh()
        # The sandbox forgot the tokens it issued; the clients share theirs (by account) in
        # doku_snap.TOKENS: forget the sandbox's account there too.
        doku_snap.TOKENS.discard(self.client.account)

    def test_snap_initiate_then_status_with_one_token(self):
        snap = self.sandbox
        client = snap.client(sleep=self.sleeps.append)
        self.assertEqual(client.initiate(_fields(), "1001").raw_status, "PENDING")
        self.assertEqual(client.status("PAY_1").raw_status, "PENDING")
        self.assertEqual(
            _paths(snap), [doku_snap.TOKEN_PATH, doku.INITIATE_PATH, doku.STATUS_PATH]
        )
        token_call, initiate, status = snap.server.requests
        self.assertTrue(doku_snap.verify_token_request(snap.public_key, snap.client_id,
                                                       token_call.headers["X-TIMESTAMP"],
                                                       token_call.headers["X-SIGNATURE"]))
        self.assertEqual(initiate.headers["X-EXTERNAL-ID"], "1001")
        self.assertEqual(
            initiate.headers["Authorization"], status.headers["Authorization"], "cached"
        )
        self.assertEqual(initiate.body, json.dumps(doku.build_initiate_body(**_fields()),
                                                   separators=(",", ":")).encode())
        # SNAP answers are not signed
        self.assertNotIn("Signature", client.last_response.headers)
        self.assertEqual(list(snap.payouts), ["PAY_1"])
        self.assertEqual(self.sleeps, [])

    def test_snap_revoked_token_is_renewed_once(self):
        snap = self.sandbox
        client = snap.client()
        client.initiate(_fields(), "1001")
        snap.revoke_tokens()
        self.assertEqual(client.status("PAY_1").raw_status, "PENDING")
        self.assertEqual(_paths(snap), [doku_snap.TOKEN_PATH, doku.INITIATE_PATH,
                                        doku.STATUS_PATH, doku_snap.TOKEN_PATH, doku.STATUS_PATH])
        refused, renewed = snap.server.requests[2], snap.server.requests[4]
        self.assertNotEqual(refused.headers["Authorization"], renewed.headers["Authorization"])
        self.assertEqual(client.status("PAY_1").raw_status, "PENDING")
        self.assertEqual(len(snap.server.requests), 6, "the new token is kept")

    def test_snap_second_401_is_an_error_not_a_loop(self):
        class Forgetful(dict):
            def __setitem__(self, token, expires):
                pass  # DOKU takes no token it issues: every call is answered 401

        snap = self.sandbox
        client = snap.client()
        snap.tokens = Forgetful()  # the sandbox's reset before the next test forgets it
        with self.assertRaises(ProviderRefusal) as caught:
            client.initiate(_fields(), "1001")
        self.assertEqual((caught.exception.status, caught.exception.code), (401, "4010001"))
        self.assertEqual(caught.exception.message, "Invalid Token (B2B)")
        self.assertEqual(_paths(snap), [doku_snap.TOKEN_PATH, doku.INITIATE_PATH] * 2)
        self.assertEqual(snap.payouts, {})

    def test_snap_token_is_renewed_before_it_expires(self):
        snap = self.sandbox
        now = [1000.0]
        client = snap.client(monotonic=lambda: now[0])
        client.initiate(_fields(), "1001")
        now[0] += doku_sim.TOKEN_TTL - doku_snap.TOKEN_MARGIN - 1
        client.status("PAY_1")
        self.assertEqual(_paths(snap).count(doku_snap.TOKEN_PATH), 1)
        now[0] += 1
        client.status("PAY_1")
        self.assertEqual(_paths(snap), [doku_snap.TOKEN_PATH, doku.INITIATE_PATH,
                                        doku.STATUS_PATH, doku_snap.TOKEN_PATH, doku.STATUS_PATH],
                         "no 401 on the way")

    def test_snap_token_needs_the_matching_private_key(self):
        snap = self.sandbox
        other_private, _public = doku_sim.new_key_pair()
        client = doku_snap.DokuSnapClient(snap.url, snap.client_id, snap.secret_key,
                                          other_private)
        with self.assertRaises(ProviderRefusal) as caught:
            client.status("PAY_1")
        self.assertEqual((caught.exception.status, caught.exception.code), (401, "4017300"))
        self.assertEqual(_paths(snap), [doku_snap.TOKEN_PATH], "no call without a token")

    def test_snap_sandbox_checks_each_header(self):
        for headers, status, code in (
            ({}, 200, None),
            ({"X-SIGNATURE": "bad"}, 401, "4010000"),
            ({"X-PARTNER-ID": "SOMEONE-ELSE"}, 401, "4010000"),
            ({"Authorization": "Bearer forged"}, 401, "4010001"),
            ({"X-EXTERNAL-ID": "REQ-1"}, 400, "4000000"),
            ({"CHANNEL-ID": None}, 400, "4000000"),
            ({"X-TIMESTAMP": "2024-01-01T10:00:00+07:00"}, 401, "4010000"),
        ):
            with self.case(headers=headers):
                snap = self.sandbox
                body = json.dumps(doku.build_initiate_body(**_fields()),
                                  separators=(",", ":")).encode()
                answer = _snap_post(snap, doku.INITIATE_PATH, body, **headers)
                self.assertEqual(answer.status_code, status)
                self.assertEqual(answer.json().get("responseCode"), code)
                self.assertEqual(len(snap.payouts), 1 if status == 200 else 0)

    def test_snap_sandbox_refuses_a_tampered_body(self):
        snap = self.sandbox
        body = json.dumps(doku.build_initiate_body(**_fields())).encode()
        client = snap.client()
        token = client._access_token()
        timestamp = doku_snap.snap_timestamp()
        signature = doku_snap.sign(snap.secret_key, doku_snap.string_to_sign(
            "POST", doku.INITIATE_PATH, token, body, timestamp))
        answer = requests.post(snap.url + doku.INITIATE_PATH, timeout=5,
                               data=body.replace(b"250000", b"950000"), headers={
                                   "X-TIMESTAMP": timestamp, "X-PARTNER-ID": snap.client_id,
                                   "X-EXTERNAL-ID": "78", "CHANNEL-ID": "H2H",
                                   "Authorization": f"Bearer {token}", "X-SIGNATURE": signature})
        self.assertEqual((answer.status_code, answer.json()["responseMessage"]),
                         (401, "Unauthorized. Invalid Signature"))
        self.assertEqual(snap.payouts, {})

    def test_snap_lost_answer_then_reused_external_id_is_a_conflict(self):
        """SNAP answers a reused X-EXTERNAL-ID with 409 Conflict, not the original answer:
        the client says so (Odoo then looks the payout up), and DOKU holds one payout."""
        snap = self.sandbox
        client = snap.client(timeout=0.3, sleep=self.sleeps.append)
        snap.server.inject("reset", path=doku.INITIATE_PATH)
        with self.assertRaises(ProviderConflict) as caught:
            client.initiate(_fields(), "1001")
        self.assertEqual((caught.exception.status, caught.exception.code), (409, "4090000"))
        initiates = [r for r in snap.server.requests if r.path == doku.INITIATE_PATH]
        self.assertEqual([r.headers["X-EXTERNAL-ID"] for r in initiates], ["1001", "1001"])
        self.assertEqual(list(snap.payouts), ["PAY_1"])
        self.assertEqual(client.status("PAY_1").raw_status, "PENDING")

    def test_snap_refusal_keeps_its_external_id_free(self):
        snap = self.sandbox
        client = snap.client()
        with self.assertRaises(FieldValidationError):
            client.initiate(_fields(amount=0), "1001")
        body = json.dumps({**doku.build_initiate_body(**_fields()), "amount": 0}).encode()
        refused = _snap_post(snap, doku.INITIATE_PATH, body, **{"X-EXTERNAL-ID": "1001"})
        self.assertEqual((refused.status_code, refused.json()["responseCode"]), (400, "4000001"))
        self.assertEqual(client.initiate(_fields(), "1001").raw_status, "PENDING")
