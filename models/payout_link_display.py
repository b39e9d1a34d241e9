"""What the employee reads about a payout link: its dates in their own time zone and
language, the same instant on the claim page, in the emails and on /my/payouts.
"""

import functools
import re

from odoo import models
from odoo.tools import format_datetime
from odoo.tools.misc import babel_locale_parse, get_lang, posix_to_ldml

# The seconds of a res.lang time format ("%H:%M:%S", "%I:%M:%S %p", "%H.%M.%S"): an
# employee reads a time to the minute.
SECONDS_RE = re.compile(r"[:.]%S")


@functools.lru_cache(maxsize=64)
def _minute_pattern(lang_code, date_format, time_format):
    """The babel pattern of a language's date and time formats, to the minute (one per
    language: a batch formats thousands of dates)."""
    locale = babel_locale_parse(lang_code)
    return "{} {}".format(posix_to_ldml(date_format, locale=locale),
                          posix_to_ldml(SECONDS_RE.sub("", time_format), locale=locale))


class PayoutLink(models.Model):
    _inherit = "payout.link"

    def _get_employee_lang(self):
        """The language the employee reads: their work contact's, else the company's
        (the first of them that is installed)."""
        self.ensure_one()
        employee = self.sudo().employee_id
        installed = dict(self.env["res.lang"].get_installed())
        for code in (employee.work_contact_id.lang, self.company_id.partner_id.lang):
            if code in installed:
                return code
        return get_lang(self.env).code

    def _get_employee_tz(self):
        """The employee's time zone, else the company's (its working hours'), else UTC."""
        self.ensure_one()
        employee = self.sudo().employee_id
        company = self.company_id
        return (employee.tz or company.resource_calendar_id.tz or company.partner_id.tz
                or "UTC")

    def _format_for_employee(self, value):
        """``value``, a UTC datetime, as the employee reads it: in their time zone, in
        their language's date and time formats, to the minute."""
        self.ensure_one()
        if not value:
            return ""
        lang = get_lang(self.env, self._get_employee_lang())
        return format_datetime(self.env, value, tz=self._get_employee_tz(),
                               dt_format=_minute_pattern(lang.code, lang.date_format,
                                                         lang.time_format),
                               lang_code=lang.code)

    def _get_payout_kind(self):
        """What the email calls the payout ("sent you a bonus"), in the email's language
        (a template renders in its recipient's)."""
        self.ensure_one()
        if self.payout_type == "bonus":
            return self.env._("bonus")
        if self.payout_type == "commission":
            return self.env._("commission")
        return self.env._("payment")
