import os
from contextlib import contextmanager
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import SQL, config

from .. import encryption
from .common import ACCOUNT_NUMBER, HOLDER, PayoutCommon

KEY_A = encryption.generate_key()
KEY_B = encryption.generate_key()
# The key the database's other secrets (the demo providers') were stored under.
INSTALL_KEY = config.get(encryption.CONFIG_OPTION) or os.environ.get(
    encryption.ENVIRONMENT_VARIABLE, "")


@contextmanager
def _keys(value):
    """``value`` as the configured keys for a block, none in the environment."""
    with patch.dict(config.options, {encryption.CONFIG_OPTION: value}), patch.dict(
            os.environ, {encryption.ENVIRONMENT_VARIABLE: ""}):
        yield


@tagged("post_install", "-at_install")
class TestEncryptionAtRest(PayoutCommon):
    """Secrets are stored encrypted under a key kept outside the database: a dump alone
    shows none of them; a missing or wrong key refuses clearly and changes nothing."""

    def setUp(self):
        super().setUp()
        self.enterContext(_keys(f"{KEY_A},{INSTALL_KEY}"))

    def _stored(self, link):
        self.env.flush_all()
        [(value,)] = self.env.execute_query(SQL(
            "SELECT account_number FROM payout_link WHERE id = %s", link.id))
        return value

    def test_a_dump_shows_no_account_number(self):
        link = self._claimed_link()
        stored = self._stored(link)
        self.assertTrue(stored.startswith(encryption.PREFIX))
        self.assertNotIn(ACCOUNT_NUMBER, stored)
        link.invalidate_recordset()
        self.assertEqual(link.sudo().account_number, ACCOUNT_NUMBER, "decrypted on read")
        self.assertEqual(encryption.decrypt(stored), ACCOUNT_NUMBER)

    def test_the_whole_database_holds_no_clear_secret(self):
        self._claimed_link()
        self.env["payout.provider"].create({
            "name": "Xendit", "code": "xendit", "xendit_secret_key": "xnd_development_k",
            "xendit_callback_token": "token-1"})
        self.env["payout.provider"].create({
            "name": "DOKU", "code": "doku", "doku_client_id": "MCH-1", "doku_secret_key": "SK-1"})
        self.env.flush_all()
        columns = self.env["payout.encryption"]._encrypted_columns()
        self.assertEqual(set(columns), {
            ("payout_link", "account_number"), ("payout_link", "secret_hash"),
            ("payout_link", "account_fingerprint_sealed"), ("payout_provider", "xendit_secret_key"),
            ("payout_provider", "xendit_callback_token"), ("payout_provider", "doku_secret_key"),
            ("payout_provider", "doku_private_key")})
        for table, column in columns:
            rows = self.env.execute_query(SQL("SELECT %s FROM %s WHERE %s IS NOT NULL",
                                              SQL.identifier(column), SQL.identifier(table),
                                              SQL.identifier(column)))
            for (value,) in rows:
                self.assertTrue(encryption.is_encrypted(value), (table, column))

    def test_no_key_refuses_clearly_and_stores_nothing(self):
        link = self._sent_link()
        with self.assertRaisesRegex(encryption.EncryptionKeyError, "has no key: set "
                                    "payout_encryption_key"), _keys(""), self.env.cr.savepoint():
            link._claim(self.bank, ACCOUNT_NUMBER, HOLDER)
            self.env.flush_all()
        link.invalidate_recordset()
        self.assertEqual((link.state, link.sudo().account_number), ("sent", False))

    def test_a_wrong_key_refuses_clearly_and_loses_nothing(self):
        link = self._claimed_link()
        stored = self._stored(link)
        link.invalidate_recordset()
        with _keys(KEY_B), self.assertRaisesRegex(encryption.EncryptionKeyError,
                                                     "encrypted under another key"):
            link.sudo().account_number  # noqa: B018
        link.invalidate_recordset()
        self.assertEqual(self._stored(link), stored)
        with _keys("not a key"), self.assertRaisesRegex(encryption.EncryptionKeyError,
                                                           "must be a Fernet key"):
            encryption.encrypt("1234")

    def test_rotation_re_encrypts_under_the_new_key(self):
        link = self._claimed_link()
        under_a = self._stored(link)
        with _keys(f"{KEY_B},{KEY_A},{INSTALL_KEY}"):
            self.assertGreaterEqual(self.env["payout.encryption"]._reencrypt_all(), 1)
        under_b = self._stored(link)
        self.assertNotEqual(under_b, under_a)
        with _keys(KEY_B):
            link.invalidate_recordset()
            self.assertEqual(link.sudo().account_number, ACCOUNT_NUMBER, "B alone opens it")

    def test_clear_text_from_before_is_encrypted(self):
        link = self._claimed_link()
        self.env.cr.execute("UPDATE payout_link SET account_number = %s WHERE id = %s",
                            (ACCOUNT_NUMBER, link.id))
        self.env["payout.encryption"]._reencrypt_all()
        self.assertTrue(encryption.is_encrypted(self._stored(link)))
        self.assertEqual(link.sudo().account_number, ACCOUNT_NUMBER)

    def test_a_value_cannot_pose_as_a_token(self):
        link = self._sent_link()
        with self.assertRaisesRegex(Exception, "cannot start with"):
            link.sudo().account_number = encryption.PREFIX + "forged"

    def _stored_fingerprint(self, link):
        self.env.flush_all()
        [(value,)] = self.env.execute_query(SQL(
            "SELECT account_fingerprint FROM payout_link WHERE id = %s", link.id))
        return value

    def test_rotation_keeps_secrets_and_shared_accounts(self):
        """The claim secrets' hashes and the account fingerprints are keyed with the key:
        a new first key, bin/rotate-key, then the old key dropped, and a secret still
        verifies and a shared account is still found, at every step."""
        claimed = self._claimed_link()
        colleague = self.env["hr.employee"].create({"name": "Budi Santoso",
                                                    "work_email": "budi@example.com"})
        waiting = self._sent_link(employee_id=colleague.id)
        secret = self._secret_in_mail(waiting)
        under_a = self._stored_fingerprint(claimed)

        def assert_still_works():
            self.env.invalidate_all()
            self.assertTrue(waiting._check_secret(secret))
            self.assertIn(claimed, waiting._find_account_sharers(self.bank, ACCOUNT_NUMBER)[0])

        with _keys(f"{KEY_B},{KEY_A},{INSTALL_KEY}"):
            assert_still_works()  # restarted with the new key, before bin/rotate-key
            self.env["payout.encryption"]._reencrypt_all()
            assert_still_works()
        under_b = self._stored_fingerprint(claimed)
        self.assertNotEqual(under_b, under_a, "recomputed under the new first key")
        with _keys(KEY_B):
            assert_still_works()
            self.assertEqual(under_b, claimed._account_fingerprint(self.bank, ACCOUNT_NUMBER))
            self.assertEqual(waiting.failed_attempts, 0)
