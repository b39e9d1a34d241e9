"""What the test_protocol_xendit_* tests share: a Payout Link and a v2 payout as Xendit
answers them, and a XenditClient on a FakeSession.

Its name does not start with `test_`, so no runner collects it.
"""

import json

from ..protocol import xendit
from .fakes import FakeSession

KEY = "xnd_development_P4qDfOss0OCpl8RtKrROHjaQYNCk9dN5lSfk+R1l9Wbe+rSiCwZ3jw=="
LINK = {
    "id": "a6ee1bf1-ffcd-4bda-a7ab-99c1d5cd0472",
    "external_id": "PAY83921251",
    "amount": 250000,
    "merchant_name": "PT Contoh",
    "status": "PENDING",
    "expiration_timestamp": "2025-01-04T10:00:00.000Z",
    "created": "2025-01-01T10:00:00.000Z",
    "updated": "2025-01-01T10:00:00.000Z",
    "payout_url": "https://payout.xendit.co/web/a6ee1bf1-ffcd-4bda-a7ab-99c1d5cd0472",
}
PAYOUT = {
    "id": "disb-b4de62fb-e6b4-4260-8346-96a162e18e15",
    "reference_id": "PL-2025-0001",
    "channel_code": "ID_BCA",
    "channel_properties": {"account_number": "1234567890", "account_holder_name": "Siti Rahma"},
    "amount": 250000,
    "currency": "IDR",
    "status": "ACCEPTED",
}


def _client(*replies, **options):
    """A XenditClient on a FakeSession (answering with the LINK by default) and the session."""
    session = FakeSession(*(replies or [(200, json.dumps(LINK).encode())]))
    return xendit.XenditClient(xendit.API_URL, KEY, session=session, **options), session
