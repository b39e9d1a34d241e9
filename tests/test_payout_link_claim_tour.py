from itertools import cycle
from unittest.mock import patch

from odoo.tests import HttpCase, tagged

from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestClaimTour(PayoutCommon, HttpCase):
    """The whole claim in a real browser: static/tests/tours/payout_claim_tour.js."""

    def _claim_in_a_browser(self, tour):
        link = self._create_link()
        # The tour's steps are static: make the secret ABCDEFGH.
        with patch(
            "odoo.addons.hr_payout_link.models.payout_link_claim.secrets.choice",
            side_effect=cycle("ABCDEFGH"),
        ):
            link.action_send()
        self.assertEqual(self._secret_in_mail(link), "ABCDEFGH")
        self.start_tour(self._claim_path(link), tour, login=None)
        return link

    def test_claim_tour_in_indonesian(self):
        """An employee whose language is Indonesian claims in Indonesian."""
        self.env["res.lang"]._activate_lang("id_ID")
        self.env["ir.module.module"]._load_module_terms(["hr_payout_link"], ["id_ID"])
        self.employee.work_contact_id.lang = "id_ID"
        link = self._claim_in_a_browser("payout_claim_tour_id")
        self.assertEqual((link.state, link.account_number_masked), ("processing", "•••• 7890"))

    def test_claim_tour(self):
        link = self._claim_in_a_browser("payout_claim_tour")

        link.invalidate_recordset()
        self.assertEqual(link.state, "processing")
        self.assertEqual(link.submission_state, "to_submit")
        self.assertEqual(link.failed_attempts, 1)
        self.assertEqual(link.bank_id, self.bank)
        self.assertEqual(link.account_number_masked, "•••• 7890")
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.state, "done")

    def test_not_for_me_tour(self):
        """Whoever received someone else's claim email says so in a browser."""
        link = self._create_link(user_id=self.env.user.id)
        link.action_send()
        self.start_tour(self._claim_path(link), "payout_not_for_me_tour", login=None)
        link.invalidate_recordset()
        self.assertEqual((link.state, link.refused_by_recipient), ("failed", True))
        self.assertTrue(link.activity_ids, "the responsible user is told")
