from odoo.tests import tagged

from odoo.addons.hr_payout_link.hooks import post_init_hook

from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestPayoutEmployeeAndProviders(PayoutCommon):

    def test_smart_button_counts_links_and_totals_paid(self):
        paid = self._create_link(amount=100)
        self._send(paid)
        self._claim_and_pay(paid)
        self._create_link(amount=999)  # a draft: counted, not paid
        self.employee.invalidate_recordset()
        self.assertEqual(self.employee.payout_link_count, 2)
        self.assertEqual(self.employee.payout_paid_total, 100)
        action = self.employee.action_open_payout_links()
        self.assertEqual(self.env["payout.link"].search(action["domain"]),
                         self.env["payout.link"].search([("employee_id", "=", self.employee.id)]))

    def test_each_company_gets_one_demo_provider_in_test_mode(self):
        company = self.env["res.company"].create({"name": "Payout Branch"})
        providers = self.env["payout.provider"].search([("company_id", "=", company.id)])
        self.assertEqual(len(providers), 1)
        self.assertEqual((providers.code, providers.state, providers.sender_name),
                         ("demo", "test", "Payout Branch"))
        self.assertEqual((providers.link_validity_days, providers.max_secret_attempts), (3, 3))
        post_init_hook(self.env)
        self.assertEqual(
            self.env["payout.provider"].search_count([("company_id", "=", company.id)]), 1,
            "the install hook does not duplicate providers",
        )

    def test_sending_needs_an_enabled_provider_and_an_email(self):
        link = self._create_link()
        link.recipient_email = False
        with self.assertRaisesRegex(Exception, "Recipient Email is required"):
            link.action_send()
        link.recipient_email = "dewi@example.com"
        self.provider.state = "disabled"
        with self.assertRaisesRegex(Exception, "is disabled"):
            link.action_send()
        self.assertEqual(link.state, "draft")
