"""RFC 7662 token introspection for opaque access tokens.

The resource server authenticates itself to the introspection endpoint
(Authlib's :class:`~authlib.integrations.requests_client.OAuth2Session` does
the client authentication and the request); the answer is trusted only when
``active`` is true, and ``exp``/``nbf``/``iss``/``aud`` are still checked
here (an authorization server that answers ``active`` for an expired token
or one minted for another API must not get it through).

An answer is read up to ``max_bytes`` (64 KiB); a longer one is an
unusable endpoint (:class:`TargetUnreachable`, the guard's 503), never a
partial parse.

Answers are cached per token *digest* (never the token itself) for at most
``cache_ttl`` seconds and never past the token's ``exp`` (RFC 7662 §4: a
cache trades revocation latency for load; keep it short).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session

from rest.errors import BadInput, TargetUnreachable, TokenRejected
from rest.oauth.metadata import read_bounded


class Introspector:
    """Asks an authorization server whether a token is active."""

    def __init__(
        self,
        endpoint: str,
        client_id: str,
        client_secret: str,
        *,
        issuer: str | None = None,
        audience: str | Iterable[str] | None = None,
        ca_file: str | None = None,
        timeout: float = 5.0,
        cache_ttl: float = 30.0,
        max_cache: int = 10_000,
        auth_method: str = "client_secret_basic",
        allow_http: bool = False,
        max_bytes: int = 64 * 1024,
    ) -> None:
        if not endpoint.startswith("https://") and not (allow_http and endpoint.startswith("http://")):
            raise BadInput("introspection endpoint must be https://")
        self.endpoint = endpoint
        self.issuer = issuer
        self.audience = (
            None if audience is None else frozenset([audience] if isinstance(audience, str) else audience)
        )
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.max_cache = max_cache
        self.max_bytes = max_bytes
        """Largest introspection answer read; a longer one fails closed (503)."""
        self._session = OAuth2Session(client_id, client_secret, token_endpoint_auth_method=auth_method)
        self._verify: bool | str = ca_file or True
        self._cache: OrderedDict[bytes, tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self.request_count = 0

    def _ask(self, token: str) -> dict[str, Any]:
        try:
            resp = self._session.introspect_token(
                self.endpoint, token=token, token_type_hint="access_token", timeout=self.timeout,
                allow_redirects=False, verify=self._verify, stream=True,
            )  # fmt: skip
            resp = read_bounded(resp, self.max_bytes)  # the endpoint chooses how much it sends
        except requests.exceptions.RequestException as exc:
            raise TargetUnreachable(f"introspection request failed ({type(exc).__name__})") from None
        except BadInput:
            raise TargetUnreachable(f"introspection answer is larger than {self.max_bytes} bytes") from None
        self.request_count += 1
        if resp.status_code != 200:
            raise TargetUnreachable(f"introspection endpoint answered HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise TargetUnreachable("introspection answer is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("active"), bool):
            raise TargetUnreachable("introspection answer has no boolean 'active'")
        return data

    def _check(self, data: Mapping[str, Any], now: float) -> dict[str, Any]:
        if data.get("active") is not True:
            raise TokenRejected("token is not active (introspection)")
        exp, nbf = data.get("exp"), data.get("nbf")
        if isinstance(exp, (int, float)) and not isinstance(exp, bool) and now >= exp:
            raise TokenRejected("token expired (introspection)")
        if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and now < nbf:
            raise TokenRejected("token not yet valid (introspection)")
        if self.issuer is not None and data.get("iss") != self.issuer:
            raise TokenRejected("issuer does not match (introspection)")
        if self.audience is not None:
            aud = data.get("aud")
            auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
            if not self.audience.intersection(a for a in auds if isinstance(a, str)):
                raise TokenRejected("audience does not match (introspection)")
        if not isinstance(data.get("sub") or data.get("client_id"), str):
            raise TokenRejected("introspection answer names no subject")
        return dict(data)

    def introspect(self, token: str) -> dict[str, Any]:
        """The active token's claims, or :class:`TokenRejected`; an unreachable
        or malformed endpoint raises :class:`TargetUnreachable` (fail closed).
        Blocking: the guard calls it in a worker thread."""
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        now = time.time()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] > now:
                return self._check(hit[1], now)
        data = self._ask(token)
        claims = self._check(data, now)
        exp = data.get("exp")
        until = now + self.cache_ttl
        if isinstance(exp, (int, float)) and not isinstance(exp, bool):
            until = min(until, float(exp))
        with self._lock:
            self._cache[key] = (until, data)
            while len(self._cache) > self.max_cache:
                self._cache.popitem(last=False)
        return claims
