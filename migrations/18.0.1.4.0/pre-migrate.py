"""18.0.1.4.0: DOKU's `hmac_sha512` signature is gone.

It signed DOKU's Non-SNAP lines with SHA-512, a scheme DOKU never published; SNAP, which
the Payout Link page's HMAC_SHA512 names, replaces it and needs a private key the
provider does not have yet. Providers on it go back to Non-SNAP, the default, before the
ORM sees a value its selection no longer has.
"""


def migrate(cr, version):
    cr.execute("""
        UPDATE payout_provider SET doku_signature_scheme = 'hmac_sha256'
         WHERE doku_signature_scheme = 'hmac_sha512'
    """)
