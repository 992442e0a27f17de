"""The ASGI guard: authentication, authorization, rate limiting, security
headers and an audit line, in front of any ASGI app.

Order of work for one HTTP request, and why:

1. CORS preflights pass (they never carry credentials); public paths pass.
2. Credentials on a cleartext request are refused *before* they are looked
   at (RFC 6750 §5.3: bearer tokens need TLS) unless ``allow_http``.
3. A client already over its quota is refused (429) before any signature is
   checked, so a flood of forged tokens costs no crypto.
4. The bearer token (``Authorization`` header only: a token in the query or
   body is never accepted, RFC 6750 §2.3/§5.3) is validated by
   :class:`rest.jwt.Validator`, or introspected (RFC 7662) when it is not a
   JWT.  Failure: 401 with an RFC 6750 challenge naming only the error code.
5. The client's quota is charged (subject when authenticated, else address).
6. The access policy decides; a refused role gets 403
   ``insufficient_scope``, an object the caller does not own 404 (hides
   existence).
7. The principal goes into ``scope["apisec.principal"]`` and the app runs;
   every response gets the security and RateLimit headers.

Every decision produces one audit record.  Responses never say *why* a token
was refused (the audit line does).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread

from rest.errors import BadInput, RestCheckError, TargetUnreachable, TokenRejected
from rest.guard.audit import decision
from rest.guard.config import HSTS, SECURITY_HEADERS, GuardConfig
from rest.guard.policy import Principal
from rest.guard.ratelimit import Quota, RateLimiter
from rest.jwt.dpop import UseDPoPNonce
from rest.jwt.jwks import FetchNeeded

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_ERROR_TEXT = {
    400: "invalid_request",
    401: "invalid_token",
    403: "insufficient_scope",
    404: "not_found",
    429: "too_many_requests",
    503: "temporarily_unavailable",
}


def _route_path(scope: Scope) -> str:
    """Path relative to the mount point (Starlette ``Mount`` sets ``root_path``)."""
    path = scope.get("path", "") or "/"
    root = scope.get("root_path", "")
    return path[len(root) :] or "/" if root and path.startswith(root) else path


def _request_url(scope: Scope) -> str:
    """The URL the client addressed (``htu`` of a DPoP proof): scheme, Host
    header and the full path (a TLS-terminating proxy must keep both)."""
    host = next((v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"host"), "")
    if not host:
        server = scope.get("server") or ("localhost", None)
        host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope.get("path", "/")
    return f"{scope.get('scheme', 'http')}://{host}{path.split('?', 1)[0]}"


def _looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


class _Refusal(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        *,
        challenge: str | None = None,
        quota: Quota | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.challenge, self.quota = status, reason, challenge, quota
        self.headers = headers or []


class GuardMiddleware:
    """Wrap an ASGI app: ``app = GuardMiddleware(app, GuardConfig(validator=...))``
    (or ``Starlette(middleware=[Middleware(GuardMiddleware, config=cfg)])``).

    Security consequences a caller must know:

    * **Only the principal is trustworthy.**  Handlers use
      ``scope["apisec.principal"]`` (:func:`rest.guard.principal_of`), never
      the raw header.
    * **Authorization defaults to "any valid token".**  Give ``policy`` to
      enforce roles and object ownership.
    * **Verification cost is one Validator call per request.**  Keys are
      prepared once and the JWKS is cached by the validator; a JWKS fetch
      (cache expired, or an unknown ``kid``) and any wait for a fetch in
      progress run in a worker thread, never on the event loop.
    """

    def __init__(self, app: ASGIApp, config: GuardConfig | None = None, **options: Any) -> None:
        if config is None:
            config = GuardConfig(**options)
        elif options:
            raise BadInput("guard: give a GuardConfig or keyword options, not both")
        self.app = app
        self.config = config
        self.limiter = RateLimiter(config.rate_limit) if config.rate_limit else None
        self._challenge_base = f'Bearer realm="{config.realm}"'
        self._dpop_algs = " ".join(config.dpop.algorithms) if config.dpop is not None else ""
        # encoded once: the same on every response
        base = (
            [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS] if config.security_headers else []
        )
        self._http_headers = base
        self._https_headers = base + [(HSTS[0].lower().encode(), HSTS[1].encode())] if base else []
        # (prefix, prefix + "/") pairs: the segment-wise prefix test without
        # string building per request
        self._public_paths = tuple((p, p.rstrip("/") + "/") for p in config.public_paths)

    # ----------------------------------------------------------------- ASGI
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self.app(scope, receive, send)
            return
        if kind == "websocket":
            # The guard does not authenticate WebSocket handshakes: refuse
            # rather than let one bypass it (public paths excepted).
            if self._public_prefix(_route_path(scope)):
                await self.app(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1008})
            return
        if kind != "http":
            await self.app(scope, receive, send)
            return
        await self._http(scope, receive, send)

    def _public_prefix(self, path: str) -> bool:
        """Prefix match on whole segments: ``/health`` covers ``/health/db``,
        not ``/healthz``."""
        return any(path == p or path.startswith(q) for p, q in self._public_paths)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        cfg = self.config
        method = scope["method"].upper()
        path = _route_path(scope)
        client = (scope.get("client") or ("?", 0))[0]
        extra = self._https_headers if scope.get("scheme") == "https" else self._http_headers
        principal: Principal | None = None
        quota: Quota | None = None
        try:
            # one pass over the headers (this runs on every request)
            authz: list[bytes] = []
            preflight = False
            for k, v in scope.get("headers") or ():
                if k == b"authorization":
                    authz.append(v)
                elif k == b"access-control-request-method":
                    preflight = method == "OPTIONS"
            public = (
                (preflight and cfg.pass_preflight)
                or (self._public_paths and self._public_prefix(path))
                or (cfg.policy is not None and cfg.policy.is_public(method, path))
            )
            if public:  # no token needed, none looked at
                await self._run(scope, receive, send, extra, None, method, path, client, "public path", None)
                return
            if authz and scope.get("scheme") == "http" and not cfg.allow_http:
                raise _Refusal(
                    400,
                    "credentials sent over cleartext http",
                    challenge=f'{self._challenge_base}, error="invalid_request"',
                )
            if self.limiter is not None:
                blocked = self.limiter.exhausted("ip:" + client)
                if blocked is not None:
                    raise _Refusal(429, "rate limit exceeded (before authentication)", quota=blocked)
            if not authz:
                quota = self._charge("ip:" + client)
                raise _Refusal(401, "no credentials", challenge=self._challenge_base, quota=quota)
            if len(authz) > 1:
                quota = self._charge("ip:" + client)
                raise _Refusal(
                    400,
                    "more than one Authorization header",
                    challenge=f'{self._challenge_base}, error="invalid_request"',
                    quota=quota,
                )
            scheme, _, token = authz[0].decode("latin-1").partition(" ")
            token, scheme = token.strip(), scheme.lower()
            if scheme not in ("bearer", "dpop") or not token:
                quota = self._charge("ip:" + client)
                raise _Refusal(
                    401,
                    f"not a bearer credential ({scheme[:20] or 'empty'})",
                    challenge=self._challenge_base,
                    quota=quota,
                )
            try:
                principal = await self._authenticate(token)
                self._check_binding(scope, method, scheme, token, principal)
            except UseDPoPNonce as exc:  # RFC 9449 §9: hand out the nonce, the client retries
                quota = self._charge("ip:" + client)
                raise _Refusal(
                    401,
                    str(exc),
                    challenge=f'DPoP realm="{cfg.realm}", error="use_dpop_nonce", algs="{self._dpop_algs}"',
                    quota=quota,
                    headers=[(b"dpop-nonce", exc.nonce.encode("ascii"))],
                ) from None
            except TokenRejected as exc:
                quota = self._charge("ip:" + client)
                raise _Refusal(
                    401, str(exc), challenge=f'{self._challenge_base}, error="invalid_token"', quota=quota
                ) from None
            except (TargetUnreachable, BadInput, RestCheckError) as exc:
                raise _Refusal(503, f"token could not be checked: {exc}") from None
            if scheme == "dpop" and cfg.dpop is not None and cfg.dpop.nonces is not None:
                # RFC 9449 §9: the current nonce on every answer, so a client
                # moves to a rotated one before its old one is refused
                extra = extra + [(b"dpop-nonce", cfg.dpop.nonces.current().encode("ascii"))]
            quota = self._charge("sub:" + principal.subject)
            if quota is not None and not quota.allowed:
                raise _Refusal(429, "rate limit exceeded", quota=quota)
            rule = None
            if cfg.policy is not None:
                verdict = await cfg.policy.decide(principal, method, path)
                rule = verdict.rule.name if verdict.rule else None
                if not verdict.allowed:
                    if verdict.object_denied:
                        raise _Refusal(404, verdict.reason)
                    raise _Refusal(
                        403, verdict.reason, challenge=f'{self._challenge_base}, error="insufficient_scope"'
                    )
            scope["apisec.principal"] = principal
            if quota is not None:
                extra = extra + quota.raw_headers()
            await self._run(scope, receive, send, extra, principal, method, path, client, "allowed", rule)
        except _Refusal as r:
            self._audit(False, r.status, method, path, client, principal, r.reason)
            await self._refuse(r, send, extra, quota=r.quota or quota)

    # ------------------------------------------------------------ pieces
    def _charge(self, key: str) -> Quota | None:
        if self.limiter is None:
            return None
        q = self.limiter.hit(key)
        if not q.allowed and not key.startswith("sub:"):
            raise _Refusal(429, "rate limit exceeded", quota=q)
        return q

    def _check_binding(
        self, scope: Scope, method: str, scheme: str, token: str, principal: Principal
    ) -> None:
        """RFC 9449 §7: a key-bound token needs the DPoP scheme and a valid
        proof by that key; the DPoP scheme needs a key-bound token."""
        cnf = principal.claims.get("cnf")
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if scheme == "bearer":
            if jkt is not None:
                raise TokenRejected("DPoP-bound token presented as a bearer token")
            return
        if self.config.dpop is None:
            raise TokenRejected("DPoP is not enabled on this API")
        if not isinstance(jkt, str):
            raise TokenRejected("DPoP scheme with a token that is not bound to a key")
        proofs = [v for k, v in scope.get("headers") or [] if k == b"dpop"]
        if len(proofs) != 1:
            raise TokenRejected("DPoP scheme needs exactly one DPoP proof header")
        self.config.dpop.check(
            proofs[0].decode("latin-1"), method, _request_url(scope), access_token=token, jkt=jkt
        )

    async def _authenticate(self, token: str) -> Principal:
        cfg = self.config
        if cfg.validator is not None and _looks_like_jwt(token):
            v = cfg.validator
            if v.jwks_client is None:  # fixed keys: nothing can block
                claims = v.validate(token)
            else:
                try:  # from the cached key set, on the loop
                    claims = v.validate(token, fetch=False)
                except FetchNeeded:  # expired or unknown kid: fetch (or wait for one) off the loop
                    claims = await anyio.to_thread.run_sync(v.validate, token)
            source = "jwt"
        elif cfg.introspector is not None:
            claims = await anyio.to_thread.run_sync(cfg.introspector.introspect, token)
            source = "introspection"
        else:
            raise TokenRejected("token is not a JWT and no introspection is configured")
        sub = claims.get("sub")
        client_id = claims.get("client_id") or claims.get("azp")
        if not isinstance(sub, str) or not sub:
            if isinstance(client_id, str) and client_id:
                sub = client_id  # client-credentials tokens may name only the client
            else:
                raise TokenRejected("token names no subject ('sub')")
        return Principal(
            subject=sub,
            roles=frozenset(cfg.roles_of(claims)),
            claims=claims,
            client_id=client_id if isinstance(client_id, str) else None,
            source=source,
        )

    async def _run(
        self, scope: Scope, receive: Receive, send: Send, add: list[tuple[bytes, bytes]],
        principal: Principal | None, method: str, path: str, client: str, reason: str, rule: str | None,
    ) -> None:  # fmt: skip
        """Run the app, adding headers it did not set; audit the decision with
        the status the app sent (500 when it raised before answering)."""
        sent = {"status": 500}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = int(message.get("status", 500))
                if add:
                    existing = list(message.get("headers", []))
                    present = {k.lower() for k, _ in existing}
                    message["headers"] = existing + [(k, v) for k, v in add if k not in present]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self._audit(True, sent["status"], method, path, client, principal, reason, rule)

    async def _refuse(
        self, r: _Refusal, send: Send, extra: list[tuple[bytes, bytes]], *, quota: Quota | None
    ) -> None:
        body = json.dumps({"error": _ERROR_TEXT.get(r.status, "error")}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += extra
        if r.challenge:
            challenge = r.challenge
            if r.status == 401 and self.config.dpop is not None and not challenge.startswith("DPoP"):
                challenge += f', DPoP algs="{self._dpop_algs}"'  # RFC 9449 §7.1: say DPoP works too
            headers.append((b"www-authenticate", challenge.encode("latin-1")))
        headers += r.headers
        if quota is not None:
            headers += quota.raw_headers()
        await send({"type": "http.response.start", "status": r.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _audit(
        self, allowed: bool, status: int, method: str, path: str, client: str,
        principal: Principal | None, reason: str, rule: str | None = None,
    ) -> None:  # fmt: skip
        sink = self.config.audit
        if sink is None:
            return
        sink(
            decision(
                allowed=allowed,
                status=status,
                method=method,
                path=path,
                client=client,
                subject=principal.subject if principal else None,
                client_id=principal.client_id if principal else None,
                reason=reason,
                rule=rule,
            )
        )
