import ipaddress
from functools import partial
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_list

from .. import const, utils
from ..protocol import concurrency, demo
from ..protocol.transport import ClientPool

# One keep-alive API client per provider, database and thread (a requests session is not
# shared across threads); rebuilt when the provider's settings change.
_api_clients = ClientPool()


class ProviderUnavailable(UserError):
    """A check before sending could not be made (the provider did not answer): the links
    are not unfit, they wait and are checked again."""


def is_allowed_api_url(url):
    """Whether ``url`` may be a provider's API URL, which every call sends the secret key
    to: https://, or http:// to this computer only (127.0.0.0/8, ::1, localhost)."""
    try:
        parts = urlsplit(url or "")
        host = parts.hostname
    except ValueError:  # e.g. an unclosed [IPv6 address
        return False
    if not host:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name
        return False


class PayoutProvider(models.Model):
    _name = "payout.provider"
    _description = "Payout Provider"
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    code = fields.Selection(
        selection=[("demo", "Demo")],
        required=True,
        default="demo",
        help="The technical code of the provider. Demo pays at once and moves no money.",
    )
    state = fields.Selection(
        selection=[("disabled", "Disabled"), ("test", "Test Mode"), ("enabled", "Enabled")],
        required=True,
        default="disabled",
        copy=False,
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    link_validity_days = fields.Integer(
        string="Link Validity (days)",
        required=True,
        default=3,
        help="How long an employee has to claim a link before it expires.",
    )
    max_secret_attempts = fields.Integer(
        string="Wrong-Secret Limit",
        required=True,
        default=3,
        help="After this many wrong secrets the link fails as locked and must be reissued.",
    )
    sender_name = fields.Char(
        compute="_compute_sender_name",
        store=True,
        readonly=False,
        help=f"Shown to employees as who pays them (at most {const.MAX_NAME} characters).",
    )
    is_claimed_in_odoo = fields.Boolean(
        string="Claimed in Odoo",
        compute="_compute_is_claimed_in_odoo",
        store=True,
        help="Odoo emails the link and hosts the claim page; otherwise the provider does.",
    )
    is_polled = fields.Boolean(
        compute="_compute_is_polled",
        store=True,
        help="A scheduled action follows this provider's links by asking for their status.",
    )
    max_concurrent_calls = fields.Integer(
        string="Concurrent Calls",
        required=True,
        default=4,
        help="How many calls to the provider a scheduled run makes at once "
        f"(1 to {const.MAX_CONCURRENT_CALLS}).",
    )
    link_count = fields.Integer(compute="_compute_link_count")

    def _valid_field_parameter(self, field, name):
        # required_if_provider="<code>": a setting that provider cannot be enabled without
        # (as payment.provider does); see _check_required_if_provider.
        return name == "required_if_provider" or super()._valid_field_parameter(field, name)

    @api.depends("company_id")
    def _compute_sender_name(self):
        for provider in self:
            if not provider.sender_name:
                provider.sender_name = provider.company_id.name

    @api.depends("code")
    def _compute_is_claimed_in_odoo(self):
        for provider in self:
            provider.is_claimed_in_odoo = provider.code == "demo"

    @api.depends("code")
    def _compute_is_polled(self):
        for provider in self:
            provider.is_polled = False

    def _compute_link_count(self):
        counts = dict(
            self.env["payout.link"]._read_group(
                [("provider_id", "in", self.ids)], ["provider_id"], ["__count"]
            )
        )
        for provider in self:
            provider.link_count = counts.get(provider, 0)

    @api.constrains("link_validity_days", "max_secret_attempts", "sender_name")
    def _check_settings(self):
        for provider in self:
            if not 1 <= provider.link_validity_days <= const.MAX_LINK_VALIDITY_DAYS:
                raise ValidationError(self.env._(
                    "Link Validity: from 1 to %(max)s days (%(given)s given).",
                    max=const.MAX_LINK_VALIDITY_DAYS, given=provider.link_validity_days,
                ))
            if not 1 <= provider.max_secret_attempts <= const.MAX_SECRET_ATTEMPTS:
                raise ValidationError(self.env._(
                    "Wrong-Secret Limit: from 1 to %(max)s (%(given)s given).",
                    max=const.MAX_SECRET_ATTEMPTS, given=provider.max_secret_attempts,
                ))
            if provider.sender_name and len(provider.sender_name) > const.MAX_NAME:
                raise ValidationError(self.env._(
                    "Sender Name: at most %(max)s characters (%(given)s given).",
                    max=const.MAX_NAME, given=len(provider.sender_name),
                ))

    def _get_required_fields(self, code=None):
        """The names of the fields declared with ``required_if_provider`` (``code``'s only,
        when given), in their declaration order."""
        return [
            name for name, field in self._fields.items()
            if (required_for := getattr(field, "required_if_provider", None))
            and (code is None or code == required_for)
        ]

    @api.constrains(lambda self: ["code", "state", *self._get_required_fields()])
    def _check_required_if_provider(self):
        """A provider in test mode or enabled has every setting its code requires."""
        codes = dict(self._fields["code"]._description_selection(self.env))
        for provider in self.sudo().filtered(lambda p: p.state != "disabled"):
            names = self._get_required_fields(provider.code)
            if not all(provider[name] for name in names):
                labels = [self._fields[name]._description_string(self.env) for name in names]
                raise ValidationError(self.env._(
                    "%(fields)s: required to enable %(provider)s.",
                    fields=format_list(self.env, labels), provider=codes[provider.code],
                ))

    @api.constrains("max_concurrent_calls")
    def _check_max_concurrent_calls(self):
        for provider in self:
            if not 1 <= provider.max_concurrent_calls <= const.MAX_CONCURRENT_CALLS:
                raise ValidationError(self.env._(
                    "Concurrent Calls: from 1 to %(max)s (%(given)s given).",
                    max=const.MAX_CONCURRENT_CALLS, given=provider.max_concurrent_calls,
                ))

    # === CRUD methods === #

    @api.model_create_multi
    def create(self, vals_list):
        providers = super().create(vals_list)
        providers._check_restricted_fields_at_default()
        return providers

    def write(self, vals):
        self._check_no_open_links(vals)
        return super().write(vals)

    def _check_restricted_fields_at_default(self):
        """Raise an AccessError when new providers hold, in a field the user cannot write
        (the connection and credentials: administrators' only), another value than the
        field's default: Odoo checks the fields' groups on write, but neither on create nor
        for the defaults a context or an ir.default gives."""
        if self.env.su:
            return
        restricted = [field for field in self._fields.values()
                      if field.groups and not field.is_accessible(self.env)]
        for provider in self.sudo():
            given = [field for field in restricted if provider[field.name] != (
                field.default(provider) if field.default else False)]
            if given:
                raise AccessError(self.env._(
                    "Only an administrator sets %(fields)s on a payout provider.",
                    fields=format_list(self.env, [
                        field._description_string(self.env) for field in given]),
                ))

    def _get_link_protocol_fields(self):
        """The fields that decide how this provider's links are sent and followed: they
        cannot change while it has open links (see `_check_no_open_links`)."""
        return ["code"]

    def _check_no_open_links(self, vals):
        """Raise a UserError when ``vals`` change a link protocol field of a provider that
        has open links (not final, or cancelled and still followed at the provider): they
        would be followed by another protocol than the one that sent them."""
        fnames = [fname for fname in self._get_link_protocol_fields()
                  if fname in vals and any(value != vals[fname] for value in self.mapped(fname))]
        if not fnames:
            return
        changed = self.filtered(lambda p: any(p[fname] != vals[fname] for fname in fnames))
        open_links = self.env["payout.link"].sudo()._read_group([
            ("provider_id", "in", changed.ids),
            "|", ("state", "not in", const.FINAL_STATES),
            "&", ("state", "=", "cancelled"), ("follow_after_cancel", "=", True),
        ], ["provider_id"], ["__count"])
        if open_links:
            provider, count = open_links[0]
            raise UserError(self.env._(
                "%(provider)s has %(count)s open payout links: its %(fields)s cannot change "
                "until they are paid, failed, expired or cancelled.",
                provider=provider.display_name, count=count,
                fields=format_list(self.env, [
                    self._fields[fname]._description_string(self.env) for fname in fnames]),
            ))

    @api.model
    def _create_demo_providers(self, companies):
        """Create one Demo provider, in Test Mode, for each company that has no provider
        yet: links can be tried at once, and nobody mistakes it for a real provider."""
        with_provider = self.sudo().search([("company_id", "in", companies.ids)]).company_id
        self.sudo().create([
            {"name": self.env._("Demo"), "code": "demo", "state": "test", "company_id": c.id}
            for c in companies - with_provider
        ])

    def action_view_links(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hr_payout_link.action_payout_link")
        action["domain"] = [("provider_id", "=", self.id)]
        return action

    # === Provider hooks: each provider code overrides these for its own protocol === #
    #
    # A provider call's answer is a ProviderAnswer (protocol/answers.py), which
    # `payout.link._apply_provider_status` applies; a call that fails raises a ProviderError.
    #
    # The `_prepare_*` hooks read what a call needs from the ORM, on the cursor's thread, and
    # return the call: a function of no argument doing only protocol work. `_run_calls` may
    # run it in another thread, so a prepared call must not touch the ORM (no record, no
    # env, no cursor): it gets its API client through a function from `_api_client_getter`.

    def _get_payout_banks(self):
        """The banks an employee may choose on the claim page for this provider."""
        self.ensure_one()
        return self.env["res.bank"].sudo().search([("payout_available", "=", True)])

    def _get_test_accounts(self):
        """Account numbers shown on the claim page in test mode, with what they do."""
        self.ensure_one()
        if self.code != "demo":
            return {}
        accounts = dict(demo.FAILING_ACCOUNTS)
        accounts[demo.PROCESSING_ACCOUNT] = self.env._("Stays processing")
        return accounts

    def _new_submission_reference(self, link):
        """What the provider will know ``link``'s payout by, stored when it is queued:
        unique across the companies and databases that may share one provider account.

        :return: a tag of the database and company, then the External ID (or the link's
            id, when the External ID is too long for the tag): letters and digits, at
            most const.MAX_SUBMISSION_REFERENCE (30)
        :rtype: str
        """
        self.ensure_one()
        db_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        reference = utils.reference_tag(db_uuid, link.company_id.id) + link.reference
        if len(reference) <= const.MAX_SUBMISSION_REFERENCE:
            return reference
        return utils.reference_tag(db_uuid, link.company_id.id, "id") + str(link.id)

    def _new_submission_key(self, link):
        """The idempotency key of ``link``'s money-moving call, stored before the call.

        :return: a key the provider accepts (DOKU: digits only)
        :rtype: str
        """
        self.ensure_one()
        db_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid")
        return f"{db_uuid}-{link.company_id.id}-{link.reference}"

    def _prepare_submission(self, link, account_number):
        """The call that asks the provider to pay ``link`` (or to create its link).

        Made only once the link's submission key has been committed, so a provider that
        receives the same key twice pays once.

        :return: a function of no argument that returns a ProviderAnswer or raises a
            ProviderError; it must not touch the ORM (it may run in another thread)
        """
        self.ensure_one()
        if self.code == "demo":
            return partial(demo.pay, account_number)
        raise NotImplementedError(self.code)

    def _prepare_reconciliation(self, link, account_number):
        """The call that finds out what became of a submission interrupted before its
        answer was stored.

        Never resubmits blindly: providers look the payout up by its submission key.

        :return: as `_prepare_submission`: a call of no argument giving a ProviderAnswer,
            which must not touch the ORM
        """
        self.ensure_one()
        if self.code == "demo":
            # The Demo provider is a pure function of the account: looking up is paying.
            return self._prepare_submission(link, account_number)
        raise NotImplementedError(self.code)

    def _prepare_status_check(self, link):
        """The call that gives the provider's current answer for a submitted ``link``.

        :return: as `_prepare_submission`: a call of no argument giving a ProviderAnswer,
            which must not touch the ORM
        """
        self.ensure_one()
        raise NotImplementedError(self.code)

    def _is_answer_for(self, link, answer):
        """Whether a payout fetched from the provider (``answer``) is ``link``'s, by the
        reference the link gave it.

        :rtype: bool
        """
        self.ensure_one()
        return bool(answer.provider_reference) and (
            answer.provider_reference == link.provider_reference)

    def _run_calls(self, calls, interval=0.0, deadline=None):
        """Run ``calls`` made by the hooks above, their starts ``interval`` seconds apart;
        a call that would start after ``deadline`` (a `time.monotonic()` value) is not
        made (its error is CallSkipped).

        Up to `max_concurrent_calls` at once; the Demo provider makes no HTTP call, so its
        calls run one after the other in this thread.

        :return: one (ProviderAnswer or None, ProviderError or None) pair per call, in
            their order, each as soon as it and those before it have ended
        :rtype: iterator[tuple]
        """
        self.ensure_one()
        workers = 1 if self.code == "demo" else self.max_concurrent_calls
        return concurrency.iter_calls(calls, workers, interval, deadline)

    def _get_calls_per_run(self):
        """How many calls to this provider fit in one scheduled run: its rate limit over
        `const.CALL_TIME_BUDGET`, so a run ends well inside Odoo's limit_time_real.

        :rtype: int
        """
        self.ensure_one()
        interval = self._get_poll_interval()
        return int(const.CALL_TIME_BUDGET / interval) if interval else const.BATCH_SIZE

    def _check_payout_requests(self, links):
        """Raise a UserError naming the link and the field when the provider would refuse
        to pay ``links``, before anything is sent.

        :return: None
        """
        self.ensure_one()

    def _get_cancel_refusal(self, link):
        """Why ``link`` cannot be cancelled now, or False. By default a link can be
        cancelled until it is claimed, and never while its submission is in flight.

        :return: the reason, for the user, or False
        """
        self.ensure_one()
        if link.submission_state == "submitting":
            return self.env._(
                "%s is being sent to the provider right now, or its outcome is not known "
                "yet: it cannot be cancelled.", link.display_name)
        if link.state == "processing":
            return self.env._(
                "%s is claimed: the payment is on its way and cannot be cancelled.",
                link.display_name)
        return False

    def _get_cancel_kind(self, link):
        """What *Cancel* does for ``link``, so its confirmation says so: 'claim' (the
        employee can no longer claim it in Odoo) by default.

        :rtype: str
        """
        self.ensure_one()
        return "claim"

    def _cancel_payouts(self, links):
        """Cancel ``links`` at the provider, where it holds them, before they are
        cancelled in Odoo; raise a UserError, changing nothing, when it refuses. Links it
        cannot cancel were refused before (`_get_cancel_refusal`).

        :return: {link: ProviderAnswer} of the links the provider answered for
        :rtype: dict
        """
        self.ensure_one()
        return {}

    def _api_client_factory(self):
        """What this provider's API client is built from, read on the cursor's thread.

        :return: (settings, make_client): a hashable tuple of the client's settings, and a
            function of no argument that builds the client from plain values (never the
            ORM)
        :rtype: tuple
        """
        self.ensure_one()
        raise NotImplementedError(self.code)

    def _api_client_getter(self):
        """A function giving the calling thread's keep-alive API client for this provider.

        The settings are read here, so prepared calls may use it in any thread.

        :return: a function of no argument returning a protocol client (e.g. DokuClient),
            rebuilt when the settings change
        """
        self.ensure_one()
        settings, make_client = self._api_client_factory()
        return partial(_api_clients.get, (self.env.cr.dbname, self.id), settings, make_client)

    def _api_client(self):
        """This thread's API client, for calls made on the cursor's thread (a prepared call
        uses `_api_client_getter` instead).

        :return: a protocol client, e.g. DokuClient or XenditClient
        """
        return self._api_client_getter()()

    def _get_poll_interval(self):
        """Seconds to wait between two status calls to this provider (its rate limit).

        :return: seconds, 0.0 for no wait
        :rtype: float
        """
        self.ensure_one()
        return 0.0
