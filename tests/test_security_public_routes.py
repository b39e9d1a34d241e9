"""A property of the public routes, checked with generated input (hypothesis): whatever
the token, secret, bank id, account number, holder or callback, the answer is never a
5xx, and no link changes without the right secret."""

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import new_test_user, tagged

from ..controllers.claim import PayoutClaimController
from ..protocol import xendit
from .common import ClaimPageCommon

CLAIM_URL = PayoutClaimController._claim_url
# Every example is a few real HTTP requests: enough to find a crash, quick enough to run
# with every test run. No example database, so runs do not depend on each other.
EXAMPLES = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
# What an attacker types: any text (NUL bytes, any script, long), and look-alikes of the
# real thing (digits of any script, near-tokens).
ANY_TEXT = st.one_of(st.text(max_size=300), st.text(alphabet="0123456789²١٢", max_size=25),
                     st.from_regex(r"[A-Za-z0-9_-]{40,46}", fullmatch=True))
ANY_FORM = st.fixed_dictionaries({
    "bank_id": ANY_TEXT, "account_number": ANY_TEXT, "account_holder": ANY_TEXT})
# The fields of every link that a request without the right secret must leave alone.
WATCHED_FIELDS = ["state", "failed_attempts", "bank_id", "account_number_masked",
                  "account_holder_name", "submission_state", "submission_key",
                  "provider_status", "provider_reference", "failure_reason"]


@tagged("post_install", "-at_install")
class TestPublicRoutesProperty(ClaimPageCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_xendit()

    def setUp(self):
        super().setUp()
        self.link = self._create_link()
        self.secret = self._send(self.link)
        self.hosted_link = self._sent_link(self.hosted)
        self._open()  # opened, and a CSRF token for this browser's forms
        self.verified = False
        self.portal_user = None

    def _links(self):
        self.env.invalidate_all()
        return self.env["payout.link"].search_read([], WATCHED_FIELDS, order="id")

    def _assert_answered(self, response):
        self.assertLess(response.status_code, 500, response.text[:500])

    @EXAMPLES
    @given(token=ANY_TEXT, secret=ANY_TEXT, form=ANY_FORM)
    def test_any_token(self, token, secret, form):
        """A token that is not a link's: the page, the secret and the account forms."""
        before = self._links()
        url = f"{CLAIM_URL}/{quote(token, safe='')}"
        self._assert_answered(self.url_open(url, allow_redirects=False))
        self._assert_answered(self.url_open(f"{url}/secret", data={
            "secret": secret, "csrf_token": self.csrf_token}, allow_redirects=False))
        self._assert_answered(self.url_open(f"{url}/account", data={
            **form, "csrf_token": self.csrf_token}, allow_redirects=False))
        self.assertEqual(self._links(), before)

    @EXAMPLES
    @given(form=ANY_FORM)
    def test_account_without_the_secret(self, form):
        """The real token, but this browser never typed the secret: nothing changes."""
        before = self._links()
        response = self._post_account(**form)
        self._assert_answered(response)
        self.assertEqual(response.status_code, 303)
        self.assertEqual(self._links(), before)

    @EXAMPLES
    @given(secret=ANY_TEXT)
    def test_any_secret(self, secret):
        """A wrong secret counts against the link (and locks it at the limit), and
        changes nothing else."""
        before = {row["id"]: row for row in self._links()}
        response = self._post("secret", secret=secret)
        self._assert_answered(response)
        for row in self._links():
            expected = dict(before[row["id"]])
            if row["id"] == self.link.id and row["failed_attempts"] != expected["failed_attempts"]:
                self.assertEqual(row["failed_attempts"], expected["failed_attempts"] + 1)
                expected["failed_attempts"] = row["failed_attempts"]
                if row["state"] == "failed":
                    expected.update(state="failed", failure_reason=row["failure_reason"])
            self.assertEqual(row, expected)

    @EXAMPLES
    @given(form=ANY_FORM)
    def test_any_account_after_the_secret(self, form):
        """This browser typed the secret: a bad account is a form error and changes
        nothing; only a valid one claims the link, with exactly what was typed."""
        if not self.verified:
            self._verify()
            self.verified = True
        before = self._links()
        response = self._post_account(**form)
        self._assert_answered(response)
        if self.link.state == "processing" and before != self._links():
            self.assertEqual(response.status_code, 303)
            self.assertEqual((str(self.link.bank_id.id), self.link.account_holder_name),
                             (form["bank_id"], form["account_holder"].strip()))
        else:
            self.assertEqual(self._links(), before)

    @EXAMPLES
    @given(link_id=st.one_of(st.integers(min_value=0, max_value=10**40),
                             st.integers(min_value=0, max_value=2**31 + 10)))
    def test_any_portal_id(self, link_id):
        """The employee's portal page of any id: theirs (200) or not found, never a 5xx."""
        if not self.portal_user:
            self.portal_user = self.employee.user_id = new_test_user(
                self.env, "payout_property_portal", groups="base.group_portal")
            self.authenticate(self.portal_user.login, self.portal_user.login)
        before = self._links()
        response = self.url_open(f"/my/payouts/{link_id}")
        self._assert_answered(response)
        self.assertEqual(response.status_code, 200 if link_id == self.link.id else 404)
        self.assertEqual(self._links(), before)

    @EXAMPLES
    @given(token=st.from_regex(r"([!-~][ -~]{0,78}[!-~])?", fullmatch=True),
           right_token=st.booleans(),
           body=st.one_of(st.binary(max_size=300), ANY_TEXT.map(str.encode),
                          st.builds(lambda ref, status: json.dumps({
                              "id": ref, "external_id": ref, "reference_id": ref,
                              "status": status, "data": {"id": ref, "status": status}}).encode(),
                              ANY_TEXT, ANY_TEXT)))
    def test_any_xendit_callback(self, token, right_token, body):
        """Xendit's callback routes, with any token and any body: never a 5xx, and no
        link changes (the ids are not any payout's; a callback only makes Odoo look)."""
        if right_token:
            token = self.xendit.callback_token
        before = self._links()
        for url in ("/payout/xendit/payouts", "/payout/xendit/payout_link"):
            response = self.url_open(url, data=body, headers={
                xendit.CALLBACK_TOKEN_HEADER: token, "Content-Type": "application/json"})
            self._assert_answered(response)
        self.assertEqual(self._links(), before)
