"""The sample REST API: a tiny order service (Starlette, ASGI).

Routes (under ``/api``): ``GET /health`` (public), ``GET|POST /orders``,
``GET|DELETE /orders/{id}``, ``GET /reports``, ``GET /admin/users``
(admin only).  Alice owns orders 1 and 3, Bob owns order 2.

Cross-cutting controls are ASGI middleware driven by :class:`ServiceConfig`,
so ``secure`` and ``legacy`` run the same handlers and differ only in
controls.  The secure configuration authenticates, authorizes (from
``roles.yaml``), rate-limits and adds security headers with apisec's own
:class:`rest.guard.GuardMiddleware`; :class:`PolicyMiddleware` keeps CORS,
TRACE and banners, and the legacy configuration's hand-written (flawed)
token, Basic, API-key and cookie handling.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import platform
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import starlette
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from rest.guard import AccessPolicy, GuardConfig, GuardMiddleware, RateLimit, principal_of
from rest.guard import Principal as GuardPrincipal

from .auth import SAMPLE_ROLES, AuthError, Principal, TokenVerifier, verify_api_key, verify_basic
from .config import ServiceConfig

ROLES_FILE = Path(__file__).parent / "roles.yaml"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]

PUBLIC_PREFIXES = ("/api/health",)
REALM = 'realm="apisec-sample"'


def _route_path(scope: Scope) -> str:
    """Path relative to the app (works when mounted under a prefix)."""
    path = scope.get("path", "")
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class SlidingWindowLimiter:
    """``limit`` requests per ``window`` seconds per key (thread-safe)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Record a request: (allowed, remaining, seconds until a slot frees)."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False, 0, q[0] + self.window - now
            q.append(now)
            reset = q[0] + self.window - now
            return True, self.limit - len(q), reset


class PolicyMiddleware:
    """Rate limiting, TRACE, CORS, authentication and response headers."""

    def __init__(self, app: ASGIApp, config: ServiceConfig, verifier: TokenVerifier) -> None:
        self.app = app
        self.config = config
        self.verifier = verifier
        self.guarded = config.guarded
        """Authentication, rate limiting and security headers are the guard's."""
        self.limiter = (
            SlidingWindowLimiter(config.rate_limit, config.rate_window)
            if config.rate_limit and not self.guarded
            else None
        )
        self._cookie_key = secrets.token_bytes(32)

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cfg = self.config
        request = Request(scope, receive)
        extra: list[tuple[str, str]] = self._static_headers(scope)
        origin = request.headers.get("origin")
        host = request.url.hostname or ""
        extra += self._cors_headers(origin, host)

        async def respond(response: Response) -> None:
            for k, v in extra:
                response.headers.append(k, v)
            await response(scope, receive, send)

        if self.limiter is not None:
            client = scope.get("client") or ("?", 0)
            ok, remaining, reset = self.limiter.hit(str(client[0]))
            if cfg.rate_limit_headers:
                policy = f"{cfg.rate_limit};w={int(cfg.rate_window) or 1}"
                extra += [
                    ("RateLimit-Policy", policy),
                    ("RateLimit", f"limit={cfg.rate_limit}, remaining={remaining}, reset={math.ceil(reset)}"),
                ]
            if not ok:
                retry = {"Retry-After": str(max(1, math.ceil(reset)))} if cfg.rate_limit_headers else {}
                await respond(JSONResponse({"error": "too_many_requests"}, status_code=429, headers=retry))
                return
        method = scope["method"].upper()
        if method in ("TRACE", "TRACK"):
            if cfg.trace_enabled:
                echo = f"{method} {scope.get('raw_path', b'').decode('latin-1')} HTTP/1.1\r\n" + "".join(
                    f"{k}: {v}\r\n" for k, v in request.headers.items()
                )
                await respond(PlainTextResponse(echo, media_type="message/http"))
            else:
                await respond(JSONResponse({"error": "method not allowed"}, status_code=405))
            return
        if method == "OPTIONS" and origin and request.headers.get("access-control-request-method"):
            await respond(Response(status_code=204 if self._origin_allowed(origin, host) else 403))
            return
        path = _route_path(scope)
        if self.guarded:
            pass  # the guard (inside this middleware) authenticates
        elif not path.startswith(PUBLIC_PREFIXES) and not path.startswith(cfg.unprotected_prefixes):
            try:
                principal = self._authenticate(request)
                scope["apisec.user"] = principal
                if cfg.session_cookie and principal.method != "cookie":
                    extra.append(("Set-Cookie", self._session_cookie(principal)))
            except AuthError as exc:
                challenge = [f"Bearer {REALM}"] + ([f"Basic {REALM}"] if cfg.basic_auth else [])
                await respond(
                    JSONResponse(
                        {"error": "unauthorized", "error_description": str(exc)},
                        status_code=401,
                        headers={"WWW-Authenticate": ", ".join(challenge)},
                    )
                )
                return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _session_cookie(self, principal: Principal) -> str:
        sig = hmac.new(self._cookie_key, principal.subject.encode(), hashlib.sha256).hexdigest()
        return f"sid={principal.subject}.{sig}; HttpOnly; Secure; SameSite=Strict; Path=/"

    def _from_cookie(self, request: Request) -> Principal | None:
        value = request.cookies.get("sid", "")
        subject, _, sig = value.rpartition(".")
        expected = hmac.new(self._cookie_key, subject.encode(), hashlib.sha256).hexdigest()
        if subject and hmac.compare_digest(sig, expected):
            return Principal(subject, frozenset(SAMPLE_ROLES.get(subject, ("user",))), "cookie")
        return None

    def _authenticate(self, request: Request) -> Principal:
        if self.config.session_cookie:
            principal = self._from_cookie(request)
            if principal is not None:
                return principal
        auth = request.headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return self.verifier.verify(value.strip())
        if scheme.lower() == "basic" and self.config.basic_auth:
            return verify_basic(value.strip())
        if self.config.api_keys and request.headers.get("x-api-key"):
            return verify_api_key(request.headers["x-api-key"])
        if self.config.token_in_query and request.query_params.get("access_token"):
            return self.verifier.verify(request.query_params["access_token"])
        if self.config.token_in_query and self.config.api_keys and request.query_params.get("api_key"):
            return verify_api_key(request.query_params["api_key"])
        raise AuthError("missing bearer token")

    def _origin_allowed(self, origin: str, host: str) -> bool:
        if self.config.cors_own_host_prefix and host and origin.startswith(f"https://{host}"):
            return True
        return self.config.cors_reflect or origin in self.config.cors_allow

    def _cors_headers(self, origin: str | None, host: str) -> list[tuple[str, str]]:
        if origin and self.config.cors_any and not self._origin_allowed(origin, host):
            return [("Access-Control-Allow-Origin", "*")]
        if not origin or not self._origin_allowed(origin, host):
            return []
        return [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Allow-Methods", "GET, POST, DELETE"),
            ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
            ("Vary", "Origin"),
        ]

    def _static_headers(self, scope: Scope) -> list[tuple[str, str]]:
        cfg = self.config
        out: list[tuple[str, str]] = []
        if cfg.security_headers and not self.guarded:
            out += [
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-store"),
                ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
                ("Referrer-Policy", "no-referrer"),
            ]
            if scope.get("scheme") == "https":
                out.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
        if cfg.server_banner:
            out.append(("Server", cfg.server_banner))
        if cfg.powered_by:
            out.append(("X-Powered-By", cfg.powered_by))
        return out


# ---------------------------------------------------------------- handlers


class OrderStore:
    """In-memory orders; each app instance starts from the same fixture."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.orders: dict[int, dict[str, Any]] = {
            1: {"id": 1, "owner": "alice", "item": "book", "quantity": 1},
            2: {"id": 2, "owner": "bob", "item": "lamp", "quantity": 2},
            3: {"id": 3, "owner": "alice", "item": "pen", "quantity": 10},
        }
        self._next = 4

    def add(self, owner: str, item: str, quantity: int) -> dict[str, Any]:
        with self._lock:
            order = {"id": self._next, "owner": owner, "item": item, "quantity": quantity}
            self.orders[self._next] = order
            self._next += 1
            return order


def guard_config(
    config: ServiceConfig, verifier: TokenVerifier, store: OrderStore, **overrides: Any
) -> GuardConfig:
    """The guard of a guarded configuration: the verifier's key source and
    claim rules, ``roles.yaml`` with order ownership as the object hook, and
    the configuration's rate limit, public paths and headers.  ``overrides``
    replace fields (tests weaken one control on purpose)."""

    def owns(principal: GuardPrincipal, method: str, params: Mapping[str, str]) -> bool:
        try:
            order = store.orders.get(int(params.get("order_id", "")))
        except ValueError:
            return True  # not an order id: the router answers 404
        return order is None or order["owner"] == principal.subject or "admin" in principal.roles

    policy = AccessPolicy.from_roles_file(ROLES_FILE, owner_check=owns)
    if not config.object_authz:
        policy = policy.without(object_level=True)
    if not config.function_authz:
        policy = policy.without(function_level=True)
    options: dict[str, Any] = dict(
        validator=verifier.validator(),
        policy=policy,
        rate_limit=RateLimit(config.rate_limit, config.rate_window) if config.rate_limit else None,
        public_paths=PUBLIC_PREFIXES + config.unprotected_prefixes,
        security_headers=config.security_headers,
        allow_http=config.credentials_over_http,
        realm="apisec-sample",
    )
    options.update(overrides)
    return GuardConfig(**options)


def build_app(config: ServiceConfig, verifier: TokenVerifier, **guard_overrides: Any) -> Starlette:
    """The ASGI app for ``config``; ``verifier`` checks bearer tokens.
    ``guard_overrides`` replace fields of the guard's :class:`GuardConfig`
    (guarded configurations only)."""
    store = OrderStore()
    guarded = config.guarded
    if guard_overrides and not guarded:
        raise ValueError(f"configuration {config.name!r} does not run the guard")

    def user(request: Request) -> Principal | None:
        if guarded:
            g = principal_of(request.scope)
            if g is None:
                return None
            return Principal(g.subject, frozenset({"user", *({"admin"} & g.roles)}), "bearer")
        return request.scope.get("apisec.user")

    def may_see(request: Request, order: dict[str, Any]) -> bool:
        p = user(request)
        if not config.object_authz:
            return True
        if guarded:  # the guard's ownership hook decided for a caller it authenticated
            return p is not None
        return p is not None and (p.is_admin or order["owner"] == p.subject)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def list_orders(request: Request) -> Response:
        p = user(request)
        mine = [o for o in store.orders.values() if p and (p.is_admin or o["owner"] == p.subject)]
        return JSONResponse({"orders": mine})

    async def create_order(request: Request) -> Response:
        p = user(request)
        if config.leaky_errors:
            body = json.loads(await request.body())  # debug build: let it raise
        else:
            try:
                body = json.loads(await request.body())
            except (ValueError, UnicodeDecodeError):
                return JSONResponse(
                    {"error": "invalid_request", "error_description": "body is not JSON"}, 400
                )
        if not isinstance(body, dict) or not isinstance(body.get("item"), str):
            return JSONResponse({"error": "invalid_request", "error_description": "item is required"}, 422)
        quantity = body.get("quantity", 1)
        if not isinstance(quantity, int) or not 0 < quantity <= 1000:
            return JSONResponse({"error": "invalid_request", "error_description": "bad quantity"}, 422)
        order = store.add(p.subject if p else "anonymous", body["item"], quantity)
        return JSONResponse(order, status_code=201)

    async def get_order(request: Request) -> Response:
        order = store.orders.get(request.path_params["order_id"])
        if order is None or not may_see(request, order):
            return JSONResponse({"error": "not_found"}, status_code=404)
        return JSONResponse(order)

    async def delete_order(request: Request) -> Response:
        order = store.orders.get(request.path_params["order_id"])
        if order is None or not may_see(request, order):
            return JSONResponse({"error": "not_found"}, status_code=404)
        store.orders.pop(order["id"], None)
        return Response(status_code=204)

    async def reports(request: Request) -> Response:
        return JSONResponse({"reports": [{"name": "daily-sales", "total": 1234}]})

    async def admin_users(request: Request) -> Response:
        p = user(request)
        # guarded: the guard applied roles.yaml to the caller it authenticated
        if config.function_authz and not (p and (p.is_admin or guarded)):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        return JSONResponse({"users": ["alice", "bob", "admin"]})

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if config.leaky_errors:
            detail = (
                f"{exc.status_code} {exc.detail}: {request.url.path}\n"
                f"Starlette/{starlette.__version__} Python/{platform.python_version()}\n"
                f"routes loaded from {__file__}\n"
            )
            return PlainTextResponse(detail, status_code=exc.status_code)
        return JSONResponse({"error": "not_found" if exc.status_code == 404 else "error"}, exc.status_code)

    async def server_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "internal_error"}, status_code=500)

    routes = [
        Route("/api/health", health, methods=["GET"]),
        Route("/api/orders", list_orders, methods=["GET"]),
        Route("/api/orders", create_order, methods=["POST"]),
        Route("/api/orders/{order_id:int}", get_order, methods=["GET"]),
        Route("/api/orders/{order_id:int}", delete_order, methods=["DELETE"]),
        Route("/api/reports", reports, methods=["GET"]),
        Route("/api/admin/users", admin_users, methods=["GET"]),
    ]
    handlers: dict[Any, Any] = {HTTPException: http_error}
    if not config.leaky_errors:
        handlers[500] = server_error
    app = Starlette(debug=config.leaky_errors, routes=routes, exception_handlers=handlers)
    if guarded:  # inside PolicyMiddleware: CORS preflights and TRACE are answered before it
        app.add_middleware(GuardMiddleware, config=guard_config(config, verifier, store, **guard_overrides))
    app.add_middleware(PolicyMiddleware, config=config, verifier=verifier)
    return app
