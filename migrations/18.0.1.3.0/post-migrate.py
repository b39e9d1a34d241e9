"""18.0.1.3.0: the reason a failed payout shows to its employee.

Until now the employee's status page showed the back office's failure reason, which may
name a manager, a balance or the provider's error. Failed links get the neutral reason.
"""


def migrate(cr, version):
    cr.execute("""
        UPDATE payout_link SET employee_reason = 'The payment could not be made.'
         WHERE state = 'failed' AND employee_reason IS NULL
    """)
