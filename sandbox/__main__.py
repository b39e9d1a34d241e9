"""Run the provider sandbox until Ctrl-C: `bin/sandbox --port 8070`.

One server speaks every provider's API (DOKU and Xendit) on the same port.
"""

import argparse
import logging
import os
import tempfile
import threading

from ..protocol import doku
from . import doku as doku_sandbox
from . import xendit as xendit_sandbox
from .server import CONTROL_PREFIX, SandboxServer


def main():
    parser = argparse.ArgumentParser(
        prog="sandbox",
        description="Local DOKU and Xendit sandbox for hr_payout_link (loopback only).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070)
    parser.add_argument("--doku-client-id", default=doku_sandbox.CLIENT_ID)
    parser.add_argument("--doku-secret", default=doku_sandbox.SECRET_KEY)
    parser.add_argument(
        "--doku-scheme", default=doku.DEFAULT_SCHEME, choices=[s for s, _ in doku.SIGNATURE_SCHEMES]
    )
    parser.add_argument(
        "--doku-public-key", type=argparse.FileType("r"), default=None,
        help="SNAP: the PEM public key of the merchant's private key (default: a new key "
        "pair, whose private key is written to a file for the provider)",
    )
    parser.add_argument("--xendit-secret", default=xendit_sandbox.SECRET_KEY)
    parser.add_argument("--xendit-callback-url", default=None, help="loopback URL for callbacks")
    parser.add_argument("--xendit-callback-token", default=xendit_sandbox.CALLBACK_TOKEN)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = SandboxServer(args.host, args.port)
    dokus = doku_sandbox.DokuSandbox(
        server, client_id=args.doku_client_id, secret_key=args.doku_secret, scheme=args.doku_scheme,
        public_key=args.doku_public_key.read() if args.doku_public_key else None,
    )
    snap_key = "(given)" if args.doku_public_key else "(Non-SNAP: none)"
    if dokus.private_key:
        # The provider's DOKU Private Key: a file only its user reads, not the terminal.
        descriptor, snap_key = tempfile.mkstemp(prefix="doku-snap-", suffix=".pem")
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(dokus.private_key)
    xendits = xendit_sandbox.XenditSandbox(
        server,
        secret_key=args.xendit_secret,
        callback_url=args.xendit_callback_url,
        callback_token=args.xendit_callback_token,
    )
    server.start()
    # A command-line tool: what it prints is its interface.
    print(  # pylint: disable=print-used
        f"Sandbox listening on {server.url}\n"
        f"  DOKU base URL:         {server.url}\n"
        f"  DOKU Client-Id:        {dokus.client_id}\n"
        f"  DOKU Secret Key:       {dokus.secret_key}\n"
        f"  DOKU signature:        {dokus.scheme}\n"
        f"  DOKU private key:      {snap_key}\n"
        f"  Xendit base URL:       {server.url}\n"
        f"  Xendit secret key:     {xendits.secret_key}\n"
        f"  Xendit callback URL:   {xendits.callback_url or '(none yet: xendit/config)'}\n"
        f"  Xendit callback token: {xendits.callback_token}\n"
        f"  Control:               {server.url}{CONTROL_PREFIX}"
        "(requests|stats|faults|faults/rate|clock|reset)\n"
        f"                         {server.url}{CONTROL_PREFIX}xendit/"
        "(config|claim|deliver|deliveries|objects)\n"
        "Ctrl-C to stop.",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:  # pylint: disable=except-pass
        pass  # Ctrl-C is how it stops
    finally:
        server.stop()


if __name__ == "__main__":
    main()
