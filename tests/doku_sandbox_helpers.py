"""What the test_sandbox_doku_* classes share: the fields of a payout, and a
request signed by hand.

Import it absolutely, as tests/fakes.py; its name does not start with `test_`, so no runner
collects it.
"""

import json
from datetime import datetime, timedelta, timezone

import requests

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.timeutil import format_timestamp
from odoo.addons.hr_payout_link.tests.fakes import DOKU_FIELDS


def _fields(reference="PAY_1", **overrides):
    return {**DOKU_FIELDS, "reference_id": reference, **overrides}


def _post(
    sandbox,
    path,
    payload,
    *,
    request_id="123456",
    client_id=None,
    secret=None,
    clock_skew=timedelta(0),
):
    """A hand-signed request, to send what DokuClient never would."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = doku.signature_headers(
        client_id or sandbox.client_id,
        secret or sandbox.secret_key,
        request_id,
        path,
        body,
        timestamp=format_timestamp(datetime.now(timezone.utc) + clock_skew),
    )
    return requests.post(sandbox.url + path, data=body, headers=headers, timeout=5)
