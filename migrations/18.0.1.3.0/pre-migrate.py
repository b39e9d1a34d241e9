"""18.0.1.3.0: the claim token is the claim's alone.

The claim token was portal.mixin's ``access_token``, which anyone who could read a link
could create (``get_portal_url``) and which opened the portal chatter. It moves, with its
index, to the ``claim_token`` column; ``access_token`` comes back empty and stays so. A
token without a secret (made through ``get_portal_url`` for a link claimed at its
provider) never opened a claim, and is dropped.
"""

from odoo.tools import sql


def migrate(cr, version):
    if not sql.column_exists(cr, "payout_link", "access_token") or sql.column_exists(
            cr, "payout_link", "claim_token"):
        return
    sql.rename_column(cr, "payout_link", "access_token", "claim_token")
    cr.execute("ALTER INDEX IF EXISTS payout_link__access_token_index "
               "RENAME TO payout_link__claim_token_index")
    cr.execute("UPDATE payout_link SET claim_token = NULL WHERE secret_hash IS NULL")
