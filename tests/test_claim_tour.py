from itertools import cycle
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestClaimTour(PayoutCommon, HttpCase):
    """The whole claim in a real browser: static/tests/tours/payout_claim_tour.js."""

    def test_claim_tour(self):
        link = self._create_link()
        # The tour's steps are static: make the secret ABCDEFGH.
        with patch(
            "odoo.addons.hr_payout_link.models.payout_link_claim.secrets.choice",
            side_effect=cycle("ABCDEFGH"),
        ):
            link.action_send()
        self.assertEqual(self._secret_in_mail(link), "ABCDEFGH")

        self.start_tour(link._get_claim_path(), "payout_claim_tour", login=None)

        link.invalidate_recordset()
        self.assertEqual(link.state, "processing")
        self.assertEqual(link.submission_state, "to_submit")
        self.assertEqual(link.failed_attempts, 1)
        self.assertEqual(link.bank_id, self.bank)
        self.assertEqual(link.account_number_masked, "•••• 7890")
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.state, "done")
