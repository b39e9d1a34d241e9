"""18.0.1.2.0:

- each cron passes its batch size (the cron records are noupdate: a module update
  does not rewrite them);
- links already queued or at a provider keep the reference the provider knows them by,
  their External ID (new links get a tag of the database and company in front);
- Demo providers go to Test Mode: they move no money, and must not look as if they did.
"""

from odoo import SUPERUSER_ID, api

CRON_CODES = {
    "ir_cron_payout_expire": "model._cron_expire_links(batch_size=1000)",
    "ir_cron_payout_remind": "model._cron_remind_before_expiry(batch_size=1000)",
    "ir_cron_payout_batch_send": "model._cron_send_batches(batch_size=1000)",
    "ir_cron_payout_submit": "model._cron_submit_payouts(batch_size=1000)",
    "ir_cron_payout_poll": "model._cron_poll_provider_status(batch_size=1000)",
}


def migrate(cr, version):
    cr.execute("UPDATE payout_provider SET state = 'test' "
               "WHERE code = 'demo' AND state = 'enabled'")
    cr.execute("""
        UPDATE payout_link SET submission_reference = reference
         WHERE submission_state IS NOT NULL AND submission_reference IS NULL
    """)
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid, code in CRON_CODES.items():
        cron = env.ref(f"hr_payout_link.{xmlid}", raise_if_not_found=False)
        # A cron whose code was customised keeps it.
        if cron and cron.code == code.replace("batch_size=1000", ""):
            cron.code = code
