"""A loopback HTTP server that simulated providers plug into: the project's stripe-mock.

A provider registers its routes (`route(method, path, handler, sign=...)`; a `{name}` in
the path matches one path segment, found in `request.params`), its own control endpoints
(`control(method, name, action)`) and a reset callback (`on_reset`). The server adds what
every provider needs: a journal of the requests received (`requests`), a controllable
`clock`, fault injection (`inject`), and how many provider requests it handles at once
(`stats()`: now, and at most since the last reset or restart of the count).

Faults (kinds, queue and random rate) are described in faults.py; `inject`,
`inject_rate` and `fault_rate` here are theirs.

Control endpoints (JSON) let another process (the Odoo demo, a benchmark) drive it:

    GET  /_sandbox/requests  {"requests": [{method, path, headers, body, json}, ...]}
    GET  /_sandbox/stats     {"in_flight": 0, "max_in_flight": 4}
    POST /_sandbox/stats     the same, then count max_in_flight afresh
    POST /_sandbox/faults    {"kind": "http_503", "count": 1, "path": null, "seconds": null,
                              "body_contains": null}
    POST /_sandbox/faults/rate  {"rate": 0.1, "kinds": null, "path": null, "method": null,
                              "seconds": null, "seed": null}, then as GET
    GET  /_sandbox/faults/rate  {"rate", "kinds", "path", "method", "seconds",
                              "injected": {kind: count}}
    GET  /_sandbox/clock     {"now": "2025-01-31T10:00:00Z"}
    POST /_sandbox/clock     {"advance": 3600} or {"set": "2025-01-31T10:00:00Z"}
    POST /_sandbox/reset     forget requests, faults, clock offset and provider state
    /_sandbox/<provider>/... what the providers add (see their modules)

Control requests are neither journaled nor subject to faults.
"""

import ipaddress
import json
import logging
import re
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from requests.structures import CaseInsensitiveDict

from ..protocol.timeutil import format_timestamp, parse_timestamp
from .faults import Faults

_logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox/"
JOURNAL_SIZE = 5000


class Clock:
    """Real UTC time shifted by an offset that tests move."""

    def __init__(self):
        self.offset = timedelta(0)

    def now(self):
        return datetime.now(timezone.utc) + self.offset

    def advance(self, seconds):
        self.offset += timedelta(seconds=seconds)
        return self.now()

    def set(self, dt):
        """Make now() return `dt` (naive = UTC); time keeps running from there."""
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=timezone.utc)
        self.offset = dt - datetime.now(timezone.utc)
        return self.now()

    def reset(self):
        self.offset = timedelta(0)


@dataclass
class Request:
    method: str
    path: str
    headers: CaseInsensitiveDict
    body: bytes  # exactly the bytes received
    json: object  # the parsed body, None when it is not JSON
    query: dict = field(default_factory=dict)  # query string, the last value of each name
    params: dict = field(default_factory=dict)  # values of the route's `{name}` segments
    received: float = field(default_factory=time.monotonic)  # arrival, to check pacing

    def as_dict(self):
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": dict(self.headers),
            "body": self.body.decode("utf-8", "replace"),
            "json": self.json,
        }


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"


def json_response(status, data):
    return Response(status, json.dumps(data, separators=(",", ":")).encode())


def error_response(status, code, message):
    return json_response(status, {"error": {"code": code, "message": message}})


@dataclass
class _Route:
    handler: Callable  # (Request) -> Response
    sign: Callable | None  # (Request, Response, wrong: bool) -> None, sets headers


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Clients open several connections at once: a short listen queue would drop some, and
    # they would wait a second for the retransmission.
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # Clients that hang up (they timed out, or a fault cut them off) are expected.
        _logger.debug("Sandbox connection from %s failed: %s", client_address, sys.exc_info()[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real APIs
    # Headers and body go out in two writes: without this, Nagle's algorithm holds the
    # body until the client's delayed ACK (about 40 ms a call on loopback).
    disable_nagle_algorithm = True

    def _handle(self):
        self.server.sandbox._dispatch(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format, *args):
        _logger.debug("Sandbox: " + format, *args)


def _check_loopback(host):
    try:
        loopback = host == "localhost" or ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"The sandbox only listens on loopback (127.x.x.x), not on {host!r}.")


def _path_pattern(path):
    """`/v2/payouts/{id}/cancel` -> a regex matching one path segment per `{name}`."""
    parts = re.split(r"\{(\w+)\}", path)  # literal, name, literal, name, ..., literal
    return re.compile(
        "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
        )
    )


def _parse_json(body):
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


class SandboxServer:
    def __init__(self, host="127.0.0.1", port=0):
        _check_loopback(host)
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.sandbox = self
        self._thread = None
        self._stopping = threading.Event()  # wakes delayed answers on stop
        self._lock = threading.Lock()
        self._routes = {}
        self._patterns = {}  # (method, path with {name}): (regex, _Route)
        self._resets = []
        self.faults = Faults()
        self.clock = Clock()
        self.in_flight = self.max_in_flight = 0
        # The journal, in arrival order; bounded, so a long run (the demo, a benchmark)
        # neither leaks memory nor slows down as it grows.
        self.requests = deque(maxlen=JOURNAL_SIZE)
        self._controls = {
            ("GET", "requests"): lambda params: {"requests": [r.as_dict() for r in self.requests]},
            ("GET", "stats"): lambda params: self.stats(),
            ("POST", "stats"): lambda params: self.stats(restart=True),
            ("POST", "faults"): self._control_fault,
            ("GET", "faults/rate"): lambda params: self.fault_rate(),
            ("POST", "faults/rate"): lambda params: self.inject_rate(**params),
            ("GET", "clock"): lambda params: {"now": format_timestamp(self.clock.now())},
            ("POST", "clock"): self._control_clock,
            ("POST", "reset"): self._control_reset,
        }

    @property
    def url(self):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to this long
            name="payout-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        if self._thread:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    # For providers ---------------------------------------------------------------------

    def route(self, method, path, handler, *, sign=None):
        if "{" in path:
            self._patterns[method, path] = (_path_pattern(path), _Route(handler, sign))
        else:
            self._routes[method, path] = _Route(handler, sign)

    def control(self, method, name, action):
        """Serve `action(params: dict) -> dict` at `/_sandbox/<name>`, `name` being like
        `<provider>/<action>`; a TypeError or ValueError it raises answers 400."""
        self._controls[method, name] = action

    def on_reset(self, callback):
        self._resets.append(callback)

    # For tests -------------------------------------------------------------------------

    def inject(self, kind, count=1, path=None, seconds=None, body_contains=None):
        """Queue a fault (see faults.py); returns how many are queued."""
        return self.faults.inject(kind, count, path, seconds, body_contains)

    def inject_rate(self, rate, kinds=None, path=None, method=None, seconds=None, seed=None):
        """Fault a share of the requests from now on (see faults.py)."""
        return self.faults.inject_rate(rate, kinds, path, method, seconds, seed)

    def fault_rate(self):
        return self.faults.rate_info()

    def stats(self, restart=False):
        """Provider requests in flight now, and at most since the last restart."""
        with self._lock:
            stats = {"in_flight": self.in_flight, "max_in_flight": self.max_in_flight}
            if restart:
                self.max_in_flight = self.in_flight
        return stats

    def reset(self):
        self.stats(restart=True)
        with self._lock:
            self.requests.clear()
        self.faults.clear()
        self.clock.reset()
        for callback in self._resets:
            callback()

    # Serving ---------------------------------------------------------------------------

    def _dispatch(self, handler):
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        url = urlsplit(handler.path)
        request = Request(
            handler.command,
            url.path,
            CaseInsensitiveDict(handler.headers.items()),
            body,
            _parse_json(body),
            dict(parse_qsl(url.query)),
        )
        control = request.path.startswith(CONTROL_PREFIX)
        try:
            if control:
                response = self._control(request)
            else:
                self._count_in_flight(1)
                try:
                    response = self._serve(request)
                finally:
                    # Before the answer goes out: the client still counts it in flight.
                    self._count_in_flight(-1)
        except Exception:
            _logger.exception("Sandbox bug on %s %s", request.method, request.path)
            response = error_response(500, "SANDBOX_BUG", "The sandbox crashed; see its log.")
        if response is None:
            _reset_connection(handler)
        else:
            _write(handler, response)

    def _count_in_flight(self, change):
        with self._lock:
            self.in_flight += change
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _serve(self, request):
        """The provider's answer with any fault applied; None to drop the connection."""
        with self._lock:
            self.requests.append(request)
        fault = self.faults.take(request)
        kind = fault.kind if fault else None
        route = self._find_route(request)
        if kind in ("http_500", "http_503"):
            response = error_response(int(kind[-3:]), "SERVER_ERROR", "Injected server error.")
        elif route:
            response = route.handler(request)
        else:
            response = error_response(
                404, "NOT_FOUND", f"No route {request.method} {request.path}."
            )
        _logger.info(
            "Sandbox %s %s -> %s%s",
            request.method,
            request.path,
            response.status,
            f" (fault: {kind})" if kind else "",
        )
        if kind in ("latency", "timeout"):
            self._stopping.wait(fault.seconds)
        elif kind == "reset":
            return None
        elif kind == "malformed_json":
            response.body, response.content_type = b"<html>Bad Gateway</html>", "text/html"
        if route and route.sign:
            route.sign(request, response, kind == "bad_signature")
        return response

    def _find_route(self, request):
        route = self._routes.get((request.method, request.path))
        if route:
            return route
        for (method, _path), (pattern, route) in self._patterns.items():
            match = pattern.fullmatch(request.path) if method == request.method else None
            if match:
                request.params = match.groupdict()
                return route
        return None

    # Control endpoints -----------------------------------------------------------------

    def _control(self, request):
        action = self._controls.get((request.method, request.path[len(CONTROL_PREFIX) :]))
        if action is None:
            return error_response(404, "NOT_FOUND", f"No control {request.method} {request.path}.")
        params = request.json if isinstance(request.json, dict) else {}
        try:
            return json_response(200, action(params))
        except (TypeError, ValueError) as error:
            return error_response(400, "BAD_CONTROL", str(error))

    def _control_fault(self, params):
        return {"faults": self.inject(**params)}

    def _control_clock(self, params):
        if "advance" in params:
            now = self.clock.advance(float(params["advance"]))
        elif "set" in params:
            now = self.clock.set(parse_timestamp(params["set"]))
        else:
            raise ValueError('Give "advance" (seconds) or "set" (ISO timestamp).')
        return {"now": format_timestamp(now)}

    def _control_reset(self, params):
        self.reset()
        return {}


def _write(handler, response):
    try:
        handler.send_response(response.status)
        for name, value in response.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", response.content_type)
        handler.send_header("Content-Length", str(len(response.body)))
        handler.end_headers()
        handler.wfile.write(response.body)
    except OSError:  # the client already gave up (timeout fault)
        handler.close_connection = True


def _reset_connection(handler):
    # Linger 0: closing sends RST, the client sees "connection reset", not a clean EOF.
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


class ProviderSandbox:
    """What every provider's sandbox shares: its server, a lock over its state, and a
    reset when the server resets. A subclass sets its state up in `reset()` and calls it
    at the end of its `__init__`."""

    def __init__(self, server):
        self.server = server
        self._lock = threading.Lock()
        server.on_reset(self.reset)

    @property
    def url(self):
        return self.server.url

    def reset(self):
        raise NotImplementedError

    @classmethod
    def start(cls, host="127.0.0.1", port=0, **options):
        """Start a sandbox of this provider on its own server, in a background thread,
        and return it (`.url`, credentials, `.server` for clock, journal and faults).
        Stop it with `.server.stop()`."""
        sandbox = cls(SandboxServer(host, port), **options)
        sandbox.server.start()
        return sandbox
