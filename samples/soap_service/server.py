"""A real threaded WSGI server (wsgiref) on 127.0.0.1, optionally over TLS.

Used by the sample services, the demo and the tests.  Port 0 binds an
ephemeral port (several test runs share the machine).  The TLS handshake
runs in the connection's own thread (``do_handshake_on_connect=False``) so
one slow or plain-HTTP client cannot stall the accept loop; every
connection has a read timeout.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from apisec_samples.tls import server_context

log = logging.getLogger("apisec_samples.server")
CONNECTION_TIMEOUT = 10.0


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = self.socket.accept()
        conn.settimeout(CONNECTION_TIMEOUT)
        if self.tls is not None:
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def setup_environ(self) -> None:
        super().setup_environ()
        if self.tls is not None:
            self.base_environ["HTTPS"] = "on"
            self.base_environ["wsgi.url_scheme"] = "https"

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that speaks plain HTTP to the TLS port, or hangs up, is not
        # a server error worth a traceback on stderr.
        log.debug("connection from %s failed", client_address, exc_info=True)


class _QuietServerHandler(ServerHandler):
    # No "WSGIServer/0.2 CPython/3.x" banner: versions help attackers only.
    server_software = "apisec-sample"

    def log_exception(self, exc_info: Any) -> None:
        log.error("unhandled exception in the WSGI app", exc_info=exc_info)


class _Handler(WSGIRequestHandler):
    server_version = "apisec-sample"
    sys_version = ""

    def handle(self) -> None:
        """One request, as the stdlib does, with the quiet handler above."""
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline = self.request_version = self.command = ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        handler = _QuietServerHandler(
            self.rfile, self.wfile, self.get_stderr(), self.get_environ(), multithread=True
        )
        handler.request_handler = self
        handler.run(self.server.get_app())

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s " + format, self.address_string(), *args)

    def get_environ(self) -> dict[str, Any]:
        env = super().get_environ()
        if isinstance(self.connection, ssl.SSLSocket):
            env["wsgi.url_scheme"] = "https"
            env["HTTPS"] = "on"
        return env


@dataclass
class ServerHandle:
    """A running server: ``url`` to POST to, ``stop()`` to end it."""

    url: str
    host: str
    port: int
    scheme: str
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def wsdl_url(self) -> str:
        return self.url + "?wsdl"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        tmp = self.extra.get("tmp")
        if tmp is not None:
            tmp.cleanup()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_wsgi(
    app: Callable[..., Any],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    path: str = "/",
    tls_cert: str | None = None,
    tls_key: str | None = None,
) -> ServerHandle:
    """Serve ``app`` in a background thread; returns once the socket listens."""
    server = make_server(host, port, app, server_class=_Server, handler_class=_Handler)
    scheme = "http"
    if tls_cert and tls_key:
        server.tls = server_context(tls_cert, tls_key)
        server.setup_environ()
        scheme = "https"
    actual = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    url = f"{scheme}://{host}:{actual}{path}"
    return ServerHandle(url=url, host=host, port=actual, scheme=scheme, _server=server, _thread=thread)
