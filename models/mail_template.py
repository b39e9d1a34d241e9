import re

from odoo import api, models

# A template body that does nothing but call a QWeb view.
VIEW_CALL_RE = re.compile(r'\s*<t\s+t-call="([\w.]+)"\s*(?:/>|>\s*</t>)\s*')


class MailTemplate(models.Model):
    _inherit = "mail.template"

    @api.model
    def _render_template_qweb(self, template_src, model, res_ids, add_context=None,
                              options=None):
        # Odoo compiles a template body again for every record it renders, a view once: a
        # body that only calls a view renders the view (a payout batch emails thousands).
        if view_call := VIEW_CALL_RE.fullmatch(str(template_src or "")):
            return self._render_template_qweb_view(
                view_call.group(1), model, res_ids, add_context=add_context, options=options)
        return super()._render_template_qweb(
            template_src, model, res_ids, add_context=add_context, options=options)
