"""The signed-in claim: an employee with a user claims from /my/payouts, with no secret.

Whether a link is claimed signed in is decided when it is sent (`_send_claim_links`) and
stored on the link (``claim_user_id``): no token nor secret is issued for it, its email only
says where to sign in, and only that user, signed in, claims it (controllers/portal.py).
A later change of the employee's user neither switches a sent link back to a secret nor
hands it to another login.
"""

from odoo import fields, models


class PayoutLink(models.Model):
    _inherit = "payout.link"

    claim_user_id = fields.Many2one(
        "res.users", string="Claimed Signed In As", copy=False, readonly=True,
        help="The employee's user when the link was sent: only this user, signed in, "
        "claims it from their portal, and no secret was emailed. Empty: the employee "
        "claims with the secret from the email.")

    def _get_signin_user(self):
        """The user the employee signs in with, if any (portal or internal, active): the
        one a link sent now is claimed by, instead of a secret."""
        self.ensure_one()
        user = self.sudo().employee_id.user_id
        return user if user.active else user.browse()

    def _get_claim_path(self):
        # Where the employee claims: their portal page, which asks them to sign in.
        self.ensure_one()
        if self.claim_user_id:
            return self.access_url
        return super()._get_claim_path()

    def _is_claimable_by(self, user):
        """Whether ``user``, signed in, may give the bank account of this link now."""
        self.ensure_one()
        return self.claim_user_id == user and self._is_claimable()

    def _get_payees(self):
        # Whoever may claim the money is paid by it, even once the employee has another
        # user: they approve neither the payout nor its bank account.
        return super()._get_payees() | self.sudo().claim_user_id
