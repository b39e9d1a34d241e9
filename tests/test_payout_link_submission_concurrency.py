from itertools import pairwise
from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..protocol import concurrency, doku, xendit
from ..protocol.timeutil import HOUR
from .common import PayoutCommon

LIMIT = 3  # the providers' max_concurrent_calls here
LATENCY = 0.2  # seconds the sandbox holds each answer: calls overlap when they can


def _quoted(link):
    """The link's reference as a JSON body holds it (not a prefix of another one)."""
    return f'"{link.submission_reference}"'


@tagged("post_install", "-at_install")
class TestDokuConcurrency(PayoutCommon):
    """DOKU calls made a few at once, as the sandbox saw them arrive."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_doku(max_concurrent_calls=LIMIT)

    def setUp(self):
        super().setUp()
        self.doku.server.reset()

    def _queued(self, count):
        links = self.env["payout.link"].create([{
            "employee_id": self._employee_at(f"dewi{i}@example.com").id,
            "provider_id": self.doku_provider.id,
            "currency_id": self.idr.id, "amount": 1500000 + i,
            "recipient_email": f"dewi{i}@example.com",
        } for i in range(count)])
        links.action_send()
        return links

    def _calls(self, path, link=None):
        """The requests DOKU received on ``path``, only those about ``link`` if given."""
        return [r for r in self.doku.server.requests
                if r.path == path and (link is None or _quoted(link) in r.body.decode())]

    def _assert_overlapped(self):
        """Calls overlapped, never more than the provider allows; then count afresh."""
        most = self.doku.server.stats(restart=True)["max_in_flight"]
        self.assertGreater(most, 1)
        self.assertLessEqual(most, LIMIT)

    def _assert_one_payout_each(self, links):
        self.assertEqual(sorted(self.doku.payouts), sorted(links.mapped("submission_reference")))

    def test_batch_is_submitted_and_polled_a_few_calls_at_once(self):
        links = self._queued(8)
        self.doku.server.inject("latency", count=100, seconds=LATENCY)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(set(links.mapped("submission_state")), {"accepted"})
        self.assertEqual(set(links.mapped("provider_status")), {"PENDING"})
        self._assert_one_payout_each(links)
        self._assert_overlapped()

        self.doku.server.clock.advance(HOUR)
        links.date_provider_call = False  # as if the polling interval had passed
        polled = self.env["payout.link"]._cron_poll_provider_status(with_commit=False)
        self.assertEqual(polled, links)
        self.assertEqual(set(links.mapped("state")), {"opened"})
        self.assertEqual(len(self._calls(doku.STATUS_PATH)), 8)
        self._assert_overlapped()

    def test_whole_batch_is_marked_and_committed_before_any_call(self):
        links = self._queued(4)
        seen = []
        run_calls = concurrency.iter_calls

        def check_then_run(*args, **kwargs):
            self.env.cr.execute("SELECT DISTINCT submission_state FROM payout_link "
                                "WHERE id IN %s", [tuple(links.ids)])
            seen.append((self.env.cr.fetchall(), commit.call_count))
            return run_calls(*args, **kwargs)

        with patch.object(self.env.cr, "commit") as commit, \
                patch.object(concurrency, "iter_calls", side_effect=check_then_run):
            self.env["payout.link"]._cron_submit_payouts()
        self.assertEqual(seen, [([("submitting",)], 1)], "one mark, one commit, then the calls")
        self.assertEqual(commit.call_count, 2, "and the batch's commit")
        self.assertEqual(set(links.mapped("submission_state")), {"accepted"})

    def test_one_unclear_link_stays_submitting_while_the_others_are_submitted(self):
        links = self._queued(5)
        down, slow = links[0], links[1]
        server = self.doku.server
        # 5xx on every attempt for one link; the other's first answer times out (DOKU
        # created its link), then 5xx. Faults go to the first match: these before latency.
        server.inject("http_503", count=3, path=doku.INITIATE_PATH, body_contains=_quoted(down))
        server.inject("timeout", path=doku.INITIATE_PATH, body_contains=_quoted(slow),
                      seconds=11)
        server.inject("http_503", count=2, path=doku.INITIATE_PATH, body_contains=_quoted(slow))
        server.inject("latency", count=100, seconds=LATENCY)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        for link in down | slow:
            self.assertEqual((link.state, link.submission_state), ("sent", "submitting"))
            self.assertTrue(link.date_provider_call)
            self.assertIn("did not answer clearly", link.message_ids[0].body)
        others = links - down - slow
        self.assertEqual(set(others.mapped("submission_state")), {"accepted"})
        self.assertEqual(sorted(self.doku.payouts),
                         sorted((others | slow).mapped("submission_reference")))

        self._retry_submissions()  # down: unknown to DOKU, sent; slow: found by its status
        self.assertEqual(set(links.mapped("submission_state")), {"accepted"})
        self.assertEqual(set(links.mapped("provider_status")), {"PENDING"})
        self._assert_one_payout_each(links)
        for link in links:
            request_ids = {r.headers["Request-Id"]
                           for r in self._calls(doku.INITIATE_PATH, link)}
            self.assertEqual(request_ids, {link.submission_key})

    def test_replays_and_reconciliations_in_one_concurrent_batch(self):
        links = self._queued(7)
        replayed, duplicate, found, unseen = links[:4]
        client = self.doku_provider._api_client()
        server = self.doku.server
        # The answer is lost once: the client's retry gets DOKU's 409 replay.
        server.inject("reset", path=doku.INITIATE_PATH, body_contains=_quoted(replayed))
        # DOKU already has this reference from another Request-Id: 409, then its status.
        client.initiate(self.doku_provider._doku_initiate_fields(duplicate),
                        doku.new_request_id())
        # Interrupted after DOKU created it, and before the call reached DOKU.
        client.initiate(self.doku_provider._doku_initiate_fields(found), found.submission_key)
        (found | unseen).submission_state = "submitting"
        server.inject("latency", count=100, seconds=LATENCY)
        before = {link: len(self._calls(doku.INITIATE_PATH, link)) for link in links}

        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(set(links.mapped("submission_state")), {"accepted"})
        self.assertEqual(set(links.mapped("provider_status")), {"PENDING"})
        self._assert_one_payout_each(links)
        by_link = {link: self._calls(doku.INITIATE_PATH, link)[before[link]:]
                   for link in links}
        self.assertEqual([r.headers["Request-Id"] for r in by_link[replayed]],
                         [replayed.submission_key] * 2, "retried with the same Request-Id")
        self.assertFalse(by_link[found], "reconciled through its status, not resent")
        self.assertEqual([r.headers["Request-Id"] for r in by_link[unseen]],
                         [unseen.submission_key], "404: initiated with its Request-Id")
        self.assertEqual(len(by_link[duplicate]), 1)
        self._assert_overlapped()

    def test_rate_limit_paces_concurrent_polls(self):
        links = self._queued(5)
        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.doku_provider.doku_rate_limit = 10
        self.doku.server.inject("latency", count=100, path=doku.STATUS_PATH, seconds=0.3)
        self.doku.server.stats(restart=True)
        links.date_provider_call = False  # as if the polling interval had passed
        polled = self.env["payout.link"]._cron_poll_provider_status(with_commit=False)
        self.assertEqual(polled, links)
        arrivals = sorted(r.received for r in self._calls(doku.STATUS_PATH))
        self.assertEqual(len(arrivals), 5)
        # 10 calls a second: a call starts every 0.1 s (allowing loopback jitter).
        self.assertGreaterEqual(arrivals[-1] - arrivals[0], 0.38)
        self.assertTrue(all(b - a >= 0.07 for a, b in pairwise(arrivals)))
        self._assert_overlapped()

    def test_concurrent_calls_setting(self):
        for value in (1, 16):
            self.doku_provider.max_concurrent_calls = value
        for value in (0, 17):
            with self.subTest(value=value), self.assertRaisesRegex(
                ValidationError, rf"Concurrent Calls: from 1 to 16 \({value} given\)"
            ), self.env.cr.savepoint():
                self.doku_provider.max_concurrent_calls = value

    def test_demo_calls_run_in_this_thread(self):
        links = self._claimed_links(3)
        with patch.object(concurrency, "ThreadPoolExecutor",
                          side_effect=AssertionError("no thread for Demo")):
            self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        self.assertEqual(set(links.mapped("state")), {"done"})


@tagged("post_install", "-at_install")
class TestXenditConcurrency(PayoutCommon):
    """Xendit's reconciliation paths in one concurrent batch."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_xendit(max_concurrent_calls=LIMIT)

    def setUp(self):
        super().setUp()
        self.xendit.server.reset()

    def _link(self, provider, i):
        return self._create_link(provider_id=provider.id, currency_id=self.idr.id,
                                 amount=1500000 + i, recipient_email=f"dewi{i}@example.com")

    def test_v2_payouts_and_links_reconciled_in_one_concurrent_batch(self):
        claimed = self.env["payout.link"]
        for i in range(4):
            link = self._link(self.in_odoo, i)
            self._send(link)
            link._claim(self.bank, "1234567890", "Dewi Lestari")
            claimed |= link
        hosted = self._link(self.hosted, 9) | self._link(self.hosted, 10)
        hosted.action_send()
        client = self.xendit.client()
        found, unseen = claimed[:2]
        # Interrupted after Xendit created the payout, and before the call reached Xendit.
        client.create_payout(reference_id=found.submission_reference, channel_code="ID_BCA",
                             account_number="1234567890", account_holder_name="Dewi Lestari",
                             amount=found.amount, idempotency_key=found.submission_key)
        client.create_payout_link(hosted[0].submission_reference, hosted[0].amount,
                                  hosted[0].recipient_email, hosted[0].submission_key)
        (found | unseen | hosted[0]).submission_state = "submitting"
        self.xendit.server.inject("latency", count=100, seconds=LATENCY)

        self.env["payout.link"]._cron_submit_payouts(with_commit=False)
        links = claimed | hosted
        self.assertEqual(set(links.mapped("submission_state")), {"accepted"})
        self.assertEqual(set(claimed.mapped("provider_status")), {"ACCEPTED"})
        self.assertEqual(set(hosted.mapped("provider_status")), {"PENDING"})
        references = sorted(i.data["reference_id"] for i in self.xendit.payouts.values())
        self.assertEqual(references, sorted(claimed.mapped("submission_reference")),
                         "paid once each")
        self.assertEqual(len(self.xendit.links), 2)
        creates = [r for r in self.xendit.server.requests
                   if r.method == "POST" and r.path == xendit.PAYOUT_PATH]
        self.assertEqual(sum(_quoted(found) in r.body.decode() for r in creates), 1,
                         "found by its reference, not created again")
        most = self.xendit.server.stats()["max_in_flight"]
        self.assertGreater(most, 1)
        self.assertLessEqual(most, LIMIT)
