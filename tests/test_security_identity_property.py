"""A property of the money gate, over random sequences of what users may do over RPC.

Random users (an Editor, who is the attacker, an HR Officer, a plain internal user with
Contact Creation, a Viewer, two Payout Managers) create and edit links, send and approve
them, change the victim's payout identity and check it; whoever holds a link's claim
email (or its signed-in user) claims it, and the payment cron runs. Whatever the
sequence, no link is paid to the attacker's account, nor for an amount over the approval
threshold, unless a second person approved the payout or checked the identity it follows.
"""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import PayoutCommon

THRESHOLD = 1_000_000.0
ATTACKER_EMAIL = "attacker@example.com"
ATTACKER_ACCOUNT = "6666666666"
VICTIM_ACCOUNT = "1234567890"
REFUSALS = (AccessError, MissingError, UserError, ValidationError)
USERS = ("editor", "hr_officer", "plain", "viewer", "manager", "manager_2")


class PayoutMachine(RuleBasedStateMachine):
    """The users' moves; ``case`` is the running test, set before the run."""

    case = None

    def __init__(self):
        super().__init__()
        self.case.env.flush_all()
        self.case.env.cr.execute("SAVEPOINT payout_property")
        self.links = []
        # Whether a Payout Manager who was not its author checked an identity that
        # leads to the attacker.
        self.attacker_identity_checked = False

    def teardown(self):
        self.case.env.cr.execute("ROLLBACK TO SAVEPOINT payout_property")
        self.case.env.invalidate_all()

    def _as(self, user_key, function):
        """Call as a user over RPC would: a refusal changes nothing."""
        try:
            with self.case.env.cr.savepoint():
                function(self.case.env(user=self._user(user_key)))
                self.case.env.flush_all()
        except REFUSALS:
            self.case.env.invalidate_all()

    def _user(self, key):
        return self.case.users[key].id

    def _link(self, index):
        return self.case.env["payout.link"].browse(self.links[index % len(self.links)])

    @initialize(amounts=st.lists(st.sampled_from([500.0, 999_000.0, 2_000_000.0]),
                                 min_size=2, max_size=2))
    def drafts(self, amounts):
        """The Editor's drafts to start from: one to the victim, one to his own mailbox."""
        self.create_link("editor", amounts[0], False)
        self.create_link("editor", amounts[1], True)

    @rule(user=st.sampled_from(USERS),
          amount=st.sampled_from([500.0, 999_000.0, 2_000_000.0]),
          to_attacker=st.booleans())
    def create_link(self, user, amount, to_attacker):
        def create(env):
            values = {"employee_id": self.case.employee.id, "amount": amount}
            if to_attacker:
                values["recipient_email"] = ATTACKER_EMAIL
            self.links.append(env["payout.link"].create(values).id)
        self._as(user, create)

    @rule(user=st.sampled_from(USERS), index=st.integers(0, 2),
          change=st.sampled_from(["amount", "recipient", "employee"]))
    def edit_link(self, user, index, change):
        if not self.links:
            return
        values = {"amount": {"amount": 90_000_000.0},
                  "recipient": {"recipient_email": ATTACKER_EMAIL},
                  "employee": {"employee_id": self.case.attacker_self.id}}[change]
        link_id = self._link(index).id
        self._as(user, lambda env: env["payout.link"].browse(link_id).write(values))

    @rule(user=st.sampled_from(USERS), index=st.integers(0, 2),
          action=st.sampled_from(["action_send", "action_approve", "action_reissue",
                                  "action_cancel"]))
    def act(self, user, index, action):
        if not self.links:
            return
        link_id = self._link(index).id
        self._as(user, lambda env: getattr(env["payout.link"].browse(link_id),
                                           action)())

    @rule(user=st.sampled_from(USERS),
          change=st.sampled_from(["work_email", "user", "contact_email"]))
    def change_identity(self, user, change):
        def write(env):
            employee = env["hr.employee"].browse(self.case.employee.id)
            if change == "work_email":
                employee.write({"work_email": ATTACKER_EMAIL})
            elif change == "user":
                self.case.attacker_self.sudo().user_id = False
                employee.write({"user_id": self.case.attacker.id})
            else:
                employee.sudo().work_contact_id.with_env(env).write(
                    {"email": ATTACKER_EMAIL})
        self._as(user, write)

    @rule(user=st.sampled_from(USERS))
    def check_identity(self, user):
        def check(env):
            env["hr.employee"].browse(self.case.employee.id).action_check_payout_identity()
            employee = self.case.employee.sudo()
            if (employee.payout_checked_email == ATTACKER_EMAIL
                    or employee.payout_checked_user_id == self.case.attacker):
                self.attacker_identity_checked = True
        self._as(user, check)

    @rule(index=st.integers(0, 2))
    def claim(self, index):
        """Whoever holds the link claims it: its signed-in user, else the owner of
        the mailbox its claim email went to."""
        if not self.links:
            return
        link = self._link(index).sudo()
        attacker_holds = link.claim_user_id == self.case.attacker or (
            not link.claim_user_id and link.recipient_email == ATTACKER_EMAIL)
        account = ATTACKER_ACCOUNT if attacker_holds else VICTIM_ACCOUNT
        try:
            with self.case.env.cr.savepoint():
                if link._is_claimable():
                    link._claim(self.case.bank, account, "Dewi Lestari")
        except REFUSALS:
            self.case.env.invalidate_all()

    @rule()
    def pay(self):
        self.case.env["payout.link"]._cron_submit_payouts(with_commit=False)

    @invariant()
    def money_follows_the_checked_identity_and_the_approval(self):
        for link_id in self.links:
            link = self.case.env["payout.link"].sudo().browse(link_id)
            if not link.exists() or link.submission_state not in (
                    "submitting", "accepted"):
                continue
            approved = bool(link.approved_by_id) and link.approved_by_id not in (
                link.create_uid | link.changed_by_ids)
            if (link.account_number_masked or "").endswith(ATTACKER_ACCOUNT[-4:]):
                self.case.assertTrue(approved or self.attacker_identity_checked,
                                f"{link.name} paid the attacker")
            if link.currency_id.compare_amounts(link.amount, THRESHOLD) > 0:
                self.case.assertTrue(approved, f"{link.name}: unapproved {link.amount}")
                self.case.assertEqual(link.amount, link.approved_amount)


@tagged("post_install", "-at_install")
class TestIdentityProperty(PayoutCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"payout_approval": True, "payout_approval_threshold": THRESHOLD})
        cls.attacker = cls.user_editor
        cls.users = {
            "editor": cls.attacker,
            "hr_officer": new_test_user(cls.env, "prop_hr_officer",
                                        groups="base.group_user,hr.group_hr_user"),
            "plain": new_test_user(cls.env, "prop_plain",
                                   groups="base.group_user,base.group_partner_manager"),
            "viewer": cls.user_viewer,
            "manager": cls.user_manager,
            "manager_2": new_test_user(
                cls.env, "prop_manager_2",
                groups="base.group_user,hr_payout_link.group_payout_manager"),
        }
        cls.attacker_self = cls.env["hr.employee"].create({
            "name": "Editor Himself", "work_email": "editor.home@example.com",
            "company_id": cls.company.id})

    def test_money_follows_the_checked_identity_and_the_approval(self):
        PayoutMachine.case = self
        self.addCleanup(setattr, PayoutMachine, "case", None)
        run_state_machine_as_test(PayoutMachine, settings=settings(
            max_examples=60, stateful_step_count=25, deadline=None, derandomize=True,
            suppress_health_check=list(HealthCheck)))
