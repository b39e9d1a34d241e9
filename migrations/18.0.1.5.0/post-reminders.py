"""18.0.1.5.0: several reminders per link, each link reminded on its own schedule.

The reminder cron used to pick, by their dates, the links not reminded yet; it now reads
each link's next reminder date (models/payout_link_claim.py). Links still waiting for
their employee are given one: those already reminded count that reminder, and with the
default settings (one reminder, a day before expiry) get no other; the others are
reminded as before.
"""

from odoo import SUPERUSER_ID, api

from odoo.addons.hr_payout_link import const


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    waiting = env["payout.link"].search([
        ("state", "in", const.CLAIMABLE_STATES), ("provider_id.is_claimed_in_odoo", "=", True),
    ])
    waiting.filtered("date_reminded").write({"reminder_count": 1})
    waiting._schedule_next_reminder()
