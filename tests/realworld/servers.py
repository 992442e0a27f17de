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


def quiet_handler() -> type:
    """werkzeug's request handler naming the product without versions (a deployment
    hides them; the apps under test differ in their code, not in this banner) and not logging."""
    from werkzeug.serving import WSGIRequestHandler

    class Handler(WSGIRequestHandler):
        def version_string(self) -> str:
            return "werkzeug"

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    return Handler


@contextmanager
def wsgi_server(app: Any, tls: tuple[Any, Any] | None = None) -> Iterator[str]:
    from werkzeug.serving import make_server

    ssl = (str(tls[0]), str(tls[1])) if tls else None
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=quiet_handler(), ssl_context=ssl)
    thread = threading.Thread(target=server.serve_forever, name="realworld-wsgi", daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def asgi_server(app: Any, tls: tuple[Any, Any] | None = None) -> Iterator[str]:
    from apisec_samples.serving import serve_asgi

    handle = serve_asgi(app, tls=tls, name="realworld-asgi")
    try:
        yield handle.url.replace("127.0.0.1", "localhost") if tls else handle.url
    finally:
        handle.stop()
