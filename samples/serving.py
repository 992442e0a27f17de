"""Run an ASGI app under a real uvicorn on 127.0.0.1 in a background thread.

Tests and ``apisec demo`` need real servers on ephemeral ports (several
suites run at once), optionally over TLS, that start fast and stop cleanly.
The socket is bound here (port 0 → the kernel picks a free port) and handed
to uvicorn, so the URL is known before the first request.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from apisec_samples.tls import harden


@dataclass
class RunningServer:
    """A live server: ``.url`` (no trailing slash) and ``.stop()``."""

    url: str
    host: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop now: open keep-alive connections are not waited for."""
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout=10)
        for cleanup in self.extra.pop("on_stop", []):  # e.g. a temp folder holding a secret
            cleanup()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_asgi(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: tuple[str | Path, str | Path] | None = None,
    *,
    startup_timeout: float = 15.0,
    name: str = "uvicorn",
) -> RunningServer:
    """Start ``app`` and return once it accepts connections.

    TLS contexts are hardened (:func:`apisec_samples.tls.harden`); no Server
    banner is sent.  On a failed start nothing is left bound or running."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP (with proto 0 every response waits ~40 ms for a delayed ACK).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        real_port = sock.getsockname()[1]
        kwargs: dict[str, Any] = {}
        if tls is not None:
            kwargs = {"ssl_certfile": str(tls[0]), "ssl_keyfile": str(tls[1])}
        config = uvicorn.Config(
            app,
            host=host,
            port=real_port,
            log_level="critical",
            access_log=False,
            server_header=False,
            lifespan="off",
            timeout_keep_alive=5,
            timeout_graceful_shutdown=1,
            **kwargs,
        )
        if tls is not None:
            config.load()
            harden(config.ssl)
    except BaseException:
        sock.close()
        raise
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"{name}:{real_port}"
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
            raise RuntimeError(f"server on {host}:{real_port} did not start")
        time.sleep(0.02)
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    return RunningServer(f"{scheme}://{shown}:{real_port}", host, real_port, server, thread)
