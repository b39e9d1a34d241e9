"""18.0.1.5.0: a fingerprint of the bank account given on the links claimed before, so that
another employee giving the same account later is held for review (shared accounts,
models/payout_link_guards.py).

Only the links that still hold their account number get one: a final payout's number was
wiped, and nothing else tells which account it was.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # In SQL: an encrypted field is not searchable.
    cr.execute("""SELECT id FROM payout_link WHERE account_number IS NOT NULL
                     AND bank_id IS NOT NULL AND account_fingerprint IS NULL""")
    for link in env["payout.link"].browse(row[0] for row in cr.fetchall()):
        link._set_account_fingerprint(link.bank_id, link.account_number)
