import json
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules import neutralize
from odoo.tests import HttpCase, tagged

from odoo.addons.hr_payout_link import const
from odoo.addons.hr_payout_link.controllers.xendit import XenditCallbackController
from odoo.addons.hr_payout_link.protocol import doku, xendit

from .common import DokuCommon, XenditCommon


@tagged("post_install", "-at_install")
class TestXenditOutcomes(XenditCommon):
    """Only a proven refusal fails a link; a duplicate answer is looked up, never guessed."""

    def test_duplicate_after_a_lost_answer_is_unknown_then_found(self):
        # Xendit creates the payout, the answer is lost, and the retry gets a duplicate.
        self.xendit.configure(replays=False)
        link = self._claimed_link(provider=self.in_odoo)
        self.xendit.server.inject("reset", path=xendit.PAYOUT_PATH)  # created, answer lost
        self._submit()
        self.assertEqual((link.state, link.submission_state), ("processing", "submitting"))
        self.assertIn("did not answer clearly", link.message_ids[0].body)
        self.assertFalse(link.can_reissue)
        self._retry_submissions()
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("processing", "accepted", "ACCEPTED"))
        self.assertEqual(len(self.xendit.payouts), 1, "found by its reference, not paid twice")

    def test_payout_link_duplicate_is_never_a_failure(self):
        link = self._payout_link_with_lost_answer()
        self._retry_submissions()  # resent, same external id: DUPLICATE_PAYOUT_ERROR
        self.assertEqual((link.state, link.submission_state), ("sent", "submitting"))
        self.assertEqual(len(self.xendit.links), 1)
        self.assertFalse(link.failure_reason)

    def test_a_field_xendit_refuses_fails_the_link(self):
        link = self._claimed_link("4000000000", provider=self.in_odoo)
        self._submit()
        self.assertEqual((link.state, link.submission_state), ("failed", "refused"))
        self.assertTrue(link.can_reissue)

    def test_a_payout_under_our_reference_that_is_not_ours_needs_attention(self):
        link = self._claimed_link(provider=self.in_odoo)
        reference = link._get_submission_reference()
        self.xendit.client().create_payout(
            reference_id=reference, channel_code="ID_BCA", account_number="5555555555",
            account_holder_name="Someone Else", amount=link.amount,
            idempotency_key="another-database")
        link.submission_state = "submitting"  # interrupted: reconciled by reference
        self._submit()
        self.assertTrue(link.needs_attention, "never adopted")
        self.assertEqual(len(self.xendit.payouts), 1, "and ours is not created meanwhile")


@tagged("post_install", "-at_install")
class TestCancelMeansCancel(XenditCommon, DokuCommon):
    """Cancel refuses what a provider could still pay, and cancels at the provider what
    it holds."""

    def test_doku_link_once_initiated_cannot_be_cancelled(self):
        link = self._sent_link(self.doku_provider)
        self.assertFalse(link.can_cancel)
        with self.assertRaisesRegex(UserError, "offers no way to cancel it: let it expire"):
            link.with_user(self.user_editor).action_cancel()
        self.assertEqual(link.state, "sent")

    def test_doku_link_not_sent_yet_is_cancelled_and_never_initiated(self):
        link = self._create_link(self.doku_provider)
        link.action_send()
        self.assertEqual((link.can_cancel, link.cancel_kind), (True, "queued"))
        link.with_user(self.user_editor).action_cancel()
        self._submit()
        self.assertEqual(link.state, "cancelled")
        self.assertFalse(self.doku.payouts)

    def test_a_link_being_submitted_cannot_be_cancelled(self):
        link = self._create_link(self.hosted)
        link.action_send()
        link.submission_state = "submitting"
        with self.assertRaisesRegex(UserError, "being sent to the provider right now"):
            link.action_cancel()

    def test_claimed_demo_link_cannot_be_cancelled(self):
        link = self._claimed_link("4000000003", pay=True)  # stays processing
        with self.assertRaisesRegex(UserError, "is claimed: the payment is on its way"):
            link.action_cancel()

    def test_v2_payout_is_cancelled_at_xendit_while_it_allows_it(self):
        link = self._claimed_link(provider=self.in_odoo)
        self._submit()
        self.assertEqual((link.can_cancel, link.cancel_kind), (True, "payout"))
        link.with_user(self.user_editor).action_cancel()
        self.assertEqual((link.state, link.provider_status), ("cancelled", "CANCELLED"))
        cancels = [r for r in self.xendit.server.requests if r.path.endswith("/cancel")]
        self.assertEqual(len(cancels), 1)
        self.assertFalse(link.follow_after_cancel, "final at Xendit")

    def test_payout_link_is_voided_at_xendit(self):
        link = self._sent_link(self.hosted)
        self.assertEqual(link.cancel_kind, "void")
        link.action_cancel()
        self.assertEqual((link.state, link.provider_status), ("cancelled", "VOIDED"))


@tagged("post_install", "-at_install")
class TestProviderStates(DokuCommon):
    """A disabled provider moves nothing; Test Mode never reaches production; Demo says it
    moved no money."""

    def test_a_disabled_provider_submits_nothing_until_enabled_again(self):
        link = self._create_link(self.doku_provider)
        link.action_send()
        self.doku_provider.state = "disabled"
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.submission_state, "to_submit")
        self.assertFalse(self.doku.payouts)
        self.doku_provider.state = "test"
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(link.submission_state, "accepted")

    def test_a_disabled_provider_still_follows_its_links(self):
        link = self._sent_link(self.doku_provider)
        self.doku_provider.state = "disabled"
        self.doku.server.clock.advance(3600)
        self._poll()
        self.assertEqual(link.provider_status, "EMAIL_LINK_OPENED")

    def test_test_mode_never_reaches_production(self):
        with self.assertRaisesRegex(ValidationError, "Test Mode never reaches DOKU's production"):
            self.doku_provider.doku_environment = "production"
        xendit_provider = self.env["payout.provider"].create({
            "name": "Xendit", "code": "xendit", "xendit_secret_key": "xnd_production_live"})
        with self.assertRaisesRegex(ValidationError, "Test Mode takes a development key"):
            xendit_provider.state = "test"
        xendit_provider.xendit_secret_key = "xnd_development_test"
        xendit_provider.state = "test"

    def test_a_neutralized_copy_reaches_no_production_endpoint_and_keeps_no_key(self):
        self.doku_provider.write({"state": "enabled", "doku_environment": "production"})
        xendit_provider = self.env["payout.provider"].create({
            "name": "Xendit live", "code": "xendit", "state": "enabled",
            "xendit_secret_key": "xnd_production_live", "xendit_base_url": "https://x.test"})
        self.env.flush_all()
        for query in neutralize.get_neutralization_queries(["hr_payout_link"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        providers = (self.doku_provider | xendit_provider).sudo()
        self.assertEqual(providers.mapped("state"), ["test", "test"])
        self.assertEqual((self.doku_provider.sudo().doku_environment,
                          self.doku_provider.sudo().doku_base_url), ("sandbox", False))
        self.assertEqual(xendit_provider.sudo().xendit_base_url, xendit.API_URL)
        self.assertFalse(any(providers.mapped("doku_secret_key") +
                             providers.mapped("xendit_secret_key")))

    def test_demo_is_in_test_mode_and_never_the_default_beside_a_real_provider(self):
        self.assertEqual(self.provider.state, "test")
        self.doku_provider.state = "enabled"
        self.assertEqual(self.env["payout.link"]._default_provider(), self.doku_provider)
        self.doku_provider.state = "test"
        self.assertEqual(self.env["payout.link"]._default_provider(), self.provider)

    def test_a_demo_payout_says_no_money_moved(self):
        link = self._claimed_link(pay=True)
        self.assertEqual(link.state, "done")
        receipt = self._link_mails(link)
        self.assertIn("Demo payout: no money moved", receipt.body_html)


@tagged("post_install", "-at_install")
class TestJobsFitTheirTime(DokuCommon):
    """A run makes no more calls than fit in its time budget, commits as it goes, and a
    failed check before sending makes lines wait, never fail."""

    def test_a_run_makes_only_the_calls_its_budget_allows(self):
        self.doku_provider.doku_rate_limit = 2  # 2 calls a second
        links = self.env["payout.link"].concat(*(
            self._create_link(self.doku_provider, recipient_email=f"budget{i}@example.com")
            for i in range(5)))
        links.action_send()
        with patch.object(const, "CALL_TIME_BUDGET", 1):
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(sorted(links.mapped("submission_state")),
                         ["accepted", "accepted", "to_submit", "to_submit", "to_submit"])
        self.assertEqual(len(self.doku.payouts), 2)

    def test_a_call_that_would_start_past_the_deadline_is_not_made(self):
        links = self.env["payout.link"].concat(*(
            self._create_link(self.doku_provider, recipient_email=f"late{i}@example.com")
            for i in range(3)))
        links.action_send()
        with patch.object(const, "CALL_TIME_BUDGET", -1):
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(set(links.mapped("submission_state")), {"to_submit"})
        self.assertFalse(self.doku.server.requests)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(set(links.mapped("submission_state")), {"accepted"})

    def test_answers_are_committed_every_few_calls(self):
        links = self.env["payout.link"].concat(*(
            self._create_link(self.doku_provider, recipient_email=f"commit{i}@example.com")
            for i in range(5)))
        links.action_send()
        with patch.object(const, "COMMIT_EVERY_SECONDS", 0), \
                patch.object(self.env.cr, "commit") as commit:
            self.env["payout.link"]._cron_submit_payouts()
        # The mark, after each of the 5 answers (none is waited for), then the run's.
        self.assertEqual(commit.call_count, 7)
        self.assertEqual(set(links.mapped("submission_state")), {"accepted"})

    def test_a_run_is_a_job_of_its_own_under_odoo_s_time_limit(self):
        """Odoo runs a job that reports remaining work up to 10 times under one
        limit_time_real: the payment cron reports none and triggers itself instead."""
        links = self.env["payout.link"].concat(*(
            self._create_link(self.doku_provider, recipient_email=f"chain{i}@example.com")
            for i in range(3)))
        links.action_send()
        cron = self.env.ref("hr_payout_link.ir_cron_payout_submit")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.env["payout.link"].with_context(ir_cron_progress_id=progress.id)._cron_submit_payouts(
            batch_size=2, with_commit=False)
        self.assertEqual((progress.done, progress.remaining), (2, 0))
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers + 1)

    def test_check_status_needs_write_access_and_an_open_link_at_a_provider(self):
        link = self._sent_link(self.doku_provider)
        with self.assertRaises(AccessError):
            link.with_user(self.user_viewer).action_check_status()
        draft = self._create_link(self.doku_provider)
        with self.assertRaisesRegex(UserError, "only open links that a provider holds"):
            draft.with_user(self.user_editor).action_check_status()
        link.with_user(self.user_editor).action_check_status()
        self.assertEqual(link.provider_status, "PENDING")


@tagged("post_install", "-at_install")
class TestBalanceCheckWaits(XenditCommon):

    def test_a_failed_balance_call_makes_batch_lines_wait(self):
        batch = self.env["payout.batch"].create({
            "name": "Waiting for Xendit", "provider_id": self.hosted.id,
            "currency_id": self.idr.id})
        line = self._create_link(self.hosted, batch_id=batch.id)
        batch.action_send_all()
        self.xendit.server.inject("http_503", count=3, path=xendit.BALANCE_PATH)
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        self.assertEqual((line.state, batch.state), ("draft", "sending"))
        self.assertFalse(line.failure_reason)
        line.date_provider_call = False  # as once the retry delay has passed
        self.env["payout.link"]._cron_send_batches(with_commit=False)
        self.assertEqual(line.state, "sent")


@tagged("post_install", "-at_install")
class TestReferences(DokuCommon):
    """What providers receive tells apart the companies and databases sharing an account."""

    def test_the_same_external_id_in_two_companies_or_databases_differs_at_the_provider(self):
        link = self._create_link(reference="BONUS2026")
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other = self.env["payout.link"].create({
            "employee_id": self.env["hr.employee"].create({
                "name": "Other", "company_id": other_company.id}).id,
            "amount": 10, "reference": "BONUS2026", "company_id": other_company.id,
            "provider_id": self.env["payout.provider"].search(
                [("company_id", "=", other_company.id)]).id,
        })
        ours, theirs = link._get_submission_reference(), other._get_submission_reference()
        self.assertNotEqual(ours, theirs)
        self.assertTrue(ours.endswith("BONUS2026") and theirs.endswith("BONUS2026"))
        self.env["ir.config_parameter"].sudo().set_param("database.uuid", "another-database")
        self.assertNotEqual(link._get_submission_reference(), ours)
        long_link = self._create_link(reference="A" * 30)
        long_reference = long_link._get_submission_reference()
        self.assertLessEqual(len(long_reference), const.MAX_SUBMISSION_REFERENCE)
        self.assertRegex(long_reference, r"^[A-Za-z0-9]+$")

    def test_doku_payout_under_our_reference_that_is_not_ours_is_not_adopted(self):
        link = self._create_link(self.doku_provider)
        link.action_send()
        body = dict(self.doku_provider._doku_initiate_fields(link), amount=999999)
        self.doku_provider._api_client().initiate(body, doku.new_request_id())
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertTrue(link.needs_attention)
        self.assertIn("another amount or recipient", " ".join(link.message_ids.mapped("body")))
        self.assertEqual(len(self.doku.payouts), 1, "theirs only")


@tagged("post_install", "-at_install")
class TestPayoutLinkLearnsItsId(XenditCommon, HttpCase):
    """A Payout Link whose creation's answer was lost has no lookup by external id: its
    callback names it, and Odoo fetches it by that id before believing it."""

    def _callback(self, body):
        return self.url_open(
            XenditCallbackController._payout_link_url, data=json.dumps(body),
            headers={"Content-Type": "application/json",
                     xendit.CALLBACK_TOKEN_HEADER: self.xendit.callback_token})

    def test_a_callback_settles_a_link_whose_answer_was_lost(self):
        link = self._payout_link_with_lost_answer()
        self.assertEqual((link.submission_state, link.provider_reference), ("submitting", False))
        [payout_id] = self.xendit.links
        forged = {"id": "not-the-link", "external_id": link.submission_reference,
                  "status": "COMPLETED"}
        self.assertEqual(self._callback(forged).status_code, 200)
        self.assertEqual((link.state, link.submission_state), ("sent", "submitting"),
                         "a body Xendit does not confirm changes nothing")
        response = self._callback({"id": payout_id, "external_id": link.submission_reference,
                                   "status": "PENDING"})
        self.assertEqual(response.json(), {"status": "accepted"})
        self.assertEqual((link.submission_state, link.provider_reference, link.provider_status),
                         ("accepted", payout_id, "PENDING"))
        self.assertEqual(len(self.xendit.links), 1)
