"""``python -m apisec_samples.soap_service [secure|legacy] [--port N]``

Starts the sample quote service on 127.0.0.1 with a throw-away PKI, prints
its URLs and the PKI folder (client key/certificate, CA) and serves until
Ctrl-C.  Audit lines of the secure configuration go to stderr.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

from apisec_samples import cli_description
from apisec_samples.soap_service import CONFIGS, serve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m apisec_samples.soap_service", description=cli_description(__doc__)
    )
    ap.add_argument("config", nargs="?", default="secure", choices=CONFIGS)
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s", stream=sys.stderr)
    handle = serve(args.config, port=args.port)
    pki = handle.extra["pki"]
    print(f"{args.config} quote service: {handle.url}")
    print(f"WSDL: {handle.wsdl_url}")
    print(f"client key: {pki.client.key_path}  client cert: {pki.client.cert_path}  CA: {pki.ca.cert_path}")
    sys.stdout.flush()

    def _stop(*_a: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)  # so the throw-away PKI folder is removed
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
