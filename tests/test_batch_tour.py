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
        self.env["payout.link"]._cron_send_batches()
        self.assertEqual(batch.state, "sent")
        self.assertEqual(sorted(batch.link_ids.mapped("recipient_email")),
                         ["tour.a@example.com", "tour.b@example.com"])
        self.assertEqual(set(batch.link_ids.mapped("state")), {"sent"})
