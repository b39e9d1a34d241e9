from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import AttackCommon, PayoutBatchCommon

REFUSED = "Possible duplicate payouts"


@tagged("post_install", "-at_install")
class TestDuplicateGuard(PayoutBatchCommon, AttackCommon):
    """The duplicate guard: before Send or Send All, a line for an employee already paid, or
    waiting to be, for the same type within the company's window (the calendar quarter by
    default) is flagged with the earlier link, and sending refuses until the line is
    confirmed or removed. As an HR Payout Editor, in the ORM and over XML-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The holder typed in these tests is Dewi Lestari, whoever the employee.
        cls.company.write({"payout_duplicate_window": "quarter",
                           "payout_check_account_holder": False})
        cls.editor = cls.env["res.users"].browse(cls.user_editor.id)
        # A duplicate is confirmed by a Payout Manager who neither made nor sent it.
        cls.confirmer = new_test_user(
            cls.env, "payout_confirmer",
            groups="base.group_user,hr_payout_link.group_payout_manager")

    def _as_editor(self, records):
        return records.with_user(self.editor)

    def _confirm(self, records):
        records.with_user(self.confirmer).action_confirm_duplicate()

    def _paid_link(self, **values):
        return self._claimed_link(pay=True, **values)

    def _assert_send_refused(self, records, method, *lines_and_links):
        with self.assertRaises(UserError) as caught:
            getattr(self._as_editor(records), method)()
        message = str(caught.exception)
        self.assertIn(REFUSED, message)
        for record in lines_and_links:
            self.assertIn(record.name, message)
        return message

    # === What is flagged === #

    def test_on_by_default_the_calendar_quarter(self):
        self.assertEqual(self.env["res.company"].create({"name": "New Co"})
                         .payout_duplicate_window, "quarter")
        self.env["res.config.settings"].create({"payout_duplicate_window": "days",
                                                "payout_duplicate_days": 45}).execute()
        self.assertEqual((self.company.payout_duplicate_window,
                          self.company.payout_duplicate_days), ("days", 45))

    def test_a_payout_paid_this_quarter_flags_the_new_link_and_send_refuses(self):
        earlier = self._paid_link()
        self.assertEqual(earlier.state, "done")
        link = self._create_link()
        self.assertEqual((link.duplicate_link_ids, link.duplicate_to_confirm), (earlier, True))
        message = self._assert_send_refused(link, "action_send", link, earlier)
        self.assertIn("Dewi Lestari already has bonus paid or on its way", message)
        self.assertIn("(Paid)", message)
        self.assertEqual(link.state, "draft")
        self.assertFalse(link.sudo().claim_token_hash, "no claim email")

    def test_waiting_payouts_count(self):
        """Sent and not claimed yet, claimed and paying, waiting for an approval, a line of
        a batch being sent: each is a payout on its way."""
        self.company.payout_duplicate_window = "off"  # to make them
        sent = self._sent_link()
        claimed = self._claimed_link()
        self.company.write({"payout_approval": True, "payout_approval_threshold": 10_000})
        to_approve = self._create_link(amount=50_000)
        to_approve.action_send()
        self.company.payout_approval = False
        batch = self._batch(self.employee)
        batch.action_send_all()
        self.company.payout_duplicate_window = "quarter"
        self.assertEqual((batch.state, batch.link_ids.state), ("sending", "draft"))
        self.assertEqual((sent.state, claimed.state, to_approve.state),
                         ("sent", "processing", "to_approve"))
        link = self._create_link()
        self.assertEqual(link.duplicate_link_ids, sent | claimed | to_approve | batch.link_ids)

    def test_not_against_failed_expired_cancelled_drafts_or_other_types(self):
        failed = self._claimed_link(account="4000000001", pay=True)
        expired = self._sent_link()
        expired._update_state("expired")
        cancelled = self._sent_link()
        cancelled.action_cancel()
        self._create_link()  # a draft
        self._paid_link(payout_type="commission")
        self._paid_link(employee_id=self.employees[0].id)
        self.assertEqual((failed.state, expired.state, cancelled.state),
                         ("failed", "expired", "cancelled"))
        link = self._create_link()
        self.assertFalse(link.duplicate_link_ids)
        self._as_editor(link).action_send()
        self.assertEqual(link.state, "sent")

    def test_a_reissue_is_not_its_own_duplicate(self):
        failed = self._claimed_link(account="4000000001", pay=True)
        self._as_editor(failed).action_reissue()
        self.assertEqual(failed.reissued_link_ids.state, "sent")
        failed.invalidate_recordset(["duplicate_link_ids"])
        self.assertFalse(failed.duplicate_link_ids)

    def test_reissue_refused_when_paid_since_by_hand(self):
        """A link failed, HR paid the employee with a new link by hand, then someone
        reissues the failed one: refused until confirmed."""
        failed = self._claimed_link(account="4000000001", pay=True)
        by_hand = self._paid_link()
        self.assertEqual((failed.state, by_hand.state), ("failed", "done"))
        self.assertEqual(failed.duplicate_link_ids, by_hand)
        self._assert_send_refused(failed, "action_reissue", failed, by_hand)
        self.assertFalse(failed.reissued_link_ids)
        self._confirm(failed)
        self._as_editor(failed).action_reissue()
        self.assertEqual(failed.reissued_link_ids.state, "sent")

    def test_reissue_failed_of_a_batch_checks_too(self):
        batch = self._batch(self.employee)
        self._send_all(batch)
        line = batch.link_ids
        line._claim(self.bank, "4000000001", "Dewi Lestari")
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(line.state, "failed")
        by_hand = self._paid_link()
        self._assert_send_refused(batch, "action_reissue_failed", line, by_hand)
        self._confirm(line)
        self._as_editor(batch).action_reissue_failed()
        self.assertTrue(line.reissued_link_ids)

    def test_the_window(self):
        """A payout counts from the day it was sent: inside the window it flags, a second
        before it does not; Off flags nothing."""
        earlier = self._paid_link()
        link = self._create_link()
        for window, days in (("month", 0), ("quarter", 0), ("year", 0), ("days", 30)):
            with self.subTest(window=window):
                self.company.write({"payout_duplicate_window": window,
                                    "payout_duplicate_days": days or 90})
                start = self.company._get_payout_duplicate_start()
                for date_sent, flagged in ((start, True), (start - timedelta(seconds=1), False)):
                    earlier.sudo().date_sent = date_sent
                    link.invalidate_recordset(["duplicate_link_ids"])
                    self.assertEqual(bool(link.duplicate_link_ids), flagged, date_sent)
        self.company.payout_duplicate_window = "off"
        earlier.sudo().date_sent = earlier.date_done
        link.invalidate_recordset(["duplicate_link_ids"])
        self.assertFalse(link.duplicate_link_ids)
        with self.assertRaisesRegex(ValidationError, "Duplicate Window Days: at least 1"):
            self.company.write({"payout_duplicate_window": "days", "payout_duplicate_days": 0})

    def test_two_links_of_one_employee_sent_together(self):
        links = self._create_link() | self._create_link()
        message = self._assert_send_refused(links, "action_send", *links)
        self.assertIn("each pays Dewi Lestari bonus", message)
        self.assertEqual(set(links.mapped("state")), {"draft"})
        self._as_editor(links[0]).action_send()
        self._confirm(links[1])
        self._as_editor(links[1]).action_send()
        self.assertEqual(set(links.mapped("state")), {"sent"})

    def test_a_batch_holds_an_employee_once(self):
        """The commonest mistake, the same employee twice in one file, is refused when the
        line is made (the import reports the row)."""
        batch = self._batch(self.employee)
        with self.assertRaisesRegex(ValidationError, "already has a line in the batch"):
            self.env["payout.link"].create({"batch_id": batch.id,
                                            "employee_id": self.employee.id, "amount": 5.0})

    # === A batch: refused, confirmed or removed, then sent === #

    def _batch_with_a_duplicate(self):
        earlier = self._paid_link(employee_id=self.employees[1].id, payout_type="commission")
        batch = self._batch(payout_type="commission")
        line = batch.link_ids.filtered(lambda link: link.employee_id == self.employees[1])
        self.assertEqual(batch.link_ids.filtered("duplicate_to_confirm"), line)
        self.assertEqual(line.duplicate_link_ids, earlier)
        self.assertEqual(batch.duplicate_count, 1)
        self.assertEqual(self.env["payout.link"].search(
            batch.action_view_duplicates()["domain"]), line)
        return batch, line, earlier

    def test_send_all_refused_then_confirmed_then_sent(self):
        batch, line, earlier = self._batch_with_a_duplicate()
        message = self._assert_send_refused(batch, "action_send_all", line, earlier)
        self.assertEqual(message.count("already has commission"), 1)
        self.assertEqual((batch.state, set(batch.link_ids.mapped("state"))),
                         ("draft", {"draft"}))

        self._confirm(line)
        self.assertEqual((line.duplicate_to_confirm, line.duplicate_confirmed_link_ids,
                          line.duplicate_confirmed_by_id), (False, earlier, self.confirmer))
        self.assertTrue(line.date_duplicate_confirmed)
        batch.invalidate_recordset(["duplicate_count"])
        self.assertEqual(batch.duplicate_count, 0)
        [confirmed] = [body for body in line.message_ids.mapped("body") if "confirmed" in body]
        self.assertIn(f"{self.confirmer.name} confirmed this payout on top of {earlier.name}",
                      confirmed)
        self._as_editor(batch).action_send_all()
        while self.env["payout.link"]._cron_send_batches(with_commit=False):
            pass
        self.assertEqual((batch.state, set(batch.link_ids.mapped("state"))), ("sent", {"sent"}))
        self.assertEqual(line.duplicate_confirmed_link_ids, earlier, "kept as the record")

    def test_send_all_after_the_line_is_removed(self):
        batch, line, _earlier = self._batch_with_a_duplicate()
        self._assert_send_refused(batch, "action_send_all", line)
        self._as_editor(batch).write({"link_ids": [Command.unlink(line.id)]})
        self._send_all(self._as_editor(batch))
        self.assertEqual((batch.state, batch.link_count), ("sent", 4))

    def test_editing_the_line_clears_the_confirmation(self):
        batch, line, earlier = self._batch_with_a_duplicate()
        self._confirm(line)
        self._as_editor(line).amount = 900.0
        self.assertEqual((line.duplicate_confirmed_link_ids, line.duplicate_confirmed_by_id,
                          line.duplicate_to_confirm), (self.env["payout.link"],
                                                       self.env["res.users"], True))
        self._assert_send_refused(batch, "action_send_all", line, earlier)

    def test_a_payout_made_after_the_confirmation_flags_again(self):
        batch, line, earlier = self._batch_with_a_duplicate()
        self._confirm(line)
        self.company.payout_duplicate_window = "off"  # to make it
        later = self._paid_link(employee_id=self.employees[1].id, payout_type="commission")
        self.company.payout_duplicate_window = "quarter"
        message = self._assert_send_refused(batch, "action_send_all", line, later)
        self.assertNotIn(earlier.name, message, "the confirmed one is not named again")

    def test_approval_checks_again(self):
        """A batch waiting for approval when another payout of its employee is made: the
        approver is refused until the line is confirmed."""
        self.company.write({"payout_approval": True, "payout_approval_threshold": 100.0})
        batch = self._batch()
        self._as_editor(batch).action_send_all()
        self.assertEqual(batch.state, "to_approve")
        line = batch.link_ids[0]
        other = self._create_link(employee_id=line.employee_id.id, payout_type="bonus",
                                  amount=20.0)
        self.assertEqual(other.duplicate_link_ids, line, "a line waiting for approval counts")
        self._confirm(other)
        self._as_editor(other).action_send()
        self.assertEqual(other.state, "to_approve",
                         "with the line waiting, the employee's total is over the threshold")

        manager = batch.with_user(self.user_manager)
        with self.assertRaisesRegex(UserError, REFUSED):
            manager.action_approve()
        self.assertEqual(batch.state, "to_approve")
        line.with_user(self.user_manager).action_confirm_duplicate()
        manager.action_approve()
        self.assertEqual(batch.state, "sending")

    def test_confirming_needs_a_flag_and_an_unsent_line(self):
        link = self._create_link()
        with self.assertRaisesRegex(UserError, "no possible duplicate to confirm"):
            self._confirm(link)
        sent = self._sent_link()
        with self.assertRaisesRegex(UserError, "only a line not sent yet"):
            self._confirm(sent)

    def test_duplicate_tour(self):
        """static/tests/tours/payout_duplicate_tour.js: Send All refused in the browser,
        the line confirmed, then Send All."""
        admin = self.env.ref("base.user_admin")
        employees = self.env["hr.employee"].create([{
            "name": f"Tour Duplicate {letter}", "work_email": f"dup.{letter.lower()}@example.com",
            "company_id": admin.company_id.id,
        } for letter in "AB"])
        earlier = self._paid_link(employee_id=employees[0].id)
        batch = self._batch(employees)
        self.assertEqual(batch.link_ids.filtered("duplicate_to_confirm").employee_id,
                         employees[0])

        self.start_tour(f"/odoo/action-hr_payout_link.action_payout_batch/{batch.id}",
                        "payout_duplicate_tour", login="admin")

        self.assertEqual(batch.state, "sending")
        line = batch.link_ids.filtered(lambda link: link.employee_id == employees[0])
        self.assertEqual((line.duplicate_confirmed_by_id, line.duplicate_confirmed_link_ids),
                         (admin, earlier))

    def test_the_views_show_the_flag(self):
        batch_form = self.env["payout.batch"].get_view(view_type="form")["arch"]
        self.assertIn('decoration-warning="duplicate_to_confirm"', batch_form)
        self.assertIn("action_confirm_duplicate", batch_form)
        self.assertIn("action_view_duplicates", batch_form)
        link_form = self.env["payout.link"].get_view(view_type="form")["arch"]
        self.assertIn("o_payout_duplicate", link_form)

    # === Over XML-RPC === #

    def test_over_rpc_send_refused_confirm_then_send(self):
        batch, line, earlier = self._batch_with_a_duplicate()
        fault = self._assert_rpc_refused(self.user_editor, "payout.batch", "action_send_all",
                                         [batch.id], message=REFUSED)
        self.assertIn(earlier.name, fault.faultString)
        self._assert_rpc_refused(self.user_editor, "payout.link", "action_confirm_duplicate",
                                 [line.id], message="Only a Payout Manager")
        self._rpc(self.confirmer, "payout.link", "action_confirm_duplicate", [line.id])
        self._rpc(self.user_editor, "payout.batch", "action_send_all", [batch.id])
        self.env.invalidate_all()
        self.assertEqual(batch.state, "sending")

    def test_nobody_sets_the_flag_or_the_confirmation_over_rpc(self):
        _batch, line, earlier = self._batch_with_a_duplicate()
        for user in (self.user_editor, self.user_manager):
            for vals in ({"duplicate_confirmed_link_ids": [(6, 0, earlier.ids)]},
                         {"duplicate_confirmed_by_id": user.id},
                         {"date_duplicate_confirmed": "2026-12-01 10:00:00"},
                         {"duplicate_link_ids": [(5, 0, 0)]},
                         {"duplicate_to_confirm": False}):
                with self.subTest(user=user.login, vals=vals):
                    self._assert_rpc_refused(user, "payout.link", "write", [line.id], vals,
                                             message="set by the payout workflow only")
        self.assertEqual((line.duplicate_to_confirm, line.duplicate_confirmed_by_id),
                         (True, self.env["res.users"]))

    def test_a_viewer_cannot_confirm(self):
        _batch, line, _earlier = self._batch_with_a_duplicate()
        self._assert_rpc_refused(self.user_viewer, "payout.link", "action_confirm_duplicate",
                                 [line.id])
        with self.assertRaises(AccessError):
            line.with_user(self.user_viewer).action_confirm_duplicate()
        self.assertFalse(line.duplicate_confirmed_by_id)
