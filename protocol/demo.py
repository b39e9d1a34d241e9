"""The built-in Demo provider: pays at once, except for documented test accounts.

No money moves; the outcome is a pure function of the account number, so submitting the
same payout twice gives the same answer (the Demo provider is idempotent by nature).
"""

from .answers import ProviderAnswer

# Test account numbers that show every branch of the flow (documented in the README and
# on the claim page while the provider is in test mode).
FAILING_ACCOUNTS = {
    "4000000001": "Invalid destination account",
    "4000000002": "Insufficient balance",
}
PROCESSING_ACCOUNT = "4000000003"


def pay(account_number):
    """What the Demo provider answers to a payout to ``account_number``: a ProviderAnswer
    whose state is 'done', 'failed' (with the reason) or 'processing'."""
    if account_number in FAILING_ACCOUNTS:
        return ProviderAnswer("failed", reason=FAILING_ACCOUNTS[account_number])
    if account_number == PROCESSING_ACCOUNT:
        return ProviderAnswer("processing")
    return ProviderAnswer("done")
