"""Plain pytest tests of DokuClient against the DOKU sandbox, over real loopback HTTP:
a payout's lifecycle on the sandbox's clock.
"""

from datetime import datetime, timedelta, timezone

import pytest

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR, MINUTE
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.tests import fakes
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields
from odoo.addons.hr_payout_link.tests.fakes import follow_clock

# pytest fixtures, found by their names here
sandbox = fakes.sandbox_fixture(doku_sim.start)
client, sleeps = fakes.client, fakes.sleeps


# Lifecycle ------------------------------------------------------------------------------


OPENED = [
    (0, "PENDING"),
    (MINUTE - 5, "PENDING"),
    (MINUTE, "EMAIL_SENT"),
    (HOUR, "EMAIL_LINK_OPENED"),
]


@pytest.mark.parametrize(
    "email, timeline",
    [
        (
            "siti@example.com",
            OPENED + [(2 * HOUR, "CONFIRMED"), (3 * HOUR, "COMPLETED"), (30 * DAY, "COMPLETED")],
        ),
        (
            "fail.siti@example.com",
            OPENED
            + [
                (2 * HOUR, "PENDING_PROCESS"),
                (4 * HOUR, "PENDING_PROCESS"),
                (5 * HOUR, "FAILED"),
                (30 * DAY, "FAILED"),
            ],
        ),
        ("retry@example.com", OPENED + [(2 * HOUR, "PENDING_PROCESS"), (3 * HOUR, "COMPLETED")]),
        (
            "expire-siti@example.com",
            [
                (0, "PENDING"),
                (MINUTE, "EMAIL_SENT"),
                (DAY - MINUTE, "EMAIL_SENT"),
                (DAY, "EXPIRED"),
            ],
        ),
        ("stuck@example.com", OPENED + [(2 * HOUR, "CONFIRMED"), (30 * DAY, "CONFIRMED")]),
    ],
)
def test_lifecycle_follows_the_clock(sandbox, client, email, timeline):
    client.initiate(_fields(receiver_email=email), "1001")
    for at, raw_status in follow_clock(sandbox.server.clock, timeline):
        status = client.status("PAY_1")
        assert (at, status.raw_status) == (at, raw_status)
        assert status.state == doku.STATUS_MAPPING[raw_status]


def test_clock_can_be_set(sandbox):
    clock = sandbox.server.clock
    assert clock.set(datetime(2030, 1, 31, 10, 0)) - datetime(
        2030, 1, 31, 10, 0, tzinfo=timezone.utc
    ) < timedelta(seconds=1)
    clock.reset()
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=1)
