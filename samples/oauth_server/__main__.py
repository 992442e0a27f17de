"""``python -m apisec_samples.oauth_server [secure|insecure] [--port N] [--tls]``

Starts the sample Authlib authorization server on 127.0.0.1, prints the
issuer, the test client's id (its secret goes to a 0600 file, never stdout)
and, with --tls, the throw-away CA to pass as --ca-file; serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from apisec_samples import cli_description
from apisec_samples.oauth_server import CONFIGS, serve


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m apisec_samples.oauth_server", description=cli_description(__doc__)
    )
    ap.add_argument("config", nargs="?", default="secure", choices=CONFIGS)
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    ap.add_argument("--tls", action="store_true", help="serve https with a throw-away test PKI")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    work = Path(tempfile.mkdtemp(prefix="apisec-oauth-"))
    handle = None
    try:
        tls = None
        if args.tls:
            from apisec_samples.pki import make_pki

            pki = make_pki(work / "pki")
            tls = (pki.service.cert_path, pki.service.key_path)
        handle = serve(args.config, port=args.port, tls=tls)
        svc = handle.extra["service"]
        secret_file = work / "client_secret"
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(svc.client_secret)
        print(f"{args.config} authorization server, issuer: {handle.url}")
        print(f"client id: {svc.client_id}  client secret in: {secret_file}")
        if args.tls:
            print(f"CA (--ca-file): {pki.ca.cert_path}")
        print(f"try: APISEC_SECRET=$(cat {secret_file}) apisec rest oauth {handle.url} --client-id {svc.client_id} "
              f"--client-secret-env APISEC_SECRET" + (f" --ca-file {pki.ca.cert_path}" if args.tls else ""))  # fmt: skip
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if handle is not None:
            handle.stop()
        shutil.rmtree(work, ignore_errors=True)  # the client secret and the PKI keys go too
    return 0


if __name__ == "__main__":
    sys.exit(main())
