from odoo import models
from odoo.exceptions import AccessError


class PayoutWorkflowMixin(models.AbstractModel):
    """Fields that only the payout workflow writes, for payout links and batches.

    In Odoo 18 ``readonly=True`` is only a hint to the web client: over RPC any user with
    write access could set a state or an approval stamp. The addon's own methods write
    these fields as sudo; `create` and `write` refuse them from anyone else, whatever
    their group.
    """

    _name = "payout.workflow.mixin"
    _description = "Payout Workflow Fields"

    # The names of the fields only the workflow writes (const.py)
    _workflow_fields = frozenset()

    def _check_workflow_vals(self, vals_list):
        """Refuse ``vals_list`` when a user, not the workflow, sets a workflow field."""
        if self.env.su:
            return
        if protected := self._workflow_fields.intersection(set().union(*vals_list)):
            raise AccessError(self.env._(
                "%(fields)s: set by the payout workflow only, never by hand.",
                fields=", ".join(sorted(self._fields[name].string for name in protected)),
            ))

    def _without_workflow_defaults(self):
        """``self`` without the ``default_<field>`` context keys of workflow fields: a
        user's context gives a new record its defaults, never its state."""
        if self.env.su:
            return self
        context = {key: value for key, value in self.env.context.items()
                   if not (key.startswith("default_")
                           and key.removeprefix("default_") in self._workflow_fields)}
        # The same context less those keys (with_context(key=...) can only add or change).
        return self.with_env(self.env(context=context)) if len(context) != len(
            self.env.context) else self
