"""18.0.1.6.0: the bank-account review is a field of its own; payout identities are checked.

- ``submission_state`` held both the human gate ('to_review': a Payout Manager reviews the
  account) and the provider call. The gate is now ``account_review_state``, and
  ``submission_state`` only follows the provider call: a link whose account waits for its
  review has none until the account is approved.
- Money follows an employee's *checked* payout identity (models/hr_employee.py). The
  identities employees have today count as checked, so the upgrade itself holds nothing;
  a change of email address no longer holds links (the links held for one are released:
  the money gate stops a link addressed anywhere but the checked address).
- An approval covers what it approved: the approved links keep their values as approved.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    cr.execute("""
        UPDATE payout_link
           SET account_review_state = 'to_review', submission_state = NULL
         WHERE submission_state = 'to_review'
    """)
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["hr.employee"]._set_all_payout_identities_checked()
    held = env["payout.link"].search([("hold_reason", "=", "email_changed")])
    held.write({"hold_reason": False, "date_held": False})
    for link in held:
        link.message_post(body="Hold released by the upgrade: a change of email address no "
                               "longer holds links; the employee's address counts as checked.")
    held.activity_unlink(["hr_payout_link.mail_activity_payout_hold"])
    approved = env["payout.link"].search([("approved_by_id", "!=", False)])
    approved._record_approved_values()
