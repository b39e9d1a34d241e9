"""What the benchmarks share: Odoo on the benchmark database, the provider sandbox in its
own process, and figures to print."""

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api

REPO = Path(__file__).resolve().parent.parent
SANDBOX_PORT = 8071


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


def start_sandbox(port=SANDBOX_PORT):
    """The provider sandbox in its own process: (process, url)."""
    process = subprocess.Popen(
        [sys.executable, str(REPO / "bin" / "sandbox"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _attempt in range(100):
        try:
            urllib.request.urlopen(f"{url}/_sandbox/clock", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("The provider sandbox did not start.")


def sandbox_control(url, name, payload=None, timeout=5):
    """Call the sandbox's control endpoint ``name``: POST ``payload`` if given, else GET."""
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(f"{url}/_sandbox/{name}", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.load(answer)


def create_doku_provider(env, url, doku_sandbox):
    """A DOKU provider wired to the sandbox at ``url`` (no rate limit), IDR active, and an
    employee for the benchmark's links."""
    env.ref("base.IDR").active = True
    provider = env["payout.provider"].create({
        "name": "DOKU benchmark", "code": "doku", "state": "test",
        "doku_environment": "custom", "doku_base_url": url,
        "doku_client_id": doku_sandbox.CLIENT_ID, "doku_secret_key": doku_sandbox.SECRET_KEY,
        "doku_rate_limit": 0,
    })
    employee = env["hr.employee"].create({
        "name": "Bench Employee", "work_email": "bench@example.com",
        "mobile_phone": "081234567890",
    })
    return provider, employee
