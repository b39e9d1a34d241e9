"""Benchmark: Odoo submitting and polling DOKU links with a few provider calls at once.

Starts the sandbox in its own process and makes it hold every answer for `--latency`
seconds, as a distant provider would. Then, for each `--concurrency` setting of the
provider's Concurrent Calls (the first, 1, is the sequential baseline), it creates N
queued DOKU links in Odoo and measures, in this same process:

- the submission cron initiating them at DOKU;
- the polling cron asking DOKU for their status.

It prints links per second, the ratio to the baseline, SQL queries per link, and the
most calls the sandbox had in flight at once.

Run it with `bin/benchmark provider_calls [--links 200] [--latency 0.02]
[--concurrency 1,4,8]`.
"""

import gc
import json

from common import (
    create_doku_provider,
    measure,
    odoo_env,
    parse_args,
    row,
    sandbox_control,
    start_sandbox,
)


def main():
    args = parse_args(__doc__, links=200, latency=0.02, concurrency="1,4,8")
    from odoo.addons.hr_payout_link.sandbox import doku as doku_sandbox

    sandbox, url = start_sandbox()
    try:
        with odoo_env(args.db) as env:
            provider, employee = create_doku_provider(env, url, doku_sandbox)
            provider_id, employee_id = provider.id, employee.id
        runs = {}
        for workers in (int(w) for w in args.concurrency.split(",")):
            print(f"Concurrent Calls = {workers}: {args.links:,} links...", flush=True)
            runs[workers] = run(args, url, provider_id, employee_id, workers)
    finally:
        sandbox.terminate()
        sandbox.wait()

    baseline = next(iter(runs.values()))
    print(f"\n{args.links:,} DOKU links, {args.latency * 1000:.0f} ms sandbox latency per call "
          "(sandbox on loopback, its own process)")
    for step in ("submit", "poll"):
        print(f"\n{step}")
        for workers, figures in runs.items():
            rate = figures[step]["per_s"]
            row(f"{workers} concurrent call(s): links/s", rate)
            row(f"  ratio to {next(iter(runs))} call at a time", rate / baseline[step]["per_s"])
            row("  SQL queries per link", figures[step]["queries_per_link"])
            row("  most calls in flight at the sandbox", figures[step]["max_in_flight"])
    print(json.dumps({"links": args.links, "latency": args.latency, "runs": runs}))


def run(args, url, provider_id, employee_id, workers):
    """Submit then poll ``args.links`` fresh links with ``workers`` concurrent calls."""
    sandbox_control(url, "reset", {})
    sandbox_control(url, "faults", {"kind": "latency", "count": 10**9, "seconds": args.latency})
    with odoo_env(args.db) as env:
        env["payout.provider"].browse(provider_id).max_concurrent_calls = workers
        link_ids = create_links(env, provider_id, employee_id, args.links)
    figures = {}
    # Measured in a fresh environment, as a cron run gets one.
    with odoo_env(args.db) as env:
        links = env["payout.link"]
        for step, cron in (("submit", links._cron_submit_payouts),
                           ("poll", links._cron_poll_provider_status)):
            if step == "poll":
                # Due for polling, as once the polling interval has passed since the
                # submission stamped them (setup, not measured).
                links.browse(link_ids).write({"date_provider_call": False})
                env.cr.commit()
            sandbox_control(url, "stats", {})  # count the calls in flight afresh
            gc.collect()
            with measure(env) as measured:
                while cron():
                    pass
            figures[step] = {
                "per_s": round(args.links / measured["seconds"], 1),
                "queries_per_link": round(measured["queries"] / args.links, 2),
                "max_in_flight": sandbox_control(url, "stats")["max_in_flight"],
            }
        done = links.search_count([("id", "in", link_ids), ("submission_state", "=", "accepted"),
                                   ("provider_status", "=", "PENDING"),
                                   ("date_provider_call", "!=", False)])
        if done != args.links:
            raise SystemExit(f"Only {done} of {args.links} links were submitted and polled.")
    return figures


def create_links(env, provider_id, employee_id, count):
    """Links queued for DOKU, as `action_send` leaves them."""
    provider = env["payout.provider"].browse(provider_id)
    links = env["payout.link"].create([{
        "employee_id": employee_id, "provider_id": provider_id,
        "currency_id": env.ref("base.IDR").id, "amount": 150000, "state": "sent",
        "recipient_email": "stuck@example.com", "submission_state": "to_submit",
    } for _ in range(count)])
    for link in links:
        link.submission_key = provider._new_submission_key(link)
    return links.ids


if __name__ == "__main__":
    main()
