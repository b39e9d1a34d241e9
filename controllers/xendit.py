import json
import logging

from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.http import request
from odoo.osv import expression

from ..protocol import xendit
from ..protocol.errors import ProviderBadSignature, ProviderError

_logger = logging.getLogger(__name__)


class XenditCallbackController(http.Controller):
    """Xendit's callbacks: one route per event family, a hint to look, never the truth.

    The token is checked in constant time; the body only names the payout, whose status
    is then fetched from Xendit (a quick read) and applied. A repeated callback changes
    nothing, and a forged body cannot move a link. This also reaches paid links, which
    polling leaves alone: a v2 payout can be reversed after it succeeded.
    """

    _payouts_url = "/payout/xendit/payouts"  # Payouts v2 events
    _payout_link_url = "/payout/xendit/payout_link"  # Payout Link callbacks

    @http.route([_payout_link_url, _payouts_url], type="http", auth="public", methods=["POST"],
                csrf=False)
    def xendit_callback(self, **kwargs):
        providers = self._find_providers(
            request.httprequest.headers.get(xendit.CALLBACK_TOKEN_HEADER)
        )
        try:
            status = xendit.parse_callback(json.loads(request.httprequest.get_data() or b"null"))
        except (ValueError, ProviderError):
            return request.make_json_response({"error": "not a Xendit callback"}, status=400)
        # By its id, or by our external id: a link whose creation's answer was lost, or
        # a Payout Link event (it names the disbursement, not the link). Only by the
        # references given: an empty one would match every link without one.
        references = [[(fname, "=", reference)] for fname, reference in (
            ("provider_reference", status.provider_reference),
            ("submission_reference", xendit.our_reference(status)))
            if reference and isinstance(reference, str)]
        link_sudo = request.env["payout.link"].sudo().search(expression.AND([
            [("provider_id", "in", providers.ids)], expression.OR(references)]), limit=1
        ) if references else None
        if not link_sudo:
            # Acknowledged all the same, or Xendit would retry it for a day.
            _logger.info("Xendit callback for an unknown payout %s (%s)",
                         status.provider_reference, xendit.our_reference(status))
            return request.make_json_response({"status": "ignored"})
        link_sudo._follow_callback(status.provider_reference)
        return request.make_json_response({"status": "accepted"})

    def _find_providers(self, token):
        """The Xendit providers whose callback token is ``token`` (one Xendit account may
        serve several providers); 403 when there is none."""
        # A disabled provider still follows the links Xendit holds for it.
        providers = request.env["payout.provider"].sudo().search([("code", "=", "xendit")])
        matching = providers.browse()
        for provider in providers:
            try:
                xendit.verify_callback_token(provider.xendit_callback_token, token)
            except ProviderBadSignature:
                continue
            matching |= provider
        if not matching:
            _logger.warning("Refused a Xendit callback with a missing or wrong token")
            raise Forbidden()
        return matching
