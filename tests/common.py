import re

from odoo.modules import module
from odoo.tests import TransactionCase, new_test_user

from ..sandbox import doku as doku_sandbox
from ..sandbox import xendit as xendit_sandbox

SECRET_IN_MAIL_RE = re.compile(r'class="o_payout_secret"[^>]*>\s*([A-Z0-9]{8})\s*<')


class PayoutCommon(TransactionCase):
    """Fixtures shared by the payout tests: a Demo provider, an employee, one user per group.

    Mix it before HttpCase (``class TestX(PayoutCommon, HttpCase)``) for HTTP tests.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.currency = cls.company.currency_id
        cls.provider = cls.env.ref("hr_payout_link.payout_provider_demo")
        cls.employee = cls.env["hr.employee"].create({
            "name": "Dewi Lestari",
            "work_email": "dewi.lestari@example.com",
            "mobile_phone": "0812-3456-7890",
            "company_id": cls.company.id,
        })
        cls.bank = cls.env.ref("hr_payout_link.bank_id_bca")
        cls.user_viewer = new_test_user(
            cls.env, "payout_viewer", groups="base.group_user,hr_payout_link.group_payout_viewer"
        )
        cls.user_editor = new_test_user(
            cls.env, "payout_editor", groups="base.group_user,hr_payout_link.group_payout_editor"
        )
        cls.user_manager = new_test_user(
            cls.env, "payout_manager", groups="base.group_user,hr_payout_link.group_payout_manager"
        )

    @classmethod
    def _start_sandbox(cls, sandbox_module, **options):
        """A provider sandbox on a free loopback port for the class, with IDR active (the
        providers' currency)."""
        sandbox = sandbox_module.start(**options)
        cls.addClassCleanup(sandbox.server.stop)
        cls.idr = cls.env.ref("base.IDR")
        cls.idr.active = True
        return sandbox

    @classmethod
    def _start_doku(cls, **values):
        """The DOKU sandbox for the class, and a DOKU provider wired to it."""
        cls.doku = cls._start_sandbox(doku_sandbox)
        cls.doku_provider = cls.env["payout.provider"].create({
            "name": "DOKU", "code": "doku", "state": "test", "doku_environment": "custom",
            "doku_base_url": cls.doku.url, "doku_client_id": cls.doku.client_id,
            "doku_secret_key": cls.doku.secret_key, "doku_rate_limit": 0, **values,
        })

    @classmethod
    def _start_xendit(cls, **values):
        """The Xendit sandbox for the class, and two Xendit providers wired to it: claimed
        at Xendit (``cls.hosted``) and in Odoo through Payouts v2 (``cls.in_odoo``)."""
        cls.xendit = cls._start_sandbox(xendit_sandbox)
        common = {
            "code": "xendit", "state": "test", "xendit_base_url": cls.xendit.url,
            "xendit_secret_key": cls.xendit.secret_key,
            "xendit_callback_token": cls.xendit.callback_token, **values,
        }
        cls.hosted = cls.env["payout.provider"].create(
            {**common, "name": "Xendit links", "xendit_claim_mode": "xendit"})
        cls.in_odoo = cls.env["payout.provider"].create(
            {**common, "name": "Xendit v2", "xendit_claim_mode": "odoo"})

    def setUp(self):
        super().setUp()
        # pytest-odoo on Odoo 18 leaves current_test unset, so Odoo itself would leave test
        # mode (ir.mail_server would really connect to SMTP, and the test cursor of an HTTP
        # request checks its cookie with it): point it at the running test as Odoo's runner
        # does (odoo/tests/suite.py).
        self.addCleanup(setattr, module, "current_test", module.current_test)
        module.current_test = self

    @classmethod
    def _create_link(cls, **values):
        return cls.env["payout.link"].create({
            "employee_id": cls.employee.id,
            "amount": 1500.0,
            "description": "Q4 bonus",
            **values,
        })

    def _get_claim_mail(self, link):
        """The queued email that carries ``link``'s claim URL."""
        return self.env["mail.mail"].sudo().search(
            [("body_html", "like", link.access_token)], order="id desc", limit=1
        )

    def _secret_in_mail(self, link):
        match = SECRET_IN_MAIL_RE.search(self._get_claim_mail(link).body_html or "")
        self.assertTrue(match, "the claim email must carry the secret")
        return match.group(1)

    def _send(self, link):
        """Send ``link`` and return the secret, read back from the queued email."""
        link.action_send()
        return self._secret_in_mail(link)

    def _poll(self):
        """Run the polling cron as if its interval had passed since the last run."""
        self.env["payout.link"].search([]).date_provider_call = False
        self.env["payout.link"]._cron_poll_provider_status(with_commit=False)

    def _retry_submissions(self):
        """Run the payment cron as if the retry delay of unclear submissions had passed."""
        self.env["payout.link"].search([("submission_state", "=", "submitting")]).write(
            {"date_provider_call": False})
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)

    def _assert_lifecycle(self, link, clock, steps, check):
        """Walk a sandbox ``clock`` through ``steps`` of (seconds since the link was
        submitted, provider status, Odoo state): at each, ``check(link)`` asks the
        provider, and the link must show that status and state."""
        elapsed = 0
        for at, raw_status, state in steps:
            clock.advance(at - elapsed)
            elapsed = at
            check(link)
            self.assertEqual((link.provider_status, link.state), (raw_status, state))
            self.assertIn(raw_status, " ".join(link.message_ids.mapped("body")))
        if link.state == "failed":
            self.assertTrue(link.failure_reason)

    def _claimed_links(self, count):
        """``count`` links sent and claimed, waiting for the payment cron."""
        links = self.env["payout.link"].create([
            {"employee_id": self.employee.id, "amount": 10 + index} for index in range(count)
        ])
        links.action_send()
        for link in links:
            link._claim(self.bank, "1234567890", "Dewi Lestari")
        return links

    def _claim(self, link, account_number="1234567890"):
        """Claim ``link`` as the controller does and run the payment cron."""
        link._claim(self.bank, account_number, "Dewi Lestari")
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
