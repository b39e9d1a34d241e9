"""18.0.1.4.0: secrets encrypted at rest, and the employee's language in their emails.

- Account numbers and provider secrets stored in clear are encrypted under the key of
  payout_encryption_key (encryption.py). Without a key the upgrade stops with an error
  that says how to set one, and changes nothing.
- The payout email templates took the work contact's language only: they take the
  employee's language, else the company's, unless someone changed them.
"""

from odoo import SUPERUSER_ID, api

OLD_LANG = "{{ object.employee_id.work_contact_id.lang }}"
NEW_LANG = "{{ object._get_employee_lang() }}"
TEMPLATES = ("mail_template_payout_link", "mail_template_payout_reminder",
             "mail_template_payout_receipt")


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["payout.encryption"]._reencrypt_all()
    cr.execute("""
        UPDATE mail_template SET lang = %s
         WHERE lang = %s AND id IN (SELECT res_id FROM ir_model_data
                                     WHERE module = 'hr_payout_link' AND model = 'mail.template'
                                       AND name IN %s)
    """, (NEW_LANG, OLD_LANG, TEMPLATES))
