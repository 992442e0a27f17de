"""The same small order API written in Flask, FastAPI and Django, once with the
mistakes people make and once correctly.

Flawed (``flawed=True``), each framework's own way:

* CORS: flask-cors ``CORS(app, supports_credentials=True)`` (default origins
  ``*``, so it echoes any Origin with credentials), Starlette's
  ``CORSMiddleware(allow_origin_regex=".*", allow_credentials=True)``,
  django-cors-headers ``CORS_ALLOW_ALL_ORIGINS`` + ``CORS_ALLOW_CREDENTIALS``;
* debug mode: werkzeug's debugger (``flask run --debug``), ``FastAPI(debug=True)``,
  Django ``DEBUG = True`` -- a stack trace page on the unhandled JSON error;
* ``DELETE /api/orders/{id}`` forgot authentication (declared protected in
  the OpenAPI contract);
* IDOR: any user reads any order; BFLA: any user reads ``/api/admin/users``.

Correct: an allow-listed CORS origin, no debug, errors mapped to a generic
JSON body, ownership and role checks.  Both carry the API security headers
and RateLimit headers, so each flaw is the only difference.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request  # module level: FastAPI resolves the string annotations of views here

ALLOWED_ORIGIN = "https://app.realworld.test"
ORDERS = {1: {"id": 1, "owner": "alice", "item": "book"}, 2: {"id": 2, "owner": "bob", "item": "pen"}}
OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "orders", "version": "1"},
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/api/orders": {"get": {"responses": {"200": {"description": "ok"}, "429": {"description": "slow down"}}}},
        "/api/orders/{order_id}": {
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {"responses": {"200": {"description": "ok"}, "429": {"description": "slow down"}}},
            "delete": {"responses": {"204": {"description": "gone"}, "429": {"description": "slow down"}}},
        },
        "/api/admin/users": {"get": {"responses": {"200": {"description": "ok"}, "429": {"description": "slow down"}}}},
    },
}  # fmt: skip
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=63072000",
}
LIMIT = 100000


def roles_matrix(tokens: dict[str, str]) -> dict[str, Any]:
    return {
        "roles": {name: {"token": tok} for name, tok in tokens.items()},
        "requests": [
            {"name": "alice's order", "method": "GET", "path": "/api/orders/1", "check": "bola",
             "allow": ["alice", "admin"], "deny": ["bob", "anonymous"]},
            {"name": "bob's order", "method": "GET", "path": "/api/orders/2", "check": "bola",
             "allow": ["bob", "admin"], "deny": ["alice", "anonymous"]},
            {"name": "user administration", "method": "GET", "path": "/api/admin/users", "check": "bfla",
             "allow": ["admin"], "deny": ["alice", "bob"]},
        ],
    }  # fmt: skip


@dataclass
class Api:
    """Framework-neutral behaviour: (status, JSON body or None) per request."""

    flawed: bool
    tokens: dict[str, str] = field(
        default_factory=lambda: {u: secrets.token_urlsafe(24) for u in ("alice", "bob", "admin")}
    )
    used: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def user(self, authorization: str | None) -> str | None:
        if not authorization or not authorization.startswith("Bearer "):
            return None
        return next((u for u, t in self.tokens.items() if secrets.compare_digest(t, authorization[7:])), None)

    def rate_headers(self) -> dict[str, str]:
        with self.lock:
            self.used += 1
            left = max(LIMIT - self.used, 0)
        return {**HEADERS, "RateLimit-Limit": str(LIMIT), "RateLimit-Remaining": str(left)}

    def handle(self, method: str, path: str, authorization: str | None, body: bytes) -> tuple[int, Any]:
        user = self.user(authorization)
        parts = path.strip("/").split("/")
        if method == "DELETE" and len(parts) == 3 and parts[:2] == ["api", "orders"]:
            if self.flawed:  # forgot authentication on this one route
                return 204, None
            if user is None:
                return 401, {"error": "unauthorized"}
            order = ORDERS.get(int(parts[2]) if parts[2].isdigit() else -1)
            return (
                (204, None)
                if order and order["owner"] in (user, "admin") or user == "admin"
                else (404, {"error": "not found"})
            )
        if user is None:
            return 401, {"error": "unauthorized"}
        if path == "/api/orders" and method == "GET":
            return 200, [o for o in ORDERS.values() if o["owner"] == user or user == "admin"]
        if path == "/api/orders" and method == "POST":
            if self.flawed:
                data = json.loads(body)  # raises on malformed JSON: debug mode shows the trace
            else:
                try:
                    data = json.loads(body)
                except ValueError:
                    return 400, {"error": "bad request"}
            return 201, {"id": 3, "owner": user, "item": str(data)[:20]}
        if len(parts) == 3 and parts[:2] == ["api", "orders"] and method == "GET":
            order = ORDERS.get(int(parts[2]) if parts[2].isdigit() else -1)
            if order is None or (not self.flawed and order["owner"] != user and user != "admin"):
                return 404, {"error": "not found"}
            return 200, order
        if path == "/api/admin/users" and method == "GET":
            if not self.flawed and user != "admin":
                return 403, {"error": "forbidden"}
            return 200, sorted(self.tokens)
        return 404, {"error": "not found"}


def flask_app(api: Api):
    from flask import Flask, Response, request
    from flask_cors import CORS

    app = Flask("realworld_http")
    if api.flawed:
        CORS(app, supports_credentials=True)
    else:
        CORS(app, origins=[ALLOWED_ORIGIN], supports_credentials=True)

    def view(**_kw):
        status, body = api.handle(
            request.method, request.path, request.headers.get("Authorization"), request.get_data()
        )
        resp = Response(json.dumps(body) if body is not None else "", status, mimetype="application/json")
        if status == 401:
            resp.headers["WWW-Authenticate"] = "Bearer"
        return resp

    app.add_url_rule("/api/orders", "orders", view, methods=["GET", "POST"])
    app.add_url_rule("/api/orders/<order_id>", "order", view, methods=["GET", "DELETE"])
    app.add_url_rule("/api/admin/users", "users", view, methods=["GET"])

    @app.after_request
    def headers(resp):
        resp.headers.update(api.rate_headers())
        return resp

    if api.flawed:
        from werkzeug.debug import DebuggedApplication

        app.debug = True
        return DebuggedApplication(app, evalex=False)  # what 'flask run --debug' serves

    @app.errorhandler(Exception)
    def generic(_exc):
        return Response('{"error": "internal error"}', 500, mimetype="application/json")

    return app


def fastapi_app(api: Api):
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse, Response
    from starlette.middleware.cors import CORSMiddleware

    app = FastAPI(debug=api.flawed, openapi_url=None, docs_url=None, redoc_url=None)

    async def view(request: Request, order_id: str | None = None):
        body = await request.body()
        status, payload = api.handle(
            request.method, request.url.path, request.headers.get("authorization"), body
        )
        extra = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        if payload is None:
            return Response(status_code=status, headers=extra)
        return JSONResponse(payload, status, headers=extra)

    app.add_api_route("/api/orders", view, methods=["GET", "POST"])
    app.add_api_route("/api/orders/{order_id}", view, methods=["GET", "DELETE"])
    app.add_api_route("/api/admin/users", view, methods=["GET"])

    @app.middleware("http")
    async def headers(request: Request, call_next):
        resp = await call_next(request)
        resp.headers.update(api.rate_headers())
        return resp

    if not api.flawed:

        @app.exception_handler(Exception)
        async def generic(_request, _exc):
            return JSONResponse({"error": "internal error"}, 500)

    if api.flawed:
        app.add_middleware(
            CORSMiddleware,
            allow_origin_regex=".*",
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    else:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[ALLOWED_ORIGIN],
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["authorization", "content-type"],
        )
    return app
