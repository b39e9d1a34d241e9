from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import PayoutBatchCommon

THRESHOLD = 1000.0


@tagged("post_install", "-at_install")
class TestPayoutApproval(PayoutBatchCommon):
    """Four-eyes approval: over the company's threshold a payout waits for a Payout Manager
    who did not create it; approving and refusing are logged with who and when."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"payout_approval": True, "payout_approval_threshold": THRESHOLD})
        cls.user_second_manager = new_test_user(
            cls.env, "payout_second_manager",
            groups="base.group_user,hr_payout_link.group_payout_manager",
        )

    def _link_by(self, user, amount, employee=None):
        return self.env["payout.link"].with_user(user).create({
            "employee_id": (employee or self.employee).id, "amount": amount,
            "description": "Q4 bonus",
        })

    def test_threshold_edges(self):
        for amount, expected in ((THRESHOLD - 0.01, "sent"), (THRESHOLD, "sent"),
                                 (THRESHOLD + 0.01, "to_approve"), (50000.0, "to_approve")):
            with self.subTest(amount=amount):
                # An employee paid nothing yet: the threshold counts what each receives.
                employee = self.env["hr.employee"].create({
                    "name": f"Edge {amount}", "work_email": f"edge.{amount}@example.com",
                    "company_id": self.company.id})
                link = self._link_by(self.user_manager, amount, employee)
                link.action_send()
                self.assertEqual(link.state, expected)
                self.assertEqual(bool(link.sudo().claim_token_hash), expected == "sent",
                                 "no link nor email before approval")

    def test_threshold_zero_means_every_payout(self):
        self.company.payout_approval_threshold = 0.0
        link = self._link_by(self.user_editor, 0.01)
        link.action_send()
        self.assertEqual(link.state, "to_approve")

    def test_approval_off_sends_everything(self):
        self.company.payout_approval = False
        link = self._link_by(self.user_editor, 50000.0)
        link.action_send()
        self.assertEqual(link.state, "sent")

    def test_threshold_in_another_currency(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        self.env["res.currency.rate"].create({
            "currency_id": eur.id, "rate": 0.5, "name": fields.Date.today(),
            "company_id": self.company.id,
        })  # 1 company unit = 0.5 EUR: the threshold is 500 EUR
        if self.company.currency_id == eur:
            self.skipTest("the company already uses EUR")
        over = self._create_link(currency_id=eur.id, amount=500.01)
        # Another employee's: sent together, one employee's links count together.
        under = self._create_link(currency_id=eur.id, amount=500.0,
                                  employee_id=self.employees[0].id)
        (over | under).action_send()
        self.assertEqual((over.state, under.state), ("to_approve", "sent"))

    def test_creator_cannot_approve_another_manager_can(self):
        link = self._link_by(self.user_manager, 5000.0)
        link.action_send()
        with self.assertRaisesRegex(UserError, "another Payout Manager must approve"):
            link.with_user(self.user_manager).action_approve()
        with self.assertRaisesRegex(AccessError, "Only a Payout Manager"):
            link.with_user(self.user_editor).action_approve()
        self.assertEqual(link.state, "to_approve")
        self.assertFalse(link.approved_by_id)

        link.with_user(self.user_second_manager).action_approve()
        self.assertEqual(link.state, "sent")
        self.assertEqual(link.approved_by_id, self.user_second_manager)
        self.assertTrue(link.date_approved)
        self.assertIn(f"Approved by {self.user_second_manager.name}",
                      link.message_ids.mapped("body")[1])
        self.assertTrue(self._secret_in_mail(link))
        with self.assertRaisesRegex(UserError, "only payouts waiting for approval"):
            link.with_user(self.user_second_manager).action_approve()

    def test_refusal_goes_back_to_draft_with_the_reason(self):
        link = self._link_by(self.user_editor, 5000.0)
        link.action_send()
        action = link.with_user(self.user_manager).action_refuse()
        self.assertEqual(action["res_model"], "payout.refuse.wizard")
        self.env["payout.refuse.wizard"].with_user(self.user_manager).with_context(
            **action["context"]).create({"reason": "Not in the commission plan"}).action_refuse()
        self.assertEqual(link.state, "draft")
        self.assertFalse(link.approved_by_id)
        message = link.message_ids[0]
        self.assertIn(f"Refused by {self.user_manager.name}: Not in the commission plan",
                      message.body)
        self.assertEqual(message.author_id, self.user_manager.partner_id)
        self.assertTrue(message.date)
        # Corrected and sent again, it waits for approval again.
        link.amount = 900.0
        link.action_send()
        self.assertEqual(link.state, "sent")

    def test_creator_cannot_refuse(self):
        link = self._link_by(self.user_manager, 5000.0)
        link.action_send()
        with self.assertRaisesRegex(UserError, "another Payout Manager"):
            link.with_user(self.user_manager).action_refuse()

    def test_reissued_link_keeps_its_approval(self):
        link = self._link_by(self.user_editor, 5000.0)
        link.action_send()
        link.with_user(self.user_manager).action_approve()
        link._update_state("failed", values={"failure_reason": "Locked"})
        link.action_reissue()
        self.assertEqual(link.reissued_link_ids.state, "sent")
        self.assertEqual(link.reissued_link_ids.approved_by_id, self.user_manager)

    # === The threshold counts what one employee receives === #

    def test_a_link_that_takes_the_employee_over_needs_approval(self):
        first = self._link_by(self.user_editor, 600.0)
        first.action_send()
        second = self._link_by(self.user_editor, 600.0)
        second.payout_type = "commission"  # whatever the type
        second.action_send()
        self.assertEqual((first.state, second.state), ("sent", "to_approve"))
        self.assertIn("Dewi Lestari receives", " ".join(second.message_ids.mapped("body")))
        self.assertIn("over the approval threshold", " ".join(
            second.message_ids.mapped("body")))
        # Approved by another manager, it is sent; the next one waits again.
        second.with_user(self.user_manager).action_approve()
        self.assertEqual(second.state, "sent")
        third = self._link_by(self.user_editor, 1.0)
        third.action_send()
        self.assertEqual(third.state, "to_approve")

    def test_links_sent_together_count_together(self):
        links = self._link_by(self.user_editor, 600.0) | self._link_by(self.user_editor, 600.0)
        links[1].payout_type = "other"
        links.action_send()
        self.assertEqual(set(links.mapped("state")), {"to_approve"})

    def test_what_does_not_count(self):
        """Failed, expired, cancelled and draft payouts are not received, nor a payout
        sent before the window (the calendar quarter: the duplicate window is off in these
        tests)."""
        self.assertEqual(self.company.payout_duplicate_window, "off")
        for state in ("failed", "expired", "cancelled"):
            link = self._link_by(self.user_editor, 900.0)
            link.action_send()
            link._update_state(state)
        self._link_by(self.user_editor, 900.0)  # a draft
        last_quarter = self._link_by(self.user_editor, 900.0)
        last_quarter.action_send()
        last_quarter.sudo().date_sent = self.company._get_payout_threshold_start().replace(
            microsecond=0) - timedelta(seconds=1)
        link = self._link_by(self.user_editor, 900.0)
        link.action_send()
        self.assertEqual(link.state, "sent")

    def test_the_window_is_the_duplicate_window(self):
        self.company.write({"payout_duplicate_window": "days", "payout_duplicate_days": 10})
        earlier = self._link_by(self.user_editor, 900.0)
        earlier.action_send()
        earlier.sudo().date_sent = fields.Datetime.now() - timedelta(days=11)
        link = self._link_by(self.user_editor, 900.0)
        link.payout_type = "other"
        link.action_send()
        self.assertEqual(link.state, "sent", "sent 11 days ago: outside a 10-day window")

    def test_a_reissue_that_takes_the_employee_over_waits_for_approval(self):
        """A link failed, a second one was sent meanwhile (the failed one no longer counts):
        reissued, the first would take the employee over, so it waits."""
        failed = self._link_by(self.user_editor, 900.0)
        failed.action_send()
        failed._update_state("failed", values={"failure_reason": "Locked"})
        since = self._link_by(self.user_editor, 900.0)
        since.action_send()
        self.assertEqual(since.state, "sent")
        failed.with_user(self.user_editor).action_reissue()
        new_link = failed.reissued_link_ids
        self.assertEqual((new_link.state, new_link.approval_requested_by_id,
                          new_link.sent_by_id), ("to_approve", self.user_editor,
                                                 self.user_editor))
        self.assertIn("Dewi Lestari receives", " ".join(new_link.message_ids.mapped("body")))
        new_link.with_user(self.user_manager).action_approve()
        self.assertEqual(new_link.state, "sent")

    def test_a_batch_line_reissue_that_takes_its_employee_over_is_refused(self):
        batch = self._batch(self.employee, amount=900.0)
        self._send_all(batch)
        line = batch.link_ids
        line._update_state("failed", values={"failure_reason": "Locked"})
        self._link_by(self.user_editor, 900.0).action_send()
        for action in (lambda: batch.action_reissue_failed(), lambda: line.action_reissue()):
            with self.assertRaisesRegex(UserError, "cannot wait for approval"):
                action()
        self.assertFalse(line.reissued_link_ids)

    def test_a_batch_line_that_takes_its_employee_over(self):
        """A batch needs approval when its total is over, or when any line takes its
        employee over: here 5 lines of 100 (500 in all), one for an employee sent 950."""
        self._link_by(self.user_editor, 950.0, self.employees[2]).action_send()
        batch = self._batch(amount=100.0)
        batch.with_user(self.user_editor).action_send_all()
        self.assertEqual(batch.state, "to_approve")
        self.assertIn("Batch Employee 2 receives", batch.message_ids[0].body)
        self.assertEqual(set(batch.link_ids.mapped("sent_by_id")), {self.user_editor})

    # === Batches: the total counts === #

    def test_batch_over_threshold_by_its_total(self):
        batch = self._batch(amount=THRESHOLD / 4)  # 5 lines: each under, the total over
        batch.with_user(self.user_editor).action_send_all()
        self.assertEqual(batch.state, "to_approve")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"to_approve"})
        self.assertIn("Submitted for approval: 5 lines", batch.message_ids[0].body)
        self.assertFalse(self.env["payout.link"]._cron_send_batches(with_commit=False),
                         "nothing sent yet")

        batch.with_user(self.user_second_manager).action_approve()
        self.assertEqual(batch.state, "sending")
        self.assertEqual((batch.approved_by_id, batch.link_ids.approved_by_id),
                         (self.user_second_manager, self.user_second_manager))
        while self.env["payout.link"]._cron_send_batches(with_commit=False):
            pass
        self.assertEqual(batch.state, "sent")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"sent"})

    def test_batch_at_threshold_is_sent_without_approval(self):
        batch = self._batch(amount=THRESHOLD / 5)
        batch.action_send_all()
        self.assertEqual(batch.state, "sending")

    def test_batch_creator_cannot_approve(self):
        batch = self._batch(amount=THRESHOLD)
        batch.action_send_all()  # created by the superuser's environment, as this test runs
        creator_batch = self.env["payout.batch"].with_user(self.user_manager).create({
            "name": "Mine", "provider_id": self.provider.id,
        })
        self.env["payout.link"].with_user(self.user_manager).create({
            "batch_id": creator_batch.id, "employee_id": self.employee.id, "amount": 5000.0,
        })
        creator_batch.action_send_all()
        with self.assertRaisesRegex(UserError, "another Payout Manager"):
            creator_batch.action_approve()
        self.assertEqual(creator_batch.state, "to_approve")
        batch.with_user(self.user_manager).action_approve()
        self.assertEqual(batch.state, "sending")

    def test_batch_refusal(self):
        batch = self._batch(amount=THRESHOLD)
        batch.action_send_all()
        batch.with_user(self.user_manager)._refuse("Wrong quarter")
        self.assertEqual(batch.state, "draft")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"draft"})
        self.assertIn(f"Refused by {self.user_manager.name}: Wrong quarter",
                      batch.message_ids[0].body)
        batch.link_ids[0].amount = 1.0  # editable again


@tagged("post_install", "-at_install")
class TestBankAccountReview(PayoutBatchCommon):
    """With the setting on, a bank account that is not the one on the employee's HR record
    waits for a Payout Manager before money moves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.payout_review_new_accounts = True
        cls.employee.bank_account_id = cls.env["res.partner.bank"].create({
            "acc_number": "1234 5678 90",
            "bank_id": cls.bank.id,
            "partner_id": cls.employee.work_contact_id.id,
        })
        cls._check_identity(cls.employee)

    def test_trusted_account_is_paid_at_once(self):
        link = self._claimed_link("1234567890", pay=True)
        self.assertEqual(link.state, "done")

    def test_an_unchecked_hr_account_is_not_trusted(self):
        """HR puts another account on the employee's record: until a Payout Manager checks
        the change, it is not trusted and a claim to it waits for the review."""
        self.employee.bank_account_id = self.env["res.partner.bank"].create({
            "acc_number": "5550001111", "bank_id": self.bank.id,
            "partner_id": self.employee.work_contact_id.id,
        })
        self.assertIn("HR bank account", self.employee.payout_identity_pending)
        link = self._claimed_link("5550001111", pay=True)
        self.assertEqual((link.state, link.account_review_state), ("processing", "to_review"))
        self._check_identity(self.employee)
        self.assertFalse(self.employee.payout_identity_pending)
        self.assertEqual(self._claimed_link("5550001111", pay=True).state, "done")

    def test_other_account_waits_for_review(self):
        link = self._claimed_link("9876543210", pay=True)
        self.assertEqual((link.state, link.account_review_state), ("processing", "to_review"))
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.state, "processing", "no money moves before the review")
        self.assertTrue(link.activity_ids)
        with self.assertRaisesRegex(AccessError, "Only a Payout Manager"):
            link.with_user(self.user_editor).action_approve_account()
        link.with_user(self.user_manager).action_approve_account()
        self.assertIn(f"approved by {self.user_manager.name}", link.message_ids[0].body)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.state, "done")
        with self.assertRaisesRegex(UserError, "no bank account waits for review"):
            link.with_user(self.user_manager).action_approve_account()

    def test_same_number_at_another_bank_waits_too(self):
        link = self._sent_link()
        link._claim(self.env.ref("hr_payout_link.bank_id_mandiri"), "1234567890", "Dewi")
        self.assertEqual(link.account_review_state, "to_review")

    def test_refused_account_fails_the_link(self):
        link = self._claimed_link("9876543210", pay=True)
        link.with_user(self.user_manager).action_refuse_account()
        self.assertEqual(link.state, "failed")
        self.assertIn(f"Bank account refused by {self.user_manager.name}", link.failure_reason)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.state, "failed")

    def test_employee_without_account_on_record_is_reviewed(self):
        self.employee.bank_account_id = False
        self._check_identity(self.employee)
        link = self._claimed_link("1234567890", pay=True)
        self.assertEqual(link.account_review_state, "to_review")

    def test_setting_off_pays_any_account(self):
        self.company.payout_review_new_accounts = False
        link = self._claimed_link("9876543210", pay=True)
        self.assertEqual(link.state, "done")


@tagged("post_install", "-at_install")
class TestApprovalSettings(PayoutBatchCommon):

    def test_settings_write_the_company(self):
        settings = self.env["res.config.settings"].create({
            "payout_approval": True, "payout_approval_threshold": 2500.0,
            "payout_review_new_accounts": True,
        })
        settings.execute()
        self.assertEqual(
            (self.company.payout_approval, self.company.payout_approval_threshold,
             self.company.payout_review_new_accounts), (True, 2500.0, True))
        other = self.env["res.company"].create({"name": "Other Settings Company"})
        self.assertFalse(other.payout_approval, "per company")
