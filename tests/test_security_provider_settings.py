from datetime import timedelta
from urllib.parse import urlsplit

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import AttackCommon

ATTACKER_URL = "https://attacker.example"
# The settings that decide where the credentials go and what answers are trusted.
CONNECTION_FIELDS = (
    "xendit_secret_key", "xendit_callback_token", "xendit_base_url",
    "doku_client_id", "doku_secret_key", "doku_environment", "doku_base_url",
    "doku_signature_scheme", "doku_verify_signatures", "doku_private_key",
)
REFUSED_URLS = (
    "http://attacker.example",
    "http://10.0.0.8:8070",
    "http://127.0.0.1.attacker.example",  # a host name that starts like loopback
    "http://localhost.attacker.example",
    "http://127.0.0.1@attacker.example",  # loopback as a user name, the host is elsewhere
    "http://[::ffff:10.0.0.8]",
    "http://[::1",  # not a URL
    "ftp://127.0.0.1",
    "127.0.0.1:8070",
    "https://",
    "",
)
ACCEPTED_URLS = (
    "http://127.0.0.1:8070",
    "http://127.8.9.10/api",
    "http://localhost:8070",
    "http://LOCALHOST",
    "http://[::1]:8070",
    "https://api.xendit.example",
    "https://10.0.0.8:8443",
)


@tagged("post_install", "-at_install")
class TestAttackProviderSettings(AttackCommon):
    """A provider's connection is an administrator's; the rest of a provider is a Payout
    Manager's, within bounds, and its protocol does not change under open links."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_xendit()
        cls._start_doku()
        cls.user_admin = new_test_user(
            cls.env, "payout_admin",
            groups="base.group_user,base.group_system,hr_payout_link.group_payout_manager",
        )
        cls.outgoing = []

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Every HTTP request Odoo makes during these tests, whichever thread makes it.
        cls.outgoing.append(request.url)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        self.outgoing.clear()
        self.xendit.server.reset()
        self.doku.server.reset()

    def _stored(self, provider, *fnames):
        """What the database holds for ``provider``, read as the superuser after RPC calls
        that the test's cache knows nothing of."""
        self.env.invalidate_all()
        return tuple(provider.sudo()[fname] for fname in fnames)

    # === The connection is an administrator's === #

    def test_manager_cannot_read_the_connection(self):
        """A Payout Manager reads no credential nor connection setting, by read,
        search_read, or a search that would guess a key letter by letter."""
        ids = (self.in_odoo | self.doku_provider).ids
        for fname in CONNECTION_FIELDS:
            with self.subTest(field=fname):
                self._assert_rpc_refused(self.user_manager, "payout.provider", "read", ids,
                                         [fname])
                self._assert_rpc_refused(self.user_manager, "payout.provider", "search_read",
                                         [(fname, "!=", False)], ["name"])
        self._assert_rpc_refused(self.user_manager, "payout.provider", "search_count",
                                 [("xendit_secret_key", "=like", "xnd_%")])
        records = self._rpc(self.user_manager, "payout.provider", "read", ids)
        self.assertEqual([set(CONNECTION_FIELDS) & set(values) for values in records],
                         [set(), set()])
        described = self._rpc(self.user_manager, "payout.provider", "fields_get")
        self.assertFalse(set(CONNECTION_FIELDS) & set(described))

    def test_manager_cannot_send_the_xendit_key_elsewhere(self):
        """A Payout Manager points the Xendit API URL at another host, by write, create,
        copy, a context's default or a personal ir.default: all refused, and the next Send
        calls Xendit only (the key travels in its Basic auth)."""
        manager = self.user_manager
        message = "You do not have enough rights to access the fields"
        self._assert_rpc_refused(manager, "payout.provider", "write", [self.in_odoo.id],
                                 {"xendit_base_url": ATTACKER_URL}, message=message)
        self._assert_rpc_refused(manager, "payout.provider", "copy", self.in_odoo.id,
                                 {"xendit_base_url": ATTACKER_URL})
        self._assert_rpc_refused(
            manager, "payout.provider", "create",
            {"name": "Relay", "code": "xendit", "xendit_base_url": ATTACKER_URL},
            message="Only an administrator sets Xendit API URL")
        self._assert_rpc_refused(manager, "payout.provider", "create",
                                 {"name": "Relay", "code": "xendit"},
                                 context={"default_xendit_base_url": ATTACKER_URL},
                                 message="Only an administrator sets Xendit API URL")
        self._rpc(manager, "ir.default", "set", "payout.provider", "xendit_base_url",
                  ATTACKER_URL, True)
        self._assert_rpc_refused(manager, "payout.provider", "create",
                                 {"name": "Relay", "code": "xendit"},
                                 message="Only an administrator sets Xendit API URL")

        self.assertEqual(self._stored(self.in_odoo, "xendit_base_url"), (self.xendit.url,))
        self.assertFalse(self.env["payout.provider"].sudo().search_count(
            [("xendit_base_url", "=", ATTACKER_URL)]))
        link = self._create_link(self.in_odoo)
        self._rpc(manager, "payout.link", "action_send", [link.id])
        self.env.invalidate_all()
        self.assertEqual(link.state, "sent")
        self.assertTrue([r for r in self.xendit.server.requests if "balance" in r.path],
                        "the Send checked the balance at Xendit")
        self.assertEqual({urlsplit(url).netloc for url in self.outgoing},
                         {urlsplit(self.xendit.url).netloc})

    def test_manager_cannot_weaken_doku(self):
        """DOKU: a Payout Manager can neither stop checking DOKU's signatures nor send the
        credentials to a custom URL."""
        provider = self.doku_provider
        fnames = ("doku_environment", "doku_base_url", "doku_signature_scheme",
                  "doku_verify_signatures")
        before = self._stored(provider, *fnames)
        for values in ({"doku_verify_signatures": False},
                       {"doku_environment": "custom", "doku_base_url": ATTACKER_URL},
                       {"doku_base_url": ATTACKER_URL},
                       {"doku_environment": "production"},
                       {"doku_signature_scheme": "sha512"}):
            with self.subTest(values=values):
                self._assert_rpc_refused(self.user_manager, "payout.provider", "write",
                                         [provider.id], values)
                self.assertEqual(self._stored(provider, *fnames), before)

    def test_admin_sets_the_connection(self):
        """An administrator still configures the connection, over RPC as in the form."""
        self._rpc(self.user_admin, "payout.provider", "write", [self.doku_provider.id], {
            "doku_verify_signatures": False, "doku_base_url": "http://localhost:9",
        })
        self._rpc(self.user_admin, "payout.provider", "write", [self.in_odoo.id],
                  {"xendit_base_url": "https://api.xendit.example"})
        self.assertEqual(
            self._stored(self.doku_provider, "doku_verify_signatures", "doku_base_url")
            + self._stored(self.in_odoo, "xendit_base_url"),
            (False, "http://localhost:9", "https://api.xendit.example"))
        values = self._rpc(self.user_admin, "payout.provider", "read", [self.in_odoo.id],
                           ["xendit_base_url", "xendit_secret_key"])[0]
        self.assertEqual(values["xendit_base_url"], "https://api.xendit.example")

    def test_api_urls_need_https_outside_loopback(self):
        """An API URL is https://, or http:// to loopback only (the tests' sandboxes),
        whoever sets it, the administrator included."""
        xendit = self.env["payout.provider"].create({"name": "Xendit URL", "code": "xendit"})
        doku = self.env["payout.provider"].create({
            "name": "DOKU URL", "code": "doku", "doku_environment": "custom",
            "doku_base_url": "https://doku.example"})
        cases = [(xendit, "xendit_base_url", {}, "Xendit API URL: an https:// address"),
                 (doku, "doku_base_url", {"doku_environment": "custom"},
                  "DOKU Base URL: a custom environment needs an https:// address")]
        for provider, fname, values, message in cases:
            for url in REFUSED_URLS:
                with self.subTest(field=fname, url=url):
                    before = self._stored(provider, fname)
                    self._assert_rpc_refused(self.user_admin, "payout.provider", "write",
                                             [provider.id], {**values, fname: url},
                                             message=message)
                    self.assertEqual(self._stored(provider, fname), before)
            for url in ACCEPTED_URLS:
                with self.subTest(field=fname, url=url):
                    self._rpc(self.user_admin, "payout.provider", "write", [provider.id],
                              {fname: url})
                    self.assertEqual(self._stored(provider, fname), (url,))

    # === The rest of a provider is a Payout Manager's === #

    def test_manager_configures_and_uses_the_rest(self):
        """A Payout Manager still creates providers, changes what is not the connection
        (the constraints that read it run with sudo) and checks links at DOKU."""
        manager = self.user_manager
        for provider, values in [
            (self.in_odoo, {"name": "Xendit payouts", "sender_name": "Payroll",
                            "link_validity_days": 7, "max_secret_attempts": 5,
                            "max_concurrent_calls": 2}),
            (self.doku_provider, {"doku_rate_limit": 5}),
        ]:
            with self.subTest(provider=provider.name):
                for state in ("disabled", "enabled", "test"):
                    self._rpc(manager, "payout.provider", "write", [provider.id],
                              {"state": state})
                self._rpc(manager, "payout.provider", "write", [provider.id], values)
                self.assertEqual(self._stored(provider, "state", *values),
                                 ("test", *values.values()))
        new_id = self._rpc(manager, "payout.provider", "create",
                           {"name": "Xendit backup", "code": "xendit"})
        created = self.env["payout.provider"].browse(new_id)
        self.assertEqual(self._stored(created, "xendit_base_url", "doku_environment"),
                         ("https://api.xendit.co", "sandbox"))

        link = self._sent_link(self.doku_provider)
        self.outgoing.clear()
        self._rpc(manager, "payout.link", "action_check_status", [link.id])
        self.assertTrue(self.outgoing, "the check asked DOKU")
        self.assertEqual({urlsplit(url).netloc for url in self.outgoing},
                         {urlsplit(self.doku.url).netloc})

    def test_what_a_manager_triggers_reads_the_connection_as_sudo(self):
        """The checks and the API client a Payout Manager's write or Send runs read the
        connection with sudo, whatever the cache holds (over RPC, another constraint
        running with sudo may have warmed it)."""
        for provider in (self.in_odoo, self.doku_provider):
            as_manager = provider.with_user(self.user_manager)
            for check in (as_manager._check_xendit_settings, as_manager._check_doku_settings,
                          as_manager._check_required_if_provider,
                          as_manager._api_client_factory):
                with self.subTest(provider=provider.name, check=check.__name__):
                    self.env.invalidate_all()
                    check()

    def test_manager_loads_the_provider_form(self):
        """The form hides the connection from a Payout Manager without breaking: no field
        it cannot read is left in it, nor in a modifier of what it shows."""
        as_manager = self.env["payout.provider"].with_user(self.user_manager)
        for views in (
            as_manager.get_views([(False, "form"), (False, "list")]),
            self._rpc(self.user_manager, "payout.provider", "get_views",
                      [[False, "form"], [False, "list"]]),
        ):
            arch = views["views"]["form"]["arch"]
            fnames = views["models"]["payout.provider"]["fields"]
            for fname in CONNECTION_FIELDS:
                with self.subTest(field=fname):
                    self.assertNotIn(fname, arch)
                    self.assertNotIn(fname, fnames)
            self.assertIn("doku_rate_limit", arch)
            self.assertIn("xendit_claim_mode", arch)
        # What the web client reads to show the form.
        records = self._rpc(self.user_manager, "payout.provider", "web_read",
                            (self.in_odoo | self.doku_provider).ids,
                            {fname: {} for fname in fnames})
        self.assertEqual([values["name"] for values in records], ["Xendit v2", "DOKU"])
        admin_arch = self.env["payout.provider"].with_user(self.user_admin).get_views(
            [(False, "form")])["views"]["form"]["arch"]
        for fname in CONNECTION_FIELDS:
            self.assertIn(f'name="{fname}"', admin_arch)

    # === The protocol does not change under open links === #

    def test_claim_mode_frozen_while_links_are_open(self):
        """A change of Employees Claim would follow a v2 payout as a Payout Link: refused
        while the provider has a link not final, or cancelled but still followed."""
        link = self._sent_link(self.in_odoo)
        for values, message in [
            ({"xendit_claim_mode": "xendit"},
             "Xendit v2 has 1 open payout links: its Employees Claim cannot change"),
            ({"code": "demo"}, "Xendit v2 has 1 open payout links: its Code cannot change"),
        ]:
            with self.subTest(values=values):
                self._assert_rpc_refused(self.user_manager, "payout.provider", "write",
                                         [self.in_odoo.id], values, message=message)
                self.assertEqual(self._stored(self.in_odoo, "code", "xendit_claim_mode",
                                              "is_claimed_in_odoo"),
                                 ("xendit", "odoo", True))
        # The same value is no change: the form saves it with the rest.
        self._rpc(self.user_manager, "payout.provider", "write", [self.in_odoo.id],
                  {"xendit_claim_mode": "odoo", "code": "xendit", "name": "Xendit payouts"})

        link.action_cancel()
        link.sudo().follow_after_cancel = True  # as when Xendit still held it
        self._assert_rpc_refused(self.user_manager, "payout.provider", "write",
                                 [self.in_odoo.id], {"xendit_claim_mode": "xendit"},
                                 message="has 1 open payout links")
        link.sudo().follow_after_cancel = False  # Xendit's status became final
        self._rpc(self.user_manager, "payout.provider", "write", [self.in_odoo.id],
                  {"xendit_claim_mode": "xendit"})
        self.assertEqual(self._stored(self.in_odoo, "xendit_claim_mode", "is_claimed_in_odoo"),
                         ("xendit", False))

    def test_code_frozen_while_links_are_open(self):
        """A change of code would follow DOKU's links through another provider: refused,
        to the administrator too, until every link is final."""
        links = self._sent_links(2, self.doku_provider)
        self.assertEqual(links.mapped("submission_state"), ["accepted", "accepted"])
        self._assert_rpc_refused(self.user_admin, "payout.provider", "write",
                                 [self.doku_provider.id], {"code": "xendit"},
                                 message="DOKU has 2 open payout links: its Code cannot change")
        self.assertEqual(self._stored(self.doku_provider, "code"), ("doku",))
        links[0]._update_state("done")
        links[1]._update_state("expired")
        self._rpc(self.user_manager, "payout.provider", "write", [self.doku_provider.id],
                  {"code": "demo"})
        self.assertEqual(self._stored(self.doku_provider, "code"), ("demo",))

    # === Bounds === #

    def test_link_validity_and_attempts_bounds(self):
        """A link validity past 90 days (10**9 would overflow at the Send) and a wrong-secret
        limit outside 1 to 10 are refused."""
        for values, message in [
            ({"link_validity_days": 0}, "Link Validity: from 1 to 90 days (0 given)."),
            ({"link_validity_days": 91}, "Link Validity: from 1 to 90 days (91 given)."),
            ({"link_validity_days": 10**9},
             "Link Validity: from 1 to 90 days (1000000000 given)."),
            ({"max_secret_attempts": 0}, "Wrong-Secret Limit: from 1 to 10 (0 given)."),
            ({"max_secret_attempts": 11}, "Wrong-Secret Limit: from 1 to 10 (11 given)."),
        ]:
            with self.subTest(values=values):
                self._assert_rpc_refused(self.user_manager, "payout.provider", "write",
                                         [self.provider.id], values, message=message)
                self.assertEqual(
                    self._stored(self.provider, "link_validity_days", "max_secret_attempts"),
                    (3, 3))
                self._assert_rpc_refused(self.user_manager, "payout.provider", "create",
                                         {"name": "Out of bounds", **values}, message=message)
        for values in ({"link_validity_days": 1, "max_secret_attempts": 1},
                       {"link_validity_days": 90, "max_secret_attempts": 10}):
            self._rpc(self.user_manager, "payout.provider", "write", [self.provider.id],
                      values)
        link = self._create_link()
        self._rpc(self.user_editor, "payout.link", "action_send", [link.id])
        self.env.invalidate_all()
        self.assertEqual(link.state, "sent")
        self.assertAlmostEqual(link.expiry_date, fields.Datetime.now() + timedelta(days=90),
                               delta=timedelta(minutes=5))
