"""The introspection answer is read up to a cap: a real endpoint on
127.0.0.1 that answers too much (plainly or as a gzip bomb) makes the guard
fail closed (503), and the same endpoint's normal answer is accepted."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import parse_qsl

import pytest
import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apisec_samples.serving import serve_asgi
from rest.errors import TargetUnreachable
from rest.guard import GuardConfig, Introspector
from tests.rest.guard_apps import serve_guarded

CLIENT, SECRET = "rs-client", "rs-secret"


@pytest.fixture(scope="module")
def endpoint(pki):
    async def introspect(request: Request) -> Response:
        expected = "Basic " + base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Response(json.dumps({"error": "invalid_client"}), 401, media_type="application/json")
        form = dict(parse_qsl((await request.body()).decode()))
        answer = {"active": True, "sub": "alice", "client_id": CLIENT, "scope": "read"}
        token = form.get("token", "")
        if token == "huge":
            answer["padding"] = "A" * 200_000
        body = json.dumps(answer).encode()
        if token == "bomb":  # 4 MB of JSON whitespace in a few KB of gzip
            body = gzip.compress(b"{" + b" " * 4_000_000 + b'"active":true,"sub":"alice"}')
            return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/introspect", introspect, methods=["POST"])])
    with serve_asgi(app, tls=(pki.service.cert_path, pki.service.key_path), name="introspect") as h:
        yield h


def _introspector(endpoint, pki, **kw):
    return Introspector(endpoint.url + "/introspect", CLIENT, SECRET, ca_file=str(pki.ca_path), **kw)


def test_a_normal_answer_is_accepted(endpoint, pki):
    assert _introspector(endpoint, pki).introspect("opaque-1")["sub"] == "alice"


@pytest.mark.parametrize("token", ["huge", "bomb"])
def test_an_oversized_answer_fails_closed(endpoint, pki, token):
    with pytest.raises(TargetUnreachable, match="larger than 65536 bytes"):
        _introspector(endpoint, pki).introspect(token)
    assert _introspector(endpoint, pki, max_bytes=300_000).introspect("huge")["sub"] == "alice"


def test_the_guard_answers_503_for_an_oversized_answer(endpoint, pki):
    cfg = GuardConfig(introspector=_introspector(endpoint, pki), audit=None, rate_limit=None)
    with serve_guarded(cfg, pki) as srv:

        def get(token):
            return requests.get(srv.url + "/me", headers={"Authorization": f"Bearer {token}"},
                                verify=str(pki.ca_path), timeout=10)  # fmt: skip

        assert get("opaque-2").status_code == 200
        for token in ("huge", "bomb"):
            r = get(token)
            assert r.status_code == 503 and r.json() == {"error": "temporarily_unavailable"}
