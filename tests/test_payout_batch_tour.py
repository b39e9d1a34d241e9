from odoo.tests import HttpCase, tagged

from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestBatchTour(PayoutCommon, HttpCase):
    """A batch made and sent in a real browser: static/tests/tours/payout_batch_tour.js."""

    def test_batch_tour(self):
        admin = self.env.ref("base.user_admin")
        self.env["hr.employee"].create([{
            "name": f"Tour Employee {letter}",
            "work_email": f"tour.{letter.lower()}@example.com",
            "company_id": admin.company_id.id,
        } for letter in "AB"])
        admin.company_id.write({"payout_approval": True, "payout_approval_threshold": 400.0})

        self.start_tour("/odoo/action-hr_payout_link.action_payout_batch", "payout_batch_tour",
                        login="admin")

        batch = self.env["payout.batch"].search([("name", "=", "Q4 2026 tour commissions")])
        self.assertEqual(batch.state, "to_approve")
        self.assertEqual(batch.create_uid, admin)
        self.assertEqual((batch.link_count, batch.amount_total), (2, 500.0))
        self.assertEqual(set(batch.link_ids.mapped("state")), {"to_approve"})
        batch.with_user(self.user_manager).action_approve()
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        self.assertEqual(batch.state, "sent")
        self.assertEqual(sorted(batch.link_ids.mapped("recipient_email")),
                         ["tour.a@example.com", "tour.b@example.com"])
        self.assertEqual(set(batch.link_ids.mapped("state")), {"sent"})

    def test_batch_progress_tour(self):
        """The form of a batch being sent follows the background sender without a reload:
        static/tests/tours/payout_batch_progress_tour.js."""
        employees = self.env["hr.employee"].create([{
            "name": f"Progress Employee {letter}",
            "work_email": f"progress.{letter.lower()}@example.com",
        } for letter in "AB"])
        batch = self.env["payout.batch"].create({"name": "Q4 2026 progress"})
        self.env["payout.link"].create([{
            "batch_id": batch.id, "employee_id": employee.id, "amount": 100.0,
        } for employee in employees])
        batch.action_send_all()
        self.assertEqual((batch.state, batch.unsent_count), ("sending", 2))

        self.start_tour(f"/odoo/action-hr_payout_link.action_payout_batch/{batch.id}",
                        "payout_batch_progress_tour", login="admin")

        self.assertEqual(batch.state, "sent")
        self.assertEqual(set(batch.link_ids.mapped("state")), {"sent"})
