import logging
from functools import partial

from werkzeug.urls import url_join

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_amount, format_datetime

from ..controllers.xendit import XenditCallbackController
from ..encryption import EncryptedChar
from ..protocol import xendit
from ..protocol.errors import ProviderError
from .payout_provider import ProviderUnavailable, is_allowed_api_url

_logger = logging.getLogger(__name__)

# The prepared calls (see payout.provider's hooks): plain values and a client getter, no
# ORM, so they may run in a worker thread.


def _payout_fields(link_fields):
    """build_payout_body's fields; a bank Xendit cannot pay to fails the call here."""
    fields = dict(link_fields)
    fields["channel_code"] = xendit.channel_code(fields.pop("bank_code"))
    return fields


def _create_payout(get_client, link_fields, idempotency_key):
    """Pay a link claimed in Odoo through Payouts v2."""
    return get_client().create_payout(idempotency_key=idempotency_key,
                                      **_payout_fields(link_fields))


def _create_payout_link(get_client, reference, amount, email, idempotency_key):
    return get_client().create_payout_link(reference, amount, email, idempotency_key)


def _reconcile_payout(get_client, link_fields, idempotency_key):
    """Find the v2 payout by its reference, else create it (XenditClient.reconcile_payout)."""
    return get_client().reconcile_payout(idempotency_key=idempotency_key,
                                         **_payout_fields(link_fields))


def _get_status(get_client, claimed_in_odoo, payout_id):
    client = get_client()
    get = client.get_payout if claimed_in_odoo else client.get_payout_link
    return get(payout_id)


class PayoutProviderXendit(models.Model):
    _inherit = "payout.provider"

    code = fields.Selection(
        selection_add=[("xendit", "Xendit")], ondelete={"xendit": "set default"}
    )
    xendit_secret_key = EncryptedChar(groups="base.group_system", required_if_provider="xendit")
    xendit_callback_token = EncryptedChar(
        groups="base.group_system",
        help="The verification token of Xendit's dashboard; callbacks without it are refused.",
    )
    # Where the secret key goes: an administrator's, as the key is.
    xendit_base_url = fields.Char(
        string="Xendit API URL",
        default=xendit.API_URL,
        help="Xendit's API; a local Xendit sandbox in development.",
        groups="base.group_system",
    )
    xendit_claim_mode = fields.Selection(
        selection=[
            ("odoo", "In Odoo, paid through Payouts v2"),
            ("xendit", "At Xendit (Payout Link)"),
        ],
        string="Employees Claim",
        default="odoo",
        help="In Odoo: Odoo emails the link and hosts the claim page, then pays the given "
        "account through Xendit Payouts v2. At Xendit: Xendit emails the employee and hosts "
        "the claim; Odoo follows the link.",
    )
    # The bank channels the account can pay (GET /payouts_channels), refreshed weekly and
    # by a button; the shipped list until Xendit answers. Written by the refresh only.
    xendit_channel_codes = fields.Json(
        string="Xendit Channels", readonly=True, copy=False, groups="base.group_system")
    xendit_channels_date = fields.Datetime(
        string="Channels Read On", readonly=True, copy=False, groups="base.group_system")
    xendit_channels_info = fields.Char(
        string="Payout Channels", compute="_compute_xendit_channels_info")
    xendit_payouts_callback_url = fields.Char(
        string="Payouts v2 Callback URL", compute="_compute_xendit_callback_urls"
    )
    xendit_payout_link_callback_url = fields.Char(
        string="Payout Link Callback URL", compute="_compute_xendit_callback_urls"
    )

    @api.depends("code", "xendit_claim_mode")
    def _compute_is_claimed_in_odoo(self):
        """Override of payout.provider: as the Employees Claim setting says."""
        super()._compute_is_claimed_in_odoo()
        for provider in self.filtered(lambda p: p.code == "xendit"):
            provider.is_claimed_in_odoo = provider.xendit_claim_mode == "odoo"

    @api.depends("code")
    def _compute_is_polled(self):
        """Override of payout.provider: polled too, as Xendit's callbacks can be missed."""
        super()._compute_is_polled()
        for provider in self.filtered(lambda p: p.code == "xendit"):
            provider.is_polled = True  # callbacks can be missed

    def _compute_xendit_callback_urls(self):
        for provider in self:
            base_url = provider.get_base_url()
            provider.xendit_payouts_callback_url = url_join(
                base_url, XenditCallbackController._payouts_url
            )
            provider.xendit_payout_link_callback_url = url_join(
                base_url, XenditCallbackController._payout_link_url
            )

    @api.depends("code", "xendit_channel_codes", "xendit_channels_date")
    @api.depends_context("lang")
    def _compute_xendit_channels_info(self):
        for provider in self:
            read = provider.sudo()
            provider.xendit_channels_info = self.env._(
                "%(count)s bank channels, read from Xendit on %(date)s",
                count=len(read.xendit_channel_codes),
                date=format_datetime(self.env, read.xendit_channels_date),
            ) if read.xendit_channel_codes else self.env._(
                "The shipped list of %s banks (not read from Xendit yet)",
                len(xendit.CHANNEL_CODES))

    def _get_payout_banks(self):
        """Override of payout.provider: only the banks the Xendit account can pay."""
        banks = super()._get_payout_banks()
        if self.code != "xendit":
            return banks
        # Payouts v2 pays to the account's channels only: offer no bank it would refuse.
        channels = set(self.sudo().xendit_channel_codes or xendit.CHANNEL_CODES.values())
        return banks.filtered(
            lambda bank: xendit.CHANNEL_CODES.get(bank.payout_bank_code) in channels)

    def action_xendit_refresh_channels(self):
        """Read the channels the Xendit account can pay now (Payout Managers too)."""
        self.ensure_one()
        self.check_access("write")
        if self.code != "xendit":
            raise UserError(self.env._("%s is not a Xendit provider.", self.name))
        try:
            self._xendit_refresh_channels()
        except ProviderError as error:
            raise UserError(self.env._(
                "Xendit did not list its payout channels (%s): the banks offered stay as "
                "they were.", error.message,
            )) from error
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "success", "message": self.xendit_channels_info,
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    @api.model
    def _cron_refresh_xendit_channels(self):
        """Weekly: each Xendit provider in use reads its channels; one that fails keeps
        the banks it offered."""
        for provider in self.sudo().search([("code", "=", "xendit"), ("state", "!=", "disabled")]):
            try:
                provider._xendit_refresh_channels()
            except (ProviderError, UserError) as error:  # UserError: a live key in Test Mode
                _logger.warning("Xendit provider %s: channels not refreshed: %s",
                                provider.id, error)

    def _xendit_refresh_channels(self):
        """Store the channel codes Xendit lists now; a ProviderError keeps what was."""
        self.ensure_one()
        codes = self._api_client().get_payout_channels()
        self.sudo().write({"xendit_channel_codes": codes,
                           "xendit_channels_date": fields.Datetime.now()})

    @api.constrains("code", "state", "xendit_base_url", "xendit_secret_key")
    def _check_xendit_settings(self):
        # sudo: a Payout Manager's change of the state checks the connection too.
        for provider in self.sudo().filtered(lambda p: p.code == "xendit"):
            if not is_allowed_api_url(provider.xendit_base_url):
                raise ValidationError(self.env._(
                    "Xendit API URL: an https:// address is required (http:// only to this "
                    "computer: 127.0.0.1, ::1 or localhost)."
                ))
            if provider._xendit_reaches_live_money():
                raise ValidationError(self.env._(
                    "Xendit Secret Key: Test Mode takes a development key (xnd_development_…) "
                    "on Xendit's API, or a custom test URL; a live key needs the provider "
                    "enabled."
                ))

    def _xendit_reaches_live_money(self):
        """Whether this provider in Test Mode would move real money: Xendit's one API
        tells test from live by the key, not by the URL."""
        self.ensure_one()
        provider = self.sudo()
        return (provider.state == "test" and provider.xendit_base_url == xendit.API_URL
                and bool(provider.xendit_secret_key)
                and not provider.xendit_secret_key.startswith(xendit.TEST_KEY_PREFIX))

    def _get_link_protocol_fields(self):
        """Override of payout.provider: the claim mode decides the API a link is paid and
        followed through (Payouts v2, or Payout Links)."""
        return [*super()._get_link_protocol_fields(), "xendit_claim_mode"]

    # === Protocol glue === #

    def _api_client_factory(self):
        """Override of payout.provider: a XenditClient for the API URL and secret key."""
        if self.code != "xendit":
            return super()._api_client_factory()
        provider = self.sudo()
        if provider._xendit_reaches_live_money():
            raise UserError(self.env._(
                "%s is in Test Mode with a live Xendit key: it calls nothing.", provider.name))
        settings = (provider.xendit_base_url, provider.xendit_secret_key)
        return settings, partial(xendit.XenditClient, *settings)

    # === Provider hooks === #

    def _check_payout_requests(self, links):
        """Override of payout.provider: Xendit's field rules, then a balance that covers all."""
        super()._check_payout_requests(links)
        if self.code != "xendit":
            return
        for link in links:
            try:
                xendit.build_link_body(link._get_submission_reference(),
                                       link.currency_id.round(link.amount),
                                       link.recipient_email)
            except ProviderError as error:
                raise UserError(self.env._(
                    "%(link)s cannot be sent through Xendit: %(error)s",
                    link=link.display_name, error=error.message,
                )) from error
        try:
            balance = self._api_client().get_balance()
        except ProviderError as error:
            raise ProviderUnavailable(self.env._(
                "Could not check the Xendit balance: %s", error.message
            )) from error
        total = sum(links.mapped("amount"))
        if balance < total:
            currency = links.currency_id[:1]
            raise UserError(self.env._(
                "The Xendit balance (%(balance)s) cannot cover these payouts (%(total)s). "
                "Top up the Xendit account, then send again.",
                balance=format_amount(self.env, balance, currency),
                total=format_amount(self.env, total, currency),
            ))

    def _get_cancel_refusal(self, link):
        """Override of payout.provider: a v2 payout can be cancelled at Xendit once
        claimed, while Xendit allows it."""
        if self.code != "xendit" or not (
            self.is_claimed_in_odoo and link.state == "processing"
            and link.submission_state != "submitting"
        ):
            return super()._get_cancel_refusal(link)
        return False

    def _get_cancel_kind(self, link):
        """Override of payout.provider: a Payout Link is voided at Xendit, a v2 payout
        cancelled there."""
        if self.code != "xendit" or not link.provider_reference:
            return super()._get_cancel_kind(link)
        return "payout" if self.is_claimed_in_odoo else "void"

    def _cancel_payouts(self, links):
        """Override of payout.provider: void the Payout Links, and cancel the v2 payouts,
        that exist at Xendit."""
        answers = super()._cancel_payouts(links)
        if self.code != "xendit":
            return answers
        client = self._api_client()
        for link in links.filtered("provider_reference"):
            try:
                if self.is_claimed_in_odoo:
                    answers[link] = client.cancel_payout(link.provider_reference)
                else:
                    answers[link] = client.void_payout_link(
                        link.provider_reference, f"void-{link.submission_key}")
            except ProviderError as error:
                raise UserError(self.env._(
                    "Xendit did not %(action)s %(link)s: %(error)s",
                    action=self.env._("cancel") if self.is_claimed_in_odoo
                    else self.env._("void"),
                    link=link.display_name, error=error.message,
                )) from error
        return answers

    def _prepare_submission(self, link, account_number):
        """Override of payout.provider: a Payout Link, or a v2 payout once claimed in Odoo."""
        if self.code != "xendit":
            return super()._prepare_submission(link, account_number)
        get_client = self._api_client_getter()
        amount = link.currency_id.round(link.amount)
        if self.is_claimed_in_odoo:
            return partial(_create_payout, get_client, self._xendit_payout_fields(
                link, account_number), link.submission_key)
        return partial(_create_payout_link, get_client, link._get_submission_reference(), amount,
                       link.recipient_email, link.submission_key)

    def _prepare_reconciliation(self, link, account_number):
        """Override of payout.provider: a v2 payout found by reference; a link resent, same key."""
        if self.code != "xendit":
            return super()._prepare_reconciliation(link, account_number)
        if self.is_claimed_in_odoo:
            return partial(_reconcile_payout, self._api_client_getter(),
                           self._xendit_payout_fields(link, account_number),
                           link.submission_key)
        # A Payout Link has no lookup by external id. Sending it again is safe: Xendit
        # answers a repeat of the same key with the original link (then Odoo knows its id),
        # and refuses a second link with the same external id (DUPLICATE_PAYOUT_ERROR, an
        # unknown outcome: the link waits for its callback, then needs attention).
        return self._prepare_submission(link, account_number)

    def _xendit_payout_fields(self, link, account_number):
        """What ``link``'s v2 payout is made of: build_payout_body's fields, with the bank's
        code instead of its Xendit channel (mapped in the call, see `_payout_fields`)."""
        return {
            "reference_id": link._get_submission_reference(),
            "bank_code": link.bank_id.payout_bank_code,
            "account_number": account_number,
            "account_holder_name": link.account_holder_name,
            "amount": link.currency_id.round(link.amount),
            "currency": link.currency_id.name,
            "description": link.description or None,
        }

    def _is_answer_for(self, link, answer):
        """Override of payout.provider: Xendit's objects carry the reference we gave them."""
        if self.code != "xendit":
            return super()._is_answer_for(link, answer)
        return xendit.our_reference(answer) == link._get_submission_reference()

    def _prepare_status_check(self, link, payout_id=None):
        """Override of payout.provider: get the v2 payout or the Payout Link (by
        ``payout_id`` when a callback names the one the link does not know yet)."""
        if self.code != "xendit":
            return super()._prepare_status_check(link)
        return partial(_get_status, self._api_client_getter(), self.is_claimed_in_odoo,
                       payout_id or link.provider_reference)
