"""OAuth at inventory scale (issue 18): the authorization-server metadata is
fetched once per issuer per run, and the live checks read bounded bodies.
A real HTTPS server on 127.0.0.1 counts what it is asked."""

from __future__ import annotations

import collections

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apisec_samples.serving import serve_asgi
from compare.config import Profile, RestTarget, SecretRef, Settings, Targets
from compare.findings import Status
from rest.errors import TargetUnreachable
from rest.oauth import MetadataCache, check
from rest.oauth.metadata import MAX_METADATA_BYTES

HUGE = b"x" * (MAX_METADATA_BYTES + 10)


@pytest.fixture(scope="module")
def server(pki):
    hits: collections.Counter[tuple[str, str]] = collections.Counter()
    state = {"flaky_up": False}

    async def handler(request: Request) -> Response:
        path = request.url.path
        hits[(request.method, path)] += 1
        base = str(request.base_url).rstrip("/")
        if path.startswith("/.well-known/oauth-authorization-server/"):
            name = path.rsplit("/", 1)[1]
            if name == "flaky" and not state["flaky_up"]:
                return Response("down", 503)
            iss = f"{base}/{name}"
            return JSONResponse({
                "issuer": iss, "authorization_endpoint": f"{iss}/authorize", "token_endpoint": f"{iss}/token",
                "introspection_endpoint": f"{iss}/introspect", "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "code_challenge_methods_supported": ["S256"],
            })  # fmt: skip
        huge = path.startswith("/huge/")
        if path.endswith("/token"):
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if path.endswith("/authorize"):
            return Response(HUGE, 400) if huge else JSONResponse({"error": "unsupported_response_type"}, 400)
        if path.endswith("/introspect"):
            return Response(HUGE, 401) if huge else JSONResponse({"error": "invalid_client"}, 401)
        return Response("not found", 404)

    app = Starlette(routes=[Route("/{path:path}", handler, methods=["GET", "POST"])])
    h = serve_asgi(app, tls=(pki.service.cert_path, pki.service.key_path))
    h.extra["hits"] = hits
    h.extra["state"] = state
    yield h
    h.stop()


def _md_hits(server, name: str) -> int:
    return server.extra["hits"][("GET", f"/.well-known/oauth-authorization-server/{name}")]


def test_a_cache_fetches_each_issuer_once(server, pki) -> None:
    issuer = server.url + "/shared"
    cache = MetadataCache()
    before = _md_hits(server, "shared")
    for _ in range(5):
        findings = check(issuer, ca_file=str(pki.ca_path), metadata_cache=cache)
        assert {f.check_id for f in findings} >= {"oauth.issuer-mismatch", "oauth.pkce-s256"}
    assert _md_hits(server, "shared") - before == 1 and cache.fetches == 1
    for _ in range(2):  # without a cache (apisec rest oauth, a new run) the document is read again
        check(issuer, ca_file=str(pki.ca_path))
    assert _md_hits(server, "shared") - before == 3


def test_each_caller_gets_its_own_copy_and_failures_are_not_kept(server, pki) -> None:
    cache = MetadataCache()
    issuer = server.url + "/flaky"
    with pytest.raises(TargetUnreachable):
        cache.get(issuer, ca_file=str(pki.ca_path), timeout=5)
    server.extra["state"]["flaky_up"] = True
    first = cache.get(issuer, ca_file=str(pki.ca_path), timeout=5)
    first.doc["issuer"] = "tampered"
    assert cache.get(issuer, ca_file=str(pki.ca_path), timeout=5).doc["issuer"] == issuer
    assert cache.fetches == 2  # the failed attempt and the first success; the third call was a hit


def test_a_run_fetches_an_issuers_metadata_once_for_all_its_targets(server, pki, monkeypatch) -> None:
    """Six APIs name one issuer, with two different clients: one metadata
    fetch for the run, one OAuth audit per client (not per API)."""
    from compare.engine import assess

    monkeypatch.setenv("CLIENT_A_SECRET", "client-a-secret-value")
    monkeypatch.setenv("CLIENT_B_SECRET", "client-b-secret-value")
    issuer = server.url + "/estate"
    static = Profile(name="oauth-only", rate_limit_probe=0)
    targets = Targets(
        rest=tuple(
            RestTarget(
                f"api-{i}",
                oauth_issuer=issuer,
                client_id="a" if i < 4 else "b",
                client_secret=SecretRef("env:CLIENT_A_SECRET" if i < 4 else "env:CLIENT_B_SECRET"),
                ca_file=pki.ca_path,
                profile=static,
            )  # fmt: skip
            for i in range(6)
        ),
        settings=Settings(concurrency=4, timeout=120),
    )
    hits = server.extra["hits"]
    tokens_before = hits[("POST", "/estate/token")]
    a = assess(targets, progress=False)
    assert _md_hits(server, "estate") == 1
    # per client: client_credentials + password grant = 2 token requests
    assert hits[("POST", "/estate/token")] - tokens_before == 2 * 2
    oauth = [r for r in a.results if r.finding.check_id.startswith("oauth.")]
    assert {r.target for r in oauth} == {f"api-{i}" for i in range(6)}
    errors = [r.finding.evidence for r in oauth if r.finding.status is Status.ERROR]
    assert not errors, errors
    assert "client-a-secret-value" not in repr(a.findings)


def test_live_checks_read_bounded_bodies(server, pki) -> None:
    """An endpoint that answers more than the cap is an error, never a verdict
    and never read whole; the same endpoints with ordinary answers pass."""
    creds = {"client_id": "c", "client_secret": "s3cr3t-client-value"}
    huge = {f.check_id: f for f in check(server.url + "/huge", ca_file=str(pki.ca_path), **creds)}
    for cid in ("oauth.token-implicit-refused", "oauth.token-introspection-auth"):
        assert (
            huge[cid].status is Status.ERROR and f"more than {MAX_METADATA_BYTES} bytes" in huge[cid].evidence
        )
    fine = {f.check_id: f for f in check(server.url + "/fine", ca_file=str(pki.ca_path), **creds)}
    for cid in (
        "oauth.token-implicit-refused",
        "oauth.token-introspection-auth",
        "oauth.token-password-refused",
    ):
        assert fine[cid].status is Status.PASS, fine[cid].evidence
