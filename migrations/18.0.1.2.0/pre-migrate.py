"""18.0.1.2.0: names that say what they mean.

- ``date_polled`` becomes ``date_provider_call``: submissions stamp it too, not polling
  alone. The column and its field record are renamed, so no stamp is lost.
- ``submission_state = 'submitted'`` is split: 'accepted' when the provider took the
  payout, 'refused' when it refused it. A refusal failed the link at once, so it is a
  failed link whose provider never gave a status nor a reference.
"""

from odoo.tools import sql


def migrate(cr, version):
    if sql.column_exists(cr, "payout_link", "date_polled"):
        sql.rename_column(cr, "payout_link", "date_polled", "date_provider_call")
        cr.execute("""
            UPDATE ir_model_fields SET name = 'date_provider_call'
             WHERE model = 'payout.link' AND name = 'date_polled'
        """)
        cr.execute("""
            UPDATE ir_model_data SET name = 'field_payout_link__date_provider_call'
             WHERE module = 'hr_payout_link' AND model = 'ir.model.fields'
               AND name = 'field_payout_link__date_polled'
        """)
    cr.execute("""
        UPDATE payout_link
           SET submission_state = CASE
                   WHEN state = 'failed' AND provider_status IS NULL
                        AND provider_reference IS NULL THEN 'refused'
                   ELSE 'accepted' END
         WHERE submission_state = 'submitted'
    """)
