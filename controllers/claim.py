import logging
import re

from odoo import http
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools import consteq, frozendict

from .. import const

# A proof, kept in the employee's session, that this browser typed the right secret.
VERIFIED_SESSION_KEY = "payout_verified_link_ids"
# The links this browser claimed: only it sees the bank account on the status page.
CLAIMED_SESSION_KEY = "payout_claimed_link_ids"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # never leak the token to another site
    "X-Frame-Options": "DENY",
}


class PayoutClaimController(http.Controller):
    """The public claim page at the tokenised URL emailed to the employee.

    GET requests change data on purpose: opening the page marks the link opened, and an
    overdue link expires as it is found (`_find_link`), without waiting for the cron.
    """

    _claim_url = "/payout/claim"  # followed by the token (payout.link._get_claim_path)

    @http.route(f"{_claim_url}/<string:token>", type="http", auth="public", methods=["GET"])
    def claim_page(self, token, **kwargs):
        link = self._find_link(token)
        if not link:
            return self._render_unavailable()
        if link._is_claimable():
            link._mark_opened()
        return self._render(link)

    @http.route(f"{_claim_url}/<string:token>/secret", type="http", auth="public",
                methods=["POST"])
    def claim_secret(self, token, secret="", **kwargs):
        link = self._find_link(token)
        if not link:
            return self._render_unavailable()
        if not link._is_claimable() or self._is_verified(link):
            return self._redirect_to_page(link)
        if link._check_secret(secret):
            request.session[VERIFIED_SESSION_KEY] = [
                *request.session.get(VERIFIED_SESSION_KEY, []), link.id
            ]
            return self._redirect_to_page(link)
        if link.state not in const.CLAIMABLE_STATES:  # that wrong secret locked it
            return self._render(link)
        attempts_left = link.provider_id.max_secret_attempts - link.failed_attempts
        return self._render(link, {
            "error": request.env._(
                "This secret is not right. %(left)s attempt(s) left before the link locks.",
                left=attempts_left,
            ),
        }, status=403)

    @http.route(f"{_claim_url}/<string:token>/not-for-me", type="http", auth="public",
                methods=["POST"])
    def claim_not_for_me(self, token, **kwargs):
        """The email reached someone else: the link locks, with no secret asked, and the
        responsible user is told. A replay changes nothing."""
        link = self._find_link(token)
        if not link:
            return self._render_unavailable()
        if link._is_claimable():
            link._refuse_as_recipient()
        return self._redirect_to_page(link)

    @http.route(f"{_claim_url}/<string:token>/account", type="http", auth="public",
                methods=["POST"])
    def claim_account(self, token, bank_id="", account_number="", account_holder="", **kwargs):
        link = self._find_link(token)
        if not link:
            return self._render_unavailable()
        if not link._is_claimable() or not self._is_verified(link):
            # A replayed or forged POST, or one to a held link, changes nothing.
            return self._redirect_to_page(link)
        if form_error := self._claim_from_form(link, bank_id, account_number, account_holder):
            return self._render(link, form_error, status=400)
        request.session[VERIFIED_SESSION_KEY] = [
            link_id for link_id in request.session.get(VERIFIED_SESSION_KEY, [])
            if link_id != link.id
        ]
        request.session[CLAIMED_SESSION_KEY] = [
            *request.session.get(CLAIMED_SESSION_KEY, []), link.id]
        return self._redirect_to_page(link)

    # === Helpers === #

    def _find_link(self, token):
        """The link of ``token`` while it can be shown; None for a malformed or unknown
        token, and for a link expired, cancelled, or not claimed in Odoo with a secret (a
        link claimed signed in is its user's alone, at /my/payouts)."""
        if not const.CLAIM_TOKEN_RE.fullmatch(token):
            return None  # a NUL byte or an over-long string never reaches the database
        # The link stores the SHA-256 of its claim email's token and of its latest
        # reminder's: either opens the page.
        token_hash = request.env["payout.link"]._hash_claim_token(token)
        link = request.env["payout.link"].sudo().search([
            "|", ("claim_token_hash", "=", token_hash), ("reminder_token_hash", "=", token_hash),
            ("provider_id.is_claimed_in_odoo", "=", True),
            ("secret_hash", "!=", False),
            ("claim_user_id", "=", False),
        ], limit=1)
        if not link or not (consteq(link.claim_token_hash or "", token_hash)
                            | consteq(link.reminder_token_hash or "", token_hash)):
            return None
        # The page and its messages in the employee's language, as their emails are.
        request.update_context(lang=link._get_employee_lang())
        # The token it was opened with makes the page's own URLs (_get_claim_path).
        link = link.with_env(request.env(su=True)).with_context(
            payout_claim_tokens=frozendict({link.id: token}))
        link._expire_if_due()
        if link.state in const.UNAVAILABLE_STATES:
            return None
        return link

    @classmethod
    def _claim_from_form(cls, link, bank_id, account_number, account_holder):
        """Give ``link`` the bank account posted by its claim form (the claim page's, or
        the signed-in one of /my/payouts): None once done, else the values that show the
        form again with its error, nothing changed."""
        bank = request.env["res.bank"].sudo().browse(cls._parse_id(bank_id)).exists()
        try:
            link._claim(bank, account_number.strip(), account_holder.strip())
        except ValidationError as error:
            return {
                "error": error.args[0],
                "form": {"bank_id": bank.id, "account_number": account_number,
                         "account_holder": account_holder},
            }
        return None

    @staticmethod
    def _parse_id(value):
        """A record id from a form field: ASCII digits within PostgreSQL's integer, else
        no id (``"²".isdigit()`` is true, and ``int()`` refuses it)."""
        if value.isascii() and value.isdigit() and 0 < int(value) <= const.MAX_RECORD_ID:
            return int(value)
        return []

    def _redirect_to_page(self, link):
        """After a POST, back to the page by GET (a reload never posts again)."""
        return request.redirect(link._get_claim_path(), code=303)

    def _is_verified(self, link):
        return link.id in request.session.get(VERIFIED_SESSION_KEY, [])

    def _render(self, link, values=None, status=200):
        page_values = link._get_claim_page_values()
        page_values.update({
            "step": self._get_step(link),
            "form": {},
            "show_account": link.id in request.session.get(CLAIMED_SESSION_KEY, []),
            **(values or {}),
        })
        return request.render(
            "hr_payout_link.claim_page", page_values, headers=SECURITY_HEADERS, status=status
        )

    def _get_step(self, link):
        if link.hold_reason:
            return "held"  # its employee left: contact HR
        if link.state not in const.CLAIMABLE_STATES:
            return "status"
        return "account" if self._is_verified(link) else "secret"

    def _render_unavailable(self):
        # The same page for an unknown, expired or cancelled token: no hint which.
        return request.render(
            "hr_payout_link.claim_unavailable", {}, headers=SECURITY_HEADERS, status=404
        )


# A claim URL in a log line, whatever follows its token.
CLAIM_URL_RE = re.compile(rf"({re.escape(PayoutClaimController._claim_url)}/)[^/\s?\"]+")


class MaskClaimTokens(logging.Filter):
    """The claim token is in the URL: mask it in request log lines."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = CLAIM_URL_RE.sub(r"\1***", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                CLAIM_URL_RE.sub(r"\1***", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


# werkzeug logs request lines; odoo.http logs refused CSRF tokens with the path. The filter
# goes on them for every request of the server (a claim URL can appear in any request's
# log line: a referrer, a mistyped path), by the addon's post_load hook (hooks.py).
MASKED_LOGGERS = ("werkzeug", "odoo.http")


def install_claim_token_filter():
    """Put a MaskClaimTokens filter on each of MASKED_LOGGERS that has none yet: calling
    it again adds no second filter."""
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, MaskClaimTokens) for existing in logger.filters):
            logger.addFilter(MaskClaimTokens())
