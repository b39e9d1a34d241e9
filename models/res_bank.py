from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_list

# Where a payout is paid (Xendit v2 pays to the bank's clearing code) and which banks the
# claim page offers: Payout Managers' only, though base lets every Contact Creation user
# write res.bank.
PAYOUT_FIELDS = ("payout_bank_code", "payout_available")


class ResBank(models.Model):
    _name = "res.bank"
    _inherit = ["res.bank", "mail.thread"]

    payout_bank_code = fields.Char(
        string="Clearing Code",
        help="The national clearing code of the bank (Indonesia: 3 digits, e.g. 014 for BCA).",
        tracking=True,
    )
    payout_available = fields.Boolean(
        string="Offered on Payout Links",
        help="Employees can choose this bank when they claim a payout link.",
        tracking=True,
    )

    @api.model_create_multi
    def create(self, vals_list):
        banks = super().create(vals_list)
        # Checked on the new banks, so that a context's or a user's default counts too.
        if any(bank[fname] for bank in banks for fname in PAYOUT_FIELDS):
            self._check_payout_manager()
        return banks

    def write(self, vals):
        if any((bank[fname] or False) != (vals[fname] or False)
               for bank in self for fname in PAYOUT_FIELDS if fname in vals):
            self._check_payout_manager()
        return super().write(vals)

    def _check_payout_manager(self):
        """Raise an AccessError unless the user is a Payout Manager (or the superuser: the
        addon's own data and code)."""
        if self.env.su or self.env.user.has_group("hr_payout_link.group_payout_manager"):
            return
        raise AccessError(self.env._(
            "%(fields)s of a bank: only a Payout Manager may change them, as they decide "
            "where payouts are paid.",
            fields=format_list(self.env, [
                self._fields[fname]._description_string(self.env) for fname in PAYOUT_FIELDS]),
        ))
