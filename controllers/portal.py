from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from .. import const


class PayoutPortal(CustomerPortal):
    """Employees with a portal or internal user see their payouts under /my/payouts.

    Links are read with sudo, always within `_payout_domain()`: every route of this class
    must search through it.
    """

    def _payout_domain(self):
        return [
            ("employee_id.user_id", "=", request.env.uid),
            ("state", "not in", const.UNSENT_STATES),
        ]

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "payout_count" in counters:
            values["payout_count"] = request.env["payout.link"].sudo().search_count(
                self._payout_domain()
            )
        return values

    @http.route(["/my/payouts", "/my/payouts/page/<int:page>"], type="http", auth="user",
                website=True)
    def portal_my_payouts(self, page=1, **kwargs):
        links = request.env["payout.link"].sudo()
        domain = self._payout_domain()
        pager = portal_pager(
            url="/my/payouts",
            total=links.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        values = self._prepare_portal_layout_values()
        values.update({
            "links": links.search(domain, limit=self._items_per_page, offset=pager["offset"]),
            "pager": pager,
            "page_name": "payouts",
            "default_url": "/my/payouts",
        })
        return request.render("hr_payout_link.portal_my_payouts", values)

    @http.route("/my/payouts/<int:link_id>", type="http", auth="user", website=True)
    def portal_my_payout(self, link_id, **kwargs):
        if not 0 < link_id <= const.MAX_RECORD_ID:
            raise NotFound()  # past PostgreSQL's integer, the search itself would fail
        link = request.env["payout.link"].sudo().search(
            [("id", "=", link_id), *self._payout_domain()]
        )
        if not link:
            raise NotFound()
        values = self._prepare_portal_layout_values()
        values.update(link._get_claim_page_values())
        values["page_name"] = "payout"
        return request.render("hr_payout_link.portal_my_payout", values)
