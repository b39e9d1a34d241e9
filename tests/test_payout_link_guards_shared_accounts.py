from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.modules.migration import load_script
from odoo.tests import new_test_user, tagged

from ..protocol import demo
from .common import ACCOUNT_NUMBER, ClaimPageCommon, PayoutCommon

SHARED = "4111222333"


@tagged("post_install", "-at_install")
class TestSharedAccounts(ClaimPageCommon):
    """Shared accounts: a bank account given by several employees, or on another employee's
    HR record, holds those payouts for a Payout Manager's review before any of them moves.
    Claimed over HTTP, as the employees' browsers do."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.payout_check_shared_accounts = True
        cls.other = cls.env["hr.employee"].create({
            "name": "Budi Santoso", "work_email": "budi.santoso@example.com",
            "company_id": cls.company.id,
        })

    def _claim_as(self, employee, account_number=SHARED, bank=None):
        """A link of ``employee`` sent, then claimed over HTTP to ``account_number``."""
        self.link = self._create_link(employee_id=employee.id)
        self.secret = self._send(self.link)
        self._verify()
        response = self._post_account(account_number=account_number,
                                      account_holder=employee.name,
                                      bank_id=str((bank or self.bank).id))
        self.assertEqual(response.status_code, 303)
        self.link.invalidate_recordset()
        return self.link

    def _pay(self):
        """The payment cron; the account numbers the Demo provider was asked to pay."""
        with patch.object(demo, "pay", wraps=demo.pay) as pay:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        return [call.args[0] for call in pay.call_args_list]

    def _bodies(self, link):
        return " ".join(link.message_ids.mapped("body"))

    def test_on_by_default(self):
        self.assertTrue(self.env["res.company"].create({"name": "New Co"})
                        .payout_check_shared_accounts)
        self.env["res.config.settings"].create({"payout_check_shared_accounts": False}).execute()
        self.assertFalse(self.company.payout_check_shared_accounts)

    def test_two_employees_one_account_both_wait_for_a_review(self):
        first = self._claim_as(self.employee)
        self.assertEqual(first.submission_state, "to_submit", "nobody else gave it yet")
        second = self._claim_as(self.other)
        first.invalidate_recordset()
        self.assertEqual((first.state, first.account_review_state), ("processing", "to_review"))
        self.assertEqual((second.state, second.account_review_state), ("processing", "to_review"))
        self.assertIn(f"This bank account is also given by another employee on {first.name} "
                      "(Dewi Lestari, Processing)", self._bodies(second))
        self.assertIn(f"also given by Budi Santoso on {second.name}. Held",
                      self._bodies(first))
        for link in (first, second):
            self.assertIn("review", link.activity_ids.summary.lower())

        self.assertEqual(self._pay(), [], "no money moves before the review")
        self.assertEqual({first.state, second.state}, {"processing"})

        manager = self.env["res.users"].browse(self.user_manager.id)
        (first | second).with_user(manager).action_approve_account()
        self.assertEqual(self._pay(), [SHARED, SHARED], "each paid once")
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual(self._pay(), [], "and never again")
        self.assertTrue(first.sudo().account_fingerprint, "kept once the number is wiped")
        self.assertFalse(first.sudo().account_number)

    def test_a_payee_cannot_approve_the_shared_account(self):
        # A Payout Manager who is Budi Santoso, at his address (no change of email).
        budi = new_test_user(self.env, "budi", email=self.other.work_email,
                             groups="base.group_user,hr_payout_link.group_payout_manager")
        self._claim_as(self.employee)
        second = self._claim_as(self.other)
        self.other.user_id = budi  # after the claim: with a user, he would claim signed in
        with self.assertRaisesRegex(UserError, "pays you"):
            second.with_user(budi).action_approve_account()
        self.assertEqual(second.account_review_state, "to_review")

    def test_an_account_paid_before_flags_the_new_claim_and_tells_the_paid_link(self):
        first = self._claim_as(self.employee)
        self.assertEqual(self._pay(), [SHARED])
        self.assertEqual(first.state, "done")
        second = self._claim_as(self.other)
        self.assertEqual(second.account_review_state, "to_review")
        self.assertIn("(Dewi Lestari, Paid)", self._bodies(second))
        self.assertIn("had already left for the provider and cannot be held",
                      self._bodies(first))
        self.assertEqual(first.activity_ids.summary,
                         "Check a payout to a bank account another employee gave")
        self.assertEqual(self._pay(), [])

    def test_a_submitted_payout_is_not_pulled_back(self):
        first = self._claim_as(self.employee, account_number=demo.PROCESSING_ACCOUNT)
        self.assertEqual(self._pay(), [demo.PROCESSING_ACCOUNT])
        self.assertEqual((first.state, first.submission_state), ("processing", "accepted"))
        second = self._claim_as(self.other, account_number=demo.PROCESSING_ACCOUNT)
        first.invalidate_recordset()
        self.assertEqual((first.submission_state, second.account_review_state),
                         ("accepted", "to_review"))

    def test_the_same_employee_twice_is_not_flagged(self):
        first = self._claim_as(self.employee)
        second = self._claim_as(self.employee)
        self.assertEqual((first.submission_state, second.submission_state),
                         ("to_submit", "to_submit"))
        self.assertEqual(self._pay(), [SHARED, SHARED])

    def test_another_employee_s_hr_bank_account_is_flagged(self):
        self.other.bank_account_id = self.env["res.partner.bank"].create({
            "acc_number": SHARED, "bank_id": self.bank.id,
            "partner_id": self.other.work_contact_id.id,
        })
        link = self._claim_as(self.employee)
        self.assertEqual(link.account_review_state, "to_review")
        self.assertIn("This bank account is also on the HR record of Budi Santoso",
                      self._bodies(link))
        self.assertEqual(self._pay(), [])

    def test_the_same_number_at_another_bank_is_another_account(self):
        self._claim_as(self.employee)
        other_bank = self.env.ref("hr_payout_link.bank_id_mandiri")
        link = self._claim_as(self.other, bank=other_bank)
        self.assertEqual(link.submission_state, "to_submit")

    def test_off_for_a_company(self):
        self.company.payout_check_shared_accounts = False
        self._claim_as(self.employee)
        link = self._claim_as(self.other)
        self.assertEqual(link.submission_state, "to_submit")
        self.assertTrue(link.sudo().account_fingerprint, "kept for when it is on again")

    def test_the_fingerprint_is_the_system_s(self):
        link = self._claim_as(self.employee, account_number=ACCOUNT_NUMBER)
        for user in (self.user_editor, self.user_manager):
            with self.subTest(user=user.login):
                self._assert_rpc_refused(user, "payout.link", "read", [link.id],
                                         ["account_fingerprint"])
                self._assert_rpc_refused(user, "payout.link", "write", [link.id],
                                         {"account_fingerprint": "forged"})
        self.assertNotIn(ACCOUNT_NUMBER, link.sudo().account_fingerprint)


@tagged("post_install", "-at_install")
class TestSharedAccountsMigration(PayoutCommon):
    """18.0.1.5.0 fingerprints the accounts of links claimed before it; a final link's
    number was wiped, so it has none."""

    def test_links_claimed_before_get_their_fingerprint(self):
        paid = self._claimed_link(account=ACCOUNT_NUMBER, pay=True)
        waiting = self._claimed_link(account=SHARED)
        (waiting | paid).sudo().write({"account_fingerprint": False,
                                         "account_fingerprint_sealed": False})
        self.env.flush_all()

        load_script("hr_payout_link/migrations/18.0.1.5.0/post-account-fingerprints.py",
                    "hr_payout_link_migrate_account_fingerprints").migrate(self.env.cr,
                                                                         "18.0.1.4.0")

        (waiting | paid).invalidate_recordset()
        self.assertEqual(waiting.sudo().account_fingerprint,
                         waiting._account_fingerprint(self.bank, SHARED))
        self.assertEqual(waiting.sudo().account_fingerprint_sealed,
                         waiting._account_fingerprint_inner(self.bank, SHARED))
        self.assertFalse(paid.sudo().account_fingerprint)
