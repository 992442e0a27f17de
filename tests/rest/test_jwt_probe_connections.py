"""The JWT probe reuses one TLS connection per run (issue 18), and confirms
an acceptance on a fresh connection, against a real HTTPS front on 127.0.0.1
that counts the TCP connections and TLS handshakes it accepts."""

from __future__ import annotations

import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from apisec_samples.jwt_api import serve
from apisec_samples.pki import make_pki
from apisec_samples.tls import server_context
from compare.findings import Status
from rest.jwt import probe


@pytest.fixture(scope="module")
def api():
    handle = serve()
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory):
    return make_pki(tmp_path_factory.mktemp("pki"))


class _CountingFront:
    """HTTPS (HTTP/1.1 keep-alive) on 127.0.0.1 forwarding GETs to ``upstream``.

    ``connection_bound``: once a request on a connection was answered 200,
    every later request on that connection is answered 200 too, whatever its
    token (a gateway that caches authentication per connection)."""

    def __init__(self, upstream: str, pki, *, connection_bound: bool = False) -> None:
        context = server_context(str(pki.service.cert_path), str(pki.service.key_path))
        counts = {"connections": 0, "handshakes": 0, "requests": 0}
        lock = threading.Lock()

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):  # one accepted TCP connection, TLS handshake done here
                sock, addr = super().get_request()
                with lock:
                    counts["connections"] += 1
                tls = context.wrap_socket(sock, server_side=True)
                with lock:
                    counts["handshakes"] += 1
                return tls, addr

            def handle_error(self, request, client_address) -> None:
                pass  # a client closing its connection is not an error here

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as real servers do (no delayed-ACK stall on keep-alive)

            def setup(self) -> None:
                super().setup()
                self.authenticated = False

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                with lock:
                    counts["requests"] += 1
                auth = self.headers.get("Authorization")
                if connection_bound and self.authenticated:
                    status, body = 200, b"{}"
                else:
                    r = requests.get(upstream, headers={"Authorization": auth} if auth else {}, timeout=10)
                    status, body = r.status_code, r.content
                    self.authenticated = status == 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.counts = counts
        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}/orders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _probe(api, front: _CountingFront, route: str, pki) -> dict:
    a = api.extra["api"]
    findings = probe(
        front.url,
        a.token_for(route),
        public_key=a.public_pem,
        signing_key=a.private_pem,
        ca_file=str(pki.ca_path),
    )
    return {f.check_id: f for f in findings}


def test_one_connection_and_one_ca_load_per_run(api, pki, monkeypatch) -> None:
    loads: list[str] = []
    real = ssl.SSLContext.load_verify_locations

    def counting(self, cafile=None, *args, **kwargs):
        loads.append(str(cafile))
        return real(self, cafile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counting)
    front = _CountingFront(api.url + "/secure", pki)
    try:
        by = _probe(api, front, "/secure", pki)
    finally:
        front.close()
    # the same verdicts as straight against the API: a correct route passes everything it can
    assert {c for c, f in by.items() if f.status is not Status.PASS} == {"jwt.weak-secret"}
    assert front.counts["requests"] >= 20
    # one connection for the run, one more for the only acceptance: the white-box control
    # token (signed with the API's own key) is confirmed on a new connection like any other
    assert front.counts["connections"] == 2 and front.counts["handshakes"] == 2, front.counts
    assert loads.count(str(pki.ca_path)) == 1, loads


def test_an_acceptance_is_confirmed_on_a_fresh_connection(api, pki) -> None:
    """A gateway that caches authentication per connection would make every
    forgery sent after the valid token look accepted: confirmed on a new
    connection, they are refused, so a correct API still passes."""
    front = _CountingFront(api.url + "/secure", pki, connection_bound=True)
    try:
        by = _probe(api, front, "/secure", pki)
    finally:
        front.close()
    assert {c for c, f in by.items() if f.status is not Status.PASS} == {"jwt.weak-secret"}, {
        c: f.evidence for c, f in by.items() if f.status is Status.FAIL
    }
    assert front.counts["connections"] > 1  # the confirmations' own connections


def test_a_real_flaw_survives_the_confirmation(api, pki) -> None:
    front = _CountingFront(api.url + "/flaw/none-alg", pki, connection_bound=True)
    try:
        by = _probe(api, front, "/flaw/none-alg", pki)
    finally:
        front.close()
    assert by["jwt.none-alg"].status is Status.FAIL
    assert by["jwt.tampered-payload"].status is Status.PASS


def test_an_untrusted_server_is_a_tls_error_not_a_verdict(api, pki, tmp_path: Path) -> None:
    from rest.errors import TargetUnreachable

    other = make_pki(tmp_path / "other")
    front = _CountingFront(api.url + "/secure", pki)
    try:
        with pytest.raises(TargetUnreachable, match="TLS"):
            probe(front.url, api.extra["api"].token_for("/secure"), ca_file=str(other.ca_path))
    finally:
        front.close()


def test_inside_a_run_the_probe_takes_its_turn_in_the_hosts_budget(api, pki) -> None:
    """The engine's per-host budget (issue 18) paces the probe's requests like
    the HTTP checks' ones: every request asks the host's budget first and
    reports its answer back, and verdicts are unchanged."""
    from rest.http.budget import HostBudget, use_budget

    class Recording(HostBudget):
        def __init__(self) -> None:
            super().__init__(rate=20)  # a bucket of 20, refilled at 20/s
            self.acquired = self.observed = 0

        def acquire(self, url: str) -> float:
            self.acquired += 1
            return super().acquire(url)

        def observe(self, url, status, headers, **kw) -> float:
            self.observed += 1
            return super().observe(url, status, headers, **kw)

    budget = Recording()
    front = _CountingFront(api.url + "/secure", pki)
    try:
        with use_budget(budget):
            by = _probe(api, front, "/secure", pki)
    finally:
        front.close()
    assert {c for c, f in by.items() if f.status is not Status.PASS} == {"jwt.weak-secret"}
    assert budget.acquired == budget.observed == front.counts["requests"] > 20
