from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import AttackCommon, OffboardingMixin, PayoutBatchCommon

NEW_ADDRESS = "new.dewi@example.com"
HELD = "is on hold: the email address of Dewi Lestari changed"


@tagged("post_install", "-at_install")
class TestOffboardingNewLinks(OffboardingMixin, AttackCommon):
    """A link made after an employee's address changed goes to the new address: it is held
    until a Payout Manager who did not change the address checks it."""

    def _mark(self, employee=None):
        return (employee or self.employee)._get_payout_address_changers()

    def test_link_created_after_the_change_is_held_until_checked(self):
        self._as(self.hr_manager, self.employee).work_email = NEW_ADDRESS
        self.assertEqual(self._mark(), self.hr_manager)
        link = self._as(self.user_editor, self.env["payout.link"]).create(
            self._link_defaults(None, {}))
        self.assertEqual(link.recipient_email, NEW_ADDRESS)
        self.assertEqual(link.hold_reason, "email_changed")
        self.assertEqual(link.hold_user_ids, self.hr_manager)
        with self.assertRaisesRegex(UserError, f"{link.name} {HELD}"):
            link.action_send()
        self.assertEqual(link.state, "draft")
        self.assertFalse(link.sudo().claim_token_hash, "no claim email")

        with self.assertRaisesRegex(UserError, "another Payout Manager must release it"):
            self._as(self.hr_manager, link).action_release_hold()
        self.assertEqual(self._mark(), self.hr_manager)
        self._as(self.manager_2, link).action_release_hold()
        self.assertFalse(link.hold_reason)
        self.assertFalse(self._mark(), "the address is checked")
        link.action_send()
        self.assertEqual(link.state, "sent")
        self.assertEqual(self._get_claim_mail(link).email_to, NEW_ADDRESS)
        self.assertFalse(self._create_link().hold_reason, "checked: new links are not held")

    def test_link_created_over_rpc_by_an_editor_is_held(self):
        self._rpc(self.hr_officer, "hr.employee", "write", [self.employee.id],
                  {"work_email": NEW_ADDRESS})
        link_id = self._rpc(self.user_editor, "payout.link", "create",
                            self._link_defaults(None, {}))
        self._assert_rpc_refused(self.user_editor, "payout.link", "action_send", [link_id],
                                 message=HELD)
        link = self.env["payout.link"].browse(link_id)
        self.assertEqual((link.state, link.hold_reason, link.hold_user_ids),
                         ("draft", "email_changed", self.hr_officer))

    def test_draft_given_the_employee_is_held(self):
        colleague = self.env["hr.employee"].create({
            "name": "Budi Santoso", "work_email": "budi@example.com"})
        link = self._create_link(employee_id=colleague.id)
        self._as(self.hr_officer, self.employee).work_email = NEW_ADDRESS
        self.assertFalse(link.hold_reason)
        self._as(self.user_editor, link).employee_id = self.employee
        self.assertEqual((link.recipient_email, link.hold_reason, link.hold_user_ids),
                         (NEW_ADDRESS, "email_changed", self.hr_officer))

    def test_release_checks_the_address_for_all_links_addressed_to_it(self):
        """One check of one address: the employee's links addressed to it are released at
        once; a link emailed to the old address stays held."""
        emailed = self._sent_link()
        self._as(self.hr_officer, self.employee).work_email = NEW_ADDRESS
        first, second = self._create_link(), self._create_link()
        self.assertEqual(set((emailed | first | second).mapped("hold_reason")),
                         {"email_changed"})
        self._as(self.manager_2, first).action_release_hold()
        self.assertEqual((first.hold_reason, second.hold_reason), (False, False))
        self.assertIn(f"{self.manager_2.name} checked the new email address",
                      second.message_ids[0].body)
        self.assertEqual(emailed.hold_reason, "email_changed", "never re-pointed")
        self.assertFalse(self._mark())

    def test_first_address_is_no_redirect(self):
        employee = self.env["hr.employee"].create({"name": "Rina Wati"})
        typed = self._create_link(employee_id=employee.id, recipient_email="rina@example.com")
        self._as(self.hr_officer, employee).work_email = "rina@example.com"
        self.assertFalse(self._mark(employee))
        self.assertFalse(typed.hold_reason)
        self.assertFalse(self._create_link(employee_id=employee.id).hold_reason)

    def test_clearing_then_setting_marks(self):
        self._as(self.hr_officer, self.employee).work_email = False
        self.assertEqual(self._mark(), self.hr_officer, "the clear is a change")
        self._as(self.hr_manager, self.employee).work_email = "thief@example.com"
        self.assertEqual(self._mark(), self.hr_officer | self.hr_manager)
        link = self._create_link()
        self.assertEqual((link.recipient_email, link.hold_reason, link.hold_user_ids),
                         ("thief@example.com", "email_changed", self.hr_officer | self.hr_manager))

    def test_work_contact_email_change_marks(self):
        self.employee.work_contact_id.email = NEW_ADDRESS
        self.assertEqual(self._mark(), self.env.user, "the system is a changer too")
        self.assertEqual(self._create_link().hold_reason, "email_changed")

    def test_reissue_while_unchecked_waits_held(self):
        """The reissue, a copy of the link to the old address, waits as a held draft: its
        recipient is corrected, the address checked, then it is sent."""
        link = self._sent_link()
        self._as(self.hr_officer, self.employee).work_email = NEW_ADDRESS
        link._update_state("expired")
        self.assertFalse(link.hold_reason, "expired: nothing left to hold")
        action = self._as(self.user_editor, link).action_reissue()
        new_link = link.reissued_link_ids
        self.assertEqual(action["res_id"], new_link.id)
        self.assertEqual((new_link.state, new_link.hold_reason), ("draft", "email_changed"))
        self.assertFalse(new_link.sudo().claim_token_hash, "no claim email")
        with self.assertRaisesRegex(UserError, "it is not re-pointed"):
            self._as(self.manager_2, new_link).action_release_hold()
        self._as(self.user_editor, new_link).recipient_email = NEW_ADDRESS
        self._as(self.manager_2, new_link).action_release_hold()
        self._as(self.user_editor, new_link).action_send()
        self.assertEqual(new_link.state, "sent")
        self.assertEqual(self._get_claim_mail(new_link).email_to, NEW_ADDRESS)

    def test_employee_form_warns_payout_managers(self):
        arch = self.env["hr.employee"].with_user(self.hr_manager).get_view(
            view_type="form")["arch"]
        self.assertIn("o_payout_address_unchecked", arch)
        arch = self.env["hr.employee"].with_user(self.hr_officer).get_view(
            view_type="form")["arch"]
        self.assertNotIn("o_payout_address_unchecked", arch)

    # === RPC attacks === #

    def test_mark_cannot_be_cleared_nor_set_over_rpc(self):
        self._as(self.hr_officer, self.employee).work_email = NEW_ADDRESS
        for user in (self.hr_officer, self.hr_manager, self.user_editor):
            for command in ([(5, 0, 0)], [(6, 0, [])], [(3, self.hr_officer.id, 0)]):
                self._assert_rpc_refused(user, "hr.employee", "write", [self.employee.id],
                                         {"payout_address_changed_by_ids": command})
        self._assert_rpc_refused(self.hr_manager, "hr.employee", "write", [self.employee.id],
                                 {"payout_address_changed_by_ids": [(5, 0, 0)]},
                                 message="set by the payout hold only")
        self._assert_rpc_refused(self.hr_officer, "hr.employee", "read", [self.employee.id],
                                 ["payout_address_changed_by_ids"])
        self._assert_rpc_refused(self.hr_manager, "hr.employee", "create", {
            "name": "Forged", "payout_address_changed_by_ids": [(6, 0, [self.manager_2.id])]})
        self.assertEqual(self._mark(), self.hr_officer)
        self.assertTrue(self._create_link().hold_reason, "still unchecked")


@tagged("post_install", "-at_install")
class TestOffboardingNewBatchLines(OffboardingMixin, PayoutBatchCommon):
    """Batch lines of an employee whose address is unchecked are held, in one write."""

    def test_batch_line_is_held_until_checked(self):
        changed = self.employees[0]
        self._as(self.hr_officer, changed).work_email = "elsewhere@example.com"
        batch = self._batch()
        held = batch.link_ids.filtered(lambda link: link.employee_id == changed)
        self.assertEqual((held.hold_reason, held.hold_user_ids),
                         ("email_changed", self.hr_officer))
        self.assertFalse((batch.link_ids - held).filtered("hold_reason"))
        with self.assertRaisesRegex(UserError, "is on hold: the email address of Batch "
                                               "Employee 0 changed"):
            batch.action_send_all()
        self.assertEqual(batch.state, "draft")
        self._as(self.manager_2, held).action_release_hold()
        self._send_all(batch)
        self.assertEqual(set(batch.link_ids.mapped("state")), {"sent"})
        self.assertEqual(self._get_claim_mail(held).email_to, "elsewhere@example.com")

    def test_lines_of_employees_changed_by_one_user_are_held_in_one_write(self):
        for employee in self.employees[:3]:
            self._as(self.hr_officer, employee).work_email = f"x.{employee.id}@example.com"
        link_class = type(self.env["payout.link"])
        original_write = link_class.write
        holds = []

        def write(links, vals):
            if "hold_reason" in vals:
                holds.append(links)
            return original_write(links, vals)

        with patch.object(link_class, "write", write):
            batch = self._batch()
        self.assertEqual(len(holds), 1)
        self.assertEqual(holds[0].employee_id, self.employees[:3])
        self.assertEqual(batch.link_ids.filtered("hold_reason"), holds[0])

    def test_imported_line_is_held(self):
        self.employees[1].work_email = "elsewhere@example.com"
        batch = self._empty_batch()
        result = self._import(batch, [["employee_id", "amount"],
                                      [self.employees[1].name, "100"],
                                      [self.employees[2].name, "100"]])
        self.assertFalse(result["messages"], result)
        self.assertEqual(batch.link_ids.filtered("hold_reason").employee_id, self.employees[1])
