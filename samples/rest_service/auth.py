"""Bearer-token (JWT, RS256) verification for the sample service.

The verification key comes from one of three places, so the demo can wire
the service to the sample authorization server later without code changes:
a public key (PEM or key object), a JWKS document (dict), or a JWKS URL
(fetched with :class:`jwt.PyJWKClient`, TLS verified against ``ca_file``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from rest.jwt import Validator

ALGORITHMS = ["RS256"]
"""Pinned: the header's ``alg`` never chooses the algorithm."""

SAMPLE_PASSWORDS = {"alice": "alice-sample-pw", "bob": "bob-sample-pw", "admin": "admin-sample-pw"}
"""Legacy Basic users (sample credentials, obviously not secret)."""
SAMPLE_ROLES = {"alice": ("user",), "bob": ("user",), "admin": ("user", "admin")}
SAMPLE_API_KEYS = {
    "sample-key-alice-3f9c2a7d51e8": "alice",
    "sample-key-bob-8b1e4c6a90d2": "bob",
    "sample-key-admin-c47d0e2b6f15": "admin",
}
"""API keys of the sample users (sample values, obviously not secret)."""


class AuthError(Exception):
    """Credential missing or invalid; ``str`` is safe to return to the client."""


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    method: str

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


class TokenVerifier:
    """Verifies RS256 access tokens against a key, a JWKS or a JWKS URL."""

    def __init__(
        self,
        *,
        public_key: Any = None,
        jwks: Mapping[str, Any] | str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        ca_file: str | None = None,
    ) -> None:
        if sum(x is not None for x in (public_key, jwks)) != 1:
            raise ValueError("give exactly one of public_key or jwks")
        self.issuer = issuer
        self.audience = audience
        self._ca_file = ca_file
        self._validator: Validator | None = None
        self._key = None
        self._jwks: jwt.PyJWKSet | None = None
        self._client: jwt.PyJWKClient | None = None
        if public_key is not None:
            if isinstance(public_key, (bytes, str)):
                from cryptography.hazmat.primitives.serialization import load_pem_public_key

                public_key = load_pem_public_key(
                    public_key.encode() if isinstance(public_key, str) else public_key
                )
            self._key = public_key
        self._source: Any = self._key if self._key is not None else jwks
        """Key object, JWKS document or JWKS URL (for :meth:`validator`)."""
        if public_key is not None:
            pass  # loaded above
        elif isinstance(jwks, str):
            ctx = ssl.create_default_context(cafile=ca_file) if ca_file else None
            self._client = jwt.PyJWKClient(jwks, cache_keys=True, timeout=10, ssl_context=ctx)
        else:
            self._jwks = jwt.PyJWKSet.from_dict(dict(jwks or {}))

    def validator(self) -> Validator:
        """The same key source and claim rules as a :class:`rest.jwt.Validator`
        (what the secure configuration's guard verifies with); built once."""
        if self._validator is None:
            common: dict[str, Any] = dict(
                algorithms=tuple(ALGORITHMS), issuer=self.issuer, audience=self.audience,
                leeway=30, require=("exp", "sub"),
            )  # fmt: skip
            if isinstance(self._source, str) and self._source.startswith(("https://", "http://")):
                self._validator = Validator(jwks_url=self._source, ca_file=self._ca_file, **common)
            else:
                self._validator = Validator(keys=self._source, **common)
        return self._validator

    def _key_for(self, token: str) -> Any:
        if self._key is not None:
            return self._key
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in self._jwks.keys if kid is None or k.key_id == kid]  # type: ignore[union-attr]
        if not keys:
            raise AuthError("unknown key id")
        return keys[0].key

    def verify(self, token: str) -> Principal:
        try:
            key = self._key_for(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
                leeway=30,
            )
        except AuthError:
            raise
        except (jwt.PyJWTError, ValueError) as exc:
            raise AuthError(f"invalid token: {type(exc).__name__}") from None
        roles: set[str] = {"user"}
        scope = claims.get("scope") or claims.get("scp") or ""
        scopes = scope.split() if isinstance(scope, str) else [str(s) for s in scope]
        roles.update(s for s in scopes if s == "admin")
        extra = claims.get("roles")
        if isinstance(extra, list):
            roles.update(str(r) for r in extra)
        return Principal(str(claims["sub"]), frozenset(roles), "bearer")


def verify_basic(header_value: str) -> Principal:
    """Legacy: check ``Basic`` credentials against the sample users."""
    try:
        decoded = base64.b64decode(header_value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError("malformed Basic credentials") from None
    user, _, password = decoded.partition(":")
    expected = SAMPLE_PASSWORDS.get(user)
    if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
        raise AuthError("wrong user name or password")
    return Principal(user, frozenset(SAMPLE_ROLES[user]), "basic")


def verify_api_key(key: str) -> Principal:
    """Check an API key against the sample keys (constant-time per candidate)."""
    for candidate, user in SAMPLE_API_KEYS.items():
        if hmac.compare_digest(candidate.encode(), key.encode()):
            return Principal(user, frozenset(SAMPLE_ROLES[user]), "api-key")
    raise AuthError("unknown API key")
