"""Run third-party apps for the real-world suite on 127.0.0.1, port 0.

WSGI apps (Flask, Django) run under werkzeug's threaded server (Flask's own
development server); ASGI apps (FastAPI) under uvicorn, through the same
helper the samples use.  Each yields the base URL and stops on exit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def wsgi_server(app: Any) -> Iterator[str]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="realworld-wsgi", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def asgi_server(app: Any) -> Iterator[str]:
    from apisec_samples.serving import serve_asgi

    handle = serve_asgi(app, name="realworld-asgi")
    try:
        yield handle.url
    finally:
        handle.stop()
