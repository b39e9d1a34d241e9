"""Benchmark: Odoo polling open DOKU links against the DOKU sandbox.

Starts the sandbox in its own process, gives it N payout links, and creates the same N
open DOKU links in Odoo. Then, in the same run and against the same sandbox, it measures:

- a bare keep-alive DokuClient loop making the N status calls (the baseline);
- Odoo's polling cron following the N links (HTTP, locking, batching, commits);
- the SQL queries per cron batch for two batch sizes (they must not grow with the size).

Run it with `bin/benchmark doku_polling [--links 10000]`.
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
    args = parse_args(__doc__, links=10000, batch_sizes="100,1000")
    from odoo.addons.hr_payout_link.protocol import doku
    from odoo.addons.hr_payout_link.sandbox import doku as doku_sandbox

    sandbox, url = start_sandbox()
    try:
        client = doku.DokuClient(url, doku_sandbox.CLIENT_ID, doku_sandbox.SECRET_KEY)
        references = [f"BENCH{i:08d}" for i in range(args.links)]
        print(f"Seeding {args.links:,} payout links at the sandbox...", flush=True)
        for reference in references:
            client.initiate({
                "amount": 150000, "sender_name": "Acme", "receiver_name": "Bench Employee",
                "receiver_phone_number": "6281234567890", "receiver_email": "stuck@example.com",
                "reference_id": reference,
            }, doku.new_request_id())
        # 'stuck' links stay CONFIRMED once past their last step: a steady state to poll.
        sandbox_control(url, "clock", {"advance": 3 * 3600})

        with odoo_env(args.db) as env:
            print(f"Creating {args.links:,} open DOKU links in Odoo...", flush=True)
            link_ids = create_links(env, url, references, doku_sandbox)

        # Measured in a fresh environment, as a cron run gets one.
        with odoo_env(args.db) as env:
            def bare_loop():
                gc.collect()
                with measure() as bare:
                    for reference in references:
                        client.status(reference)
                return bare["seconds"]

            # The baseline runs before and after Odoo, so drift (a growing sandbox journal,
            # a warmer cache) weighs on both sides alike.
            bare_seconds = bare_loop()
            links = env["payout.link"]
            gc.collect()
            with measure(env) as polled:
                while links._cron_poll_provider_status():
                    pass
            bare_after = bare_loop()
            polled_count = links.search_count([("id", "in", link_ids),
                                               ("date_provider_call", "!=", False)])

            per_batch = {}
            for size in (int(s) for s in args.batch_sizes.split(",")):
                links.browse(link_ids).write({"date_provider_call": False})
                env.flush_all()  # the reset is setup, not part of the batch
                with measure(env) as batch:
                    links._cron_poll_provider_status(batch_size=size)
                per_batch[size] = batch["queries"]
            env.cr.rollback()

        print(f"\nbare loop: {args.links / bare_seconds:,.1f}/s before Odoo's run, "
              f"{args.links / bare_after:,.1f}/s after")
        bare_rate = 2 * args.links / (bare_seconds + bare_after)
        odoo_rate = polled_count / polled["seconds"]
        print(f"\nPolling {polled_count:,} open DOKU links (sandbox on loopback, its own "
              "process)")
        row("bare keep-alive client loop", bare_rate, "status calls/s")
        row("Odoo polling cron", odoo_rate, "links/s")
        row("ratio Odoo / bare loop (target >= 0.8)", odoo_rate / bare_rate)
        row("SQL queries per link", polled["queries"] / polled_count)
        for size, queries in per_batch.items():
            row(f"SQL queries for one batch of {size}", queries)
        print(json.dumps({"links": polled_count, "bare_per_s": round(bare_rate, 1),
                          "odoo_per_s": round(odoo_rate, 1),
                          "ratio": round(odoo_rate / bare_rate, 3),
                          "queries_per_link": round(polled["queries"] / polled_count, 3),
                          "queries_per_batch": per_batch}))
    finally:
        sandbox.terminate()
        sandbox.wait()


def create_links(env, url, references, doku_sandbox):
    provider, employee = create_doku_provider(env, url, doku_sandbox)
    idr = env.ref("base.IDR")
    link_ids = []
    for start in range(0, len(references), 1000):
        link_ids += env["payout.link"].create([{
            "employee_id": employee.id, "provider_id": provider.id, "currency_id": idr.id,
            "amount": 150000, "reference": reference, "state": "processing",
            "submission_state": "accepted", "provider_status": "CONFIRMED",
            # as a real initiate leaves them
            "submission_reference": reference, "provider_reference": reference,
        } for reference in references[start:start + 1000]]).ids
    return link_ids


if __name__ == "__main__":
    main()
