"""DokuClient against the DOKU sandbox, over real loopback HTTP: a payout's lifecycle on
the sandbox's clock.
"""

from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from odoo.addons.hr_payout_link.protocol import doku
from odoo.addons.hr_payout_link.protocol.timeutil import DAY, HOUR, MINUTE
from odoo.addons.hr_payout_link.sandbox import doku as doku_sim
from odoo.addons.hr_payout_link.tests.doku_sandbox_helpers import _fields
from odoo.addons.hr_payout_link.tests.fakes import follow_clock
from odoo.addons.hr_payout_link.tests.sandbox_case import SandboxCase

OPENED = [
    (0, "PENDING"),
    (MINUTE - 5, "PENDING"),
    (MINUTE, "EMAIL_SENT"),
    (HOUR, "EMAIL_LINK_OPENED"),
]
# The receiver's email picks the payout's fate; its statuses, seconds after the initiate.
TIMELINES = [
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
]


@tagged("post_install", "-at_install")
class TestSandboxDokuLifecycle(SandboxCase):
    """A DOKU payout moves through its statuses as the sandbox's clock moves."""

    start_sandbox = doku_sim.start

    def test_lifecycle_follows_the_clock(self):
        for email, timeline in TIMELINES:
            with self.case(email=email):
                self.client.initiate(_fields(receiver_email=email), "1001")
                for at, raw_status in follow_clock(self.sandbox.server.clock, timeline):
                    status = self.client.status("PAY_1")
                    self.assertEqual((at, status.raw_status), (at, raw_status))
                    self.assertEqual(status.state, doku.STATUS_MAPPING[raw_status])

    def test_clock_can_be_set(self):
        clock = self.sandbox.server.clock
        self.assertLess(
            clock.set(datetime(2030, 1, 31, 10, 0))
            - datetime(2030, 1, 31, 10, 0, tzinfo=timezone.utc),
            timedelta(seconds=1),
        )
        clock.reset()
        self.assertLess(abs(clock.now() - datetime.now(timezone.utc)), timedelta(seconds=1))
