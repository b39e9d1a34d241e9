from odoo.tests import new_test_user, tagged

from .common import AttackCommon

REFUSAL = "only a Payout Manager may change them"


@tagged("post_install", "-at_install")
class TestAttackBankData(AttackCommon):
    """A bank's Clearing Code (where Xendit v2 pays) and whether the claim page offers it
    are Payout Managers' only, though base lets every Contact Creation user write res.bank;
    their changes are tracked in the bank's chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_contacts = new_test_user(
            cls.env, "payout_contacts", groups="base.group_user,base.group_partner_manager")
        # A plain Payout Manager, without Contact Creation: the addon gives them res.bank.
        cls.user_bank_manager = cls.user_manager

    def _stored(self, bank):
        self.env.invalidate_all()
        return bank.payout_bank_code, bank.payout_available

    def test_contact_creator_cannot_redirect_payouts(self):
        """An internal user with Contact Creation changes BCA's clearing code, withdraws it,
        or offers a bank of their own (in the values or as a context's default): refused,
        nothing changed; the bank's other fields stay theirs."""
        user = self.user_contacts
        for values in ({"payout_bank_code": "999"}, {"payout_available": False},
                       {"payout_bank_code": False}):
            with self.subTest(values=values):
                self._assert_rpc_refused(user, "res.bank", "write", [self.bank.id], values,
                                         message=REFUSAL)
                self.assertEqual(self._stored(self.bank), ("014", True))
        banks_before = self.env["res.bank"].search_count([])
        self._assert_rpc_refused(user, "res.bank", "create", {
            "name": "Bank Palsu", "payout_bank_code": "014", "payout_available": True,
        }, message=REFUSAL)
        self._assert_rpc_refused(user, "res.bank", "create", {"name": "Bank Palsu"},
                                 context={"default_payout_available": True}, message=REFUSAL)
        self.assertEqual(self.env["res.bank"].search_count([]), banks_before)

        self._rpc(user, "res.bank", "write", [self.bank.id],
                  {"phone": "+62 21 2358 8000", "payout_bank_code": "014"})  # no change
        self._rpc(user, "res.bank", "create", {"name": "Bank Lokal"})
        self.assertEqual(self._stored(self.bank) + (self.bank.phone,),
                         ("014", True, "+62 21 2358 8000"))

    def test_editor_cannot_redirect_payouts(self):
        """A Payout Editor changes BCA's clearing code or offers a new bank: refused,
        nothing changed."""
        self._assert_rpc_refused(self.user_editor, "res.bank", "write", [self.bank.id],
                                 {"payout_bank_code": "999"})
        self._assert_rpc_refused(self.user_editor, "res.bank", "create",
                                 {"name": "Bank Palsu", "payout_available": True})
        self.assertEqual(self._stored(self.bank), ("014", True))
        self.assertFalse(self.env["res.bank"].search([("name", "=", "Bank Palsu")]))

    def test_manager_changes_them_tracked(self):
        """A Payout Manager changes a clearing code and offers a new bank; the bank's
        chatter shows who changed what from what."""
        self._rpc(self.user_bank_manager, "res.bank", "write", [self.bank.id],
                  {"payout_bank_code": "015"})
        new_id = self._rpc(self.user_bank_manager, "res.bank", "create", {
            "name": "Bank Daerah Contoh", "payout_bank_code": "123", "payout_available": True,
        })
        self.assertEqual(self._stored(self.bank), ("015", True))
        self.assertEqual(self._stored(self.env["res.bank"].browse(new_id)), ("123", True))
        tracking = self.bank.message_ids.tracking_value_ids.filtered(
            lambda value: value.field_id.name == "payout_bank_code")
        self.assertEqual(
            (tracking.old_value_char, tracking.new_value_char, tracking.mail_message_id.author_id),
            ("014", "015", self.user_bank_manager.partner_id))

    def test_bank_form_loads(self):
        """The bank form shows the payout fields to everyone who reads banks, with the
        chatter; only to Payout Managers as editable."""
        for user, readonly in ((self.user_contacts, True), (self.user_bank_manager, False),
                               (self.user_editor, True)):
            with self.subTest(user=user.login):
                arch = self._rpc(user, "res.bank", "get_views",
                                 [[False, "form"]])["views"]["form"]["arch"]
                self.assertIn("<chatter", arch)
                self.assertEqual('name="payout_bank_code" readonly="True"' in arch, readonly)
                self.assertIn('name="payout_available"', arch)
