import io
import re
import xmlrpc.client
from collections import defaultdict
from datetime import datetime, timedelta

import xlsxwriter
from freezegun import freeze_time

from odoo.modules import module
from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tools import frozendict

from ..controllers.claim import PayoutClaimController
from ..protocol import doku as doku_protocol
from ..protocol import xendit as xendit_protocol
from ..sandbox import doku as doku_sandbox
from ..sandbox import xendit as xendit_sandbox

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
# The session's CSRF token, as every page of the portal's layout gives it.
SESSION_CSRF_RE = re.compile(r'csrf_token: "([^"]+)"')
SECRET_IN_MAIL_RE = re.compile(r'class="o_payout_secret"[^>]*>\s*([A-Z0-9]{8})\s*<')
CLAIM_URL_IN_MAIL_RE = re.compile(
    rf"{re.escape(PayoutClaimController._claim_url)}/([A-Za-z0-9_-]{{43}})")
# What the employee types on the claim page, unless a test needs another account.
ACCOUNT_NUMBER = "1234567890"
HOLDER = "Dewi Lestari"
ACCOUNT = {"account_number": ACCOUNT_NUMBER, "account_holder": HOLDER}
CSV = "text/csv"
# The fault codes of Odoo's XML-RPC for a refusal: a UserError (2) or an AccessError (4);
# 1 is a crash.
RPC_REFUSALS = (2, 4)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HOLD_ACTIVITY = "hr_payout_link.mail_activity_payout_hold"
# When the reminder tests send their links.
SENT_AT = datetime(2026, 12, 1, 9, 0, 0)
# The fault matrix's providers: each one's provider attribute on the test class, and the
# path of its submission.
FAULT_MATRIX_PROVIDERS = {
    "doku": ("doku_provider", doku_protocol.INITIATE_PATH),
    "xendit_v2": ("in_odoo", xendit_protocol.PAYOUT_PATH),
    "xendit_link": ("hosted", xendit_protocol.LINK_PATH),
}


class PayoutCommon(TransactionCase):
    """Fixtures shared by the payout tests: a Demo provider, an employee, one user per group.

    Mix it before HttpCase (``class TestX(PayoutCommon, HttpCase)``) for HTTP tests.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        # Most tests pay one employee many times, and many employees to one account:
        # the guards' own tests (test_payout_link_guards_duplicates.py,
        # test_payout_link_guards_shared_accounts.py) turn them on.
        cls.company.write({"payout_duplicate_window": "off",
                           "payout_check_shared_accounts": False})
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
    def _check_identity(cls, employee, user=None):
        """A Payout Manager (``user_manager`` unless ``user``) checks the pending change
        of ``employee``'s payout identity: money follows it from now on."""
        employee.with_user(user or cls.user_manager).action_check_payout_identity()

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
    def _create_link(cls, provider=None, **values):
        """A draft link of ``provider`` (the Demo one by default) for the employee."""
        return cls.env["payout.link"].create({
            **cls._link_defaults(provider, values), **values,
        })

    @classmethod
    def _link_defaults(cls, provider, values, index=0):
        """What a test link pays: DOKU and Xendit pay rupiahs, at a sandbox address whose
        scenario is the plain lifecycle."""
        provider = provider or cls.env["payout.provider"].browse(
            values.get("provider_id")) or cls.provider
        defaults = {"employee_id": cls.employee.id, "provider_id": provider.id,
                    "description": "Q4 bonus", "amount": 1500.0 + index}
        if provider.code != "demo":
            defaults.update(currency_id=cls.idr.id, amount=1500000 + index,
                            recipient_email="dewi@example.com")
        # A sandbox picks its scenario by the recipient's address: the link is made for an
        # employee whose checked address it is (money goes to the checked address only).
        email = values.get("recipient_email", defaults.get("recipient_email"))
        if email and "employee_id" not in values and email != cls.employee.work_email:
            defaults["employee_id"] = cls._employee_at(email).id
        return defaults

    @classmethod
    def _employee_at(cls, email):
        """An employee named as ``cls.employee`` whose checked payout address is ``email``."""
        employee = cls.env["hr.employee"].with_context(active_test=False).search(
            [("work_email", "=", email), ("company_id", "=", cls.company.id)], limit=1)
        if not employee:
            employee = cls.env["hr.employee"].create({
                "name": cls.employee.name, "work_email": email,
                "mobile_phone": cls.employee.mobile_phone, "company_id": cls.company.id})
            employee.flush_recordset()  # before a test rolls a savepoint back
        return employee

    # === Emails === #

    def _claim_mails(self, link):
        """The queued emails that carry ``link``'s claim URL (its claim email's token or
        its latest reminder's: the link stores their hashes only), newest first."""
        hashes = {link.sudo().claim_token_hash, link.sudo().reminder_token_hash} - {False}
        return self.env["mail.mail"].sudo().search(
            [("body_html", "like", f"{PayoutClaimController._claim_url}/")], order="id desc"
        ).filtered(lambda mail: hashes & {
            link._hash_claim_token(token)
            for token in CLAIM_URL_IN_MAIL_RE.findall(mail.body_html or "")})

    def _claim_token(self, link, reminder=False):
        """The token of ``link``'s claim email (of its latest reminder when ``reminder``),
        read back from the queued email: the link stores its hash only. None if none."""
        token_hash = link.sudo().reminder_token_hash if reminder else (
            link.sudo().claim_token_hash)
        for mail in self._claim_mails(link):
            for token in CLAIM_URL_IN_MAIL_RE.findall(mail.body_html or ""):
                if link._hash_claim_token(token) == token_hash:
                    return token
        return None

    def _claim_path(self, link, reminder=False):
        """``link``'s claim path, as its claim email (or latest reminder) gives it."""
        return link.with_context(payout_claim_tokens=frozendict({
            link.id: self._claim_token(link, reminder)}))._get_claim_path()

    def _reminder_mails(self, link):
        """The reminders queued for ``link``: detached from it, they name its reference."""
        return self.env["mail.mail"].sudo().search([
            ("subject", "like", "expires soon"), ("email_to", "=", link.recipient_email),
            ("body_html", "like", f"{link.name})")])

    def _get_claim_mail(self, link):
        """The newest queued email that carries ``link``'s claim URL."""
        return self._claim_mails(link)[:1]

    def _link_mails(self, link):
        """The emails sent from ``link`` itself (receipts, reminders): claim emails are
        kept off the link."""
        return self.env["mail.mail"].search([("model", "=", "payout.link"),
                                             ("res_id", "=", link.id)])

    def _secret_in_mail(self, link):
        match = SECRET_IN_MAIL_RE.search(self._get_claim_mail(link).body_html or "")
        self.assertTrue(match, "the claim email must carry the secret")
        return match.group(1)

    # === Links in a given state === #

    def _sent_links(self, count=1, provider=None, **values):
        """``count`` links of ``provider`` (the Demo one by default) sent in one
        action_send: their claim emails queued or, for a provider that hosts the claim,
        submitted to it by the payment cron and due for polling. ``values`` go to every
        link."""
        links = self.env["payout.link"].create([
            {**self._link_defaults(provider, values, index), **values}
            for index in range(count)
        ])
        links.action_send()
        if not links.provider_id.is_claimed_in_odoo:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
            links.date_provider_call = False  # as once the polling interval has passed
        return links

    def _sent_link(self, provider=None, **values):
        return self._sent_links(1, provider, **values)

    def _claimed_links(self, count=1, account=ACCOUNT_NUMBER, provider=None, pay=False,
                       **values):
        """``count`` links sent and claimed in Odoo to ``account``, waiting for the
        payment cron, or paid by it when ``pay``."""
        links = self._sent_links(count, provider, **values)
        for link in links:
            link._claim(self.bank, account, HOLDER)
        if pay:
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        return links

    def _claimed_link(self, account=ACCOUNT_NUMBER, provider=None, pay=False, **values):
        return self._claimed_links(1, account, provider, pay, **values)

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

    def _claim_and_pay(self, link, account_number=ACCOUNT_NUMBER):
        """Claim ``link`` as the controller does and run the payment cron."""
        link._claim(self.bank, account_number, HOLDER)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)


class AttackCommon(PayoutCommon, HttpCase):
    """Attacks as a user would make them: XML-RPC calls over HTTP, logged in as that user."""

    def _rpc(self, user, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` called over XML-RPC as ``user``."""
        password = user.login + "x" * (8 - len(user.login))  # as new_test_user sets it
        return self.xmlrpc_object.execute_kw(
            self.env.cr.dbname, user.id, password, model, method, list(args), kwargs)

    def _assert_rpc_refused(self, user, model, method, *args, message=None, **kwargs):
        """The call must be refused with a UserError or an AccessError (never a crash),
        saying ``message`` when given; the test's cache is dropped, so the records read
        afterwards show what the database holds."""
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(user, model, method, *args, **kwargs)
        self.env.invalidate_all()
        fault = caught.exception
        self.assertIn(fault.faultCode, RPC_REFUSALS, fault.faultString)
        if message:
            self.assertIn(message, fault.faultString)
        return fault


class ClaimPageCommon(AttackCommon):
    """The claim page of ``self.link`` over real HTTP, as a browser uses it."""

    def setUp(self):
        super().setUp()
        self.csrf_token = None

    def _url(self, step=""):
        return self._claim_path(self.link) + (f"/{step}" if step else "")

    def _open(self, token=None):
        """GET the claim page (of ``token`` when given); keep its form's CSRF token."""
        url = f"{PayoutClaimController._claim_url}/{token}" if token else self._url()
        response = self.url_open(url, allow_redirects=False)
        if match := CSRF_RE.search(response.text):
            self.csrf_token = match.group(1)
        return response

    def _post(self, step, csrf=True, **data):
        """POST the secret or account form, with the CSRF token of the last page opened."""
        if csrf:
            data["csrf_token"] = self.csrf_token or CSRF_RE.search(self._open().text)[1]
        return self.url_open(self._url(step), data=data, allow_redirects=False)

    def _verify(self, secret=None):
        """Type the right secret in this session: redirected to the claim page."""
        self._open()
        response = self._post("secret", secret=secret or self.secret)
        self.assertEqual(response.status_code, 303)
        self.assertTrue(response.headers["Location"].endswith(self._url()))

    def _post_account(self, csrf=True, **values):
        data = {"bank_id": str(self.bank.id), **ACCOUNT, **values}
        return self._post("account", csrf=csrf, **data)

    def _claim_over_http(self, account_number=ACCOUNT_NUMBER):
        self._verify()
        self.assertEqual(self._post_account(account_number=account_number).status_code, 303)
        self.link.invalidate_recordset()

    def _snapshot(self):
        """What a refused POST must not change."""
        self.link.invalidate_recordset()
        return self.link.read([
            "state", "failed_attempts", "bank_id", "account_number", "account_number_masked",
            "account_holder_name", "submission_state", "submission_key", "failure_reason",
        ])[0]


class SignedInCommon(ClaimPageCommon):
    """The employee has a portal user: their link is claimed signed in, at /my/payouts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The employee's own address: giving them this user is no email change.
        cls.user_employee = new_test_user(cls.env, "payout_signin", groups="base.group_portal",
                                          email=cls.employee.work_email)
        cls.employee.user_id = cls.user_employee
        cls._check_identity(cls.employee)
        cls.colleague = cls.env["hr.employee"].create({
            "name": "Budi Santoso", "work_email": "budi@example.com",
            "company_id": cls.company.id,
        })

    def setUp(self):
        super().setUp()
        self.link = self._create_link(user_id=self.user_manager.id)
        self.link.action_send()
        self.authenticate(self.user_employee.login, self.user_employee.login)

    def _url(self, step=""):
        """The link's portal page, whichever way it is claimed."""
        return f"/my/payouts/{self.link.id}" + (f"/{step}" if step else "")

    def _post(self, step, csrf=True, **data):
        """POST to the link's page (/my/payouts/<id>/<step>) with this session's CSRF
        token, as its form does."""
        if csrf:
            data["csrf_token"] = SESSION_CSRF_RE.search(self.url_open("/my").text)[1]
        return self.url_open(self._url(step), data=data, allow_redirects=False)

    def _signin_mail(self, link):
        """The queued claim email of ``link`` that gives its portal page."""
        return self.env["mail.mail"].sudo().search(
            [("body_html", "like", f"/my/payouts/{link.id}"), ("model", "=", False)],
            order="id desc", limit=1)


class DokuCommon(PayoutCommon):
    """A DOKU provider wired to the project's DOKU sandbox over loopback HTTP, the sandbox
    emptied before each test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_doku()

    def setUp(self):
        super().setUp()
        self.doku.server.reset()


class XenditCommon(PayoutCommon):
    """Xendit providers (claimed at Xendit, and in Odoo through Payouts v2) wired to the
    project's Xendit sandbox over loopback HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_xendit()

    def setUp(self):
        super().setUp()
        self.xendit.server.reset()

    def _calls(self, method, path_start):
        return [r for r in self.xendit.server.requests
                if r.method == method and r.path.startswith(path_start)]

    def _payout_link_with_lost_answer(self):
        """A Xendit Payout Link created at Xendit whose answer was lost, with Xendit
        refusing a repeat of its key: Odoo does not know its id."""
        self.xendit.configure(replays=False)
        link = self._create_link(self.hosted)
        link.action_send()
        self.xendit.server.inject("malformed_json", path=xendit_protocol.LINK_PATH)
        self._submit()
        return link

    def _submit(self):
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)


class PayoutBatchCommon(PayoutCommon):
    """Five more employees, and the ways a batch is made: the wizard, by hand, an import."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.employees = cls.env["hr.employee"].create([{
            "name": f"Batch Employee {index}",
            "work_email": f"batch.employee.{index}@example.com",
            "identification_id": f"ID-{index:04d}",
            "company_id": cls.company.id,
        } for index in range(5)])

    def _wizard(self, employees=None, **values):
        employees = self.employees if employees is None else employees
        return self.env["payout.batch.wizard"].with_context(
            active_model="hr.employee", active_ids=employees.ids,
        ).create({"name": "Q4 2026 test commissions", "amount": 100.0, **values})

    def _batch(self, employees=None, **values):
        wizard = self._wizard(employees, **values)
        return self.env["payout.batch"].browse(wizard.action_create()["res_id"])

    def _empty_batch(self):
        return self.env["payout.batch"].create({"name": "Imported",
                                                "provider_id": self.provider.id})

    def _send_all(self, batch):
        """Send All, then the background sender until it has nothing left to do."""
        batch.action_send_all()
        while self.env["payout.link"]._cron_send_batches(with_commit=False):
            pass

    def _import(self, batch, rows, file_type=CSV, dryrun=False):
        """Odoo's standard import of ``rows`` (header first) as lines of ``batch``."""
        if file_type == CSV:
            content = "\n".join(",".join(row) for row in rows).encode()
        else:
            stream = io.BytesIO()
            workbook = xlsxwriter.Workbook(stream)
            sheet = workbook.add_worksheet()
            for row_index, row in enumerate(rows):
                for column, value in enumerate(row):
                    sheet.write(row_index, column, value)
            workbook.close()
            content = stream.getvalue()
        action = batch.action_import_lines()
        self.assertEqual((action["tag"], action["params"]["active_model"]),
                         ("import", "payout.link"))
        importer = self.env["base_import.import"].with_context(
            **action["params"]["context"]).create({
                "res_model": "payout.link", "file": content, "file_type": file_type,
            })
        options = {"has_headers": True, "quoting": '"', "separator": ",",
                   "float_thousand_separator": ",", "float_decimal_separator": "."}
        preview = importer.parse_preview(options)
        self.assertFalse(preview.get("error"), preview)
        fields = ["/".join(match) for match in preview["matches"].values()]
        return importer.execute_import(fields, preview["headers"], options, dryrun=dryrun)


class ReminderCommon(PayoutCommon):
    """The reminder cron over time: links sent at a given moment, the cron run hourly."""

    def _send_at(self, when=SENT_AT, provider=None, **values):
        with freeze_time(when):
            return self._sent_link(provider, **values)

    def _run_reminder_cron_hourly(self, links, hours, start=SENT_AT):
        """The reminder cron run every hour for ``hours`` from ``start``: {link id: the
        hours after ``start`` of its reminders} for ``links`` (not the demo data's)."""
        reminded = defaultdict(list)
        for hour in range(hours + 1):
            with freeze_time(start + timedelta(hours=hour)):
                for link in self.env["payout.link"]._cron_remind_before_expiry(
                        with_commit=False) & links:
                    reminded[link.id].append(hour)
        return dict(reminded)



class OffboardingMixin:
    """An HR officer (who archives employees, changes their identity), a second Payout
    Manager for the four-eyes checks, and an HR officer who is also a Payout Manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hr_officer = new_test_user(cls.env, "hr_officer",
                                       groups="base.group_user,hr.group_hr_user")
        cls.manager_2 = new_test_user(cls.env, "payout_manager_2",
                                      groups="base.group_user,hr_payout_link.group_payout_manager")
        # An HR officer who is also a Payout Manager: may change an identity, not check it.
        cls.hr_manager = new_test_user(
            cls.env, "hr_payout_manager",
            groups="base.group_user,hr.group_hr_user,hr_payout_link.group_payout_manager")

    def _as(self, user, records):
        return records.with_user(user)

    def _hold_activities(self, link):
        return link.activity_ids.filtered(
            lambda activity: activity.activity_type_id == self.env.ref(HOLD_ACTIVITY))


class FaultMatrixMixin:
    """The providers' sandboxes seen from a fault matrix test: what each holds under a
    reference."""

    def _held(self, kind, reference):
        """The statuses of the payouts the sandbox holds under ``reference``."""
        if kind == "doku":
            now = self.doku.server.clock.now()
            return [payout.data(now)["status"] for ref, payout in self.doku.payouts.items()
                    if ref == reference]
        items, field = ((self.xendit.payouts, "reference_id") if kind == "xendit_v2"
                        else (self.xendit.links, "external_id"))
        return [item.data["status"] for item in items.values()
                if item.data[field] == reference]
