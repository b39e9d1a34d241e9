"""18.0.1.7.0: a database dump alone gives nothing away.

- The claim tokens stored in clear become their SHA-256 (``claim_token_hash``), and the
  ``claim_token`` column goes: the emailed URLs keep working, and a dump opens no claim
  page.
- The hashes of the claim secrets, keyed with ``database.secret`` (which a dump holds),
  are encrypted under the key of payout_encryption_key.
- The account fingerprints, keyed with ``database.secret`` too, are sealed (encrypted) as
  the inner value and keyed again with the encryption key (payout_link_guards.py).

Encrypting needs the key: without one the upgrade stops with an error that says how to
set it, and changes nothing.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import sql


def migrate(cr, version):
    if sql.column_exists(cr, "payout_link", "claim_token"):
        cr.execute("""UPDATE payout_link
                         SET claim_token_hash = encode(sha256(convert_to(claim_token, 'UTF8')),
                                                       'hex')
                       WHERE claim_token IS NOT NULL""")
        cr.execute("ALTER TABLE payout_link DROP COLUMN claim_token")
    # The old fingerprint is the inner value; encrypted and keyed again just below.
    cr.execute("""UPDATE payout_link SET account_fingerprint_sealed = account_fingerprint
                   WHERE account_fingerprint IS NOT NULL
                     AND account_fingerprint_sealed IS NULL""")
    env = api.Environment(cr, SUPERUSER_ID, {})
    # Encrypts what is in clear (the secrets' hashes, the sealed fingerprints), then
    # computes every fingerprint under the first key.
    env["payout.encryption"]._reencrypt_all()
