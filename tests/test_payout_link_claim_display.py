from datetime import datetime, timedelta

from odoo.tests import new_test_user, tagged

from .common import ClaimPageCommon

# Relative to today, so that the link is still claimable whatever day the tests run: sent
# yesterday at 05:49:14 UTC, expiring two days from now.
SENT = (datetime.now() - timedelta(days=1)).replace(hour=5, minute=49, second=14,
                                                    microsecond=0)
EXPIRY = SENT + timedelta(days=3)


def _as_read(moment, hours):
    """``moment`` (UTC) as read ``hours`` east of UTC, in English (US) to the minute."""
    return (moment + timedelta(hours=hours)).strftime("%m/%d/%Y %H:%M")


@tagged("post_install", "-at_install")
class TestEmployeeDisplay(ClaimPageCommon):
    """Dates as the employee reads them: in their time zone (else the company's), in their
    language's format, to the minute, and the same instant on the claim page, in the
    emails and on /my/payouts."""

    def setUp(self):
        super().setUp()
        self.employee.tz = "Asia/Jakarta"  # UTC+7
        self.link = self._create_link()
        self.secret = self._send(self.link)
        self.link.write({"date_sent": SENT, "expiry_date": EXPIRY})

    def test_the_same_instant_everywhere(self):
        self.assertEqual(self.link._format_for_employee(EXPIRY), _as_read(EXPIRY, 7))
        page = self._open().text
        self.assertIn(_as_read(EXPIRY, 7), page)
        self.assertNotIn("05:49", page)
        self.assertNotIn(":14", page.split("o_payout_claim")[1], "no seconds")

        reminder = self.env.ref("hr_payout_link.mail_template_payout_reminder")
        body = reminder._render_field("body_html", self.link.ids)[self.link.id]
        self.assertIn(_as_read(EXPIRY, 7), body)

        portal_user = new_test_user(self.env, "payout_display_portal", groups="base.group_portal")
        self.employee.user_id = portal_user
        self._check_identity(self.employee)
        self.authenticate(portal_user.login, portal_user.login)
        for url in ("/my/payouts", f"/my/payouts/{self.link.id}"):
            self.assertIn(_as_read(SENT, 7), self.url_open(url).text, "sent, in Jakarta")

    def test_the_claim_email_says_the_same(self):
        link = self._create_link()
        link.action_send()
        link.write({"expiry_date": EXPIRY})
        template = self.env.ref("hr_payout_link.mail_template_payout_link")
        body = template._render_field("body_html", link.ids)[link.id]
        self.assertIn(_as_read(EXPIRY, 7), body)

    def test_company_zone_when_the_employee_has_none(self):
        self.employee.tz = False
        self.company.resource_calendar_id.tz = "Asia/Jayapura"  # UTC+9
        self.assertEqual(self.link._format_for_employee(EXPIRY), _as_read(EXPIRY, 9))

    def test_the_language_s_own_format(self):
        self.env["res.lang"]._activate_lang("id_ID")
        self.employee.work_contact_id.lang = "id_ID"
        lang = self.env["res.lang"]._lang_get("id_ID")
        expected = EXPIRY.replace(hour=12).strftime(lang.date_format)
        self.assertTrue(self.link._format_for_employee(EXPIRY).startswith(expected))
        self.assertNotIn(":14", self.link._format_for_employee(EXPIRY))


@tagged("post_install", "-at_install")
class TestIndonesian(ClaimPageCommon):
    """An employee whose language is Indonesian reads the claim email and the claim page in
    Indonesian, with Indonesian dates, whatever the sender's language."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("id_ID")
        cls.env["ir.module.module"]._load_module_terms(["hr_payout_link"], ["id_ID"])
        cls.employee.write({"tz": "Asia/Jakarta"})
        cls.employee.work_contact_id.lang = "id_ID"

    def setUp(self):
        super().setUp()
        self.link = self._create_link(payout_type="commission")
        self.secret = self._send(self.link)

    def test_the_claim_email_in_indonesian(self):
        mail = self._get_claim_mail(self.link)
        self.assertIn("mengirimi Anda komisi", mail.body_html)
        self.assertNotIn("sent you", mail.body_html)
        self.assertIn(self.secret, mail.body_html)
        self.link.expiry_date = EXPIRY
        self.assertEqual(self.link._format_for_employee(EXPIRY),
                         (EXPIRY + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M"), "day first")

    def test_the_claim_page_in_indonesian(self):
        page = self._open().text
        self.assertIn("Kode rahasia dari email Anda", page)
        self.assertNotIn("Secret from your email", page)
        response = self._post("secret", secret="WRONGSEC")
        self.assertEqual(response.status_code, 403)
        self.assertIn("Kode rahasia ini salah. Sisa 2 percobaan", response.text)
        self._verify()
        self.assertIn("Ke rekening mana kami harus membayar Anda?", self._open().text)
        self.assertEqual(self._post_account().status_code, 303)
        self.assertIn("Sedang diproses", self._open().text)
