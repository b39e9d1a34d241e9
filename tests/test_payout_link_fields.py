from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestPayoutLinkFields(PayoutCommon):

    def assertRefused(self, values, field_label, marker="Field rule test"):
        """Creating a link with ``values`` fails naming the field, and stores nothing."""
        with self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
            self._create_link(description=marker, **values)
        self.assertIn(field_label, str(caught.exception))
        self.assertFalse(self.env["payout.link"].search([("description", "=", marker)]))

    def test_amount_rules(self):
        self.assertRefused({"amount": 0}, "Amount")
        self.assertRefused({"amount": -5}, "Amount")
        self.assertRefused({"amount": 10.123}, "Amount: at most 2 decimals")
        jpy = self.env.ref("base.JPY")
        jpy.active = True
        self.assertRefused({"amount": 1000.5, "currency_id": jpy.id}, "Amount: at most 0 decimals")
        self.assertEqual(self._create_link(amount=1000, currency_id=jpy.id).amount, 1000)
        self.assertEqual(self._create_link(amount=10.12).amount, 10.12)

    def test_reference_rules(self):
        self.assertRefused({"reference": "PAY 001"}, "External ID")
        self.assertRefused({"reference": "PAY-001"}, "External ID")
        self.assertRefused({"reference": "A" * 31}, "External ID")
        self.assertEqual(self._create_link(reference="A" * 30).reference, "A" * 30)

    def test_reference_unique_per_company(self):
        self._create_link(reference="BONUS2026")
        self.assertRefused({"reference": "BONUS2026"}, "External ID")
        other_company = self.env["res.company"].create({"name": "Other Co"})
        employee = self.env["hr.employee"].create({"name": "Other", "company_id": other_company.id})
        other = self._create_link(reference="BONUS2026", company_id=other_company.id,
                                  employee_id=employee.id,
                                  provider_id=self.env["payout.provider"].search(
                                      [("company_id", "=", other_company.id)]).id)
        self.assertEqual(other.reference, "BONUS2026")

    def test_duplicate_reference_inside_one_batch(self):
        with self.assertRaisesRegex(ValidationError, "External ID"), self.env.cr.savepoint():
            self.env["payout.link"].create([
                {"employee_id": self.employee.id, "amount": 1, "reference": "SAME1"},
                {"employee_id": self.employee.id, "amount": 2, "reference": "SAME1"},
            ])
        self.assertFalse(self.env["payout.link"].search([("reference", "=", "SAME1")]))

    def test_generated_reference(self):
        link = self._create_link()
        self.assertRegex(link.name, r"^PAY/\d{4}/\d{5}$")
        self.assertEqual(link.reference, link.name.replace("/", ""))

    def test_recipient_rules(self):
        self.assertRefused({"recipient_email": "not-an-email"}, "Recipient Email")
        self.assertRefused({"recipient_email": "a" * 40 + "@example.com"}, "Recipient Email")
        self.assertRefused({"recipient_phone": "0812345"}, "Recipient Phone")  # 8 digits
        self.assertRefused({"recipient_phone": "62812345678901"[:-1] + "234"}, "Recipient Phone")
        self.assertRefused({"recipient_name": "N" * 51}, "Recipient Name")

    def test_description_rule(self):
        with self.assertRaisesRegex(ValidationError, "Description"), self.env.cr.savepoint():
            self._create_link(description="D" * 31)
        self.assertFalse(self.env["payout.link"].search([("description", "=", "D" * 31)]))
        self.assertEqual(self._create_link(description="D" * 30).description, "D" * 30)

    def test_missing_employee(self):
        with self.assertRaisesRegex(ValidationError, "Employee"), self.env.cr.savepoint():
            self.env["payout.link"].create({"amount": 10, "description": "No employee"})
        self.assertFalse(self.env["payout.link"].search([("description", "=", "No employee")]))

    def test_recipient_taken_from_the_employee_and_phone_normalised(self):
        link = self._create_link()
        self.assertEqual(
            (link.recipient_name, link.recipient_email, link.recipient_phone),
            ("Dewi Lestari", "dewi.lestari@example.com", "6281234567890"),
        )
        link.recipient_phone = "+62 811 2222 333"
        self.assertEqual(link.recipient_phone, "628112222333")

    def test_rules_also_apply_on_write(self):
        link = self._create_link()
        for values, label in [({"amount": 1.001}, "Amount"), ({"reference": "A-B"}, "External ID"),
                              ({"recipient_email": "bad"}, "Recipient Email")]:
            with self.subTest(values=values), self.assertRaisesRegex(ValidationError, label), \
                    self.env.cr.savepoint():
                link.write(values)
        self.assertEqual((link.amount, link.recipient_email),
                         (1500.0, "dewi.lestari@example.com"))

    def test_provider_rules(self):
        for values, label in [({"link_validity_days": 0}, "Link Validity"),
                              ({"max_secret_attempts": 0}, "Wrong-Secret Limit"),
                              ({"sender_name": "S" * 51}, "Sender Name")]:
            with self.subTest(values=values), self.assertRaises(ValidationError) as caught, \
                    self.env.cr.savepoint():
                self.provider.write(values)
                self.provider.flush_recordset()
            self.assertIn(label, str(caught.exception))
        self.assertEqual(self.provider.link_validity_days, 3)
