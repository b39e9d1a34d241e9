from contextlib import closing

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import PayoutCommon

LINK_OPERATIONS = ("read", "create", "write", "unlink", "send", "cancel", "reissue")
PROVIDER_OPERATIONS = ("provider_write", "provider_create")
OPERATIONS = LINK_OPERATIONS + PROVIDER_OPERATIONS
# What each row may do; every other operation must raise AccessError.
ALLOWED = {
    "internal": (),
    "portal": (),
    "viewer": ("read",),
    "editor": LINK_OPERATIONS,
    "manager": OPERATIONS,
    "other_company_manager": (),
}


@tagged("post_install", "-at_install")
class TestAccess(PayoutCommon):
    """Who may do what with payout links and providers (ACLs, groups=, company rules)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.env["res.company"].create({"name": "Other Payout Company"})
        cls.other_provider = cls.env["payout.provider"].search(
            [("company_id", "=", cls.other_company.id)]
        )
        cls.user_internal = new_test_user(cls.env, "payout_nobody", groups="base.group_user")
        cls.user_portal = new_test_user(cls.env, "payout_portal", groups="base.group_portal")
        cls.user_other_manager = new_test_user(
            cls.env, "payout_other_manager",
            groups="base.group_user,hr_payout_link.group_payout_manager",
            company_id=cls.other_company.id, company_ids=[(6, 0, cls.other_company.ids)],
        )
        cls.users = {
            "internal": cls.user_internal,
            "portal": cls.user_portal,
            "viewer": cls.user_viewer,
            "editor": cls.user_editor,
            "manager": cls.user_manager,
            "other_company_manager": cls.user_other_manager,
        }

    def _failed_link(self):
        link = self._create_link()
        link.action_send()
        link._update_state("failed", values={"failure_reason": "x"})
        return link

    # === One operation each, on fresh records; asserts its effect when allowed === #

    def _op_read(self, user):
        link = self._create_link()
        self.assertEqual(link.with_user(user).read(["amount"])[0]["amount"], 1500.0)

    def _op_create(self, user):
        link = self.env["payout.link"].with_user(user).create({
            "employee_id": self.employee.id,
            "amount": 700.0,
            "company_id": self.company.id,
            "provider_id": self.provider.id,
        })
        self.assertEqual(
            (link.sudo().create_uid, link.sudo().amount, link.sudo().state), (user, 700.0, "draft")
        )

    def _op_write(self, user):
        link = self._create_link()
        link.with_user(user).write({"amount": 2500.0})
        link.invalidate_recordset()
        self.assertEqual(link.amount, 2500.0)

    def _op_unlink(self, user):
        link = self._create_link()
        link.with_user(user).unlink()
        self.assertFalse(link.exists())

    def _op_send(self, user):
        link = self._create_link()
        link.with_user(user).action_send()
        self.assertEqual(link.state, "sent")
        self.assertTrue(link.claim_token_hash)

    def _op_cancel(self, user):
        link = self._create_link()
        link.action_send()
        link.with_user(user).action_cancel()
        self.assertEqual(link.state, "cancelled")
        self.assertFalse(link.claim_token_hash)

    def _op_reissue(self, user):
        link = self._failed_link()
        link.with_user(user).action_reissue()
        new_link = self.env["payout.link"].search([("replaced_link_id", "=", link.id)])
        self.assertEqual((len(new_link), new_link.state), (1, "sent"))

    def _op_provider_write(self, user):
        self.provider.with_user(user).write({"link_validity_days": 7})
        self.provider.invalidate_recordset()
        self.assertEqual(self.provider.link_validity_days, 7)

    def _op_provider_create(self, user):
        provider = self.env["payout.provider"].with_user(user).create(
            {"name": "Backup Demo", "company_id": self.company.id}
        )
        self.assertEqual(provider.sudo().company_id, self.company)

    # === Tests === #

    def test_access_matrix(self):
        for row, allowed in ALLOWED.items():
            for operation in OPERATIONS:
                # Each cell runs in a savepoint that is always rolled back: cells are independent.
                with self.subTest(user=row, operation=operation), \
                        closing(self.env.cr.savepoint()):
                    run = getattr(self, f"_op_{operation}")
                    if operation in allowed:
                        run(self.users[row])
                    else:
                        with self.assertRaises(AccessError, msg=f"{row} may not {operation}"):
                            run(self.users[row])

    def test_editor_unlinks_drafts_only(self):
        link = self._create_link()
        link.action_send()
        with self.assertRaises(UserError):
            link.with_user(self.user_editor).unlink()
        self.assertTrue(link.exists())

    def test_employee_smart_button(self):
        # The smart button is on the private employee form, which only HR officers open
        # (others get hr.employee.public): the payout group decides, among HR officers.
        hr_groups = "base.group_user,hr.group_hr_user"
        hr_viewer = new_test_user(
            self.env, "payout_hr_viewer", groups=f"{hr_groups},hr_payout_link.group_payout_viewer"
        )
        hr_officer = new_test_user(self.env, "payout_hr_officer", groups=hr_groups)
        self._create_link(amount=200.0)
        paid = self._create_link()
        paid.action_send()
        paid._update_state("done")
        fnames = ["payout_link_count", "payout_paid_total"]
        values = self.employee.with_user(hr_viewer).read(fnames)[0]
        self.assertEqual((values["payout_link_count"], values["payout_paid_total"]), (2, 1500.0))
        for user in (hr_officer, self.user_internal):
            for fname in fnames:
                with self.subTest(user=user.login, field=fname), self.assertRaises(AccessError):
                    self.employee.with_user(user).read([fname])

    def test_secret_fields_hidden(self):
        link = self._create_link()
        link.action_send()
        for user in (self.user_editor, self.user_manager):
            for fname in ("secret_hash", "account_number"):
                with self.subTest(user=user.login, field=fname), self.assertRaises(AccessError):
                    link.with_user(user).read([fname])

    def test_other_company_manager(self):
        link = self._create_link()
        as_other = self.env(user=self.user_other_manager)
        self.assertFalse(as_other["payout.link"].search([]))
        self.assertFalse(as_other["payout.provider"].search([("company_id", "=", self.company.id)]))
        with self.assertRaises(AccessError):
            as_other["payout.link"].browse(link.id).read(["amount"])
        with self.assertRaises(AccessError):
            as_other["payout.provider"].browse(self.provider.id).read(["name"])
        # The refusals above come from the company, not the group: its own provider is open.
        self.assertEqual(as_other["payout.provider"].search([]), self.other_provider)
        self.other_provider.with_user(self.user_other_manager).link_validity_days = 5
        self.assertEqual(self.other_provider.link_validity_days, 5)
