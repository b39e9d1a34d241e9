"""Plain pytest tests of the call runner, the pacer and the per-thread client pool."""

import threading
import time

import pytest

from odoo.addons.hr_payout_link.protocol.concurrency import Pacer, run_calls
from odoo.addons.hr_payout_link.protocol.errors import (
    ProviderClientError,
    ProviderServerError,
)
from odoo.addons.hr_payout_link.protocol.transport import ClientPool


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class InFlight:
    """Calls that hold for a while, counting how many run at once."""

    def __init__(self, hold=0.05):
        self.hold = hold
        self.lock = threading.Lock()
        self.current = self.most = 0
        self.threads = set()

    def call(self, answer):
        def run():
            with self.lock:
                self.current += 1
                self.most = max(self.most, self.current)
                self.threads.add(threading.get_ident())
            time.sleep(self.hold)
            with self.lock:
                self.current -= 1
            return answer

        return run


def test_pacer_spaces_calls():
    fake = FakeTime()
    pacer = Pacer(0.25, clock=fake.clock, sleep=fake.sleep)
    pacer.wait()
    pacer.wait()
    fake.now += 0.1
    pacer.wait()
    assert fake.sleeps == [0.25, pytest.approx(0.15)]


def test_pacer_does_not_wait_after_a_pause():
    fake = FakeTime()
    pacer = Pacer(0.25, clock=fake.clock, sleep=fake.sleep)
    pacer.wait()
    fake.now += 1
    pacer.wait()
    assert fake.sleeps == []


def test_pacer_without_interval_never_waits():
    fake = FakeTime()
    pacer = Pacer(0.0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(3):
        pacer.wait()
    assert fake.sleeps == []


def test_pacer_across_threads():
    pacer = Pacer(0.05)
    starts = []
    lock = threading.Lock()

    def wait():
        pacer.wait()
        with lock:
            starts.append(time.monotonic())

    threads = [threading.Thread(target=wait) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    assert starts[-1] - starts[0] >= 4 * 0.05 * 0.95


def test_run_calls_at_most_max_workers_at_once():
    counter = InFlight()
    answers = run_calls([counter.call(i) for i in range(10)], max_workers=3)
    assert answers == [(i, None) for i in range(10)]
    assert counter.most == 3
    assert threading.get_ident() not in counter.threads


def test_run_calls_one_worker_runs_inline():
    counter = InFlight(hold=0)
    assert run_calls([counter.call(1), counter.call(2)]) == [(1, None), (2, None)]
    assert counter.threads == {threading.get_ident()}


def test_run_calls_returns_provider_errors_in_order():
    refused, down = ProviderClientError("no", status=400), ProviderServerError("down")

    def raising(error):
        def run():
            raise error

        return run

    calls = [raising(refused), lambda: "ok", raising(down)]
    for workers in (1, 3):
        assert run_calls(calls, max_workers=workers) == [
            (None, refused), ("ok", None), (None, down)
        ]


def test_run_calls_paced_across_workers():
    counter = InFlight(hold=0.1)
    start = time.monotonic()
    run_calls([counter.call(i) for i in range(4)], max_workers=4, interval=0.05)
    assert time.monotonic() - start >= 3 * 0.05 + 0.1 - 0.01
    assert counter.most > 1


def test_run_calls_bug_is_raised_and_stops_new_calls():
    started = []

    def call(i):
        def run():
            started.append(i)
            if i == 0:
                raise KeyError("bug")
            time.sleep(0.05)
            return i

        return run

    with pytest.raises(KeyError):
        run_calls([call(i) for i in range(20)], max_workers=2)
    assert len(started) < 20
    with pytest.raises(KeyError):
        run_calls([call(i) for i in range(3)])


class FakeClient:
    def __init__(self, settings):
        self.settings = settings
        self.closed = False

    def close(self):
        self.closed = True


def test_client_pool_one_client_per_thread_and_key():
    pool = ClientPool()
    first = pool.get("a", 1, lambda: FakeClient(1))
    assert pool.get("a", 1, lambda: FakeClient(1)) is first
    assert pool.get("b", 1, lambda: FakeClient(1)) is not first
    other = []
    thread = threading.Thread(target=lambda: other.append(pool.get("a", 1, lambda: FakeClient(1))))
    thread.start()
    thread.join()
    assert other[0] is not first


def test_client_pool_rebuilds_when_settings_change():
    pool = ClientPool()
    old = pool.get("a", ("url", "key1"), lambda: FakeClient(1))
    new = pool.get("a", ("url", "key2"), lambda: FakeClient(2))
    assert new.settings == 2
    assert old.closed and not new.closed
