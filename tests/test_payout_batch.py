

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import XLSX, PayoutBatchCommon


@tagged("post_install", "-at_install")
class TestPayoutBatch(PayoutBatchCommon):

    # === Creating batches === #

    def test_wizard_same_amount_for_selected_employees(self):
        batch = self._batch(description="Q4 commission", payout_type="commission")
        self.assertEqual(batch.name, "Q4 2026 test commissions")
        self.assertEqual(batch.payout_type, "commission")
        self.assertEqual(batch.link_ids.employee_id, self.employees)
        self.assertEqual(set(batch.link_ids.mapped("amount")), {100.0})
        self.assertEqual(set(batch.link_ids.mapped("description")), {"Q4 commission"})
        self.assertEqual(set(batch.link_ids.mapped("payout_type")), {"commission"})
        self.assertEqual(batch.link_ids.provider_id, self.provider)
        self.assertEqual((batch.link_count, batch.amount_total, batch.unsent_count),
                         (5, 500.0, 5))

    def test_wizard_amount_per_employee(self):
        wizard = self._wizard(amount_mode="per_employee", amount=0.0)
        self.assertEqual(wizard.line_ids.employee_id, self.employees)
        for index, line in enumerate(wizard.line_ids.sorted("id")):
            line.amount = 10.0 * (index + 1)
        batch = self.env["payout.batch"].browse(wizard.action_create()["res_id"])
        amounts = {link.employee_id: link.amount for link in batch.link_ids}
        expected = {line.employee_id: line.amount for line in wizard.line_ids}
        self.assertEqual(amounts, expected)
        self.assertEqual(batch.amount_total, 150.0)

    def test_wizard_keeps_typed_amounts_when_employees_change(self):
        wizard = self._wizard(self.employees[:2], amount_mode="per_employee")
        wizard.line_ids.filtered(lambda line: line.employee_id == self.employees[0]).amount = 7.0
        wizard.employee_ids = [Command.link(self.employees[2].id)]
        self.assertEqual(wizard.line_ids.employee_id, self.employees[:3])
        self.assertEqual(wizard.line_ids.filtered(
            lambda line: line.employee_id == self.employees[0]).amount, 7.0)

    def test_wizard_bad_amount_creates_nothing(self):
        wizard = self._wizard(amount_mode="per_employee")
        wizard.line_ids[1].amount = -5.0
        with self.assertRaisesRegex(ValidationError, "Amount: must be greater than zero"), \
                self.env.cr.savepoint():
            wizard.action_create()
        self.assertFalse(self.env["payout.batch"].search([("name", "=", wizard.name)]))

    def test_wizard_needs_a_name_and_employees(self):
        with self.assertRaisesRegex(UserError, "Batch Name: required"):
            self._wizard(name=False).action_create()
        with self.assertRaisesRegex(UserError, "Employees: choose at least one"):
            self._wizard(self.env["hr.employee"]).action_create()

    def test_wizard_adds_to_a_draft_batch_and_refuses_duplicates(self):
        batch = self._batch(self.employees[:2])
        self.env["payout.batch.wizard"].create({
            "batch_id": batch.id, "employee_ids": [Command.set(self.employees[2:].ids)],
            "amount": 50.0,
        }).action_create()
        self.assertEqual(batch.link_count, 5)
        self.assertEqual(batch.amount_total, 2 * 100.0 + 3 * 50.0)
        with self.assertRaisesRegex(ValidationError, "Batch Employee 0 already has a line"):
            self.env["payout.batch.wizard"].create({
                "batch_id": batch.id, "employee_ids": [Command.set(self.employees[:1].ids)],
                "amount": 50.0,
            }).action_create()

    def test_lines_follow_their_batch(self):
        batch = self._batch()
        batch.payout_type = "other"
        self.assertEqual(set(batch.link_ids.mapped("payout_type")), {"other"})
        other_provider = self.provider.copy({"name": "Second Demo", "state": "enabled"})
        with self.assertRaisesRegex(ValidationError, "must have the currency, provider"):
            batch.link_ids[0].provider_id = other_provider

    # === Importing lines === #

    def test_import_by_name_email_and_identification_number(self):
        batch = self._empty_batch()
        result = self._import(batch, [
            ("Employee", "Amount", "Description"),
            ("Batch Employee 0", "100.50", "Q4 commission"),
            ("BATCH.EMPLOYEE.1@EXAMPLE.COM", "200", "Q4 commission"),
            ("ID-0002", "300", "Q4 commission"),
        ])
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(len(result["ids"]), 3)
        amounts = {link.employee_id: link.amount for link in batch.link_ids}
        self.assertEqual(amounts, {self.employees[0]: 100.5, self.employees[1]: 200.0,
                                   self.employees[2]: 300.0})
        self.assertEqual(batch.amount_total, 600.5)

    def test_import_xlsx(self):
        batch = self._empty_batch()
        result = self._import(batch, [
            ("Employee", "Amount"),
            ("batch.employee.3@example.com", 75),
            ("Batch Employee 4", 25.25),
        ], file_type=XLSX)
        self.assertFalse(result["messages"], result["messages"])
        self.assertEqual(batch.link_ids.employee_id, self.employees[3:])
        self.assertEqual(batch.amount_total, 100.25)

    def test_import_reports_each_bad_line_and_imports_nothing(self):
        batch = self._empty_batch()
        result = self._import(batch, [
            ("Employee", "Amount"),
            ("Batch Employee 0", "100"),            # record 0: good
            ("Nobody At All", "100"),               # record 1: unknown employee
            ("Batch Employee 2", "-5"),             # record 2: not a payable amount
            ("batch.employee.0@example.com", "9"),  # record 3: duplicate of record 0
            ("Batch Employee 3", "1.001"),          # record 4: too many decimals
            ("Batch Employee 4", "20"),             # record 5: good
        ])
        errors = {}
        for message in result["messages"]:
            errors.setdefault(message["record"], []).append(message["message"])
        self.assertEqual(sorted(errors), [1, 2, 3, 4], result["messages"])
        self.assertIn("No matching record found for name 'Nobody At All'", errors[1][0])
        self.assertEqual(errors[2], ["Amount: must be greater than zero."])
        self.assertEqual(errors[3], [
            "Employee: Batch Employee 0 already has a line in the batch Imported."])
        self.assertEqual(errors[4], ["Amount: at most 2 decimals for USD (1.001 given)."])
        self.assertFalse(result["ids"])
        self.assertFalse(batch.link_ids, "nothing is half-imported")

    def test_import_refuses_a_file_with_an_amount_that_is_not_a_number(self):
        batch = self._empty_batch()
        result = self._import(batch, [
            ("Employee", "Amount"),
            ("Batch Employee 0", "100"),
            ("Batch Employee 1", "a lot"),
        ])
        self.assertEqual([message["message"] for message in result["messages"]],
                         ["Column amount contains incorrect values (value: a lot)"])
        self.assertFalse(batch.link_ids)

    def test_import_into_a_batch_that_left_draft_is_refused(self):
        batch = self._batch(self.employees[:1])
        batch.action_send_all()
        result = self._import(batch, [("Employee", "Amount"), ("Batch Employee 3", "10")])
        self.assertIn("no longer a draft", result["messages"][0]["message"])
        self.assertEqual(batch.link_count, 1)

    # === Sending === #

    def test_send_all_sends_every_line_once_with_one_summary(self):
        batch = self._batch()
        batch.action_send_all()
        self.assertEqual(batch.state, "sending")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"draft"},
                         "lines are sent in the background, not in the request")
        self.assertIn("Sending 5 lines", batch.message_ids[0].body)
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        self.assertEqual(batch.state, "sent")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"sent"})
        self.assertEqual((batch.pending_count, batch.amount_pending, batch.send_progress),
                         (5, 500.0, 100.0))
        for link in batch.link_ids:
            mails = self._claim_mails(link)
            self.assertEqual(len(mails), 1)
            self.assertEqual(mails.email_to, link.recipient_email)
            self.assertEqual(mails.state, "outgoing", "queued, not sent inline")
            self.assertTrue(link.secret_hash and link.expiry_date)
            self.assertFalse(link.message_ids.filtered(lambda m: "emailed" in (m.body or "")),
                             "a batch logs one summary, not a message per line")
        self.assertIn("All lines sent: 5 waiting", batch.message_ids[0].body)

    def test_send_all_shows_progress(self):
        batch = self._batch()
        batch.action_send_all()
        self.env["payout.link"]._cron_send_batches(batch_size=2, with_commit=False)
        self.assertEqual((batch.state, batch.unsent_count, batch.send_progress),
                         ("sending", 3, 40.0))
        while self.env["payout.link"]._cron_send_batches(with_commit=False):
            pass
        self.assertEqual((batch.state, batch.send_progress), ("sent", 100.0))

    def test_send_all_checks_every_line_first(self):
        batch = self._batch()
        no_email = batch.link_ids[:2]
        no_email.write({"recipient_email": False})
        with self.assertRaises(UserError) as caught:
            batch.action_send_all()
        for link in no_email:
            self.assertIn(f"{link.display_name}: Recipient Email is required",
                          str(caught.exception))
        self.assertEqual(batch.state, "draft")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"draft"})

    def test_line_unfit_when_its_turn_comes_fails_with_reason(self):
        batch = self._batch(self.employees[:2])
        batch.action_send_all()
        # The line's provider is disabled between Send All and the background run.
        self.provider.state = "disabled"
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        self.assertEqual(set(batch.link_ids.mapped("state")), {"failed"})
        self.assertIn("is disabled", batch.link_ids[0].failure_reason)
        self.assertEqual((batch.state, batch.failed_count, batch.amount_failed),
                         ("sent", 2, 200.0))
        self.assertTrue(batch.activity_ids, "the responsible user is told")

    def test_lines_of_a_batch_go_with_it(self):
        batch = self._batch(self.employees[:2])
        with self.assertRaisesRegex(UserError, "lines of a batch are sent with it"):
            batch.link_ids[0].action_send()
        batch.action_send_all()
        with self.assertRaisesRegex(UserError, "Only draft payout links can be changed"):
            batch.link_ids[0].amount = 5000.0
        with self.assertRaisesRegex(ValidationError, "no longer a draft"):
            self._create_link(batch_id=batch.id, employee_id=self.employees[3].id)
        with self.assertRaisesRegex(UserError, "only a draft batch can be sent"):
            batch.action_send_all()

    def test_failed_lines_view_and_reissue_failed(self):
        batch = self._batch()
        self._send_all(batch)
        failed = batch.link_ids.sorted("id")[:2]
        failed[0]._update_state("failed", values={"failure_reason": "Bank refused"})
        failed[1]._update_state("expired")
        self.assertEqual((batch.failed_count, batch.amount_failed, batch.pending_count),
                         (2, 200.0, 3))
        action = batch.action_view_failed()
        self.assertEqual(self.env["payout.link"].search(action["domain"]), failed)
        failed_view = self.env.ref("hr_payout_link.payout_link_view_list_failed")
        self.assertEqual(action["views"][0], (failed_view.id, "list"))
        self.assertIn('name="failure_reason"', failed_view.arch)

        batch.action_reissue_failed()
        self.assertEqual(batch.state, "sending")
        while self.env["payout.link"]._cron_send_batches(with_commit=False):
            pass
        new_links = failed.reissued_link_ids
        self.assertEqual(len(new_links), 2)
        self.assertEqual(new_links.batch_id, batch)
        self.assertEqual(set(new_links.mapped("state")), {"sent"})
        self.assertEqual(new_links.employee_id, failed.employee_id)
        self.assertEqual(batch.state, "sent")
        self.assertEqual((batch.link_count, batch.pending_count, batch.failed_count), (7, 5, 2))
        with self.assertRaisesRegex(UserError, "no failed line to reissue"):
            batch.action_reissue_failed()

    def test_reissue_one_failed_line_from_the_link(self):
        batch = self._batch(self.employees[:2])
        self._send_all(batch)
        link = batch.link_ids[0]
        link._update_state("failed", values={"failure_reason": "Locked"})
        link.action_reissue()
        self.assertEqual(batch.state, "sending")
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        self.assertEqual(link.reissued_link_ids.state, "sent")
        self.assertEqual(batch.state, "sent")

    def test_cancel_batch_cancels_unsent_lines_only(self):
        batch = self._batch(self.employees[:3])
        batch.action_send_all()
        self.env["payout.link"]._cron_send_batches(batch_size=1, with_commit=False)
        batch.action_cancel()
        self.assertEqual(batch.state, "cancelled")
        self.assertEqual(sorted(batch.link_ids.mapped("state")), ["cancelled", "cancelled", "sent"])
        self.assertFalse(self.env["payout.link"]._cron_send_batches(with_commit=False))
        self.assertIn("Cancelled: 2 lines not sent", batch.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "cannot be cancelled"):
            batch.action_cancel()

    def test_only_draft_batches_are_deleted(self):
        draft = self._batch(self.employees[:1])
        lines = draft.link_ids
        draft.unlink()
        self.assertFalse(lines.exists())
        sent = self._batch(self.employees[:1])
        self._send_all(sent)
        with self.assertRaisesRegex(UserError, "Only draft batches"):
            sent.unlink()


@tagged("post_install", "-at_install")
class TestPayoutBatchAccess(PayoutBatchCommon):
    """Batches follow the links' rules: viewers read, editors run, managers approve, and
    each company sees its own."""

    def test_viewer_reads_only(self):
        batch = self._batch()
        as_viewer = batch.with_user(self.user_viewer)
        self.assertEqual(as_viewer.amount_total, 500.0)
        with self.assertRaises(AccessError):
            as_viewer.name = "Renamed"
        with self.assertRaises(AccessError):
            as_viewer.action_send_all()
        with self.assertRaises(AccessError):
            self.env["payout.batch"].with_user(self.user_viewer).create({"name": "Mine"})
        with self.assertRaises(AccessError):
            self.env["payout.batch.wizard"].with_user(self.user_viewer).create({"name": "Mine"})

    def test_editor_runs_batches_but_cannot_approve(self):
        self.company.write({"payout_approval": True, "payout_approval_threshold": 100.0})
        wizard = self.env["payout.batch.wizard"].with_user(self.user_editor).with_context(
            active_model="hr.employee", active_ids=self.employees.ids,
        ).create({"name": "By the editor", "amount": 100.0})
        batch = self.env["payout.batch"].browse(wizard.action_create()["res_id"]).with_user(
            self.user_editor)
        batch.action_send_all()
        self.assertEqual(batch.state, "to_approve")
        with self.assertRaisesRegex(AccessError, "Only a Payout Manager"):
            batch.action_approve()
        with self.assertRaisesRegex(AccessError, "Only a Payout Manager"):
            batch.action_refuse()
        with self.assertRaises(AccessError):
            self.env["payout.refuse.wizard"].with_user(self.user_editor).create({"reason": "x"})
        self.assertEqual(batch.state, "to_approve")
        self.assertFalse(batch.approved_by_id)

    def test_users_without_payout_rights_see_nothing(self):
        batch = self._batch()
        for groups in ("base.group_user", "base.group_portal"):
            with self.subTest(groups=groups):
                user = new_test_user(self.env, f"batch_{groups[5:]}", groups=groups)
                with self.assertRaises(AccessError):
                    batch.with_user(user).read(["name"])
                with self.assertRaises(AccessError):
                    self.env["payout.batch"].with_user(user).create({"name": "Mine"})

    def test_other_company_sees_nothing(self):
        batch = self._batch()
        other_company = self.env["res.company"].create({"name": "Other Batch Company"})
        outsider = new_test_user(
            self.env, "batch_outsider",
            groups="base.group_user,hr_payout_link.group_payout_manager",
            company_id=other_company.id, company_ids=[Command.set(other_company.ids)],
        )
        self.assertFalse(self.env["payout.batch"].with_user(outsider).search(
            [("id", "=", batch.id)]))
        with self.assertRaises(AccessError):
            batch.with_user(outsider).read(["name"])
