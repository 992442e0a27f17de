"""Starts the sample REST service (secure or legacy) on 127.0.0.1, prints
the URL, the CA file that verifies it and ``export`` lines for the sample
users' tokens (sample keys, generated now, valid 15 minutes), then serves
until Ctrl-C.  For all six sample services with one PKI, use
``apisec demo --serve``.

Usage::

    python -m apisec_samples.rest_service legacy [--port 8443] [--plain]
"""

from __future__ import annotations

import argparse
import signal
import time

from apisec_samples import cli_description

from .config import CONFIGS
from .server import serve


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m apisec_samples.rest_service", description=cli_description(__doc__)
    )
    parser.add_argument("config", choices=sorted(CONFIGS), help="which configuration to run")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: ephemeral)")
    parser.add_argument("--plain", action="store_true", help="serve cleartext HTTP instead of HTTPS")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly (temp PKI removed)
    svc = serve(args.config, port=args.port, tls=not args.plain)
    print(f"sample REST service ({args.config}) at {svc.url}")
    if svc.ca_file:
        print(f"CA file: {svc.ca_file}")
    for name, value in svc.role_env().items():
        print(f"export {name}={value}")
    print(
        f"try: apisec rest check {svc.url}/api/orders --token-env ALICE_TOKEN"
        + (f" --ca-file {svc.ca_file}" if svc.ca_file else "")
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        svc.stop()


if __name__ == "__main__":
    main()
