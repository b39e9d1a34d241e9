"""What a provider says about one payout, whatever the provider.

Every provider's protocol code (Demo, DOKU, Xendit) answers with a ProviderAnswer, and
`payout.link._apply_provider_status` applies it to the link.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProviderAnswer:
    state: str | None  # the Odoo link state; None when the provider's status is unknown to us
    raw_status: str | None = None  # the provider's own status word, kept on the link
    reason: str | None = None  # why the payout failed, in plain English (failed states only)
    provider_reference: str | None = None  # the provider's id of the payout or link
    raw: dict = field(default_factory=dict)  # the decoded body the answer was read from
