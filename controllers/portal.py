from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from .. import const
from .claim import SECURITY_HEADERS, PayoutClaimController


class PayoutPortal(CustomerPortal):
    """Employees with a portal or internal user see their payouts under /my/payouts.

    Links are read with sudo, always within `_payout_domain()`: every route of this class
    must search through it.
    """

    def _payout_domain(self):
        # The employee's checked sign-in user: a pending change of user shows nothing.
        return [
            ("employee_id.payout_checked_user_id", "=", request.env.uid),
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
        link = self._find_own_link(link_id)
        if link._is_claimable_by(request.env.user):
            link._mark_opened()
        return self._render_payout(link)

    @http.route("/my/payouts/<int:link_id>/account", type="http", auth="user",
                methods=["POST"], website=True)
    def portal_claim_payout(self, link_id, bank_id="", account_number="", account_holder="",
                            **kwargs):
        """The bank account of a link claimed signed in: the same claim as the public
        page's (`payout.link._claim`), the session standing for the secret."""
        link = self._find_own_link(link_id)
        if not link._is_claimable_by(request.env.user):
            # A replayed POST, or a link claimed with its secret: nothing changes.
            return request.redirect(link.access_url, code=303)
        if form_error := PayoutClaimController._claim_from_form(
                link, bank_id, account_number, account_holder):
            return self._render_payout(link, form_error, status=400)
        return request.redirect(link.access_url, code=303)

    def _find_own_link(self, link_id):
        """The signed-in user's link ``link_id`` (sudo), an overdue one expired as it is
        found; NotFound for any other id."""
        if not 0 < link_id <= const.MAX_RECORD_ID:
            raise NotFound()  # past PostgreSQL's integer, the search itself would fail
        link = request.env["payout.link"].sudo().search(
            [("id", "=", link_id), *self._payout_domain()]
        )
        if not link:
            raise NotFound()
        link._expire_if_due()
        return link

    def _render_payout(self, link, values=None, status=200):
        page_values = self._prepare_portal_layout_values()
        page_values.update(link._get_claim_page_values())
        page_values.update({
            "page_name": "payout",
            "signed_in_claim": link.claim_user_id == request.env.user,
            # The claim page's steps: no secret to type, the session stands for it.
            "step": "account" if link._is_claimable_by(request.env.user) else (
                "held" if link.hold_reason else "status"),
            "form": {},
            # The account to the employee signed in, but never the one another user claimed
            # with: a later sign-in user of the employee does not see it.
            "show_account": link.claim_user_id in (request.env.user, request.env.user.browse()),
            **(values or {}),
        })
        return request.render("hr_payout_link.portal_my_payout", page_values,
                              headers=SECURITY_HEADERS, status=status)
