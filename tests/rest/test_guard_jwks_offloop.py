"""A JWKS fetch never stalls the guard's event loop: against a real JWKS
server on 127.0.0.1 that is held mid-answer, requests with a cached key are
served while a refetch for an unknown kid is pending, concurrent refetches
of that JWKS are one fetch, and the waiting requests use its answer."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apisec_samples.serving import serve_asgi
from rest.guard import GuardConfig, RateLimit
from rest.jwt import FetchNeeded, JWKSClient, Validator
from rest.jwt.forge import public_jwk
from tests.rest.guard_apps import AUDIENCE, ISSUER, mint, serve_guarded

HOLD_LIMIT = 30.0  # the JWKS answer is held at most this long (a broken test must end)


class SlowJWKS:
    """A JWKS endpoint whose answer can be held until released."""

    def __init__(self) -> None:
        self.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Event()  # a request is being held
        self.hits = 0

    async def jwks(self, request: Request) -> Response:
        self.hits += 1
        doc = json.dumps({"keys": [public_jwk(k, kid) for kid, k in self.keys.items()]})
        if not self.open.is_set():
            self.waiting.set()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self.open.wait, HOLD_LIMIT)
        return Response(doc, headers={"Cache-Control": "max-age=300"}, media_type="application/jwk-set+json")


@pytest.fixture()
def slow_jwks(pki):
    state = SlowJWKS()
    app = Starlette(routes=[Route("/jwks", state.jwks)])
    with serve_asgi(app, tls=(pki.service.cert_path, pki.service.key_path), name="slow-jwks") as h:
        h.extra["state"] = state
        yield h
    state.open.set()


class _Session(requests.Session):
    """Verifies with the test CA (per request: a session-level ``verify``
    loses to REQUESTS_CA_BUNDLE in requests)."""

    def __init__(self, ca: str) -> None:
        super().__init__()
        self.ca = ca

    def request(self, *args, **kw):
        kw.setdefault("verify", self.ca)
        return super().request(*args, **kw)


def _session(pki):
    return _Session(str(pki.ca_path))


def test_requests_are_served_while_a_refetch_is_pending(slow_jwks, pki):
    state: SlowJWKS = slow_jwks.extra["state"]
    jwks = JWKSClient(slow_jwks.url + "/jwks", ca_file=str(pki.ca_path), refetch_interval=0)
    validator = Validator(jwks_client=jwks, audience=AUDIENCE, issuer=ISSUER)
    cfg = GuardConfig(validator=validator, rate_limit=RateLimit(10_000, 60.0), audit=None)
    with serve_guarded(cfg, pki) as api:
        s = _session(pki)
        known = mint(state.keys["k1"], "alice", kid="k1")
        assert (
            s.get(api.url + "/me", headers={"Authorization": f"Bearer {known}"}, timeout=10).json()["sub"]
            == "alice"
        )
        assert jwks.fetch_count == 1

        # rotation: k2 appears at the issuer, whose answers are now held
        state.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rotated = mint(state.keys["k2"], "bob", kid="k2")
        state.open.clear()
        pool = ThreadPoolExecutor(4)
        try:
            pending = [
                pool.submit(
                    _session(pki).get,
                    api.url + "/me",
                    headers={"Authorization": f"Bearer {rotated}"},
                    timeout=HOLD_LIMIT + 10,
                )
                for _ in range(4)
            ]
            assert state.waiting.wait(10), "the guard never asked the JWKS for the new kid"
            # the refetch is held at the issuer: the guard still answers the others
            for _ in range(5):
                r = s.get(api.url + "/me", headers={"Authorization": f"Bearer {known}"}, timeout=5)
                assert r.status_code == 200 and r.json()["sub"] == "alice"
            r = s.get(api.url + "/health", timeout=5)  # and refusals too
            assert r.status_code == 401
            assert not state.open.is_set() and all(not f.done() for f in pending)
            assert jwks.fetch_count == 1  # the held one is not counted yet
        finally:
            state.open.set()
            results = [f.result() for f in pending]
            pool.shutdown()
        assert [r.status_code for r in results] == [200] * 4
        assert {r.json()["sub"] for r in results} == {"bob"}
        # single flight: four requests for the unknown kid, one fetch
        assert state.hits == 2 and jwks.fetch_count == 2


def test_no_fetch_on_demand_raises_instead_of_waiting(slow_jwks, pki):
    state: SlowJWKS = slow_jwks.extra["state"]
    jwks = JWKSClient(slow_jwks.url + "/jwks", ca_file=str(pki.ca_path), refetch_interval=0)
    v = Validator(jwks_client=jwks, audience=AUDIENCE, issuer=ISSUER)
    tok = mint(state.keys["k1"], "alice", kid="k1")
    with pytest.raises(FetchNeeded):  # nothing cached yet
        v.validate(tok, fetch=False)
    assert jwks.fetch_count == 0
    assert v.validate(tok)["sub"] == "alice"
    assert v.validate(tok, fetch=False)["sub"] == "alice"
    state.keys["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(FetchNeeded):  # unknown kid, refetch allowed: only a fetch can tell
        v.validate(mint(state.keys["k2"], "bob", kid="k2"), fetch=False)
    assert jwks.fetch_count == 1
