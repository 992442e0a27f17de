"""Real HTTP servers for the rest.http tests: the test API with one flaw per
route, mounted under one uvicorn server on 127.0.0.1 (ephemeral port).

Every mount runs the sample service's handlers with exactly one control
switched off, and ``/correct`` with all of them on, so each check has a
failing route and a passing one on the same server.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route

from apisec_samples.rest_service import SECURE, ServiceConfig, build_app

FLAWS: dict[str, ServiceConfig] = {
    "correct": SECURE,
    "noauth": SECURE.but(name="noauth", unprotected_prefixes=("/api",)),
    "cors": SECURE.but(name="cors", cors_reflect=True),
    "corsprefix": SECURE.but(name="corsprefix", cors_own_host_prefix=True),
    "corsany": SECURE.but(name="corsany", cors_any=True),
    "headers": SECURE.but(name="headers", security_headers=False, rate_limit=None),
    "errors": SECURE.but(name="errors", leaky_errors=True),
    "banner": SECURE.but(name="banner", server_banner="nginx/1.14.0", powered_by="PHP/7.2.1"),
    "trace": SECURE.but(name="trace", trace_enabled=True),
    "apikey": SECURE.but(name="apikey", token_in_query=True),
    "cookie": SECURE.but(name="cookie", session_cookie=True),
    "keys": SECURE.but(name="keys", api_keys=True),
    "keysinquery": SECURE.but(name="keysinquery", api_keys=True, token_in_query=True),
    "highlimit": SECURE.but(name="highlimit", rate_limit=1000, rate_window=60.0),
    "public": SECURE.but(name="public", unprotected_prefixes=("/api/reports",)),
    "bola": SECURE.but(name="bola", object_authz=False),
    "bfla": SECURE.but(name="bfla", function_authz=False),
    "bare429": SECURE.but(name="bare429", rate_limit=10, rate_window=5.0, rate_limit_headers=False),
    "tight": SECURE.but(name="tight", rate_limit=3, rate_window=30.0),
}


def flawed_api(verifier) -> Starlette:
    """One mount per entry of :data:`FLAWS` (``/<name>/api/...``)."""
    return Starlette(routes=[Mount(f"/{name}", app=build_app(cfg, verifier)) for name, cfg in FLAWS.items()])


def redirect_app(https_base: str):
    """A cleartext listener that only redirects to ``https_base`` (the right way)."""

    async def redirect(request):
        return RedirectResponse(https_base + request.url.path, status_code=308)

    return lambda verifier: Starlette(routes=[Route("/{path:path}", redirect, methods=["GET", "POST"])])
