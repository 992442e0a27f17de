"""What :class:`rest.guard.GuardMiddleware` enforces, as one frozen value."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rest.errors import BadInput
from rest.guard.audit import AuditSink, log_sink
from rest.guard.introspect import Introspector
from rest.guard.policy import AccessPolicy, default_roles
from rest.guard.ratelimit import RateLimit
from rest.jwt.dpop import ProofChecker
from rest.jwt.validator import Validator

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Referrer-Policy", "no-referrer"),
)
"""Added to every response that does not set them itself (OWASP REST
Security Cheat Sheet); ``Strict-Transport-Security`` is added over HTTPS."""
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


@dataclass(frozen=True)
class GuardConfig:
    """The guard's controls.  Defaults are the safe choice; every weakening is
    a field you set on purpose."""

    validator: Validator | None = None
    """Validates bearer JWTs (RFC 8725 rules, JWKS caching and rate-limited
    refetch, ``aud``/``iss``/``exp``/``typ``): configure it, the guard only
    calls it.  At least one of ``validator`` and ``introspector`` is required."""
    introspector: Introspector | None = None
    """RFC 7662 introspection for tokens that are not JWTs (opaque tokens)."""
    dpop: ProofChecker | None = None
    """Accept DPoP-bound tokens (RFC 9449: ``Authorization: DPoP`` with a
    proof per request).  Whatever this says, a token bound to a key
    (``cnf.jkt``) is never accepted as a plain bearer token."""
    policy: AccessPolicy | None = None
    """Authorization (roles to operations, ownership hook); ``None``: any
    authenticated caller may call any operation."""
    roles_of: Callable[[Mapping[str, Any]], frozenset[str]] = default_roles
    """Claims → role names as the roles matrix spells them."""
    rate_limit: RateLimit | None = RateLimit(60, 60.0)
    """Per-client quota (subject when authenticated, else client address);
    ``None`` turns throttling off."""
    public_paths: tuple[str, ...] = ()
    """Path prefixes served without a token (health checks); relative to the
    mount point."""
    security_headers: bool = True
    """Add :data:`SECURITY_HEADERS` (and HSTS over HTTPS) to every response."""
    allow_http: bool = False
    """Accept credentials on a cleartext (``http``) request.  Leave off unless
    TLS ends at a proxy you run; better, let the server see the real scheme
    (uvicorn ``--proxy-headers`` with ``--forwarded-allow-ips``)."""
    realm: str = "api"
    """``realm`` of the ``WWW-Authenticate`` challenge."""
    audit: AuditSink | None = log_sink
    """Receives one record per decision (default: a JSON line on the
    ``apisec.guard.audit`` logger); ``None`` disables auditing."""
    pass_preflight: bool = True
    """Let CORS preflights (OPTIONS with ``Access-Control-Request-Method``,
    which never carry credentials) reach the app's CORS handling."""

    def __post_init__(self) -> None:
        if self.validator is None and self.introspector is None:
            raise BadInput("guard: give a validator (JWT) or an introspector (opaque tokens), or both")
        if '"' in self.realm or "\\" in self.realm:
            raise BadInput("guard: realm must not contain quotes or backslashes")
