"""The call runner, the pacer and the per-thread client pool (no server, no database)."""

import threading
import time

from odoo.tests import BaseCase, tagged

from ..protocol.concurrency import Pacer, run_calls
from ..protocol.errors import ProviderClientError, ProviderServerError
from ..protocol.transport import ClientPool


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


class FakeClient:
    def __init__(self, settings):
        self.settings = settings
        self.closed = False

    def close(self):
        self.closed = True


@tagged("post_install", "-at_install")
class TestPacer(BaseCase):
    """The pacer keeps an interval between the starts of calls, in one thread or many."""

    def setUp(self):
        super().setUp()
        self.fake = FakeTime()

    def _pacer(self, interval):
        return Pacer(interval, clock=self.fake.clock, sleep=self.fake.sleep)

    def test_pacer_spaces_calls(self):
        """A call right after another waits the whole interval, a later one only the rest."""
        pacer = self._pacer(0.25)
        pacer.wait()
        pacer.wait()
        self.fake.now += 0.1
        pacer.wait()
        self.assertEqual(len(self.fake.sleeps), 2)
        self.assertEqual(self.fake.sleeps[0], 0.25)
        self.assertAlmostEqual(self.fake.sleeps[1], 0.15)

    def test_pacer_does_not_wait_after_a_pause(self):
        pacer = self._pacer(0.25)
        pacer.wait()
        self.fake.now += 1
        pacer.wait()
        self.assertEqual(self.fake.sleeps, [])

    def test_pacer_without_interval_never_waits(self):
        pacer = self._pacer(0.0)
        for _ in range(3):
            pacer.wait()
        self.assertEqual(self.fake.sleeps, [])

    def test_pacer_across_threads(self):
        """Five threads sharing one pacer start at least four intervals apart in all."""
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
        self.assertGreaterEqual(starts[-1] - starts[0], 4 * 0.05 * 0.95)


@tagged("post_install", "-at_install")
class TestRunCalls(BaseCase):
    """run_calls runs calls on worker threads, answers in order, and stops on a bug."""

    def test_run_calls_at_most_max_workers_at_once(self):
        counter = InFlight()
        answers = run_calls([counter.call(i) for i in range(10)], max_workers=3)
        self.assertEqual(answers, [(i, None) for i in range(10)])
        self.assertEqual(counter.most, 3)
        self.assertNotIn(threading.get_ident(), counter.threads)

    def test_run_calls_one_worker_runs_inline(self):
        counter = InFlight(hold=0)
        self.assertEqual(run_calls([counter.call(1), counter.call(2)]), [(1, None), (2, None)])
        self.assertEqual(counter.threads, {threading.get_ident()})

    def test_run_calls_returns_provider_errors_in_order(self):
        refused, down = ProviderClientError("no", status=400), ProviderServerError("down")

        def raising(error):
            def run():
                raise error

            return run

        calls = [raising(refused), lambda: "ok", raising(down)]
        for workers in (1, 3):
            with self.subTest(workers=workers):
                self.assertEqual(
                    run_calls(calls, max_workers=workers),
                    [(None, refused), ("ok", None), (None, down)],
                )

    def test_run_calls_paced_across_workers(self):
        counter = InFlight(hold=0.1)
        start = time.monotonic()
        run_calls([counter.call(i) for i in range(4)], max_workers=4, interval=0.05)
        self.assertGreaterEqual(time.monotonic() - start, 3 * 0.05 + 0.1 - 0.01)
        self.assertGreater(counter.most, 1)

    def test_run_calls_bug_is_raised_and_stops_new_calls(self):
        """An exception that is not a ProviderError is raised, and no new call starts."""
        started = []

        def call(i):
            def run():
                started.append(i)
                if i == 0:
                    raise KeyError("bug")
                time.sleep(0.05)
                return i

            return run

        with self.assertRaises(KeyError):
            run_calls([call(i) for i in range(20)], max_workers=2)
        self.assertLess(len(started), 20)
        with self.assertRaises(KeyError):
            run_calls([call(i) for i in range(3)])


@tagged("post_install", "-at_install")
class TestClientPool(BaseCase):
    """The client pool keeps one client per thread and key, rebuilt when settings change."""

    def test_client_pool_one_client_per_thread_and_key(self):
        pool = ClientPool()
        first = pool.get("a", 1, lambda: FakeClient(1))
        self.assertIs(pool.get("a", 1, lambda: FakeClient(1)), first)
        self.assertIsNot(pool.get("b", 1, lambda: FakeClient(1)), first)
        other = []
        thread = threading.Thread(
            target=lambda: other.append(pool.get("a", 1, lambda: FakeClient(1))))
        thread.start()
        thread.join()
        self.assertIsNot(other[0], first)

    def test_client_pool_rebuilds_when_settings_change(self):
        pool = ClientPool()
        old = pool.get("a", ("url", "key1"), lambda: FakeClient(1))
        new = pool.get("a", ("url", "key2"), lambda: FakeClient(2))
        self.assertEqual(new.settings, 2)
        self.assertTrue(old.closed)
        self.assertFalse(new.closed)
