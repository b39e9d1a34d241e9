"""18.0.1.1.0: the claim email takes each link's secret from ``ctx['payout_secrets']`` (one
render for a whole batch) and its body from a QWeb view. A body still reading the former
``ctx['payout_secret']`` would email links without their secret: reload it from the
module's file."""

import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    template = env.ref("hr_payout_link.mail_template_payout_link", raise_if_not_found=False)
    if template and "payout_secret'" in (template.body_html or ""):
        _logger.warning("Payout claim email template reset: its body used the former "
                        "secret variable (customisations of it are lost).")
        template.reset_template()
