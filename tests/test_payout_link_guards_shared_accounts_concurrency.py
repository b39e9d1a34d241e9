import threading
import time
from contextlib import contextmanager

from psycopg2 import errorcodes
from psycopg2.extensions import TransactionRollbackError

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged

SHARED = "4111222333"


@tagged("post_install", "-at_install")
class TestSharedAccountClaimsAtOnce(BaseCase):
    """Two employees claim one bank account at the same moment, each on a real, committed
    transaction: the second sees the first although its snapshot predates the first's
    commit, and both payouts wait for the review."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())

    @contextmanager
    def _env(self):
        with self.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})

    def setUp(self):
        super().setUp()
        with self._env() as env:
            self.assertTrue(env.company.payout_check_shared_accounts, "on by default")
            employees = env["hr.employee"].create([{
                "name": name, "work_email": f"shared.{index}@example.com",
            } for index, name in enumerate(("Dewi Lestari", "Budi Santoso"))])
            links = env["payout.link"].create([{
                "employee_id": employee.id, "amount": 10.0,
                "provider_id": env.ref("hr_payout_link.payout_provider_demo").id,
            } for employee in employees])
            links.action_send()
            self.link_ids, self.employee_ids = links.ids, employees.ids
        self.addCleanup(self._delete_data)

    def _delete_data(self):
        with self._env() as env:
            ids = tuple(self.link_ids)
            env.cr.execute("DELETE FROM mail_mail WHERE email_to LIKE 'shared.%%'")
            env.cr.execute("DELETE FROM mail_activity WHERE res_model = 'payout.link' "
                           "AND res_id IN %s", (ids,))
            env.cr.execute("DELETE FROM mail_message WHERE model = 'payout.link' "
                           "AND res_id IN %s", (ids,))
            env.cr.execute("DELETE FROM mail_followers WHERE res_model = 'payout.link' "
                           "AND res_id IN %s", (ids,))
            env.cr.execute("DELETE FROM payout_link WHERE id IN %s", (ids,))
            env["hr.employee"].browse(self.employee_ids).unlink()

    def _claim(self, link_id, claimed=None, hold=0.0):
        """Claim as the claim page does, on a transaction of its own, retried as Odoo
        retries a request that PostgreSQL rolled back; ``claimed`` is set once claimed,
        and the commit waits ``hold`` seconds more."""
        with self._env() as env:
            while True:
                try:
                    link = env["payout.link"].browse(link_id)
                    link._claim(env.ref("hr_payout_link.bank_id_bca"), SHARED,
                                link.employee_id.name)
                    if claimed:
                        claimed.set()
                    time.sleep(hold)
                    env.cr.commit()
                    return
                except TransactionRollbackError as error:
                    self.assertEqual(error.pgcode, errorcodes.SERIALIZATION_FAILURE)
                    env.cr.rollback()

    def test_the_second_claim_sees_the_first_one_committed_meanwhile(self):
        first_id, second_id = self.link_ids
        claimed = threading.Event()
        first = threading.Thread(target=self._claim, args=(first_id, claimed, 1.0))
        first.start()
        self.assertTrue(claimed.wait(timeout=30))
        # Claims while the first has not committed: it waits for it, then holds it too.
        second = threading.Thread(target=self._claim, args=(second_id,))
        second.start()
        for thread in (first, second):
            thread.join(timeout=60)
        self.assertFalse(first.is_alive() or second.is_alive())
        with self._env() as env:
            links = env["payout.link"].browse(self.link_ids)
            self.assertEqual(links.mapped("account_review_state"), ["to_review", "to_review"])
            self.assertEqual(links.mapped("state"), ["processing", "processing"])
