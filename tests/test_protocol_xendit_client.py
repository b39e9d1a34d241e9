"""XenditClient's strategy on a fake session (no server): reconcile a v2 payout by its
reference (found → adopted when it is ours, none → created with the same idempotency key)
and never adopt a payout under our reference that is not ours.

A BaseCase: Odoo's runner and pytest (bin/test) both run it.
"""

import json

from odoo.tests import BaseCase, tagged

from odoo.addons.hr_payout_link.protocol import xendit
from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderClientError,
    ProviderError,
    ProviderMismatch,
    ProviderRefusal,
)
from odoo.addons.hr_payout_link.tests.fakes import PAYOUT_ARGS, PAYOUT_BODY
from odoo.addons.hr_payout_link.tests.xendit_protocol_helpers import PAYOUT, _client

FIND = ("GET", f"{xendit.API_URL}{xendit.PAYOUT_PATH}?reference_id={PAYOUT_ARGS['reference_id']}")
CREATE = ("POST", f"{xendit.API_URL}{xendit.PAYOUT_PATH}")


def _listing(*payouts):
    return 200, json.dumps(list(payouts)).encode()


def _other(**changes):
    """PAYOUT, with ``changes`` (channel_properties merged)."""
    payout = {**PAYOUT, "id": "disb-other", **changes}
    payout["channel_properties"] = {**PAYOUT["channel_properties"],
                                    **changes.get("channel_properties", {})}
    return payout


def _calls(session):
    return [(call["method"], call["url"]) for call in session.calls]


@tagged("post_install", "-at_install")
class TestXenditClientStrategy(BaseCase):

    def test_our_payout_found_by_reference_is_adopted(self):
        client, session = _client(_listing(PAYOUT))
        answer = client.reconcile_payout(**PAYOUT_ARGS)
        self.assertEqual((answer.provider_reference, answer.state), (PAYOUT["id"], "processing"))
        self.assertEqual(_calls(session), [FIND])

    def test_ours_is_adopted_among_others_under_the_reference(self):
        client, _session = _client(_listing(_other(amount=1), PAYOUT))
        self.assertEqual(client.reconcile_payout(**PAYOUT_ARGS).provider_reference,
                         PAYOUT["id"])

    def test_no_payout_under_the_reference_is_created_with_the_same_key(self):
        client, session = _client(_listing(), (200, json.dumps(PAYOUT).encode()))
        answer = client.reconcile_payout(**PAYOUT_ARGS)
        self.assertEqual(answer.provider_reference, PAYOUT["id"])
        self.assertEqual(_calls(session), [FIND, CREATE])
        create = session.calls[1]
        self.assertEqual(create["headers"][xendit.PAYOUT_IDEMPOTENCY_HEADER],
                         PAYOUT_ARGS["idempotency_key"])
        self.assertEqual(json.loads(create["data"]), PAYOUT_BODY)

    def test_a_payout_that_is_not_ours_is_never_adopted(self):
        cases = {
            "another amount": _other(amount=PAYOUT["amount"] + 1),
            "another channel": _other(channel_code="ID_BNI"),
            "another account": _other(channel_properties={"account_number": "999"}),
            "no amount shown": _other(amount=None),
        }
        for case, payout in cases.items():
            with self.subTest(case=case):
                client, session = _client(_listing(payout))
                with self.assertRaises(ProviderMismatch) as caught:
                    client.reconcile_payout(**PAYOUT_ARGS)
                self.assertTrue(caught.exception.needs_person)
                self.assertEqual(_calls(session), [FIND])

    def test_a_lookup_error_leaves_the_outcome_unknown(self):
        """A 4xx of the lookup is not a refusal of the payout: a plain ProviderError, never
        a ProviderClientError the submission would take for one; nothing is created."""
        for status in (400, 401, 404):
            with self.subTest(status=status):
                client, session = _client(
                    (status, b'{"error_code":"API_VALIDATION_ERROR","message":"No"}'))
                with self.assertRaises(ProviderError) as caught:
                    client.reconcile_payout(**PAYOUT_ARGS)
                self.assertNotIsInstance(caught.exception, ProviderClientError)
                self.assertEqual(caught.exception.status, status)
                self.assertEqual(_calls(session), [FIND])

    def test_a_refusal_of_the_creation_stays_a_refusal(self):
        client, session = _client(
            _listing(), (400, b'{"error_code":"API_VALIDATION_ERROR","message":"No"}'))
        with self.assertRaises(ProviderRefusal):
            client.reconcile_payout(**PAYOUT_ARGS)
        self.assertEqual(_calls(session), [FIND, CREATE])
