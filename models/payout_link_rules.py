"""The field rules of a payout link, all in this file.

A rule is either an `@api.constrains` method (what a stored record must satisfy) or part
of `_prepare_and_check_vals`, which `create` and `write` call first: it refuses what the
ORM or the database would break unclearly, and the fields frozen once a link leaves
draft. The SQL constraint on the reference is the backstop of the Python check, which
gives the clearer message.
"""

from odoo import api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import email_normalize, float_is_zero

from .. import const, utils


class PayoutLink(models.Model):
    _inherit = "payout.link"

    @api.constrains("reference")
    def _check_reference(self):
        for link in self:
            if link.reference and not const.REFERENCE_RE.fullmatch(link.reference):
                raise ValidationError(self.env._(
                    "External ID: letters and digits only, at most 30 characters "
                    "(%(reference)r given).", reference=link.reference,
                ))

    @api.constrains("amount", "currency_id")
    def _check_amount(self):
        for link in self:
            if link.currency_id.compare_amounts(link.amount, 0) <= 0:
                raise ValidationError(self.env._("Amount: must be greater than zero."))

    @api.constrains("description")
    def _check_description(self):
        for link in self:
            if link.description and len(link.description) > const.MAX_DESCRIPTION:
                raise ValidationError(self.env._(
                    "Description: at most 30 characters (%s given).", len(link.description)
                ))

    @api.constrains("recipient_name", "recipient_email", "recipient_phone")
    def _check_recipient(self):
        for link in self:
            if link.recipient_name and len(link.recipient_name) > const.MAX_NAME:
                raise ValidationError(self.env._(
                    "Recipient Name: at most 50 characters (%s given).", len(link.recipient_name)
                ))
            if link.recipient_email and (
                len(link.recipient_email) > const.MAX_EMAIL
                or not email_normalize(link.recipient_email)
            ):
                raise ValidationError(self.env._(
                    "Recipient Email: must be a valid address of at most 50 characters "
                    "(%(email)r given).", email=link.recipient_email,
                ))
            if link.recipient_phone and not const.PHONE_RE.fullmatch(link.recipient_phone):
                raise ValidationError(self.env._(
                    "Recipient Phone: must be 62 followed by the number, 9 to 14 digits in all "
                    "(%(phone)r given).", phone=link.recipient_phone,
                ))

    # Not on "state": a line never leaves a closed state, so a change of state cannot make
    # a duplicate (and sending thousands of lines would check them all again).
    @api.constrains("batch_id", "employee_id", "currency_id", "provider_id", "company_id")
    def _check_batch_lines(self):
        in_batch = self.filtered("batch_id")
        for link in in_batch:
            batch = link.batch_id
            if (link.currency_id, link.provider_id, link.company_id) != (
                batch.currency_id, batch.provider_id, batch.company_id
            ):
                raise ValidationError(self.env._(
                    "Batch: %(link)s must have the currency, provider and company of its batch "
                    "%(batch)s.", link=link.display_name, batch=batch.name,
                ))
        if not in_batch:
            return
        duplicates = self.sudo()._read_group(
            [("batch_id", "in", in_batch.batch_id.ids),
             ("employee_id", "in", in_batch.employee_id.ids),
             ("state", "not in", const.CLOSED_STATES)],
            ["batch_id", "employee_id"], ["__count"], having=[("__count", ">", 1)], limit=1,
        )
        if duplicates:
            [(batch, employee, _count)] = duplicates
            raise ValidationError(self.env._(
                "Employee: %(employee)s already has a line in the batch %(batch)s.",
                employee=employee.name, batch=batch.name,
            ))

    def _prepare_and_check_vals(self, vals_list, creating=False):
        """Normalise ``vals_list`` in place (the phone) and refuse what the ORM or the
        database would otherwise break unclearly: a Monetary field rounds extra decimals
        silently, a missing employee or a duplicate reference fail as bare SQL errors.
        Raises ValidationError naming the field, or UserError for a frozen field."""
        frozen = () if creating else const.DRAFT_ONLY_FIELDS.intersection(set().union(*vals_list))
        if frozen and not all(link._is_editable() for link in self):
            raise UserError(self.env._(
                "Only draft payout links can be changed (%(fields)s). Cancel the link and "
                "create a new one instead.",
                fields=", ".join(self._fields[f].string for f in sorted(frozen)),
            ))
        references = []  # (company id, reference) asked for, in order
        for vals in vals_list:
            if creating and not vals.get("employee_id"):
                raise ValidationError(self.env._("Employee: required."))
            if vals.get("batch_id"):
                batch = self.env["payout.batch"].browse(vals["batch_id"])
                # Only a reissue, the workflow's, adds a line to a batch that left draft.
                if batch.state != "draft" and not (self.env.su and vals.get("replaced_link_id")):
                    raise ValidationError(self.env._(
                        "Batch: %s is no longer a draft; lines cannot be added to it.",
                        batch.name,
                    ))
            if "amount" in vals:
                self._check_amount_precision(vals)
            if vals.get("reference"):
                company_ids = [vals["company_id"]] if vals.get("company_id") else (
                    self.company_id.ids or [self.env.company.id])
                references += [(company_id, vals["reference"]) for company_id in company_ids]
            if vals.get("recipient_phone"):
                vals["recipient_phone"] = utils.normalize_phone(vals["recipient_phone"]) or vals[
                    "recipient_phone"]
        if references:
            used = {
                (link.company_id.id, link.reference)
                for link in self.sudo().search([
                    ("reference", "in", [ref for _company, ref in references]),
                    ("id", "not in", self.ids),
                ])
            }
            for key in references:
                if key in used:
                    raise ValidationError(self.env._(
                        "External ID: %(reference)s is already used in this company.",
                        reference=key[1],
                    ))
                used.add(key)

    def _check_amount_precision(self, vals):
        currencies = (
            self.env["res.currency"].browse(vals["currency_id"]) if vals.get("currency_id")
            else self.currency_id or self.env.company.currency_id
        )
        amount = vals["amount"] or 0.0
        for currency in currencies:
            if not float_is_zero(amount - currency.round(amount),
                                 precision_digits=currency.decimal_places + 3):
                raise ValidationError(self.env._(
                    "Amount: at most %(digits)s decimals for %(currency)s (%(amount)s given).",
                    digits=currency.decimal_places, currency=currency.name, amount=amount,
                ))
