"""JWKS client against a real HTTPS server (uvicorn, test-PKI certificate):
Cache-Control with floor and ceiling, rate-limited refetch on unknown kid,
custom CA bundle, proxy and timeouts."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apisec_samples.serving import serve_asgi
from rest.errors import BadInput, TargetUnreachable, TokenRejected
from rest.jwt import JWKSClient, Validator
from rest.jwt.forge import public_jwk
from rest.jwt.jwks import cache_seconds


class State:
    def __init__(self):
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.cache_control = "max-age=300"
        self.hits = 0
        self.broken = False

    def doc(self):
        return {"keys": [public_jwk(k, kid) for kid, k in self.keys.items()]}


@pytest.fixture(scope="module")
def jwks_server(pki):
    state = State()

    async def jwks(request: Request) -> Response:
        state.hits += 1
        if state.broken:
            return Response("down", 503)
        return Response(json.dumps(state.doc()), headers={"Cache-Control": state.cache_control},
                        media_type="application/jwk-set+json")  # fmt: skip

    async def slow(request: Request) -> Response:
        await asyncio.sleep(6)
        return Response("{}")

    app = Starlette(routes=[Route("/jwks", jwks), Route("/slow", slow)])
    handle = serve_asgi(app, tls=(pki.service.cert_path, pki.service.key_path))
    handle.extra["state"] = state
    yield handle
    handle.stop()


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def _client(server, pki, **kw):
    return JWKSClient(server.url + "/jwks", ca_file=str(pki.ca_path), **kw)


def test_custom_ca_bundle_required(jwks_server, pki):
    with pytest.raises(TargetUnreachable, match="TLS"):
        JWKSClient(jwks_server.url + "/jwks").get_keys()
    assert len(_client(jwks_server, pki).get_keys()) >= 1


def test_http_refused_by_default():
    with pytest.raises(BadInput, match="https"):
        JWKSClient("http://127.0.0.1:1/jwks")


def test_cache_control_honoured_with_floor_and_ceiling(jwks_server, pki):
    state = jwks_server.extra["state"]
    clock = Clock()
    state.cache_control = "max-age=300"
    c = _client(jwks_server, pki, clock=clock, min_ttl=10, max_ttl=3600)
    c.get_keys(), c.get_keys()
    assert c.fetch_count == 1
    clock.t += 299
    c.get_keys()
    assert c.fetch_count == 1
    clock.t += 2
    c.get_keys()
    assert c.fetch_count == 2
    # ceiling: a week-long max-age is capped
    state.cache_control = "public, max-age=604800"
    clock.t += 400
    c.get_keys()
    assert c.fetch_count == 3 and c.ttl_remaining == 3600
    # floor: no-store still caches for min_ttl (no fetch per request)
    state.cache_control = "no-store"
    clock.t += 3601
    c.get_keys()
    c.get_keys()
    assert c.fetch_count == 4 and c.ttl_remaining == 10


def test_cache_seconds_parsing():
    now = time.time()
    assert cache_seconds({"Cache-Control": "max-age=60", "Age": "20"}, now=now, default=5) == 40
    assert cache_seconds({"Cache-Control": "no-cache"}, now=now, default=5) == 0
    assert cache_seconds({}, now=now, default=5) == 5
    assert cache_seconds({"Expires": "Thu, 01 Jan 1970 00:00:00 GMT"}, now=now, default=5) == 0


def test_unknown_kid_refetch_is_rate_limited(jwks_server, pki):
    state = jwks_server.extra["state"]
    state.cache_control = "max-age=3600"
    clock = Clock()
    c = _client(jwks_server, pki, clock=clock, refetch_interval=30)
    v = Validator(jwks_client=c, algorithms=("RS256",), require=())
    tok1 = pyjwt.encode({"sub": "a"}, state.keys["k1"], algorithm="RS256", headers={"kid": "k1"})
    assert v.validate(tok1)["sub"] == "a"
    assert c.fetch_count == 1
    # rotation: k2 appears; a token with k2 triggers one refetch (interval elapsed)
    state.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tok2 = pyjwt.encode({"sub": "b"}, state.keys["k2"], algorithm="RS256", headers={"kid": "k2"})
    clock.t += 31
    assert v.validate(tok2)["sub"] == "b"
    assert c.fetch_count == 2
    # attacker floods random kids: no refetch inside the interval
    for i in range(20):
        bogus = pyjwt.encode({"sub": "x"}, state.keys["k1"], algorithm="RS256", headers={"kid": f"rnd{i}"})
        with pytest.raises(TokenRejected, match="kid"):
            v.validate(bogus)
    assert c.fetch_count == 2
    clock.t += 31
    with pytest.raises(TokenRejected):
        v.validate(bogus)
    assert c.fetch_count == 3


def test_timeout(jwks_server, pki):
    c = JWKSClient(jwks_server.url + "/slow", ca_file=str(pki.ca_path), timeout=(1.0, 0.3))
    t0 = time.monotonic()
    with pytest.raises(TargetUnreachable):
        c.get_keys()
    assert time.monotonic() - t0 < 4.5  # read timeout 0.3 s, endpoint answers after 6 s


class ConnectProxy:
    """A real (tiny) HTTP CONNECT proxy on 127.0.0.1 that records tunnels."""

    def __init__(self):
        import socketserver

        tunnels = self.tunnels = []

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                import select
                import socket

                head = b""
                while b"\r\n\r\n" not in head and len(head) < 8192:
                    chunk = self.request.recv(1024)
                    if not chunk:
                        return
                    head += chunk
                line = head.split(b"\r\n", 1)[0].decode()
                method, target, _ = line.split(" ", 2)
                if method != "CONNECT":
                    self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                    return
                host, port = target.rsplit(":", 1)
                tunnels.append(target)
                upstream = socket.create_connection((host, int(port)), timeout=5)
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                socks = [self.request, upstream]
                for _ in range(10000):  # bounded relay
                    ready, _, _ = select.select(socks, [], [], 5)
                    if not ready:
                        break
                    for s in ready:
                        data = s.recv(65536)
                        if not data:
                            upstream.close()
                            return
                        (upstream if s is self.request else self.request).sendall(data)
                upstream.close()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_proxy_is_used(jwks_server, pki):
    proxy = ConnectProxy()
    try:
        c = _client(jwks_server, pki, proxies={"https": proxy.url}, timeout=5)
        assert len(c.get_keys()) >= 1
        host_port = jwks_server.url.split("://", 1)[1]
        assert proxy.tunnels == [host_port]
    finally:
        proxy.close()
    # and a dead proxy is an error, not a silent direct connection
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    c = _client(jwks_server, pki, proxies={"https": f"http://127.0.0.1:{dead}"}, timeout=2)
    with pytest.raises(TargetUnreachable):
        c.get_keys()


def test_private_keys_in_jwks_refused(pki):
    state = State()

    async def leak(request: Request) -> Response:
        from jwt.algorithms import RSAAlgorithm

        return Response(json.dumps({"keys": [json.loads(RSAAlgorithm.to_jwk(state.keys["k1"]))]}))

    with serve_asgi(
        Starlette(routes=[Route("/jwks", leak)]), tls=(pki.service.cert_path, pki.service.key_path)
    ) as h:
        with pytest.raises(BadInput, match="private"):
            JWKSClient(h.url + "/jwks", ca_file=str(pki.ca_path)).get_keys()


def test_issuer_outage_keeps_cached_keys_without_hammering(jwks_server, pki):
    state = jwks_server.extra["state"]
    state.cache_control = "max-age=120"
    clock = Clock()
    c = _client(jwks_server, pki, clock=clock, min_ttl=30)
    v = Validator(jwks_client=c, algorithms=("RS256",), require=())
    tok = pyjwt.encode({"sub": "a"}, state.keys["k1"], algorithm="RS256", headers={"kid": "k1"})
    assert v.validate(tok)
    state.broken = True
    try:
        clock.t += 121
        for _ in range(10):
            assert v.validate(tok)["sub"] == "a"
        assert c.fetch_count == 2 and c.stale_served == 1  # one failed refresh, then back-off
        clock.t += 31
        assert v.validate(tok)
        assert c.fetch_count == 3
        # nothing cached: fail closed
        with pytest.raises(TargetUnreachable, match="503"):
            _client(jwks_server, pki).get_keys()
    finally:
        state.broken = False


def test_a_remembered_signature_dies_with_its_key(jwks_server, pki):
    """The validator remembers verified signatures per key object: when the
    issuer withdraws the key, the next key-set refresh makes the same token
    fail, exactly as without the memo."""
    state = jwks_server.extra["state"]
    state.cache_control = "max-age=60"
    clock = Clock()
    c = _client(jwks_server, pki, clock=clock, min_ttl=10)
    v = Validator(jwks_client=c, algorithms=("RS256",), require=())
    tok = pyjwt.encode({"sub": "a"}, state.keys["k1"], algorithm="RS256", headers={"kid": "k1"})
    assert v.validate(tok)["sub"] == "a" and v.validate(tok)["sub"] == "a"
    assert len(v._verified) == 1
    old = state.keys["k1"]
    try:
        # the same kid now names another key: the remembered key object is gone
        state.keys["k1"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        clock.t += 61
        with pytest.raises(TokenRejected, match="signature"):
            v.validate(tok)
        assert c.fetch_count == 2
        # withdrawn altogether: refused too
        del state.keys["k1"]
        state.keys["k9"] = old
        clock.t += 61
        with pytest.raises(TokenRejected, match="kid"):
            v.validate(tok)
    finally:
        state.keys.clear()
        state.keys["k1"] = old
