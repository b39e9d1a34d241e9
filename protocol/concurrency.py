"""Provider calls run a few at a time, paced to the provider's rate limit.

A call is a zero-argument function doing only protocol work (HTTP included) and
returning its answer: whoever prepares it reads everything it needs first, so it can
run in any thread.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .errors import ProviderError


class Pacer:
    """Spaces the starts of calls at least `interval` seconds apart, across threads."""

    def __init__(self, interval=0.0, *, clock=time.monotonic, sleep=time.sleep):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next = None  # when the next call may start

    def wait(self):
        if not self.interval:
            return
        # Reserve a slot under the lock, wait for it outside: threads queue in order.
        with self._lock:
            now = self.clock()
            start = now if self._next is None else max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)


class CallSkipped(ProviderError):
    """The call was never started: the run's time budget ran out first. Nothing reached
    the provider."""


def run_calls(calls, max_workers=1, interval=0.0, deadline=None):
    """`iter_calls`, as a list."""
    return list(iter_calls(calls, max_workers, interval, deadline))


def iter_calls(calls, max_workers=1, interval=0.0, deadline=None, *, clock=time.monotonic):
    """Run `calls`, at most `max_workers` at once and their starts `interval` seconds
    apart; yield one (answer, error) pair per call, in their order, as soon as it and the
    calls before it have ended (so the caller can store answers while others run).

    A ProviderError is the call's error. A call that would start after `deadline` (a
    `clock()` value) is not made: its error is CallSkipped. Any other exception is a bug:
    no further call starts, and it is raised once the running calls have ended.
    """
    pacer = Pacer(interval)
    failed = threading.Event()  # a bug in a call: start no other

    def run(call):
        if failed.is_set():
            return None, CallSkipped("Not called: another call failed.")
        pacer.wait()
        if deadline is not None and clock() > deadline:
            return None, CallSkipped("Not called: the run's time budget was used up.")
        try:
            return call(), None
        except ProviderError as error:
            return None, error
        except Exception:
            failed.set()
            raise

    if max_workers <= 1 or len(calls) <= 1:
        for call in calls:
            yield run(call)
        return
    with ThreadPoolExecutor(
        max_workers=min(max_workers, len(calls)), thread_name_prefix="payout-call"
    ) as executor:
        futures = [executor.submit(run, call) for call in calls]
        try:
            for future in futures:
                if future.exception():
                    break  # a bug: leaving the block waits for the running calls
                yield future.result()
        finally:
            for future in futures:
                future.cancel()
    for future in futures:
        if not future.cancelled() and future.exception():
            raise future.exception()
