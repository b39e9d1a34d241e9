from odoo import api, models
from odoo.exceptions import AccessError


class PayoutWorkflowMixin(models.AbstractModel):
    """Fields that only the payout workflow writes, for payout links and batches.

    In Odoo 18 ``readonly=True`` is only a hint to the web client: over RPC any user with
    write access could set a state or an approval stamp. A field declared with
    ``workflow_only=True`` is written by the addon's own methods only, as sudo: this
    mixin's `create` and `write` refuse it from anyone else, whatever their group, and a
    user's ``default_<field>`` context keys give it no value.
    """

    _name = "payout.workflow.mixin"
    _description = "Payout Workflow Fields"

    def _valid_field_parameter(self, field, name):
        # workflow_only=True: see the class docstring.
        return name == "workflow_only" or super()._valid_field_parameter(field, name)

    @api.model
    def _get_workflow_fields(self):
        """The names of the model's fields declared ``workflow_only``."""
        return frozenset(name for name, field in self._fields.items()
                         if getattr(field, "workflow_only", False))

    @api.model_create_multi
    def create(self, vals_list):
        self._check_workflow_vals(vals_list)
        return super(PayoutWorkflowMixin, self._without_workflow_defaults()).create(vals_list)

    def write(self, vals):
        self._check_workflow_vals([vals])
        return super().write(vals)

    def _check_workflow_vals(self, vals_list):
        """Refuse ``vals_list`` when a user, not the workflow, sets a workflow field."""
        if self.env.su:
            return
        if protected := self._get_workflow_fields().intersection(set().union(*vals_list)):
            raise AccessError(self.env._(
                "%(fields)s: set by the payout workflow only, never by hand.",
                fields=", ".join(sorted(self._fields[name].string for name in protected)),
            ))

    def _without_workflow_defaults(self):
        """``self`` without the ``default_<field>`` context keys of workflow fields: a
        user's context gives a new record its defaults, never its state."""
        if self.env.su:
            return self
        workflow_fields = self._get_workflow_fields()
        context = {key: value for key, value in self.env.context.items()
                   if not (key.startswith("default_")
                           and key.removeprefix("default_") in workflow_fields)}
        # The same context less those keys (with_context(key=...) can only add or change).
        return self.with_env(self.env(context=context)) if len(context) != len(
            self.env.context) else self
