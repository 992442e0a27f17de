"""Real apps behind :class:`rest.guard.GuardMiddleware` for the guard tests:
a small Starlette service (no access control of its own, so every refusal
seen is the guard's), served by uvicorn on 127.0.0.1 with an ephemeral port."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apisec_samples.serving import RunningServer, serve_asgi
from rest.guard import GuardConfig, GuardMiddleware, principal_of

ISSUER = "https://issuer.guard.test"
AUDIENCE = "guard-test-api"
OWNERS = {"1": "alice", "2": "bob"}


def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def mint(key: Any, sub: str = "alice", *, kid: str = "k1", ttl: int = 300, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl}
    payload["jti"] = uuid.uuid4().hex
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def plain_app() -> Starlette:
    """Echoes who the guard let in; enforces nothing itself."""

    async def me(request: Request) -> JSONResponse:
        p = principal_of(request.scope)
        return JSONResponse({"sub": p.subject if p else None, "roles": sorted(p.roles) if p else []})

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["item_id"]})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/me", me),
            Route("/items/{item_id}", item),
            Route("/admin", me),
            Route("/health", health),
        ]
    )


def owns(principal: Any, method: str, params: Any) -> bool:
    return OWNERS.get(params.get("item_id")) == principal.subject or "admin" in principal.roles


def serve_guarded(config: GuardConfig, pki: Any = None, app: Any = None) -> RunningServer:
    tls = (pki.service.cert_path, pki.service.key_path) if pki is not None else None
    return serve_asgi(GuardMiddleware(app or plain_app(), config), tls=tls, name="guard-test")
