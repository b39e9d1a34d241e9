from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..protocol import doku, doku_snap
from ..protocol.timeutil import HOUR
from ..sandbox import doku as doku_sandbox
from .common import AttackCommon


@tagged("post_install", "-at_install")
class TestDokuSnapProvider(AttackCommon):
    """A DOKU provider on SNAP, paying through the project's sandbox of a SNAP account
    (which checks the token requests with the key pair's public half), and its private
    key: an administrator's, checked on save."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.snap = cls._start_sandbox(doku_sandbox, scheme="snap")
        cls.user_admin = new_test_user(
            cls.env, "payout_admin",
            groups="base.group_user,base.group_system,hr_payout_link.group_payout_manager",
        )
        cls.snap_provider = cls.env["payout.provider"].create({
            "name": "DOKU SNAP", "code": "doku", "state": "test",
            "doku_environment": "custom", "doku_base_url": cls.snap.url,
            "doku_client_id": cls.snap.client_id, "doku_secret_key": cls.snap.secret_key,
            "doku_signature_scheme": "snap", "doku_private_key": cls.snap.private_key,
            "doku_rate_limit": 0,
        })

    def setUp(self):
        super().setUp()
        self.snap.server.reset()
        # The reset forgot the tokens it issued: so do the provider's clients.
        client = self.snap_provider._api_client()
        client.tokens.discard(client.account)

    def _calls(self, path):
        return [r for r in self.snap.server.requests if r.path == path]

    # === Paying === #

    def test_snap_link_is_paid_end_to_end_through_the_crons(self):
        link = self._create_link(self.snap_provider)
        link.action_send()
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("sent", "accepted", "PENDING"))
        [token] = self._calls(doku_snap.TOKEN_PATH)
        self.assertTrue(doku_snap.verify_token_request(
            self.snap.public_key, self.snap.client_id, token.headers["X-TIMESTAMP"],
            token.headers["X-SIGNATURE"]))
        [initiate] = self._calls(doku.INITIATE_PATH)
        self.assertEqual(initiate.headers["X-EXTERNAL-ID"], link.submission_key)
        self.assertEqual(initiate.json["reference_id"], link.submission_reference)
        self.assertNotIn("Signature", initiate.headers)
        for advance, status, state in ((HOUR, "EMAIL_LINK_OPENED", "opened"),
                                       (2 * HOUR, "COMPLETED", "done")):
            self.snap.server.clock.advance(advance)
            self._poll()
            self.assertEqual((link.provider_status, link.state), (status, state))
        self.assertEqual(len(self._calls(doku_snap.TOKEN_PATH)), 1, "the token is kept")
        self.assertEqual(list(self.snap.payouts), [link.submission_reference])

    def test_lost_answer_is_looked_up_not_initiated_again(self):
        """SNAP answers a reused X-EXTERNAL-ID with 409 Conflict: Odoo follows it up by the
        status, and DOKU holds one payout."""
        self.snap.server.inject("reset", path=doku.INITIATE_PATH)
        link = self._sent_link(self.snap_provider)
        self.assertEqual((link.state, link.submission_state, link.provider_status),
                         ("sent", "accepted", "PENDING"))
        self.assertEqual({r.headers["X-EXTERNAL-ID"] for r in self._calls(doku.INITIATE_PATH)},
                         {link.submission_key})
        self.assertEqual(list(self.snap.payouts), [link.submission_reference])

    def test_revoked_token_is_renewed_once(self):
        link = self._sent_link(self.snap_provider)
        self.snap.revoke_tokens()
        self.snap.server.clock.advance(HOUR)
        self._poll()
        self.assertEqual(link.state, "opened")
        self.assertEqual(len(self._calls(doku_snap.TOKEN_PATH)), 2)

    def test_test_connection(self):
        action = self.snap_provider.action_doku_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        other_private, _public = doku_sandbox.new_key_pair()
        self.snap_provider.doku_private_key = other_private  # not the registered one
        with self.assertRaisesRegex(UserError, "DOKU refused the credentials: Unauthorized"):
            self.snap_provider.action_doku_test_connection()

    # === The private key === #

    def test_private_key_is_checked_on_save(self):
        provider = self.snap_provider.with_user(self.user_admin)
        _private, public = doku_sandbox.new_key_pair()
        cases = (
            ("not a key", "not a PEM private key"),
            (public, "this is a public key"),
            (self._encrypted(self.snap.private_key), "encrypted with a passphrase"),
            (self._ec_key(), "SNAP signs with an RSA key"),
        )
        for value, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(
                    ValidationError, message), self.env.cr.savepoint():
                provider.doku_private_key = value
                provider.flush_recordset()
        self.assertEqual(self.snap_provider.doku_private_key, self.snap.private_key)
        with self.assertRaisesRegex(ValidationError, "DOKU Private Key: required"), \
                self.env.cr.savepoint():
            provider.doku_private_key = False
            provider.flush_recordset()
        provider.state = "disabled"
        provider.doku_private_key = False  # a disabled provider may wait for its key

    def test_manager_cannot_read_nor_write_the_private_key(self):
        provider = self.snap_provider
        self._assert_rpc_refused(self.user_manager, "payout.provider", "read", [provider.id],
                                 ["doku_private_key"])
        self._assert_rpc_refused(self.user_manager, "payout.provider", "search_read",
                                 [("doku_private_key", "like", "PRIVATE")], ["name"])
        self._assert_rpc_refused(self.user_manager, "payout.provider", "write", [provider.id],
                                 {"doku_private_key": "-----BEGIN PRIVATE KEY-----"})
        self._assert_rpc_refused(
            self.user_manager, "payout.provider", "create",
            {"name": "Relay", "code": "doku", "doku_private_key": self.snap.private_key},
            message="Only an administrator sets DOKU Private Key")
        [values] = self._rpc(self.user_manager, "payout.provider", "read", [provider.id])
        self.assertNotIn("doku_private_key", values)
        self.assertEqual(provider.sudo().doku_private_key, self.snap.private_key)
        [values] = self._rpc(self.user_admin, "payout.provider", "read", [provider.id],
                             ["doku_private_key"])
        self.assertEqual(values["doku_private_key"], self.snap.private_key)

    @staticmethod
    def _encrypted(private_pem):
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase")).decode()

    @staticmethod
    def _ec_key():
        return ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
