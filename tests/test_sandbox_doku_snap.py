"""Plain pytest tests of DokuClient against the DOKU sandbox, over real loopback HTTP:
a DOKU account on SNAP.
"""

import json

import pytest
import requests

from odoo.addons.hr_payout_link.protocol import doku, doku_snap
from odoo.addons.hr_payout_link.protocol.errors import (
    FieldValidationError,
    ProviderConflict,
    ProviderRefusal,
)
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(doku_sim.start)
client, sleeps = fakes.client, fakes.sleeps


# SNAP ------------------------------------------------------------------------------------


@pytest.fixture(name="snap")
def snap_sandbox():
    """A sandbox of a DOKU account on SNAP, with a key pair it made."""
    started = doku_sim.start(scheme="snap")
    yield started
    started.server.stop()


def _paths(sandbox):
    return [r.path for r in sandbox.server.requests]


def test_snap_initiate_then_status_with_one_token(snap, sleeps):
    client = snap.client(sleep=sleeps.append)
    assert client.initiate(_fields(), "1001").raw_status == "PENDING"
    assert client.status("PAY_1").raw_status == "PENDING"
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH, doku.STATUS_PATH]
    token_call, initiate, status = snap.server.requests
    assert doku_snap.verify_token_request(snap.public_key, snap.client_id,
                                          token_call.headers["X-TIMESTAMP"],
                                          token_call.headers["X-SIGNATURE"])
    assert initiate.headers["X-EXTERNAL-ID"] == "1001"
    assert initiate.headers["Authorization"] == status.headers["Authorization"], "cached"
    assert initiate.body == json.dumps(doku.build_initiate_body(**_fields()),
                                       separators=(",", ":")).encode()
    assert "Signature" not in client.last_response.headers  # SNAP answers are not signed
    assert list(snap.payouts) == ["PAY_1"] and sleeps == []


def test_snap_revoked_token_is_renewed_once(snap):
    client = snap.client()
    client.initiate(_fields(), "1001")
    snap.revoke_tokens()
    assert client.status("PAY_1").raw_status == "PENDING"
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH, doku.STATUS_PATH,
                            doku_snap.TOKEN_PATH, doku.STATUS_PATH]
    refused, renewed = snap.server.requests[2], snap.server.requests[4]
    assert refused.headers["Authorization"] != renewed.headers["Authorization"]
    assert client.status("PAY_1").raw_status == "PENDING"
    assert len(snap.server.requests) == 6, "the new token is kept"


def test_snap_second_401_is_an_error_not_a_loop(snap):
    class Forgetful(dict):
        def __setitem__(self, token, expires):
            pass  # DOKU takes no token it issues: every call is answered 401

    client = snap.client()
    snap.tokens = Forgetful()
    with pytest.raises(ProviderRefusal) as caught:
        client.initiate(_fields(), "1001")
    assert (caught.value.status, caught.value.code) == (401, "4010001")
    assert caught.value.message == "Invalid Token (B2B)"
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH] * 2
    assert snap.payouts == {}


def test_snap_token_is_renewed_before_it_expires(snap):
    now = [1000.0]
    client = snap.client(monotonic=lambda: now[0])
    client.initiate(_fields(), "1001")
    now[0] += doku_sim.TOKEN_TTL - doku_snap.TOKEN_MARGIN - 1
    client.status("PAY_1")
    assert _paths(snap).count(doku_snap.TOKEN_PATH) == 1
    now[0] += 1
    client.status("PAY_1")
    assert _paths(snap) == [doku_snap.TOKEN_PATH, doku.INITIATE_PATH, doku.STATUS_PATH,
                            doku_snap.TOKEN_PATH, doku.STATUS_PATH], "no 401 on the way"


def test_snap_token_needs_the_matching_private_key(snap):
    other_private, _public = doku_sim.new_key_pair()
    client = doku_snap.DokuSnapClient(snap.url, snap.client_id, snap.secret_key, other_private)
    with pytest.raises(ProviderRefusal) as caught:
        client.status("PAY_1")
    assert (caught.value.status, caught.value.code) == (401, "4017300")
    assert _paths(snap) == [doku_snap.TOKEN_PATH], "no call without a token"


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


@pytest.mark.parametrize(
    "headers, status, code",
    [
        ({}, 200, None),
        ({"X-SIGNATURE": "bad"}, 401, "4010000"),
        ({"X-PARTNER-ID": "SOMEONE-ELSE"}, 401, "4010000"),
        ({"Authorization": "Bearer forged"}, 401, "4010001"),
        ({"X-EXTERNAL-ID": "REQ-1"}, 400, "4000000"),
        ({"CHANNEL-ID": None}, 400, "4000000"),
        ({"X-TIMESTAMP": "2024-01-01T10:00:00+07:00"}, 401, "4010000"),
    ],
)
def test_snap_sandbox_checks_each_header(snap, headers, status, code):
    body = json.dumps(doku.build_initiate_body(**_fields()), separators=(",", ":")).encode()
    answer = _snap_post(snap, doku.INITIATE_PATH, body, **headers)
    assert answer.status_code == status
    assert answer.json().get("responseCode") == code
    assert len(snap.payouts) == (1 if status == 200 else 0)


def test_snap_sandbox_refuses_a_tampered_body(snap):
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
    assert (answer.status_code, answer.json()["responseMessage"]) == (
        401, "Unauthorized. Invalid Signature")
    assert snap.payouts == {}


def test_snap_lost_answer_then_reused_external_id_is_a_conflict(snap, sleeps):
    """SNAP answers a reused X-EXTERNAL-ID with 409 Conflict, not the original answer:
    the client says so (Odoo then looks the payout up), and DOKU holds one payout."""
    client = snap.client(timeout=0.3, sleep=sleeps.append)
    snap.server.inject("reset", path=doku.INITIATE_PATH)
    with pytest.raises(ProviderConflict) as caught:
        client.initiate(_fields(), "1001")
    assert (caught.value.status, caught.value.code) == (409, "4090000")
    initiates = [r for r in snap.server.requests if r.path == doku.INITIATE_PATH]
    assert [r.headers["X-EXTERNAL-ID"] for r in initiates] == ["1001", "1001"]
    assert list(snap.payouts) == ["PAY_1"]
    assert client.status("PAY_1").raw_status == "PENDING"


def test_snap_refusal_keeps_its_external_id_free(snap):
    client = snap.client()
    with pytest.raises(FieldValidationError):
        client.initiate(_fields(amount=0), "1001")
    body = json.dumps({**doku.build_initiate_body(**_fields()), "amount": 0}).encode()
    refused = _snap_post(snap, doku.INITIATE_PATH, body, **{"X-EXTERNAL-ID": "1001"})
    assert (refused.status_code, refused.json()["responseCode"]) == (400, "4000001")
    assert client.initiate(_fields(), "1001").raw_status == "PENDING"
