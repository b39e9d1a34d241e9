from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..controllers.xendit import XenditCallbackController
from .common import PayoutCommon


@tagged("post_install", "-at_install")
class TestPayoutProviderSettings(PayoutCommon):
    """The settings every provider code declares: required to enable it, API URLs."""

    def _refused(self, values):
        """The message of the ValidationError that creating a provider with ``values`` gives."""
        with self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
            self.env["payout.provider"].create({"name": "Provider", **values})
        return caught.exception.args[0]

    def test_settings_required_to_enable(self):
        for code, message in [
            ("doku", "DOKU Client-Id and DOKU Secret Key: required to enable DOKU."),
            ("xendit", "Xendit Secret Key: required to enable Xendit."),
        ]:
            for state in ("test", "enabled"):
                with self.subTest(code=code, state=state):
                    self.assertEqual(self._refused({"code": code, "state": state}), message)
            self.env["payout.provider"].create({"name": "Off", "code": code})  # disabled
        provider = self.env["payout.provider"].create({"name": "DOKU", "code": "doku",
                                                       "doku_client_id": "C1"})
        with self.assertRaisesRegex(ValidationError, "required to enable DOKU"):
            provider.state = "test"  # the secret key is still missing
        provider.doku_secret_key = "SK"
        provider.state = "enabled"
        with self.assertRaisesRegex(ValidationError, "required to enable DOKU"):
            provider.doku_client_id = False
        self.assertEqual(self.env["payout.provider"]._get_required_fields("doku"),
                         ["doku_client_id", "doku_secret_key"])

    def test_api_urls_are_https_or_loopback(self):
        loopback_only = "(http:// only to this computer: 127.0.0.1, ::1 or localhost)."
        self.assertEqual(
            self._refused({"code": "doku", "doku_environment": "custom",
                           "doku_base_url": "ftp://127.0.0.1"}),
            f"DOKU Base URL: a custom environment needs an https:// address {loopback_only}")
        self.assertEqual(self._refused({"code": "xendit", "xendit_base_url": "127.0.0.1:8070"}),
                         f"Xendit API URL: an https:// address is required {loopback_only}")
        self.env["payout.provider"].create({"name": "DOKU", "code": "doku",
                                            "doku_environment": "sandbox"})  # no URL needed

    def test_xendit_callback_urls_are_the_routes(self):
        provider = self.env["payout.provider"].create({"name": "Xendit", "code": "xendit"})
        base_url = provider.get_base_url()
        self.assertEqual(
            (provider.xendit_payouts_callback_url, provider.xendit_payout_link_callback_url),
            (base_url + XenditCallbackController._payouts_url,
             base_url + XenditCallbackController._payout_link_url),
        )
