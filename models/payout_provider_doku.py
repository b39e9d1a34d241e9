from functools import partial

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..encryption import EncryptedChar, EncryptedText
from ..protocol import doku, doku_snap
from ..protocol.errors import (
    FieldValidationError,
    ProviderBadSignature,
    ProviderClientError,
    ProviderError,
)
from .payout_provider import is_allowed_api_url

# DOKU's field names, as the employee's link shows them in Odoo.
FIELD_LABELS = {
    "amount": "Amount",
    "sender_name": "Sender Name",
    "receiver_name": "Recipient Name",
    "receiver_phone_number": "Recipient Phone",
    "receiver_email": "Recipient Email",
    "reference_id": "External ID",
    "description": "Description",
    "currency": "Currency",
}


# The prepared calls (see payout.provider's hooks): plain values and a client getter, no
# ORM, so they may run in a worker thread.


def _status(get_client, reference):
    return get_client().status(reference)


def _submit(get_client, body, request_id):
    return get_client().submit_or_follow(body, request_id)


def _reconcile(get_client, body, request_id):
    return get_client().reconcile(body, request_id)


class PayoutProviderDoku(models.Model):
    _inherit = "payout.provider"

    code = fields.Selection(selection_add=[("doku", "DOKU")], ondelete={"doku": "set default"})
    doku_client_id = fields.Char(
        string="DOKU Client-Id", groups="base.group_system", required_if_provider="doku"
    )
    doku_secret_key = EncryptedChar(
        string="DOKU Secret Key", groups="base.group_system", required_if_provider="doku"
    )
    # Where the credentials go and how DOKU's answers are trusted: an administrator's, as
    # the credentials are.
    doku_environment = fields.Selection(
        selection=[("sandbox", "Sandbox"), ("production", "Production"), ("custom", "Custom URL")],
        string="DOKU Environment",
        default="sandbox",
        groups="base.group_system",
    )
    doku_base_url = fields.Char(
        string="DOKU Base URL",
        help="For a custom environment, e.g. a local DOKU sandbox.",
        groups="base.group_system",
    )
    doku_signature_scheme = fields.Selection(
        selection=doku.SIGNATURE_SCHEMES,
        string="DOKU Signature",
        default=doku.DEFAULT_SCHEME,
        help="Non-SNAP (HMAC-SHA256 with the Secret Key) by default. SNAP, which the Payout "
        "Link page's HMAC_SHA512 names, signs with a B2B access token obtained with the "
        "Private Key.",
        groups="base.group_system",
    )
    doku_private_key = EncryptedText(
        string="DOKU Private Key",
        help="SNAP only: the RSA private key (PEM, unencrypted) whose public key is "
        "registered at DOKU; it signs the requests for an access token.",
        groups="base.group_system",
        copy=False,
    )
    doku_verify_signatures = fields.Boolean(
        string="Verify DOKU's Signatures",
        default=True,
        help="Non-SNAP: an answer that carries a signature must match the Secret Key; "
        "unsigned answers are taken and logged.",
        groups="base.group_system",
    )
    doku_rate_limit = fields.Integer(
        string="Status Calls per Second",
        default=10,
        help="At most this many status calls per second while polling; 0 for no limit.",
    )

    @api.depends("code")
    def _compute_is_polled(self):
        """Override of payout.provider: DOKU's links are followed by polling."""
        super()._compute_is_polled()
        for provider in self.filtered(lambda p: p.code == "doku"):
            provider.is_polled = True

    @api.constrains("code", "state", "doku_signature_scheme", "doku_private_key")
    def _check_doku_private_key(self):
        # sudo: the key is an administrator's field, checked whoever changes the state.
        for provider in self.sudo().filtered(lambda p: p.code == "doku"):
            key = provider.doku_private_key
            if provider.doku_signature_scheme == "snap" and provider.state != "disabled" and (
                    not key):
                raise ValidationError(self.env._(
                    "DOKU Private Key: required to sign the access token requests of SNAP."))
            if key:
                try:
                    doku_snap.load_private_key(key)
                except doku_snap.PrivateKeyError as error:
                    raise ValidationError(self._doku_private_key_problem(error)) from None

    def _doku_private_key_problem(self, error):
        """What a user is told of a PrivateKeyError."""
        return {
            "public_key": self.env._(
                "DOKU Private Key: this is a public key or a certificate; paste the private "
                "key whose public key is registered at DOKU."),
            "encrypted": self.env._(
                "DOKU Private Key: the key is encrypted with a passphrase, which Odoo does "
                "not keep; paste it unencrypted (e.g. openssl pkey -in key.pem)."),
            "not_rsa": self.env._(
                "DOKU Private Key: SNAP signs with an RSA key (SHA256withRSA); this key is "
                "of another type."),
        }.get(error.reason) or self.env._(
            "DOKU Private Key: not a PEM private key (the text between -----BEGIN PRIVATE "
            "KEY----- and -----END PRIVATE KEY-----, those lines included).")

    @api.constrains("code", "state", "doku_environment", "doku_base_url", "doku_rate_limit")
    def _check_doku_settings(self):
        # sudo: a Payout Manager's change of the state checks the connection too.
        for provider in self.sudo().filtered(lambda p: p.code == "doku"):
            if provider.doku_environment == "custom" and not is_allowed_api_url(
                    provider.doku_base_url):
                raise ValidationError(self.env._(
                    "DOKU Base URL: a custom environment needs an https:// address (http:// "
                    "only to this computer: 127.0.0.1, ::1 or localhost)."
                ))
            if provider.doku_rate_limit < 0:
                raise ValidationError(self.env._("Status Calls per Second: 0 or more."))
            if provider.state == "test" and provider.doku_environment == "production":
                raise ValidationError(self.env._(
                    "DOKU Environment: Test Mode never reaches DOKU's production; choose the "
                    "sandbox or a custom test URL, or enable the provider."
                ))

    # === Protocol glue === #

    def _api_client_factory(self):
        """Override of payout.provider: a DokuClient for the chosen environment."""
        if self.code != "doku":
            return super()._api_client_factory()
        provider = self.sudo()
        base_url = {
            "sandbox": doku.SANDBOX_URL,
            # Test Mode never reaches production, whatever was stored by other means.
            "production": doku.PRODUCTION_URL if provider.state == "enabled"
            else doku.SANDBOX_URL,
        }.get(provider.doku_environment) or provider.doku_base_url
        settings = (base_url, provider.doku_client_id, provider.doku_secret_key,
                    provider.doku_signature_scheme, provider.doku_private_key,
                    provider.doku_verify_signatures)
        if provider.doku_signature_scheme == "snap":
            return settings, partial(
                doku_snap.DokuSnapClient, base_url, provider.doku_client_id,
                provider.doku_secret_key, provider.doku_private_key or "",
            )
        return settings, partial(
            doku.DokuClient, base_url, provider.doku_client_id, provider.doku_secret_key,
            verify_responses=provider.doku_verify_signatures,
        )

    def _doku_initiate_fields(self, link):
        # Odoo's empty fields are False; the protocol says "required" for None.
        return {
            "amount": link.currency_id.round(link.amount),
            "sender_name": self.sender_name or link.company_id.name,
            "receiver_name": link.recipient_name or None,
            "receiver_phone_number": link.recipient_phone or None,
            "receiver_email": link.recipient_email or None,
            "reference_id": link._get_submission_reference(),
            "description": link.description or None,
            "currency": link.currency_id.name,
        }

    # === Provider hooks === #

    def _new_submission_key(self, link):
        """Override of payout.provider: a DOKU Request-Id, new for each link."""
        if self.code != "doku":
            return super()._new_submission_key(link)
        return doku.new_request_id()  # digits only, as DOKU's Request-Id must be

    def _check_payout_requests(self, links):
        """Override of payout.provider: each link's initiate body must pass DOKU's rules."""
        super()._check_payout_requests(links)
        if self.code != "doku":
            return
        for link in links:
            try:
                doku.build_initiate_body(**self._doku_initiate_fields(link))
            except FieldValidationError as error:
                raise UserError(self.env._(
                    "%(link)s cannot be sent through DOKU: %(field)s: %(rule)s.",
                    link=link.display_name,
                    field=FIELD_LABELS.get(error.field, error.field),
                    rule=error.rule,
                )) from error

    def _prepare_submission(self, link, account_number):
        """Override of payout.provider: initiate the link at DOKU (a 409 is followed up)."""
        if self.code != "doku":
            return super()._prepare_submission(link, account_number)
        return partial(_submit, self._api_client_getter(), self._doku_initiate_fields(link),
                       link.submission_key)

    def _prepare_reconciliation(self, link, account_number):
        """Override of payout.provider: DOKU's status, else initiate with the same Request-Id."""
        if self.code != "doku":
            return super()._prepare_reconciliation(link, account_number)
        return partial(_reconcile, self._api_client_getter(),
                       self._doku_initiate_fields(link), link.submission_key)

    def _prepare_status_check(self, link):
        """Override of payout.provider: DOKU's status of the link's reference."""
        if self.code != "doku":
            return super()._prepare_status_check(link)
        return partial(_status, self._api_client_getter(), link._get_submission_reference())

    def _get_cancel_refusal(self, link):
        """Override of payout.provider: DOKU has no cancel: once initiated, a link lives
        until DOKU expires it."""
        if self.code != "doku" or link.submission_state not in ("submitting", "accepted"):
            return super()._get_cancel_refusal(link)
        return self.env._(
            "%s is live at DOKU, which offers no way to cancel it: let it expire at DOKU "
            "(nothing is paid unless the employee claims it).", link.display_name)

    def _get_cancel_kind(self, link):
        """Override of payout.provider: a link not sent to DOKU yet never will be."""
        return "queued" if self.code == "doku" else super()._get_cancel_kind(link)

    def _get_poll_interval(self):
        """Override of payout.provider: paced to the Status Calls per Second setting."""
        if self.code != "doku":
            return super()._get_poll_interval()
        return 1.0 / self.doku_rate_limit if self.doku_rate_limit else 0.0

    # === Actions === #

    def action_doku_test_connection(self):
        """Ask DOKU for an unknown payout: any answer DOKU gives proves the credentials
        (DokuClient.check_credentials), a 401 or 403 disproves them."""
        self.ensure_one()
        self.check_access("write")
        try:
            self._api_client().check_credentials()
        except doku_snap.PrivateKeyError as error:
            raise UserError(self._doku_private_key_problem(error)) from error
        except ProviderClientError as error:
            raise UserError(self.env._(
                "DOKU refused the credentials: %s", error.message
            )) from error
        except ProviderBadSignature as error:
            raise UserError(self.env._(
                "DOKU answered, but its signature does not match the Secret Key (%s): check "
                "the Secret Key.", error.message,
            )) from error
        except ProviderError as error:
            raise UserError(self.env._("Could not reach DOKU: %s", error.message)) from error
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("DOKU answered and accepted the credentials."),
            },
        }
