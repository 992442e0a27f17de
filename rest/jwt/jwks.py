"""A JWKS client that is polite to the issuer and hard to abuse.

pyjwt's ``PyJWKClient`` has had three recurring problems that this client
is built around (pyjwt issues #929, #1051, #1165, #1031):

* **Caching by the issuer's rules, with a ceiling.**  The fetched key set is
  kept for ``Cache-Control: max-age`` (or ``Expires``) seconds, clamped to
  ``[min_ttl, max_ttl]`` so a missing header does not mean "fetch on every
  request" and a huge max-age does not pin a revoked key for a week.
* **Refetch on unknown ``kid``, rate-limited.**  Key rotation publishes a new
  kid before tokens use it, so an unknown kid triggers one refetch; but an
  attacker can mint tokens with random kids, so refetches are spaced by at
  least ``refetch_interval`` seconds and otherwise answered from the cache.
* **Never a network wait on an event loop.**  ``fetch=False`` answers from
  the cache or raises :class:`FetchNeeded` (the guard then validates in a
  worker thread); concurrent fetches of one JWKS are single-flight.
* **Transport you control.**  A custom CA bundle (private PKI), a proxy,
  connect/read timeouts and a response size cap; plain ``http://`` is refused
  unless ``allow_http`` is set (tests).
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from rest.errors import BadInput, TargetUnreachable, TokenRejected
from rest.jwt.keys import KeySet, VerificationKey

_MAX_AGE = re.compile(r"(?:^|,)\s*(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.I)


class FetchNeeded(Exception):
    """Only a JWKS fetch (or a wait for one in progress) can answer, and the
    caller said ``fetch=False``.  Not a verdict on the token: call again where
    blocking is fine (:class:`rest.guard.GuardMiddleware` does, in a worker
    thread)."""


def cache_seconds(headers: Mapping[str, str], *, now: float, default: float) -> float:
    """Seconds the response may be reused per RFC 9111 (no-store/no-cache → 0)."""
    cc = headers.get("Cache-Control", "") or ""
    low = cc.lower()
    if "no-store" in low or "no-cache" in low:
        return 0.0
    ages = {m.group(1).lower(): int(m.group(2)) for m in _MAX_AGE.finditer(cc)}
    if "max-age" in ages:
        age = float(ages["max-age"])
        try:
            age -= float(headers.get("Age", "0") or 0)
        except ValueError:
            pass
        return max(age, 0.0)
    exp = headers.get("Expires")
    if exp:
        try:
            when = email.utils.parsedate_to_datetime(exp).timestamp()
            return max(when - now, 0.0)
        except (TypeError, ValueError):
            return 0.0
    return default


class JWKSClient:
    """Fetches and caches a JWKS over HTTPS.  Thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        ca_file: str | None = None,
        proxies: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] = (5.0, 10.0),
        min_ttl: float = 60.0,
        max_ttl: float = 24 * 3600.0,
        default_ttl: float = 300.0,
        refetch_interval: float = 60.0,
        max_bytes: int = 512 * 1024,
        allow_http: bool = False,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith("https://") and not (allow_http and url.startswith("http://")):
            raise BadInput(f"JWKS URL must be https:// (got {url.split('://', 1)[0]}://)")
        if min_ttl > max_ttl:
            raise BadInput("JWKS min_ttl exceeds max_ttl")
        self.url = url
        self.ca_file = ca_file
        self.proxies = dict(proxies) if proxies else None
        self.timeout = timeout
        self.min_ttl, self.max_ttl, self.default_ttl = min_ttl, max_ttl, default_ttl
        self.refetch_interval = refetch_interval
        self.max_bytes = max_bytes
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._expires_at = 0.0
        self._last_fetch = float("-inf")
        self.fetch_count = 0
        """How many HTTP fetches happened (observability and tests)."""
        self.stale_served = 0
        """How many times a failed refresh fell back to the cached set."""

    # ---------------------------------------------------------------- fetching
    def _fetch(self) -> KeySet:
        """Fetch now.  On failure a previously fetched set stays in use for
        ``min_ttl`` more seconds (the issuer being down must neither stop
        validation nor cause a fetch per request); with nothing cached the
        error propagates (fail closed)."""
        try:
            return self._fetch_once()
        except (TargetUnreachable, BadInput):
            self._last_fetch = self._clock()
            if self._keys is None:
                raise
            self.stale_served += 1
            self._expires_at = self._clock() + self.min_ttl
            return self._keys

    def _fetch_once(self) -> KeySet:
        verify: bool | str = self.ca_file if self.ca_file else True
        try:
            with self._session.get(
                self.url,
                timeout=self.timeout,
                verify=verify,
                proxies=self.proxies,
                stream=True,
                allow_redirects=False,
                headers={"Accept": "application/jwk-set+json, application/json"},
            ) as resp:
                self.fetch_count += 1
                self._last_fetch = self._clock()
                if resp.status_code != 200:
                    raise TargetUnreachable(f"JWKS fetch from {self.url} answered HTTP {resp.status_code}")
                body = resp.raw.read(self.max_bytes + 1, decode_content=True)
                headers = requests.structures.CaseInsensitiveDict(resp.headers)
        except requests.exceptions.SSLError as exc:
            raise TargetUnreachable(
                f"JWKS fetch from {self.url}: TLS verification failed ({_short(exc)})"
            ) from None
        except requests.exceptions.RequestException as exc:
            raise TargetUnreachable(f"JWKS fetch from {self.url} failed ({_short(exc)})") from None
        if len(body) > self.max_bytes:
            raise BadInput(f"JWKS from {self.url} is larger than {self.max_bytes} bytes")
        keys = KeySet.from_jwks(body, trusted=False, where=f"JWKS {self.url}")
        ttl = cache_seconds(headers, now=time.time(), default=self.default_ttl)
        ttl = min(max(ttl, self.min_ttl), self.max_ttl)
        self._keys = keys
        self._expires_at = self._clock() + ttl
        return keys

    def get_keys(self, *, fetch: bool = True) -> KeySet:
        """The current key set, fetched when the cache has expired.

        Single flight: while one thread fetches, the others wait for it and
        use its answer instead of fetching again.  ``fetch=False`` (an event
        loop, where a network wait would stall every request) never waits:
        it raises :class:`FetchNeeded` when only a fetch can answer."""
        keys = self._keys
        if keys is not None and self._clock() < self._expires_at:
            return keys  # the common case: no lock, no wait
        if not fetch:
            raise FetchNeeded(self.url)
        with self._lock:
            if self._keys is None or self._clock() >= self._expires_at:
                return self._fetch()
            return self._keys

    def keys_for(self, alg: str, kid: str | None, *, fetch: bool = True) -> list[VerificationKey]:
        """Candidate keys for a token; an unknown ``kid`` triggers at most one
        refetch per ``refetch_interval`` seconds (single flight: requests that
        wait for a refetch in progress use its key set).  ``fetch=False``:
        :class:`FetchNeeded` instead of a fetch or a wait for one."""
        keys = self.get_keys(fetch=fetch)
        found = keys.candidates(alg, kid)
        if found or kid is None:
            return found
        if self._clock() - self._last_fetch < self.refetch_interval:
            current = self._keys  # a refetch may have finished since get_keys
            found = current.candidates(alg, kid) if current is not None and current is not keys else []
            if found:
                return found
            raise TokenRejected(f"no key with kid {kid!r} in the JWKS (refetch rate-limited)")
        if not fetch:
            raise FetchNeeded(self.url)
        with self._lock:
            current = self._keys
            if current is not None and current is not keys:  # another thread refetched meanwhile
                found = current.candidates(alg, kid)
                if found:
                    return found
            if self._clock() - self._last_fetch >= self.refetch_interval:
                return self._fetch().candidates(alg, kid)
        raise TokenRejected(f"no key with kid {kid!r} in the JWKS (refetch rate-limited)")

    @property
    def ttl_remaining(self) -> float:
        return max(self._expires_at - self._clock(), 0.0)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def load_jwks_source(source: str, **client_kwargs: Any) -> KeySet | JWKSClient:
    """``--jwks URL|FILE``: a URL gives a client, a file a fixed key set."""
    if source.startswith(("https://", "http://")):
        return JWKSClient(source, **client_kwargs)
    from pathlib import Path

    p = Path(source)
    if not p.is_file():
        raise BadInput(f"JWKS file not found: {p}")
    return KeySet.from_jwks(p.read_bytes(), trusted=True, where=f"JWKS file {p.name}")
