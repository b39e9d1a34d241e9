"""Typed errors shared by every provider's protocol code.

`message` is plain English that can be shown to a user; `retryable` tells the transport
whether sending the same request again (same idempotency key, same bytes) may help.
"""


class ProviderError(Exception):
    retryable = False

    def __init__(self, message, *, status=None, code=None, body=None):
        super().__init__(message)
        self.message = message
        self.status = status  # HTTP status, if a response came back
        self.code = code  # provider's error code, if it gave one
        self.body = body  # raw response text, for the record; never logged


class ProviderNetworkError(ProviderError):
    """The connection failed (refused, reset, closed without an answer)."""

    retryable = True


class ProviderTimeout(ProviderNetworkError):
    """No answer within the timeout: the provider may still have done the work."""


class ProviderServerError(ProviderError):
    """HTTP 5xx."""

    retryable = True


class ProviderClientError(ProviderError):
    """HTTP 4xx: the provider refused the request; `message` is the provider's."""


class ProviderMalformedResponse(ProviderError):
    """The answer is not JSON or lacks a required key."""


class ProviderBadSignature(ProviderError):
    """A response or notification signature is missing, stale or wrong."""


class FieldValidationError(ProviderError, ValueError):
    """A request field breaks a provider rule; raised before anything is sent."""

    def __init__(self, field, rule):
        super().__init__(f"{field}: {rule}", code="INVALID_FIELD")
        self.field = field
        self.rule = rule
