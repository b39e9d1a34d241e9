"""18.0.1.5.0: a fingerprint of the bank account given on the links claimed before, so that
another employee giving the same account later is held for review (shared accounts,
models/payout_link_shared_accounts.py).

Only the links that still hold their account number get one: a final payout's number was
wiped, and nothing else tells which account it was.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    links = env["payout.link"].search([("account_number", "!=", False), ("bank_id", "!=", False),
                                       ("account_fingerprint", "=", False)])
    for link in links:
        link.account_fingerprint = link._account_fingerprint(link.bank_id, link.account_number)
