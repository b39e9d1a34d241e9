"""Benchmark: a whole payout batch with the Demo provider: create, approve, send.

In one run and one process, for each batch size (1,000 then --links, 10,000 by default):

- the baseline: Odoo's own batch ``create`` of as many ``res.partner`` records;
- create: the wizard's one ``create`` call making the batch's payout links;
- approve: "Send All" over the approval threshold, then a second manager's approval;
- send: the background sender (its cron method, batch after batch, committing each),
  which issues every token and secret and queues every claim email.

It prints links per second for each phase, SQL queries per link, the share of the send
phase spent rendering the claim emails and creating their mail.mail, the ratio of the whole
create+approve+send against the baseline (above 1.0: faster than creating partners), and
the peak memory of the process. Run it with `bin/benchmark batch_send [--links 10000]`.
"""

import resource
import time
from contextlib import ExitStack, contextmanager
from unittest.mock import patch

from common import measure, odoo_env, parse_args, row

from odoo import Command, fields


def peak_memory_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def make_employees(env, count):
    """``count`` new employees (each batch size pays its own: a line per employee)."""
    return env["hr.employee"].create([{
        "name": f"Bench Employee {count}-{index:05d}",
        "work_email": f"bench.employee.{count}.{index}@example.com",
    } for index in range(count)])


def make_users(env):
    """Two Payout Managers: one creates and sends, the other approves."""
    group = env.ref("hr_payout_link.group_payout_manager")
    users = env["res.users"].search([("login", "in", ("bench_creator", "bench_approver"))])
    if len(users) < 2:
        users = env["res.users"].with_context(no_reset_password=True).create([{
            "name": name, "login": name, "email": f"{name}@example.com",
            "groups_id": [Command.link(group.id)],
        } for name in ("bench_creator", "bench_approver")])
    return users.sorted("login")  # bench_approver, bench_creator


# Where the send phase spends its time on the claim emails: (model, method) by label.
MAIL_STEPS = {
    "rendering the claim emails": ("mail.template", "_generate_template"),
    "creating their mail.mail": ("mail.mail", "create"),
}


@contextmanager
def time_mail_steps(env, figures):
    """Add to ``figures[label]`` the seconds spent in each method of MAIL_STEPS."""
    with ExitStack() as stack:
        for label, (model, method) in MAIL_STEPS.items():
            figures[label] = 0.0
            model_class = env.registry[model]
            original = getattr(model_class, method)

            def timed(self, *args, _original=original, _label=label, **kwargs):
                start = time.perf_counter()
                try:
                    return _original(self, *args, **kwargs)
                finally:
                    figures[_label] += time.perf_counter() - start

            stack.enter_context(patch.object(model_class, method, timed))
        yield


def run_baseline(env, count):
    with measure(env) as figures:
        env["res.partner"].create([
            {"name": f"Bench Partner {index}", "email": f"partner{index}@example.com"}
            for index in range(count)
        ])
        env.flush_all()
    env.cr.rollback()
    return figures


def run_batch(env, employees, creator, approver):
    company = env.company
    company.write({"payout_approval": True, "payout_approval_threshold": 1000.0})
    env.cr.commit()
    as_creator = env(user=creator)
    phases = {}
    with measure(env) as phases["create"]:
        wizard = as_creator["payout.batch.wizard"].create({
            "name": "Benchmark run",
            "employee_ids": [Command.set(employees.ids)],
            "amount": 150.0,
            "description": "Benchmark bonus",
        })
        batch = as_creator["payout.batch"].browse(wizard.action_create()["res_id"])
        env.flush_all()
    env.cr.commit()
    with measure(env) as phases["approve"]:
        batch.action_send_all()
        batch.with_user(approver).action_approve()
        env.flush_all()
    env.cr.commit()
    links = env["payout.link"]
    mail = {}
    with time_mail_steps(env, mail), measure(env) as phases["send"]:
        # What the cron does, run after run, until nothing is left (each run commits).
        while links._cron_send_batches():
            env.cr.commit()
    env.cr.commit()
    batch.invalidate_recordset()
    assert batch.state == "sent", batch.state
    assert batch.pending_count == len(employees), batch.pending_count
    phases["send"]["mail_steps"] = mail
    return phases


def main():
    args = parse_args(__doc__, links=10000)
    sizes = sorted({min(1000, args.links), args.links})
    print(f"Payout batch with the Demo provider, batches of {', '.join(map(str, sizes))}")
    per_link_queries = {}
    with odoo_env(args.db) as env:
        approver, creator = make_users(env)
        env.cr.commit()
        for size in sizes:
            employees = make_employees(env, size)
            env.cr.commit()
            baseline = run_baseline(env, size)
            phases = run_batch(env, employees, creator, approver)
            total_seconds = sum(figures["seconds"] for figures in phases.values())
            total_queries = sum(figures["queries"] for figures in phases.values())
            per_link_queries[size] = total_queries / size
            print(f"\n{size:,} links")
            row("baseline: res.partner batch create", size / baseline["seconds"], "records/s")
            for name, figures in phases.items():
                row(f"{name}", size / figures["seconds"], "links/s")
                row(f"{name}: SQL queries per link", figures["queries"] / size)
            for label, seconds in phases["send"]["mail_steps"].items():
                row(f"send: share {label}", 100 * seconds / phases["send"]["seconds"], "%")
            row("create+approve+send", size / total_seconds, "links/s")
            row("SQL queries per link, all phases", per_link_queries[size])
            row("ratio against the baseline (>= 1.0 wanted)",
                baseline["seconds"] / total_seconds, "x")
            # Leave the next size a clean slate: the mails and links of this one go.
            env["mail.mail"].search([]).unlink()
            env.cr.commit()
    if len(sizes) == 2:
        small, large = sizes
        print()
        row(f"queries per link, {large:,} against {small:,}",
            per_link_queries[large] / per_link_queries[small], "x")
    row("peak memory of the process", peak_memory_mb(), "MB")
    print(f"\nFinished at {fields.Datetime.now()} UTC.")


if __name__ == "__main__":
    main()
