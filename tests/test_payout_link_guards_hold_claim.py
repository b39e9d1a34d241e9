from odoo.tests import new_test_user, tagged

from .common import ClaimPageCommon, OffboardingMixin

HOLD_TEXT = "This payout is on hold"


@tagged("post_install", "-at_install")
class TestOffboardingClaimPage(OffboardingMixin, ClaimPageCommon):
    """The employee of a held link, on the claim page and under /my/payouts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The same address as the employee's: giving them this user is no email change.
        cls.user_employee = new_test_user(cls.env, "payout_held_employee",
                                          groups="base.group_portal",
                                          email=cls.employee.work_email)

    def setUp(self):
        super().setUp()
        self.link = self._create_link(user_id=self.user_editor.id)
        self.secret = self._send(self.link)
        # Given after sending: the link stays one claimed with its secret (not signed in), and
        # the employee also sees it under /my/payouts.
        self.employee.user_id = self.user_employee
        self._check_identity(self.employee)

    def test_held_link_shows_the_hold_page(self):
        self.employee.action_archive()
        response = self._open()
        self.assertEqual(response.status_code, 200, "a page of its own, not the 404 page")
        self.assertIn(HOLD_TEXT, response.text)
        self.assertIn("Contact your HR department", response.text)
        self.assertNotIn("not available", response.text)
        self.assertNotIn('name="secret"', response.text)
        self.assertNotIn("payout_not_for_me", response.text)
        self.link.invalidate_recordset()
        self.assertEqual(self.link.state, "sent", "not marked opened")

    def test_posts_to_a_held_link_change_nothing(self):
        self._open()
        self.employee.action_archive()
        before = self._snapshot()
        for step, data in (("secret", {"secret": "WRONG234"}), ("secret", {"secret": self.secret}),
                           ("not-for-me", {})):
            response = self._post(step, **data)
            self.assertEqual(response.status_code, 303, step)
            self.assertTrue(response.headers["Location"].endswith(self._url()))
        response = self._post_account()
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._snapshot(), before)
        self.assertFalse(self.link.refused_by_recipient)
        self.assertIn(HOLD_TEXT, self._open().text, "the secret did not verify this browser")

    def test_account_posted_after_the_hold_changes_nothing(self):
        """The employee typed the secret, then HR archived them: the account is refused."""
        self._verify()
        self.employee.action_archive()
        before = self._snapshot()
        self.assertEqual(self._post_account().status_code, 303)
        self.assertEqual(self._snapshot(), before)
        self.assertEqual((before["state"], before["bank_id"]), ("opened", False))

    def test_released_link_is_claimable_again(self):
        self.employee.action_archive()
        self.employee.action_unarchive()
        page = self._open().text
        self.assertNotIn(HOLD_TEXT, page)
        self.assertIn('name="secret"', page)
        self._claim_over_http()
        self.assertEqual((self.link.state, self.link.submission_state),
                         ("processing", "to_submit"))

    def test_portal_pages_show_the_hold(self):
        self.employee.write({"active": False})
        self._assert_portal_shows_hold()

    def _assert_portal_shows_hold(self):
        self.authenticate(self.user_employee.login, self.user_employee.login)
        portal_list = self.url_open("/my/payouts")
        self.assertEqual(portal_list.status_code, 200)
        self.assertIn("On hold", portal_list.text)
        portal_page = self.url_open(f"/my/payouts/{self.link.id}")
        self.assertEqual(portal_page.status_code, 200)
        self.assertIn(HOLD_TEXT, portal_page.text)
        self.assertNotIn("Claim this payout", portal_page.text)

    def test_hold_tour(self):
        """The employee opens the claim page of a held link in a browser."""
        self.employee.action_archive()
        self.start_tour(self._claim_path(self.link), "payout_hold_tour", login=None)
        self.link.invalidate_recordset()
        self.assertEqual((self.link.state, self.link.failed_attempts), ("sent", 0))
