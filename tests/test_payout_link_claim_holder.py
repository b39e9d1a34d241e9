from odoo.tests import tagged

from .. import utils
from .common import ACCOUNT_NUMBER, ClaimPageCommon


@tagged("post_install", "-at_install")
class TestAccountHolderCheck(ClaimPageCommon):
    """The name check at claim: an account holder who is not the employee on the HR record
    (case, accents, word order and initials aside) holds the payout for a Payout Manager's
    review, with both names side by side; on by default, per company."""

    def setUp(self):
        super().setUp()
        self.link = self._create_link()
        self.secret = self._send(self.link)

    def test_the_rule(self):
        for typed, matches in (("Dewi Lestari", True), ("DEWI LESTARI", True),
                               ("Lestari Dewi", True), ("Dewi L.", True), ("D. Lestari", True),
                               ("Déwi Léstari", True), ("Dewi", False), ("Budi Santoso", False),
                               ("Dewi Ayu Lestari", False), ("Dewi Lestary", False), ("", False)):
            with self.subTest(typed=typed):
                self.assertEqual(utils.names_match(typed, "Dewi Lestari"), matches)

    def test_on_by_default(self):
        self.assertTrue(self.env["res.company"].create({"name": "New Co"})
                        .payout_check_account_holder)

    def test_another_name_waits_for_review(self):
        self._verify()
        self.assertEqual(self._post_account(account_holder="Budi Santoso").status_code, 303)
        self.link.invalidate_recordset()
        self.assertEqual((self.link.state, self.link.account_review_state,
                          self.link.account_holder_mismatch), ("processing", "to_review", True))
        [claimed] = [body for body in self.link.message_ids.mapped("body") if "Claimed" in body]
        self.assertIn("The account holder, Budi Santoso, is not the employee's name on the HR "
                      "record, Dewi Lestari", claimed)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(self.link.state, "processing", "no money moves before the review")

        form = self.env["payout.link"].get_view(view_type="form")["arch"]
        self.assertIn("o_payout_holder_mismatch", form)
        manager = self.env["res.users"].browse(self.user_manager.id)
        self.link.with_user(manager).action_approve_account()
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(self.link.state, "done")

    def test_the_employee_s_name_in_any_form_is_paid_at_once(self):
        self._verify()
        self._post_account(account_holder="lestari d.")
        self.link.invalidate_recordset()
        self.assertEqual((self.link.submission_state, self.link.account_holder_mismatch),
                         ("to_submit", False))

    def test_off_for_a_company(self):
        self.company.payout_check_account_holder = False
        self.link._claim(self.bank, ACCOUNT_NUMBER, "Budi Santoso")
        self.assertEqual(self.link.submission_state, "to_submit")
