"""Broken servers on real 127.0.0.1 sockets (port 0), one per fault the
engine must survive.  Each runs in a daemon thread until ``stop()``."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FaultServer:
    kind: str
    port: int
    scheme: str = "http"
    _sock: socket.socket | None = field(default=None, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _held: list[socket.socket] = field(default_factory=list, repr=False)
    accepted: int = 0
    """Connections accepted so far (tests wait on it instead of sleeping)."""

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        self._stop.set()
        for s in [self._sock, *self._held]:
            try:
                s.close()
            except OSError:
                pass


def _read_request(conn: socket.socket) -> bytes:
    conn.settimeout(10)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def _silent(srv: FaultServer, conn: socket.socket) -> None:
    srv._held.append(conn)  # accepted, never answered, never closed
    srv._stop.wait()


def _drip(srv: FaultServer, conn: socket.socket) -> None:
    _read_request(conn)
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Slow: " + b"a" * 10_000
    for b in response:
        if srv._stop.wait(1.0):
            return
        try:
            conn.send(bytes([b]))
        except OSError:
            return


def _reset(srv: FaultServer, conn: socket.socket) -> None:
    conn.settimeout(10)
    try:
        conn.recv(1)  # the first byte of the ClientHello / request line
    except OSError:
        pass
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()  # RST


def _endless(srv: FaultServer, conn: socket.socket) -> None:
    _read_request(conn)
    block = b"x" * 65536
    try:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n"
        )
        sent = 0
        while sent < 1 << 30 and not srv._stop.is_set():
            conn.sendall(block)
            sent += len(block)
    except OSError:
        pass


def _endless_chunked(srv: FaultServer, conn: socket.socket) -> None:
    _read_request(conn)
    chunk = b"10000\r\n" + b"y" * 65536 + b"\r\n"
    try:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
        while not srv._stop.is_set():
            conn.sendall(chunk)
    except OSError:
        pass


def _redirect(srv: FaultServer, conn: socket.socket) -> None:
    while not srv._stop.is_set():
        req = _read_request(conn)
        if not req:
            return
        path = req.split(b" ", 2)[1].decode(errors="replace") if req.count(b" ") >= 2 else "/"
        nxt = f"{path.rstrip('/')}/r"[-1500:]
        try:
            conn.sendall(f"HTTP/1.1 302 Found\r\nLocation: {nxt}\r\nContent-Length: 0\r\n\r\n".encode())
        except OSError:
            return


def _bad_tls(srv: FaultServer, conn: socket.socket) -> None:
    conn.settimeout(10)
    try:
        conn.recv(4096)  # ClientHello
        # a TLS record header announcing a handshake, then garbage
        conn.sendall(b"\x16\x03\x03\x00\x40" + b"\xde\xad\xbe\xef" * 16)
        time.sleep(0.5)
    except OSError:
        pass
    conn.close()


HANDLERS: dict[str, Callable[[FaultServer, socket.socket], None]] = {
    "silent": _silent,
    "drip": _drip,
    "reset": _reset,
    "endless-body": _endless,
    "endless-chunked": _endless_chunked,
    "redirect-loop": _redirect,
    "bad-tls": _bad_tls,
}


def start(kind: str) -> FaultServer:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    srv = FaultServer(kind, sock.getsockname()[1], "https" if kind in ("bad-tls", "reset") else "http", sock)
    handler = HANDLERS[kind]

    def serve() -> None:
        while not srv._stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            srv.accepted += 1
            threading.Thread(target=handler, args=(srv, conn), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv


__all__ = ["HANDLERS", "FaultServer", "start"]
del ssl
