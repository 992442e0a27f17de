"""The REST twin of :class:`wssec.SecurityMiddleware`: an ASGI guard.

>>> from rest.guard import GuardMiddleware, GuardConfig, AccessPolicy, RateLimit
>>> from rest.jwt import Validator
>>> guard = GuardConfig(
...     validator=Validator(jwks_url="https://idp.example/jwks", audience="orders-api",
...                         issuer="https://idp.example", algorithms=("RS256",)),
...     policy=AccessPolicy.from_roles_file("roles.yaml", owner_check=owns),
...     rate_limit=RateLimit(60, 60.0), public_paths=("/health",))
>>> app = GuardMiddleware(app, guard)

It enforces what ``apisec rest check`` and ``apisec rest jwt probe`` verify:
see ``docs/rest-guard.md``.
"""

from __future__ import annotations

from rest.guard.audit import AUDIT_LOGGER
from rest.guard.config import SECURITY_HEADERS, GuardConfig
from rest.guard.introspect import Introspector
from rest.guard.middleware import GuardMiddleware
from rest.guard.policy import AccessPolicy, Principal, Rule, default_roles, principal_of
from rest.guard.ratelimit import Quota, RateLimit, RateLimiter

__all__ = [
    "AUDIT_LOGGER",
    "SECURITY_HEADERS",
    "AccessPolicy",
    "GuardConfig",
    "GuardMiddleware",
    "Introspector",
    "Principal",
    "Quota",
    "RateLimit",
    "RateLimiter",
    "Rule",
    "default_roles",
    "principal_of",
]
