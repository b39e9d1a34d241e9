"""DokuClient's strategy on a fake session (no server): submit or follow a link DOKU
already has (409), reconcile by reference (404 → initiate with the same Request-Id and
body), and never adopt a link under our reference that is not ours.

A BaseCase: Odoo's runner and pytest (bin/test) both run it.
"""

import json

from odoo.tests import BaseCase, tagged

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderClientError,
    ProviderConflict,
    ProviderError,
    ProviderMismatch,
    ProviderRefusal,
)
from odoo.addons.hr_payout_link.tests.doku_protocol_helpers import CLIENT_ID, KEY
from odoo.addons.hr_payout_link.tests.fakes import DOKU_FIELDS, FakeSession

REQUEST_ID = "418075533589"
CONFLICT = (409, b'{"error":{"code":"DUPLICATE","message":"Duplicate"}}')
NOT_FOUND = (404, b'{"message":"Not Found"}')


def _status(**data):
    """A DOKU answer holding a payout: by default, the one DOKU_FIELDS asks for."""
    data = {"reference_id": DOKU_FIELDS["reference_id"], "status": "PENDING",
            "amount": DOKU_FIELDS["amount"], "receiver_email": DOKU_FIELDS["receiver_email"],
            **data}
    return 200, json.dumps({"status": "0", "message": "Success", "data": data}).encode()


def _client(*replies):
    session = FakeSession(*replies)
    client = doku.DokuClient(doku.SANDBOX_URL, CLIENT_ID, KEY, session=session,
                             verify_responses=False, max_retries=0)
    return client, session


def _paths(session):
    return [call["url"].removeprefix(doku.SANDBOX_URL) for call in session.calls]


@tagged("post_install", "-at_install")
class TestDokuClientStrategy(BaseCase):

    def test_submit_or_follow_initiates_once(self):
        client, session = _client(_status())
        answer = client.submit_or_follow(DOKU_FIELDS, REQUEST_ID)
        self.assertEqual((answer.state, answer.raw_status), ("sent", "PENDING"))
        self.assertEqual(_paths(session), [doku.INITIATE_PATH])

    def test_a_conflict_follows_the_link_doku_has(self):
        client, session = _client(CONFLICT, _status(status="EMAIL_LINK_OPENED"))
        answer = client.submit_or_follow(DOKU_FIELDS, REQUEST_ID)
        self.assertEqual(answer.state, "opened")
        self.assertEqual(_paths(session), [doku.INITIATE_PATH, doku.STATUS_PATH])

    def test_a_conflict_then_not_found_initiates_again_with_the_same_request(self):
        client, session = _client(CONFLICT, NOT_FOUND, _status())
        answer = client.submit_or_follow(DOKU_FIELDS, REQUEST_ID)
        self.assertEqual(answer.state, "sent")
        self.assertEqual(_paths(session),
                         [doku.INITIATE_PATH, doku.STATUS_PATH, doku.INITIATE_PATH])
        first, _status_call, again = session.calls
        self.assertEqual(again["headers"]["Request-Id"], REQUEST_ID)
        self.assertEqual(first["headers"]["Request-Id"], REQUEST_ID)
        self.assertEqual(again["data"], first["data"])

    def test_a_link_that_is_not_ours_is_never_adopted(self):
        cases = {
            "another amount": {"amount": DOKU_FIELDS["amount"] + 1},
            "another recipient": {"receiver_email": "someone@example.com"},
            "no amount shown": {"amount": None},
            "no recipient shown": {"receiver_email": None},
        }
        for case, data in cases.items():
            for method in ("submit_or_follow", "reconcile"):
                with self.subTest(case=case, method=method):
                    replies = [_status(**data)]
                    if method == "submit_or_follow":
                        replies.insert(0, CONFLICT)
                    client, session = _client(*replies)
                    with self.assertRaises(ProviderMismatch) as caught:
                        getattr(client, method)(DOKU_FIELDS, REQUEST_ID)
                    self.assertTrue(caught.exception.needs_person)
                    self.assertEqual(_paths(session), [doku.INITIATE_PATH, doku.STATUS_PATH]
                                     if method == "submit_or_follow" else [doku.STATUS_PATH])

    def test_the_same_recipient_in_another_case_is_ours(self):
        client, _session = _client(
            CONFLICT, _status(receiver_email=DOKU_FIELDS["receiver_email"].upper()))
        self.assertEqual(client.submit_or_follow(DOKU_FIELDS, REQUEST_ID).state, "sent")

    def test_a_refusal_of_the_initiate_is_not_followed(self):
        client, session = _client((400, b'{"status":"4001","message":"Invalid amount"}'))
        with self.assertRaises(ProviderRefusal):
            client.submit_or_follow(DOKU_FIELDS, REQUEST_ID)
        self.assertEqual(_paths(session), [doku.INITIATE_PATH])

    def test_reconcile_takes_the_payout_doku_has_without_initiating(self):
        client, session = _client(_status(status="COMPLETED"))
        self.assertEqual(client.reconcile(DOKU_FIELDS, REQUEST_ID).state, "done")
        self.assertEqual(_paths(session), [doku.STATUS_PATH])

    def test_reconcile_initiates_what_doku_never_created(self):
        client, session = _client(NOT_FOUND, _status())
        self.assertEqual(client.reconcile(DOKU_FIELDS, REQUEST_ID).state, "sent")
        self.assertEqual(_paths(session), [doku.STATUS_PATH, doku.INITIATE_PATH])
        self.assertEqual(session.calls[1]["headers"]["Request-Id"], REQUEST_ID)

    def test_a_status_error_leaves_the_outcome_unknown(self):
        """A 4xx of the status call is not a refusal of the payout: a plain ProviderError,
        never a ProviderClientError the submission would take for one."""
        for status in (400, 401, 403, 409):
            with self.subTest(status=status):
                client, session = _client((status, b'{"message":"No"}'))
                with self.assertRaises(ProviderError) as caught:
                    client.reconcile(DOKU_FIELDS, REQUEST_ID)
                self.assertNotIsInstance(caught.exception, ProviderClientError)
                self.assertEqual(caught.exception.status, status)
                self.assertEqual(_paths(session), [doku.STATUS_PATH])

    def test_the_conflict_answer_is_a_conflict(self):
        """What submit_or_follow follows: DOKU's 409 without a payout in it."""
        client, _session = _client(CONFLICT)
        with self.assertRaises(ProviderConflict) as caught:
            client.initiate(DOKU_FIELDS, REQUEST_ID)
        self.assertEqual(caught.exception.status, 409)
