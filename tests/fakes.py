"""Fakes and values shared by the protocol and sandbox tests (test_protocol_*,
test_sandbox_*). Its name does not start with `test_`, so no runner collects it.
"""

import requests

# The fields of a DOKU initiate body (DokuClient.initiate) that pass every rule.
DOKU_FIELDS = {
    "amount": 250000,
    "sender_name": "PT Contoh",
    "receiver_name": "Siti Rahma",
    "receiver_phone_number": "6281234567890",
    "receiver_email": "siti@example.com",
    "reference_id": "PAY_1",
    "description": "Bonus Q1",
}

# The arguments of a Xendit v2 payout (XenditClient.create_payout) that pass every rule.
PAYOUT_ARGS = {
    "reference_id": "PL-2025-0001",
    "channel_code": "ID_BCA",
    "account_number": "1234567890",
    "account_holder_name": "Siti Rahma",
    "amount": 250000,
    "currency": "IDR",
    "description": "Bonus Q1",
    "idempotency_key": "db-1-PL-2025-0001",
}
# The JSON body XenditClient sends for them.
PAYOUT_BODY = {
    "reference_id": "PL-2025-0001",
    "channel_code": "ID_BCA",
    "channel_properties": {"account_number": "1234567890", "account_holder_name": "Siti Rahma"},
    "amount": 250000,
    "currency": "IDR",
    "description": "Bonus Q1",
}


class FakeSession:
    """Stands in for requests.Session: records each call and answers with the canned
    (HTTP status, body bytes) replies in turn, the last one again once they run out."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.calls = []  # {"method", "url", and the keyword arguments} of each request

    def request(self, method, url, **kwargs):
        self.calls.append({"method": method, "url": url, **kwargs})
        status, content = self.replies[min(len(self.calls), len(self.replies)) - 1]
        response = requests.Response()
        response.status_code, response._content = status, content
        response.url = url
        return response


def error_facts(error):
    """What a test checks of a ProviderError: (class, message, code, HTTP status, body,
    retryable)."""
    return (type(error), error.message, error.code, error.status, error.body, error.retryable)


def follow_clock(clock, timeline):
    """Walk a sandbox ``clock`` through ``timeline``, steps whose first item is the number
    of seconds since the start: yield each step once the clock is there."""
    elapsed = 0
    for step in timeline:
        clock.advance(step[0] - elapsed)
        elapsed = step[0]
        yield step
