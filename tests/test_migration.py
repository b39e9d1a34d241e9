import hashlib

from odoo.modules.migration import load_script
from odoo.tests import tagged
from odoo.tools import sql

from .. import encryption
from .common import ACCOUNT_NUMBER, PayoutCommon


@tagged("post_install", "-at_install")
class TestMigration(PayoutCommon):
    """The migration scripts, run on a database laid out as the version before them
    (inside the test's transaction: DDL rolls back with it)."""

    def _migrate(self, version, step):
        script = load_script(f"hr_payout_link/migrations/{version}/{step}-migrate.py",
                             f"hr_payout_link_migrate_{step}")
        script.migrate(self.env.cr, "18.0.1.1.0")

    def _link_in(self, state, **values):
        link = self._create_link()
        link.sudo().write({"state": state, **values})
        self.env.flush_all()
        return link

    def test_18_0_1_2_0_renames_the_stamp_and_splits_submitted(self):
        accepted = self._link_in("sent", provider_status="PENDING", provider_reference="D1")
        paid_then = self._link_in("done", provider_status="COMPLETED")
        refused = self._link_in("failed", failure_reason="Invalid destination account")
        failed_later = self._link_in("failed", provider_status="FAILED")
        queued = self._link_in("sent", submission_state="to_submit")
        links = accepted | paid_then | refused | failed_later | queued
        stamp = "2026-11-30 10:00:00"
        cr = self.env.cr
        sql.rename_column(cr, "payout_link", "date_provider_call", "date_polled")
        cr.execute("UPDATE ir_model_fields SET name = 'date_polled' "
                   "WHERE model = 'payout.link' AND name = 'date_provider_call'")
        cr.execute("UPDATE payout_link SET date_polled = %s, submission_state = 'submitted' "
                   "WHERE id IN %s", (stamp, tuple((links - queued).ids)))

        self._migrate("18.0.1.2.0", "pre")

        self.assertFalse(sql.column_exists(cr, "payout_link", "date_polled"))
        links.invalidate_recordset()
        self.assertEqual(
            [(link.submission_state, str(link.date_provider_call or "")) for link in links],
            [("accepted", stamp), ("accepted", stamp), ("refused", stamp), ("accepted", stamp),
             ("to_submit", "")],
        )
        field = self.env["ir.model.fields"]._get("payout.link", "date_provider_call")
        self.assertEqual(field.field_description, "Last Provider Call")

    def test_18_0_1_2_0_keeps_the_reference_providers_know(self):
        at_provider = self._link_in("sent", submission_state="accepted")
        draft = self._create_link()
        self.env.cr.execute("UPDATE payout_link SET submission_reference = NULL WHERE id IN %s",
                            (tuple((at_provider | draft).ids),))

        self._migrate("18.0.1.2.0", "post")

        (at_provider | draft).invalidate_recordset()
        self.assertEqual(at_provider.submission_reference, at_provider.reference)
        self.assertFalse(draft.submission_reference)

    def test_18_0_1_2_0_gives_each_cron_its_batch_size(self):
        submit = self.env.ref("hr_payout_link.ir_cron_payout_submit")
        poll = self.env.ref("hr_payout_link.ir_cron_payout_poll")
        submit.code = "model._cron_submit_payouts()"
        poll.code = "model._cron_poll_provider_status(batch_size=50)"  # customised

        self._migrate("18.0.1.2.0", "post")

        self.assertEqual(submit.code, "model._cron_submit_payouts(batch_size=1000)")
        self.assertEqual(poll.code, "model._cron_poll_provider_status(batch_size=50)")

    def test_18_0_1_3_0_moves_the_claim_token_to_its_own_field(self):
        """The claim tokens of 18.0.1.2.0 were portal.mixin's `access_token`: they keep
        working as claim tokens, and `access_token` is left empty."""
        claimable = self._link_in("sent")
        minted = self._link_in("sent")  # a token made by get_portal_url, with no secret
        cr = self.env.cr
        # The column 18.0.1.7.0 replaced by a hash.
        cr.execute("ALTER TABLE payout_link ADD COLUMN claim_token varchar")
        cr.execute("CREATE INDEX payout_link__claim_token_index ON payout_link (claim_token)")
        cr.execute("UPDATE payout_link SET claim_token = NULL, access_token = NULL")
        sql.rename_column(cr, "payout_link", "access_token", "old_access_token")
        sql.rename_column(cr, "payout_link", "claim_token", "access_token")
        cr.execute("ALTER INDEX payout_link__claim_token_index "
                   "RENAME TO payout_link__access_token_index")
        cr.execute("UPDATE payout_link SET access_token = 'T' || id, secret_hash = "
                   "CASE WHEN id = %s THEN 'hash' END WHERE id IN %s",
                   (claimable.id, (claimable.id, minted.id)))
        cr.execute("ALTER TABLE payout_link DROP COLUMN old_access_token")

        self._migrate("18.0.1.3.0", "pre")

        self.assertTrue(sql.column_exists(cr, "payout_link", "claim_token"))
        self.assertFalse(sql.column_exists(cr, "payout_link", "access_token"),
                         "the ORM adds it back, empty, when the module is updated")
        self.assertTrue(sql.index_exists(cr, "payout_link__claim_token_index"))
        cr.execute("SELECT id, claim_token FROM payout_link WHERE id IN %s ORDER BY id",
                   ((claimable.id, minted.id),))
        self.assertEqual(cr.fetchall(), [(claimable.id, f"T{claimable.id}"), (minted.id, None)])

    def test_18_0_1_3_0_gives_failed_links_a_reason_for_their_employee(self):
        failed = self._link_in("failed", failure_reason="The Xendit balance (IDR 5) is low")
        sent = self._link_in("sent")
        self.env.cr.execute("UPDATE payout_link SET employee_reason = NULL")

        self._migrate("18.0.1.3.0", "post")

        (failed | sent).invalidate_recordset()
        self.assertEqual((failed.employee_reason, sent.employee_reason),
                         ("The payment could not be made.", False))

    def test_18_0_1_4_0_moves_dokus_hmac_sha512_to_non_snap(self):
        """The invented `hmac_sha512` scheme is gone: its providers sign the Non-SNAP way,
        and the others keep theirs."""
        providers = self.env["payout.provider"].create([
            {"name": f"DOKU {index}", "code": "doku"} for index in range(3)])
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE payout_provider SET doku_signature_scheme = CASE id WHEN %s THEN "
            "'hmac_sha512' WHEN %s THEN 'snap' ELSE 'hmac_sha256' END WHERE id IN %s",
            (providers[0].id, providers[1].id, tuple(providers.ids)))
        messages = self.env["mail.message"].search_count([])

        self._migrate("18.0.1.4.0", "pre")

        providers.invalidate_recordset()
        self.assertEqual(providers.sudo().mapped("doku_signature_scheme"),
                         ["hmac_sha256", "snap", "hmac_sha256"])
        self.assertEqual(self.env["mail.message"].search_count([]), messages, "posts nothing")

    def test_18_0_1_4_0_encrypts_secrets_and_gives_emails_the_employee_s_language(self):
        link = self._claimed_link()
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("UPDATE payout_link SET account_number = '9876543210' WHERE id = %s",
                   (link.id,))
        claim = self.env.ref("hr_payout_link.mail_template_payout_link")
        reminder = self.env.ref("hr_payout_link.mail_template_payout_reminder")
        claim.lang = "{{ object.employee_id.work_contact_id.lang }}"
        reminder.lang = "{{ 'fr_FR' }}"  # changed by someone: left alone
        self.env.flush_all()

        self._migrate("18.0.1.4.0", "post")

        cr.execute("SELECT account_number FROM payout_link WHERE id = %s", (link.id,))
        self.assertTrue(cr.fetchone()[0].startswith("payout-enc:"))
        self.env.invalidate_all()
        self.assertEqual(link.sudo().account_number, "9876543210")
        self.assertEqual((claim.lang, reminder.lang),
                         ("{{ object._get_employee_lang() }}", "{{ 'fr_FR' }}"))

    def test_18_0_1_6_0_moves_the_account_review_out_of_the_submission(self):
        waiting = self._link_in("processing", submission_state="to_submit",
                                submission_key="K1")
        queued = self._link_in("processing", submission_state="to_submit", submission_key="K2")
        paid = self._link_in("done", submission_state="accepted")
        cr = self.env.cr
        cr.execute("UPDATE payout_link SET submission_state = 'to_review' WHERE id = %s",
                   (waiting.id,))

        self._migrate("18.0.1.6.0", "post")

        links = waiting | queued | paid
        links.invalidate_recordset()
        self.assertEqual(
            [(link.account_review_state, link.submission_state) for link in links],
            [("to_review", False), (False, "to_submit"), (False, "accepted")])
        self.assertEqual(waiting.submission_key, "K1", "its key is kept for the submission")

    def test_18_0_1_7_0_leaves_nothing_a_dump_alone_uses(self):
        """The clear claim token becomes its hash, the secret's hash is encrypted, and the
        fingerprint is sealed and keyed with the encryption key: the emailed URL, the
        secret and the shared-account search keep working (the search itself opens a second
        cursor, which this test's DDL would block: the fingerprint it searches is checked)."""
        link = self._claimed_link()
        token, secret = "T" * 43, "ABCDEFGH"
        inner = link._account_fingerprint_inner(self.bank, ACCOUNT_NUMBER)
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("ALTER TABLE payout_link ADD COLUMN claim_token varchar")
        cr.execute("UPDATE payout_link SET claim_token = %s, claim_token_hash = NULL, "
                   "secret_hash = %s, account_fingerprint = %s, "
                   "account_fingerprint_sealed = NULL WHERE id = %s",
                   (token, link._hash_secret(secret), inner, link.id))

        self._migrate("18.0.1.7.0", "post")

        self.assertFalse(sql.column_exists(cr, "payout_link", "claim_token"))
        cr.execute("SELECT claim_token_hash, secret_hash, account_fingerprint, "
                   "account_fingerprint_sealed FROM payout_link WHERE id = %s", (link.id,))
        token_hash, secret_hash, fingerprint, sealed = cr.fetchone()
        self.assertEqual(token_hash, hashlib.sha256(token.encode()).hexdigest())
        self.assertEqual(token_hash, link._hash_claim_token(token))
        self.assertTrue(encryption.is_encrypted(secret_hash))
        self.assertTrue(encryption.is_encrypted(sealed))
        self.assertNotEqual(fingerprint, inner)
        self.assertEqual(fingerprint, link._account_fingerprint(self.bank, ACCOUNT_NUMBER))
        self.env.invalidate_all()
        self.assertTrue(link.sudo()._check_secret(secret))
        self.assertEqual(link.sudo().account_fingerprint_sealed, inner)
