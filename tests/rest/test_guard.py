"""rest.guard.GuardMiddleware against a real uvicorn server: each control has
a refusing and an allowing case, errors disclose nothing, and the audit line
holds the decision but never the token."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from fastapi import FastAPI, Request

from rest.errors import BadInput
from rest.guard import AUDIT_LOGGER, AccessPolicy, GuardConfig, GuardMiddleware, RateLimit, principal_of
from rest.jwt import Validator
from tests.rest.guard_apps import AUDIENCE, ISSUER, mint, owns, serve_guarded, signing_key

ROLES = {
    "roles": {"alice": {"token": "x"}, "bob": {"token": "x"}, "admin": {"token": "x"}},
    "requests": [
        {
            "path": "/items/1",
            "operation": "/items/{item_id}",
            "check": "bola",
            "allow": ["alice"],
            "deny": ["bob"],
        },
        {"path": "/admin", "check": "bfla", "allow": ["admin"], "deny": ["alice", "anonymous"]},
    ],
}


@pytest.fixture(scope="module")
def key():
    return signing_key()


def validator(key, **kw):
    kw.setdefault("audience", AUDIENCE)
    kw.setdefault("issuer", ISSUER)
    return Validator(keys=key.public_key(), **kw)


@pytest.fixture(scope="module")
def records():
    return []


@pytest.fixture(scope="module")
def guarded(pki, key, records):
    cfg = GuardConfig(
        validator=validator(key),
        policy=AccessPolicy.from_roles_file(ROLES, owner_check=owns),
        rate_limit=RateLimit(1000, 60.0),
        public_paths=("/health",),
        audit=records.append,
    )
    with serve_guarded(cfg, pki) as srv:
        yield srv


def get(srv, pki, path, token=None, **kw):
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(srv.url + path, headers=headers, verify=str(pki.ca.cert_path), timeout=10, **kw)


def test_valid_token_reaches_the_app_with_headers(guarded, pki, key):
    r = get(guarded, pki, "/me", mint(key, "alice", roles=["reader"], scope="orders:read"))
    assert r.status_code == 200
    assert r.json() == {"sub": "alice", "roles": ["orders:read", "reader"]}
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "remaining=" in r.headers["RateLimit"]


@pytest.mark.parametrize(
    "make, challenge",
    [
        (lambda k: None, 'Bearer realm="api"'),
        (lambda k: mint(signing_key()), 'Bearer realm="api", error="invalid_token"'),
        (lambda k: mint(k, aud="another-api"), 'Bearer realm="api", error="invalid_token"'),
        (lambda k: mint(k, iss="https://other-issuer.test"), 'Bearer realm="api", error="invalid_token"'),
        (lambda k: mint(k, ttl=-60), 'Bearer realm="api", error="invalid_token"'),
        (lambda k: "opaque-not-a-jwt", 'Bearer realm="api", error="invalid_token"'),
    ],
    ids=["no-token", "other-key", "wrong-aud", "wrong-iss", "expired", "opaque-without-introspection"],
)
def test_refused_tokens_get_rfc6750_challenge_and_no_detail(guarded, pki, key, make, challenge):
    r = get(guarded, pki, "/me", make(key))
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == challenge
    assert r.json() == {"error": "invalid_token"}
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_token_in_query_is_never_accepted(guarded, pki, key):
    r = get(guarded, pki, "/me", params={"access_token": mint(key)})
    assert r.status_code == 401


def test_public_path_needs_no_token(guarded, pki):
    r = get(guarded, pki, "/health")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert get(guarded, pki, "/healthz").status_code == 401  # whole segments, not a string prefix


def test_roles_to_operations(guarded, pki, key):
    r = get(guarded, pki, "/admin", mint(key, "alice"))
    assert r.status_code == 403
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="api", error="insufficient_scope"'
    assert get(guarded, pki, "/admin", mint(key, "root", roles=["admin"])).status_code == 200


def test_object_ownership_hook(guarded, pki, key):
    assert get(guarded, pki, "/items/1", mint(key, "alice")).status_code == 200
    assert get(guarded, pki, "/items/1", mint(key, "bob")).status_code == 404
    assert get(guarded, pki, "/items/2", mint(key, "bob")).status_code == 200


def test_two_authorization_headers_are_refused(guarded, pki, key):
    import http.client
    import ssl

    ctx = ssl.create_default_context(cafile=str(pki.ca.cert_path))
    host, port = guarded.url.split("//")[1].split(":")
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
    conn.putrequest("GET", "/me")
    conn.putheader("Authorization", f"Bearer {mint(key)}")
    conn.putheader("Authorization", "Bearer second")
    conn.endheaders()
    assert conn.getresponse().status == 400
    conn.close()


def test_audit_line_per_decision_without_secrets(pki, key, caplog):
    cfg = GuardConfig(validator=validator(key), rate_limit=None)
    token = mint(key, "carol")
    forged = mint(signing_key(), "mallory")
    with caplog.at_level(logging.INFO, logger=AUDIT_LOGGER), serve_guarded(cfg, pki) as srv:
        assert get(srv, pki, "/me?api_key=s3cr3t-in-query", token).status_code == 200
        assert get(srv, pki, "/me", forged).status_code == 401
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == AUDIT_LOGGER]
    assert [(d["allowed"], d["status"], d["sub"], d["path"]) for d in lines] == [
        (True, 200, "carol", "/me"),
        (False, 401, None, "/me"),
    ]
    assert lines[1]["reason"] == "signature does not verify"
    text = caplog.text
    for secret in (token, forged, token.split(".")[2], "s3cr3t-in-query"):
        assert secret not in text


def test_rate_limit_429_with_retry_after(pki, key):
    cfg = GuardConfig(validator=validator(key), rate_limit=RateLimit(3, 30.0), audit=None)
    token = mint(key)
    with serve_guarded(cfg, pki) as srv:
        answers = [get(srv, pki, "/me", token) for _ in range(4)]
        other = get(srv, pki, "/me", mint(key, "bob"))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["RateLimit"].split(",")[1].strip() for a in answers[:3]] == [
        "remaining=2",
        "remaining=1",
        "remaining=0",
    ]
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert answers[3].headers["RateLimit-Policy"] == "3;w=30"
    assert other.status_code == 200  # per client, not global


def test_credentials_over_cleartext_http_refused_unless_allowed(key):
    token = mint(key)
    strict = GuardConfig(validator=validator(key), audit=None)
    lax = GuardConfig(validator=validator(key), audit=None, allow_http=True)
    with serve_guarded(strict) as a, serve_guarded(lax) as b:
        refused = requests.get(a.url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        allowed = requests.get(b.url + "/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refused.status_code == 400 and refused.json() == {"error": "invalid_request"}
    assert "Strict-Transport-Security" not in refused.headers
    assert allowed.status_code == 200


def test_configuration_errors(key):
    with pytest.raises(BadInput, match="validator .* or an introspector"):
        GuardConfig()
    with pytest.raises(BadInput, match="no owner_check"):
        AccessPolicy.from_roles_file(ROLES)
    with pytest.raises(BadInput, match="operation must be a path template"):
        AccessPolicy.from_roles_file({**ROLES, "requests": [{**ROLES["requests"][0], "operation": "items"}]})
    with pytest.raises(BadInput, match="limit >= 1"):
        RateLimit(0)


def test_any_asgi_app_not_only_starlette(pki, key):
    """A bare ASGI callable (no framework) behind the guard."""

    async def raw_app(scope, receive, send):
        principal = scope.get("apisec.principal")
        body = (principal.subject if principal else "-").encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": body})

    cfg = GuardConfig(validator=validator(key), audit=None)
    with serve_guarded(cfg, pki, app=raw_app) as srv:
        ok = get(srv, pki, "/anything", mint(key, "dave"))
        refused = get(srv, pki, "/anything")
    assert ok.status_code == 200 and ok.text == "dave" and ok.headers["Referrer-Policy"] == "no-referrer"
    assert refused.status_code == 401


def test_anonymous_in_allow_makes_an_operation_public():
    policy = AccessPolicy.from_roles_file(
        {
            "roles": {"a": {"token": "x"}, "b": {"token": "x"}},
            "requests": [{"path": "/docs", "check": "bfla", "allow": ["anonymous", "a"], "deny": ["b"]}],
        }
    )
    assert policy.is_public("GET", "/docs") and policy.is_public("HEAD", "/docs")
    assert not policy.is_public("POST", "/docs") and not policy.is_public("GET", "/docs/x")
    assert not AccessPolicy.from_roles_file(ROLES, owner_check=owns).is_public("GET", "/admin")


def test_a_failing_app_still_gets_its_audit_line(pki, key):
    async def broken(scope, receive, send):
        raise RuntimeError("handler bug")

    seen = []
    cfg = GuardConfig(validator=validator(key), audit=seen.append, rate_limit=None)
    with serve_guarded(cfg, pki, app=broken) as srv:
        assert get(srv, pki, "/x", mint(key, "erin")).status_code == 500
    assert [(d["allowed"], d["status"], d["sub"]) for d in seen] == [(True, 500, "erin")]


def test_fastapi_app_with_the_guard_as_middleware(pki, key):
    app = FastAPI()

    @app.get("/orders/{order_id}")
    def order(order_id: int, request: Request) -> dict:
        return {"id": order_id, "owner": principal_of(request.scope).subject}

    app.add_middleware(
        GuardMiddleware,
        config=GuardConfig(validator=validator(key), audit=None, policy=AccessPolicy.from_roles_file(
            {**ROLES, "requests": [{**ROLES["requests"][0], "operation": "/orders/{item_id}"}]}, owner_check=owns)),
    )  # fmt: skip
    from apisec_samples.serving import serve_asgi

    with serve_asgi(app, tls=(pki.service.cert_path, pki.service.key_path), name="fastapi-guard") as srv:
        assert get(srv, pki, "/orders/1", mint(key, "alice")).json() == {"id": 1, "owner": "alice"}
        assert get(srv, pki, "/orders/1", mint(key, "bob")).status_code == 404
        assert get(srv, pki, "/orders/1").status_code == 401
        assert get(srv, pki, "/docs").status_code == 401  # FastAPI's own pages are behind the guard too
