"""18.0.1.6.0: the review of a bank account given at the claim is a field of its own.

``submission_state`` held both the human gate ('to_review': a Payout Manager reviews the
account) and the provider call. The gate is now ``account_review_state``, and
``submission_state`` only follows the provider call: a link whose account waits for its
review has none until the account is approved. Run after the ORM added the column.
"""


def migrate(cr, version):
    cr.execute("""
        UPDATE payout_link
           SET account_review_state = 'to_review', submission_state = NULL
         WHERE submission_state = 'to_review'
    """)
