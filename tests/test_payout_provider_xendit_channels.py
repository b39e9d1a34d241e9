from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..protocol import xendit
from .common import HOLDER, XenditCommon


@tagged("post_install", "-at_install")
class TestXenditChannels(XenditCommon):
    """The claim page offers the banks the Xendit account can pay: read from
    GET /payouts_channels by a button and a weekly job, the shipped list until then."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        codes = list(xendit.CHANNEL_CODES)
        cls.shipped = cls.env["res.bank"].search([("payout_available", "=", True),
                                                  ("payout_bank_code", "in", codes)])
        cls.bni = cls.env.ref("hr_payout_link.bank_id_bni")
        cls.mandiri = cls.env.ref("hr_payout_link.bank_id_mandiri")

    def _channel_calls(self):
        return self._calls("GET", xendit.CHANNELS_PATH)

    def _refresh_as_manager(self):
        return self.in_odoo.with_user(self.user_manager).action_xendit_refresh_channels()

    def test_never_read_offers_the_shipped_banks(self):
        self.assertEqual(len(self.shipped), len(xendit.CHANNEL_CODES))
        self.assertEqual(self.in_odoo._get_payout_banks(), self.shipped)
        self.assertIn("shipped list", self.in_odoo.xendit_channels_info)

    def test_the_button_offers_what_the_account_can_pay(self):
        self.xendit.configure(channels=["ID_BCA", "ID_BNI", "ID_OVO"])
        action = self._refresh_as_manager()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.in_odoo.sudo().xendit_channel_codes, ["ID_BCA", "ID_BNI"])
        self.assertTrue(self.in_odoo.sudo().xendit_channels_date)
        self.assertIn("2 bank channels, read from Xendit", self.in_odoo.xendit_channels_info)
        [call] = self._channel_calls()
        self.assertEqual(call.query, {"currency": "IDR", "channel_category": "BANK"})
        self.assertEqual(self.in_odoo._get_payout_banks(), self.bank | self.bni)
        # The claim refuses a bank the account cannot pay.
        link = self._create_link(self.in_odoo)
        self._send(link)
        with self.assertRaisesRegex(ValidationError, "Bank: choose a bank from the list"):
            link._claim(self.mandiri, "1234567890", HOLDER)
        link._claim(self.bni, "1234567890", HOLDER)
        self.assertEqual(link.bank_id, self.bni)

    def test_the_weekly_job_refreshes_every_xendit_provider_in_use(self):
        cron = self.env.ref("hr_payout_link.ir_cron_xendit_channels")
        self.assertEqual((cron.interval_number, cron.interval_type, cron.active),
                         (1, "weeks", True))
        disabled = self.hosted.copy({"name": "Old Xendit", "state": "disabled"})
        self.xendit.configure(channels=["ID_MANDIRI"])
        cron.method_direct_trigger()
        self.assertEqual(self.in_odoo._get_payout_banks(), self.mandiri)
        self.assertEqual(self.hosted.sudo().xendit_channel_codes, ["ID_MANDIRI"])
        self.assertFalse(disabled.sudo().xendit_channel_codes, "a disabled provider is not asked")
        self.assertEqual(len(self._channel_calls()), 2)

    def test_a_failing_call_keeps_the_banks_offered(self):
        self.xendit.configure(channels=["ID_BCA", "ID_BNI"])
        self._refresh_as_manager()
        read_on = self.in_odoo.sudo().xendit_channels_date
        self.xendit.configure(channels=["ID_MANDIRI"])
        self.hosted.state = "disabled"  # the job asks in_odoo only
        # Each call tries once more after a 5xx, twice; a malformed answer is not retried.
        for fault, calls in (("http_503", 3), ("malformed_json", 1)):
            with self.subTest(fault=fault):
                self.xendit.server.inject(fault, count=calls, path=xendit.CHANNELS_PATH)
                with self.assertRaisesRegex(UserError, "the banks offered stay as they were"):
                    self._refresh_as_manager()
                self.xendit.server.inject(fault, count=calls, path=xendit.CHANNELS_PATH)
                self.env["payout.provider"]._cron_refresh_xendit_channels()
                self.assertEqual(self.in_odoo._get_payout_banks(), self.bank | self.bni)
                self.assertEqual(self.in_odoo.sudo().xendit_channels_date, read_on)
        # Once Xendit answers again, the job changes the banks.
        self.env["payout.provider"]._cron_refresh_xendit_channels()
        self.assertEqual(self.in_odoo._get_payout_banks(), self.mandiri)

    def test_a_list_without_a_bank_keeps_the_shipped_banks(self):
        self.xendit.configure(channels=["ID_OVO"])  # an e-wallet only
        with self.assertRaisesRegex(UserError, "no bank channel paying IDR"):
            self._refresh_as_manager()
        self.assertFalse(self.in_odoo.sudo().xendit_channel_codes)
        self.assertEqual(self.in_odoo._get_payout_banks(), self.shipped)

    def test_only_managers_refresh_and_nobody_writes_the_list_by_hand(self):
        with self.assertRaises(AccessError):
            self.in_odoo.with_user(self.user_editor).action_xendit_refresh_channels()
        with self.assertRaises(AccessError):
            self.in_odoo.with_user(self.user_manager).write(
                {"xendit_channel_codes": ["ID_BCA", "ID_NOWHERE"]})
        with self.assertRaisesRegex(UserError, "not a Xendit provider"):
            self.provider.with_user(self.user_manager).action_xendit_refresh_channels()
        self.assertFalse(self._channel_calls())
        self.assertFalse(self.in_odoo.sudo().xendit_channel_codes)
