"""Run the provider sandbox until Ctrl-C: `bin/sandbox --port 8070`."""

import argparse
import logging
import threading

from ..protocol import doku
from . import doku as doku_sandbox
from .server import CONTROL_PREFIX


def main():
    parser = argparse.ArgumentParser(
        prog="sandbox", description="Local DOKU sandbox for hr_payout_link (loopback only)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--doku-client-id", default=doku_sandbox.CLIENT_ID)
    parser.add_argument("--doku-secret", default=doku_sandbox.SECRET_KEY)
    parser.add_argument(
        "--doku-scheme", default=doku.DEFAULT_SCHEME, choices=[s for s, _ in doku.SIGNATURE_SCHEMES]
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sandbox = doku_sandbox.start(
        args.host,
        args.port,
        client_id=args.doku_client_id,
        secret_key=args.doku_secret,
        scheme=args.doku_scheme,
    )
    print(
        f"Sandbox listening on {sandbox.url}\n"
        f"  DOKU base URL:   {sandbox.url}\n"
        f"  DOKU Client-Id:  {sandbox.client_id}\n"
        f"  DOKU Secret Key: {sandbox.secret_key}\n"
        f"  DOKU signature:  {sandbox.scheme}\n"
        f"  Control:         {sandbox.url}{CONTROL_PREFIX}(requests|faults|clock|reset)\n"
        "Ctrl-C to stop.",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.server.stop()


if __name__ == "__main__":
    main()
