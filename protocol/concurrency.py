"""Provider calls run a few at a time, paced to the provider's rate limit.

A call is a zero-argument function doing only protocol work (HTTP included) and
returning its answer: whoever prepares it reads everything it needs first, so it can
run in any thread.
"""

import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

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


def run_calls(calls, max_workers=1, interval=0.0):
    """Run `calls`, at most `max_workers` at once and their starts `interval` seconds
    apart; return one (answer, error) pair per call, in their order.

    A ProviderError is the call's error. Any other exception is a bug: no further call
    starts, and it is raised once the running calls have ended.
    """
    pacer = Pacer(interval)

    def run(call):
        pacer.wait()
        try:
            return call(), None
        except ProviderError as error:
            return None, error

    if max_workers <= 1 or len(calls) <= 1:
        return [run(call) for call in calls]
    with ThreadPoolExecutor(
        max_workers=min(max_workers, len(calls)), thread_name_prefix="payout-call"
    ) as executor:
        futures = [executor.submit(run, call) for call in calls]
        _done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
    # Leaving the block waited for the running calls; a bug among them is raised here.
    for future in futures:
        if not future.cancelled() and future.exception():
            raise future.exception()
    return [future.result() for future in futures]
