"""What the benchmarks share: Odoo on the benchmark database, and figures to print."""

import argparse
import time
from contextlib import contextmanager

import odoo
from odoo import SUPERUSER_ID, api


def parse_args(description, **defaults):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--db-user", default=None)
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = parser.parse_args()
    options = ["-d", args.db, f"--addons-path={args.addons_path}", "--log-level=warn"]
    if args.db_user:
        options.append(f"--db_user={args.db_user}")
    odoo.tools.config.parse_config(options)
    return args


@contextmanager
def odoo_env(db):
    """A superuser environment on ``db``; committed on success."""
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        yield api.Environment(cr, SUPERUSER_ID, {})


@contextmanager
def measure(env=None):
    """Time a block and count its SQL queries; yields a dict filled on exit."""
    figures = {}
    queries = env.cr.sql_log_count if env else 0
    start = time.perf_counter()
    yield figures
    figures["seconds"] = time.perf_counter() - start
    figures["queries"] = (env.cr.sql_log_count - queries) if env else 0


def row(label, value, unit=""):
    print(f"  {label:<46} {value:>12,.2f} {unit}")
