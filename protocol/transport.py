"""One HTTP client for every provider, split into hooks like Odoo 19's
`payment.provider._send_api_request`: url / headers / auth / parse / error.

The payload is serialised once and exactly those bytes are sent (and signed) on every
attempt. Only retryable errors (network, timeout, 5xx) are retried, with the same
request id and the same bytes, so the provider's idempotency makes the retry safe.
"""

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from .errors import (
    ProviderConflict,
    ProviderError,
    ProviderMalformedResponse,
    ProviderNetworkError,
    ProviderRefusal,
    ProviderServerError,
    ProviderTimeout,
)

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10  # seconds, for connect and for read


@dataclass
class ApiResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes
    data: dict | list  # a list only when the call asked for one (`send(array=True)`)
    replayed: bool = False  # the provider answered a repeat with the original result


def decode_json(body, *, array=False):
    """Return the JSON object in `body` (with `array`, a JSON array too), or None if it is
    not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, (dict, list) if array else dict) else None


class ApiClient:
    """Subclasses override the `_build_*` / `_parse_*` hooks they need.

    A client serves one thread at a time (see ClientPool). `last_response` is the
    ApiResponse of its latest successful call (status, headers, exact body, whether it was
    a replay), for the record: the providers' calls return what it means, a ProviderAnswer.
    """

    name = "Provider"  # shown in error messages and logs

    def __init__(
        self,
        base_url,
        *,
        timeout=DEFAULT_TIMEOUT,
        max_retries=2,
        backoff=0.5,
        session=None,
        sleep=time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.session = session or requests.Session()
        self.sleep = sleep
        self.last_response = None

    def send(self, method, path, payload=None, *, request_id=None, array=False):
        """The provider's answer (ApiResponse) to one call; with `array`, the answer may be
        a JSON array as well as the JSON object every answer is otherwise."""
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        attempt = 0
        while True:
            try:
                self.last_response = self._send_once(method, path, body, request_id, array)
                return self.last_response
            except ProviderError as error:
                if not error.retryable or attempt >= self.max_retries:
                    raise
                delay = self.backoff * 2**attempt
                attempt += 1
                _logger.warning(
                    "%s %s %s (request id %s) failed: %s; retry %d in %.1fs",
                    self.name,
                    method,
                    path,
                    request_id,
                    error.message,
                    attempt,
                    delay,
                )
                self.sleep(delay)

    def close(self):
        self.session.close()

    def _send_once(self, method, path, body, request_id, array=False):
        try:
            response = self.session.request(
                method,
                self._build_url(path),
                data=body or None,
                headers=self._build_headers(method, path, body, request_id),
                auth=self._build_auth(),
                timeout=self.timeout,
                # An API never redirects; following one would resend signed headers.
                allow_redirects=False,
            )
        except requests.Timeout as error:
            raise ProviderTimeout(f"{self.name} did not answer in time.") from error
        except requests.RequestException as error:
            raise ProviderNetworkError(f"Could not reach {self.name}.") from error
        _logger.info(
            "%s %s %s (request id %s): HTTP %s",
            self.name,
            method,
            path,
            request_id,
            response.status_code,
        )
        replayed = self._is_replay(response)
        if response.status_code >= 400 and not replayed:
            raise self._parse_error(response)
        items = decode_json(response.content, array=True) if array else None
        return ApiResponse(
            status=response.status_code,
            headers=response.headers,
            body=response.content,
            data=items if isinstance(items, list) else self._parse_response(response),
            replayed=replayed,
        )

    # Hooks ---------------------------------------------------------------------------

    def _build_url(self, path):
        return self.base_url + path

    def _build_headers(self, method, path, body, request_id):
        """Rebuilt for every attempt (signatures carry a timestamp)."""
        return {"Content-Type": "application/json"} if body else {}

    def _build_auth(self):
        return None

    def _is_replay(self, response):
        """Whether an error status actually carries the answer of an earlier call."""
        return False

    def _parse_response(self, response):
        data = decode_json(response.content)
        if data is None:
            raise ProviderMalformedResponse(
                f"{self.name} sent an answer that is not a JSON object.",
                status=response.status_code,
                body=response.text,
            )
        return data

    def _parse_error(self, response):
        data = decode_json(response.content) or {}
        message, code = self._error_details(data)
        if response.status_code >= 500:
            error_class, fallback = ProviderServerError, f"{self.name} is unavailable"
        elif self._is_refusal(response.status_code, code):
            error_class, fallback = ProviderRefusal, f"{self.name} refused the request"
        else:
            error_class, fallback = ProviderConflict, f"{self.name} refused the request"
        return error_class(
            message or f"{fallback} (HTTP {response.status_code}).",
            status=response.status_code,
            code=code,
            body=response.text,
        )

    def _is_refusal(self, status, code):
        """Whether a 4xx answer proves the provider did not and will not do what was
        asked. A conflict (409) or a not-found (404) proves nothing about a payout."""
        return status not in (404, 409)

    def _error_details(self, data):
        """(message, code) from a decoded error body; None for what is missing."""
        return data.get("message"), data.get("code")


class ClientPool:
    """Keep-alive API clients, one per thread for each key: a `requests.Session` is not
    thread-safe. A client is rebuilt when its settings change, and a thread's clients
    go with the thread."""

    def __init__(self):
        self._local = threading.local()

    def get(self, key, settings, make_client):
        """The calling thread's client for `key`; `make_client()` builds it the first
        time and whenever `settings` differ from those it was built with."""
        clients = self._local.__dict__.setdefault("clients", {})
        cached_settings, client = clients.get(key, (None, None))
        if client is None or cached_settings != settings:
            if client is not None:
                client.close()
            client = make_client()
            clients[key] = (settings, client)
        return client
