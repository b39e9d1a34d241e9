"""Typed errors shared by every provider's protocol code.

`message` is plain English that can be shown to a user; `retryable` tells the transport
whether sending the same request again (same idempotency key, same bytes) may help.

A money-moving call ends in one of three kinds of outcome: an answer (accepted, with the
provider's status), a proven refusal (`refusal` is true: the provider did not and will not
create the payout), or an error whose outcome is unknown (every other error: a timeout, a
5xx, a malformed, unsigned, duplicate or conflicting answer). Only a refusal fails a
payout; an unknown outcome is looked up, never sent again under a new key.
"""


class ProviderError(Exception):
    retryable = False
    refusal = False  # a proven refusal (see the module docstring)
    # The outcome is unknown and no later lookup can settle it alone (a payout under our
    # reference that is not ours, an acceptance that cannot be verified): a person looks now.
    needs_person = False

    def __init__(self, message, *, status=None, code=None, body=None, answer=None):
        super().__init__(message)
        self.message = message
        self.status = status  # HTTP status, if a response came back
        self.code = code  # provider's error code, if it gave one
        self.body = body  # raw response text, for the record; never logged
        # What the provider seemed to answer (a ProviderAnswer), when it cannot be taken
        # as its answer (e.g. unverifiable): stored for the person who looks, never applied.
        self.answer = answer


class ProviderNetworkError(ProviderError):
    """The connection failed (refused, reset, closed without an answer)."""

    retryable = True


class ProviderTimeout(ProviderNetworkError):
    """No answer within the timeout: the provider may still have done the work."""


class ProviderServerError(ProviderError):
    """HTTP 5xx."""

    retryable = True


class ProviderClientError(ProviderError):
    """HTTP 4xx: the provider did not do what was asked; `message` is the provider's."""


class ProviderRefusal(ProviderClientError):
    """A 4xx that proves the provider did not and will not create the payout: a field it
    refuses, a channel it cannot pay, an amount beyond its limits, credentials it refuses.
    Each client says which 4xx are refusals (`ApiClient._is_refusal`)."""

    refusal = True


class ProviderConflict(ProviderClientError):
    """A 4xx that proves nothing about the payout: a duplicate or a conflict (the provider
    may hold the payout already), or a payout it does not know of."""


class ProviderMismatch(ProviderError):
    """The provider holds a payout under our reference whose amount or recipient are not
    ours: it is never adopted, and a person must look."""

    needs_person = True


class ProviderMalformedResponse(ProviderError):
    """The answer is not JSON or lacks a required key."""


class ProviderBadSignature(ProviderError):
    """A response or notification signature is missing, stale or wrong."""


class FieldValidationError(ProviderError, ValueError):
    """A request field breaks a provider rule; raised before anything is sent, so it is a
    refusal: no payout can exist."""

    refusal = True

    def __init__(self, field, rule):
        super().__init__(f"{field}: {rule}", code="INVALID_FIELD")
        self.field = field
        self.rule = rule
