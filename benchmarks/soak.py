"""Soak run: a payout batch claimed and paid through two real Odoo servers, with faults.

Starts, all on 127.0.0.1, the provider sandbox (Xendit) in its own process, faulting a
share `--fault-rate` (10% by default) of the money calls (`/v2/payouts`: create and
lookup by reference) with latency, 500, 503, resets and lost or damaged answers; and two
Odoo servers in prefork mode (2 HTTP workers and a cron worker each) on the same
database. Then:

1. **send**: a batch of `--links` Xendit v2 links (claimed in Odoo), Send All; the servers'
   batch cron sends the claim emails. There is no SMTP server: the emails stay queued, and
   the queue is the employees' inbox.
2. **claim**: each link claimed over HTTP as its employee would, through one server and
   then the other (the page, the secret read from its email, the bank account), with
   replayed POSTs: the secret again through the other server, the account again through
   the other server, and for every fourth link both account POSTs at once.
3. **settle**: the servers' payment cron pays the claimed links through the sandbox;
   the script moves the sandbox's clock on (its payouts succeed 15 minutes after they
   are made), has the sandbox deliver its callbacks to the servers, and triggers the
   payment and polling crons, until every link is paid, closed or needs attention, or
   `--timeout` seconds have passed since the start.

It prints the links paid, the most payouts the sandbox holds for one link (1, or money
went out twice), the links stuck (neither final nor flagged for attention), the links
needing attention, the money paid on both sides, the faults injected, the HTTP answers
that were not as expected, errors in the servers' logs, and the time of each phase. It
stops every process it started, whatever happens.

Run it with `bin/benchmark soak [--links 2000] [--fault-rate 0.1] [--timeout 3000]`.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests
from common import odoo_env, parse_args, row, sandbox_control, start_sandbox

from odoo import Command

AMOUNT = 150_000  # IDR, over Xendit's minimum
# The holder as the employees write their names ("Soak Employee 00042" on the HR record):
# the name check takes it, a number being no part of a name.
ACCOUNT = {"account_number": "1234567890", "account_holder": "Soak Employee"}
FAULT_KINDS = ["latency", "http_500", "http_503", "reset", "timeout", "malformed_json"]
PAYOUT_CRONS = ("ir_cron_payout_batch_send", "ir_cron_payout_submit", "ir_cron_payout_poll")
CLAIM_RE = re.compile(r"/payout/claim/([A-Za-z0-9_-]+)")
SECRET_RE = re.compile(r'class="o_payout_secret"[^>]*>\s*([A-Z0-9]{8})\s*<')
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
FINAL_STATES = ("done", "failed", "expired", "cancelled")
REQUEST_TIMEOUT = 60  # seconds: one claim request on a busy server
ROUND_SECONDS = 5  # between two rounds of the settle phase


class Figures:
    """What the run counts, from several threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self.answers = Counter()  # (step, status) of every claim request
        self.unexpected = []  # a few of the answers that were not as expected

    def answer(self, step, status, expected):
        with self._lock:
            self.answers[step, status] += 1
            if status not in expected and len(self.unexpected) < 10:
                self.unexpected.append(f"{step}: {status}")


def main():
    args = parse_args(__doc__, links=2000, fault_rate=0.1, timeout=3000.0, port=18090,
                      clients=4, seed=1)
    started = time.monotonic()
    deadline = started + args.timeout
    logs = Path(tempfile.mkdtemp(prefix="payout-soak-"))
    with ExitStack() as stack:
        sandbox, url = start_sandbox(args.port + 20)  # servers: port, port + 10
        stack.callback(stop_process, sandbox)
        servers = [f"http://127.0.0.1:{args.port + 10 * index}" for index in range(2)]
        print(f"{args.links:,} Xendit v2 links, {args.fault_rate:.0%} faults on /v2/payouts, "
              f"servers {', '.join(servers)}, logs in {logs}", flush=True)
        with odoo_env(args.db) as env:
            batch_id, bank_id = prepare(env, args, url)
        sandbox_control(url, "faults/rate", {
            "rate": args.fault_rate, "kinds": FAULT_KINDS, "path": "/v2/payouts",
            "seed": args.seed,
        })
        for index, server in enumerate(servers):
            stack.callback(stop_process, start_server(args, server, logs / f"odoo-{index}.log"))
        for server in servers:
            wait_until_up(server, deadline)
        phases, figures = {}, Figures()
        phase_start = time.monotonic()
        claims = send(args, batch_id, deadline)
        phases["send"] = time.monotonic() - phase_start
        phase_start = time.monotonic()
        claim_all(args, claims, servers, bank_id, figures, deadline)
        phases["claim"] = time.monotonic() - phase_start
        phase_start = time.monotonic()
        settle(args, url, servers, batch_id, deadline)
        phases["settle"] = time.monotonic() - phase_start
        report(args, url, batch_id, phases, figures, logs, time.monotonic() - started)


def prepare(env, args, url):
    """A Xendit v2 provider on the sandbox, ``args.links`` employees in a batch sent."""
    from odoo.addons.hr_payout_link.sandbox import xendit as xendit_sandbox

    idr = env.ref("base.IDR")
    idr.active = True
    env.company.write({"payout_approval": False, "payout_review_new_accounts": False})
    provider = env["payout.provider"].create({
        "name": "Xendit soak", "code": "xendit", "state": "test", "xendit_base_url": url,
        "xendit_secret_key": xendit_sandbox.SECRET_KEY,
        "xendit_callback_token": xendit_sandbox.CALLBACK_TOKEN, "xendit_claim_mode": "odoo",
    })
    employees = env["hr.employee"].create([{
        "name": f"Soak Employee {index:05d}", "work_email": f"soak.{index}@example.com",
    } for index in range(args.links)])
    wizard = env["payout.batch.wizard"].create({
        "name": "Soak run", "provider_id": provider.id, "currency_id": idr.id,
        "employee_ids": [Command.set(employees.ids)], "amount": AMOUNT,
        "description": "Soak bonus",
    })
    batch = env["payout.batch"].browse(wizard.action_create()["res_id"])
    batch.action_send_all()
    # No SMTP server: the claim emails stay queued, where the employees read them.
    env.ref("mail.ir_cron_mail_scheduler_action").active = False
    # The payout crons run every minute besides their triggers (none is late for long).
    for xmlid in PAYOUT_CRONS:
        env.ref(f"hr_payout_link.{xmlid}").write({"interval_number": 1,
                                                  "interval_type": "minutes"})
    return batch.id, env.ref("hr_payout_link.bank_id_bca").id  # a bank Xendit pays to


def start_server(args, server, logfile):
    """An Odoo server in prefork mode on ``server``'s port, in its own process group."""
    port = int(server.rsplit(":", 1)[1])
    odoo_bin = os.environ.get("ODOO_BIN")
    command = [sys.executable, *([odoo_bin] if odoo_bin else ["-m", "odoo"])]
    options = [
        "-d", args.db, f"--db-filter=^{re.escape(args.db)}$",
        f"--addons-path={args.addons_path}", "--workers=2", "--max-cron-threads=1",
        "--http-interface=127.0.0.1", f"--http-port={port}", f"--gevent-port={port + 1}",
        "--log-level=warn", f"--logfile={logfile}",
    ]
    if args.db_user:
        options.append(f"--db_user={args.db_user}")
    return subprocess.Popen([*command, *options], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop_process(process):
    """Stop ``process`` and its process group: politely, then not."""
    if process.poll() is not None:
        return
    try:
        group = os.getpgid(process.pid)
    except ProcessLookupError:
        return
    own = group == os.getpgid(0)  # the sandbox shares this script's group: only it goes
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            if own:
                process.send_signal(sig)
            else:
                os.killpg(group, sig)
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return


def wait_until_up(server, deadline):
    for _attempt in range(600):
        try:
            if requests.get(f"{server}/web/health", timeout=2).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    sys.exit(f"The Odoo server {server} did not start.")


def trigger(env, *xmlids):
    for xmlid in xmlids:
        env.ref(f"hr_payout_link.{xmlid}")._trigger()


def send(args, batch_id, deadline):
    """Let the servers' batch cron send the batch; return [(token, secret)] read from the
    queued claim emails."""
    with odoo_env(args.db) as env:
        trigger(env, "ir_cron_payout_batch_send")
    while time.monotonic() < deadline:
        time.sleep(ROUND_SECONDS)
        with odoo_env(args.db) as env:
            batch = env["payout.batch"].browse(batch_id)
            unsent = env["payout.link"].search_count([
                ("batch_id", "=", batch_id), ("state", "in", ("draft", "to_approve"))])
            print(f"  send: {args.links - unsent:,} of {args.links:,} sent", flush=True)
            if batch.state == "sending":
                continue
            mails = env["mail.mail"].search_read(
                [("body_html", "like", "/payout/claim/")], ["body_html"])
            claims = {}
            for mail in mails:
                token, secret = CLAIM_RE.search(mail["body_html"]), SECRET_RE.search(
                    mail["body_html"])
                if token and secret:
                    claims[token[1]] = secret[1]
            return list(claims.items())
    sys.exit("The batch was not sent in time.")


def claim_all(args, claims, servers, bank_id, figures, deadline):
    """Claim every link over HTTP, ``args.clients`` employees at once."""
    pool, replays = ThreadPoolExecutor(args.clients), ThreadPoolExecutor(args.clients)
    try:
        jobs = [pool.submit(claim_one, index, token, secret, servers, bank_id, figures,
                            replays, deadline)
                for index, (token, secret) in enumerate(claims)]
        for done, job in enumerate(jobs, 1):
            job.result()
            if done % max(1, len(jobs) // 10) == 0:
                print(f"  claim: {done:,} of {len(jobs):,}", flush=True)
    finally:  # on Ctrl-C too: the claims not started are dropped
        pool.shutdown(cancel_futures=True)
        replays.shutdown(cancel_futures=True)


def claim_one(index, token, secret, servers, bank_id, figures, replays, deadline):
    """One employee: the page, the secret, the account, and replays of the POSTs through
    the other server. Each request is made once, with a timeout."""
    if time.monotonic() > deadline:
        return
    first, other = servers[index % 2], servers[(index + 1) % 2]
    path = f"/payout/claim/{token}"
    session = requests.Session()

    def call(step, server, expected, data=None):
        try:
            if data is None:
                answer = session.get(server + path, timeout=REQUEST_TIMEOUT)
            else:
                answer = session.post(f"{server}{path}/{step}", data=data,
                                      allow_redirects=False, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as error:
            figures.answer(step, type(error).__name__, expected)
            return ""
        figures.answer(step, answer.status_code, expected)
        return answer.text

    def csrf(server):
        match = CSRF_RE.search(call("page", server, (200,)))
        return match[1] if match else ""

    call("secret", first, (303,), {"secret": secret, "csrf_token": csrf(first)})
    if index % 3 == 0:  # the secret again, through the other server: already verified
        call("secret", other, (303,), {"secret": secret, "csrf_token": csrf(other)})
    # One account per employee: an account given by several is held for a review.
    account = {"bank_id": str(bank_id), **ACCOUNT, "account_number": f"{1_000_000_000 + index}",
               "csrf_token": csrf(first)}
    if index % 4 == 0:  # both account POSTs at once, one through each server
        twin = replays.submit(call, "account", other, (303,), account)
        call("account", first, (303,), account)
        twin.result()
    else:
        call("account", first, (303,), account)
        call("account", other, (303,), account)
    call("page", other, (200,))


def settle(args, url, servers, batch_id, deadline):
    """Rounds of: the sandbox's clock on, its callbacks delivered, the crons triggered;
    until every link is final or needs attention."""
    from odoo.addons.hr_payout_link.controllers.xendit import XenditCallbackController

    for round_ in range(10**6):
        if time.monotonic() > deadline:
            print("  settle: timed out", flush=True)
            return
        sandbox_control(url, "clock", {"advance": 20 * 60})
        server = servers[round_ % 2]
        sandbox_control(url, "xendit/config", {
            "callback_url": server + XenditCallbackController._payouts_url})
        # One callback after another, each a request to Odoo: as long as the run may last.
        deliveries = sandbox_control(url, "xendit/deliver", {}, timeout=max(
            5, deadline - time.monotonic()))["deliveries"]
        with odoo_env(args.db) as env:
            trigger(env, "ir_cron_payout_submit", "ir_cron_payout_poll")
            counts = link_counts(env, batch_id)
        print(f"  settle: {dict(counts)}, {len(deliveries)} callback(s) delivered",
              flush=True)
        if counts.get("open", 0) == 0:
            return
        time.sleep(ROUND_SECONDS)


def link_counts(env, batch_id):
    """The batch's links: by final state, 'attention' when flagged, 'open' otherwise."""
    counts = Counter()
    for state, attention, count in env["payout.link"]._read_group(
            [("batch_id", "=", batch_id)], ["state", "needs_attention"], ["__count"]):
        key = "attention" if attention else state if state in FINAL_STATES else "open"
        counts[key] += count
    return counts


def log_errors(logs):
    """The ERROR and CRITICAL lines of the servers' logs, and how many of them were
    serialization failures (concurrent claims of a link: Odoo retries the request)."""
    errors, retried = [], 0
    for log in sorted(logs.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for line, following in zip(lines, [*lines[1:], ""], strict=True):
            if " ERROR " not in line and " CRITICAL " not in line:
                continue
            if "bad query" in line and following.startswith(
                    "ERROR: could not serialize access"):
                retried += 1
            else:
                errors.append(line)
    return errors, retried


def report(args, url, batch_id, phases, figures, logs, seconds):
    objects = sandbox_control(url, "xendit/objects", timeout=60)
    payouts = Counter(payout["reference_id"] for payout in objects["payouts"])
    refunded = {"FAILED", "CANCELLED", "REVERSED", "COMPLIANCE_REJECTED"}
    paid_at_sandbox = sum(payout["amount"] for payout in objects["payouts"]
                          if payout["status"] not in refunded)
    with odoo_env(args.db) as env:
        counts = link_counts(env, batch_id)
        links = env["payout.link"].search([("batch_id", "=", batch_id)])
        done = links.filtered(lambda link: link.state == "done")
        paid_in_odoo = sum(done.mapped("amount"))
        unpaid_done = sum(1 for link in done if not payouts[link.submission_reference])
        references = set(links.mapped("submission_reference"))
        strangers = sum(count for ref, count in payouts.items() if ref not in references)
        stuck = links.filtered(lambda link: link.state not in FINAL_STATES
                               and not link.needs_attention)
        stuck_states = Counter(f"{link.state}/{link.submission_state}" for link in stuck)
    faults = sandbox_control(url, "faults/rate")["injected"]
    errors, retried = log_errors(logs)
    print(f"\nSoak: {args.links:,} links, 2 Odoo servers (2 workers + 1 cron worker each), "
          f"{args.fault_rate:.0%} faults on /v2/payouts")
    row("links paid", counts.get("done", 0))
    row("most payouts at the sandbox for one link (1)", max(payouts.values(), default=0))
    row("links stuck (not final, not flagged)", len(stuck))
    row("links needing attention", counts.get("attention", 0))
    row("links failed / expired / cancelled", sum(
        counts.get(state, 0) for state in ("failed", "expired", "cancelled")))
    row("links paid in Odoo without a payout at sandbox", unpaid_done)
    row("payouts at the sandbox for no link", strangers)
    row("money paid: in Odoo", paid_in_odoo, "IDR")
    row("money paid: at the sandbox", paid_at_sandbox, "IDR")
    row("faults injected", sum(faults.values()))
    row("claim requests", sum(figures.answers.values()))
    row("claim answers not as expected", sum(
        count for (step, status), count in figures.answers.items()
        if status != (200 if step == "page" else 303)))
    row("serialization failures (Odoo retries them)", retried)
    row("other ERROR lines in the servers' logs", len(errors))
    for phase, phase_seconds in phases.items():
        row(f"{phase}: seconds", phase_seconds, "s")
    row("claim: links per second", args.links / phases["claim"], "links/s")
    row("whole run", seconds, "s")
    print(json.dumps({
        "links": args.links, "counts": counts, "stuck": stuck_states, "faults": faults,
        "answers": {f"{step} {status}": n for (step, status), n in figures.answers.items()},
        "unexpected": figures.unexpected, "errors": errors[:5], "phases": phases,
        "seconds": seconds,
    }, default=str))


if __name__ == "__main__":
    main()
