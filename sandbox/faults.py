"""Fault injection for the sandbox server: faults queued by a test, and a random fault
rate for a soak run.

Queued faults (`Faults.inject`) are consumed in order, the first whose `path` matches
(None = any path) and whose `body_contains` is in the request body (None = any body; a
reference targets one payout even when many are sent at once):

    http_500, http_503  answer 500 / 503 without calling the provider
    latency             the provider handles the request; the answer waits `seconds` (1)
    timeout             same, waiting longer than a client's default timeout
    reset               handled, then the connection is dropped (RST) without an answer
    malformed_json      handled, the answer body is replaced by non-JSON
    bad_signature       handled, the answer is signed with a wrong key

All but the first two model a lost or damaged answer: the provider did the work and the
client does not know it, which is what idempotency keys are for.

A fault rate (`Faults.inject_rate(rate, kinds, path, method, seconds, seed)`) adds random
faults on top: each provider request that matches `path` and `method` (None = any) and
takes no queued fault gets one with probability `rate`, its kind drawn from `kinds` (all
of them by default); `rate_info()` counts the faults it injected by kind. A rate of 0
turns it off, as `clear()` does.
"""

import random
import threading
from dataclasses import dataclass, field

from ..protocol.transport import DEFAULT_TIMEOUT

FAULT_KINDS = (
    "latency",
    "http_500",
    "http_503",
    "timeout",
    "reset",
    "malformed_json",
    "bad_signature",
)
_DEFAULT_DELAY = {"latency": 1.0, "timeout": DEFAULT_TIMEOUT + 1.0}


@dataclass
class Fault:
    kind: str
    count: int = 1
    path: str | None = None
    seconds: float | None = None
    body_contains: str | None = None


@dataclass
class FaultRate:
    """Random faults: a share `rate` of the matching requests, of random `kinds`."""

    rate: float = 0.0
    kinds: tuple = FAULT_KINDS
    path: str | None = None
    method: str | None = None
    seconds: float | None = None
    rng: random.Random = field(default_factory=random.Random)
    injected: dict = field(default_factory=dict)  # kind: count

    def draw(self, request):
        """A fault for ``request``, or None."""
        if not (
            self.rate
            and self.path in (None, request.path)
            and self.method in (None, request.method)
            and self.rng.random() < self.rate
        ):
            return None
        kind = self.rng.choice(self.kinds)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        seconds = self.seconds if self.seconds is not None else _DEFAULT_DELAY.get(kind)
        return Fault(kind, seconds=seconds)

    def as_dict(self):
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "path": self.path,
            "method": self.method,
            "seconds": self.seconds,
            "injected": dict(self.injected),
        }


class Faults:
    """The queued faults and the fault rate of one server (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queued = []
        self._rate = FaultRate()

    def inject(self, kind, count=1, path=None, seconds=None, body_contains=None):
        if kind not in FAULT_KINDS:
            raise ValueError(f"Unknown fault {kind!r}; one of {', '.join(FAULT_KINDS)}.")
        if seconds is None:
            seconds = _DEFAULT_DELAY.get(kind)
        with self._lock:
            self._queued.append(Fault(kind, int(count), path, seconds, body_contains))
            return len(self._queued)

    def inject_rate(self, rate, kinds=None, path=None, method=None, seconds=None, seed=None):
        """Fault a share ``rate`` (0 to 1) of the matching provider requests from now on,
        each with a kind drawn from ``kinds`` (every kind by default); ``seed`` makes the
        draws repeatable. Returns `rate_info()`."""
        rate = float(rate)
        if not 0 <= rate <= 1:
            raise ValueError(f"The fault rate is a share from 0 to 1, not {rate}.")
        kinds = tuple(kinds or FAULT_KINDS)
        if unknown := set(kinds) - set(FAULT_KINDS):
            raise ValueError(f"Unknown fault(s) {', '.join(sorted(unknown))}.")
        with self._lock:
            self._rate = FaultRate(
                rate, kinds, path, method and method.upper(), seconds, random.Random(seed)
            )
        return self.rate_info()

    def rate_info(self):
        """The fault rate's settings, and the faults it injected so far by kind."""
        with self._lock:
            return self._rate.as_dict()

    def take(self, request):
        """The fault ``request`` gets (the first queued one that matches, else one the
        rate draws), or None."""
        with self._lock:
            for fault in self._queued:
                if fault.path in (None, request.path) and (
                    fault.body_contains is None or fault.body_contains.encode() in request.body
                ):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._queued.remove(fault)
                    return fault
            return self._rate.draw(request)

    def clear(self):
        with self._lock:
            self._queued.clear()
            self._rate = FaultRate()
