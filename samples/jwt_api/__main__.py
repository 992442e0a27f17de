"""``python -m apisec_samples.jwt_api [--port N]``

Starts the flawed JWT API on 127.0.0.1, writes its public key, a valid token
per route (0600 files) to a temp folder, prints the routes and a ready
``apisec rest jwt probe`` command, and serves until Ctrl-C.
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
from apisec_samples.jwt_api import ROUTES, serve


def _private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m apisec_samples.jwt_api", description=cli_description(__doc__)
    )
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: any free port)")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM cleans up like Ctrl-C
    work = Path(tempfile.mkdtemp(prefix="apisec-jwt-api-"))
    handle = None
    try:
        handle = serve(port=args.port)
        api = handle.extra["api"]
        (work / "public.pem").write_bytes(api.public_pem)
        _private(work / "signing.pem", api.private_pem)
        for route in ROUTES:
            _private(work / (route.strip("/").replace("/", "_") + ".token"), api.token_for(route).encode())
        print(f"flawed JWT API: {handle.url}  (keys and tokens in {work})")
        for route in ROUTES:
            print(f"  {handle.url}{route}")
        print(f"try: apisec rest jwt probe {handle.url}/flaw/none-alg --token-file {work}/flaw_none-alg.token "
              f"--public-key {work}/public.pem --signing-key {work}/signing.pem")  # fmt: skip
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if handle is not None:
            handle.stop()
        shutil.rmtree(work, ignore_errors=True)  # the signing key and the tokens go too
    return 0


if __name__ == "__main__":
    sys.exit(main())
