"""The two configurations of the sample REST API.

Every field is one security control, so ``secure`` and ``legacy`` differ in
named, testable ways, and the test API can switch exactly one control off
per route (see ``tests/rest/flawed_api.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class ServiceConfig:
    """Which controls the sample service applies."""

    name: str
    """``secure``, ``legacy`` or a test variant's name."""
    unprotected_prefixes: tuple[str, ...] = ()
    """Paths (relative to the app) served without authentication although the
    contract declares them protected (the API2 flaw)."""
    cors_reflect: bool = False
    """Echo any Origin (including ``null``) with Allow-Credentials: true."""
    cors_any: bool = False
    """``Access-Control-Allow-Origin: *`` without credentials (public data)."""
    cors_own_host_prefix: bool = False
    """Sloppy allow-list: any Origin that *starts with* ``https://<own host>``
    is trusted (with credentials) — ``https://<host>.evil.example`` too."""
    cors_allow: tuple[str, ...] = ()
    """Explicit CORS allow-list (the correct way)."""
    security_headers: bool = True
    """nosniff, no-store, CSP frame-ancestors 'none', HSTS over HTTPS."""
    rate_limit: int | None = 30
    """Requests per client per :attr:`rate_window`; ``None`` disables throttling."""
    rate_window: float = 5.0
    rate_limit_headers: bool = True
    """Send Retry-After and RateLimit headers with 429 (off: a bare 429)."""
    leaky_errors: bool = False
    """Debug mode: tracebacks, file paths and versions in error bodies."""
    server_banner: str | None = None
    """``Server`` header value; ``None`` sends none."""
    powered_by: str | None = None
    """``X-Powered-By`` header value; ``None`` sends none."""
    trace_enabled: bool = False
    """Answer TRACE/TRACK by echoing the request (cross-site tracing)."""
    token_in_query: bool = False
    """Accept the bearer token as ``?access_token=`` (and an API key as ``?api_key=``) too."""
    session_cookie: bool = False
    """Set a signed session cookie after bearer authentication and accept it
    instead of a token (browser-style sessions)."""
    api_keys: bool = False
    """Also accept the sample API keys in the ``X-Api-Key`` header."""
    basic_auth: bool = False
    """Accept and challenge for HTTP Basic (sample users' passwords)."""
    object_authz: bool = True
    """Check order ownership (off: BOLA)."""
    function_authz: bool = True
    """Check the admin role on admin functions (off: BFLA)."""
    guard: bool = False
    """Enforce authentication, authorization (``roles.yaml``), rate limiting
    and security headers with :class:`rest.guard.GuardMiddleware` instead of
    the sample's own code.  Ignored (see :attr:`guarded`) when the
    configuration asks for a flaw the guard deliberately cannot have."""
    credentials_over_http: bool = False
    """Accept credentials on a cleartext listener (set by ``serve(tls=False)``,
    which is itself the ``http.plain-http`` finding)."""

    @property
    def guarded(self) -> bool:
        """Whether the guard applies: tokens in the query, session cookies,
        API keys, Basic and a 429 without Retry-After are flaws the guard has
        no switch for, so those test variants keep the sample's own code."""
        flaws = (self.token_in_query, self.session_cookie, self.api_keys, self.basic_auth)
        return self.guard and not any(flaws) and self.rate_limit_headers

    def but(self, **changes: object) -> ServiceConfig:
        """A copy with some controls changed (for one-flaw test routes)."""
        return replace(self, **changes)


SECURE = ServiceConfig(name="secure", cors_allow=("https://app.example.test",), guard=True)

LEGACY = ServiceConfig(
    name="legacy",
    unprotected_prefixes=("/api/reports",),
    cors_reflect=True,
    security_headers=False,
    rate_limit=None,
    leaky_errors=True,
    server_banner="gunicorn/19.9.0",
    powered_by="Python/3.6.9 Starlette/0.12.9",
    trace_enabled=True,
    token_in_query=True,
    basic_auth=True,
    object_authz=False,
    function_authz=False,
)

CONFIGS = {"secure": SECURE, "legacy": LEGACY}


def get_config(config: str | ServiceConfig) -> ServiceConfig:
    if isinstance(config, ServiceConfig):
        return config
    try:
        return CONFIGS[config]
    except KeyError:
        raise ValueError(f"unknown sample configuration {config!r} (secure or legacy)") from None
