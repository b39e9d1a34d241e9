"""What the fault matrix's test classes share (test_fault_matrix*.py): its providers,
and what each one's sandbox holds under a reference.
"""

from ..protocol import doku, xendit

# Each provider: its provider attribute on the test class, and the path of its submission.
PROVIDERS = {
    "doku": ("doku_provider", doku.INITIATE_PATH),
    "xendit_v2": ("in_odoo", xendit.PAYOUT_PATH),
    "xendit_link": ("hosted", xendit.LINK_PATH),
}


class FaultMatrixMixin:
    """The providers' sandboxes seen from a test: what each holds under a reference."""

    def _held(self, kind, reference):
        """The statuses of the payouts the sandbox holds under ``reference``."""
        if kind == "doku":
            now = self.doku.server.clock.now()
            return [payout.data(now)["status"] for ref, payout in self.doku.payouts.items()
                    if ref == reference]
        items, field = ((self.xendit.payouts, "reference_id") if kind == "xendit_v2"
                        else (self.xendit.links, "external_id"))
        return [item.data["status"] for item in items.values()
                if item.data[field] == reference]
