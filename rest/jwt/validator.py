"""JWT validation by RFC 8725 (JWT Best Current Practices), on pyjwt.

Order of work, and why:

1. :func:`rest.jwt.jose.split_compact` decodes the token *strictly* (one
   canonical base64url spelling, unique JSON members, three parts).
2. The header is judged before any key is touched: ``alg`` must be on the
   caller's allow-list (``none`` can never be), ``crit`` must name only
   extensions we implement (none: so any ``crit`` is refused, RFC 7515
   §4.1.11), ``b64: false`` is refused, ``typ`` must match when required
   (RFC 8725 §3.11, RFC 9068 ``at+jwt``).
3. Keys come from the configuration only (``keys=`` or ``jwks_url=``);
   header ``jwk``/``jku``/``x5u``/``x5c`` are never used to find a key, and
   ``kid`` only selects among configured keys.  A key verifies only the
   algorithms of its type (:mod:`rest.jwt.keys`).
4. pyjwt checks the signature with the selected key and algorithm.
5. Claims: ``exp``/``nbf``/``iat`` (numeric, with ``leeway``, against
   ``at``), ``max_age``, ``aud`` (a token with an ``aud`` is refused unless
   the validator was told its audience, RFC 7519 §4.1.3), ``iss``, and the
   ``require`` list.

Every refusal is a :class:`rest.errors.TokenRejected` with one line that
names the reason and never echoes the token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jwt.exceptions import InvalidKeyError, PyJWTError

from rest.errors import BadInput, TokenRejected
from rest.jwt.jose import split_compact, strict_json_object
from rest.jwt.jwks import JWKSClient
from rest.jwt.keys import SUPPORTED_ALGORITHMS, KeySet, VerificationKey, load_keys

_UNTRUSTED_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
_MAX_KEY_TRIES = 8


@dataclass(frozen=True)
class VerifiedJWS:
    """What was verified: the protected header, the exact payload bytes, and
    the key that verified them.  Use only these, never a re-decode."""

    header: dict[str, Any]
    payload: bytes
    key: VerificationKey


def _as_timestamp(at: float | int | dt.datetime | None) -> float:
    if at is None:
        return time.time()
    if isinstance(at, dt.datetime):
        if at.tzinfo is None:
            raise BadInput("'at' datetime must be timezone-aware")
        return at.timestamp()
    if isinstance(at, bool) or not isinstance(at, (int, float)):
        raise BadInput("'at' must be a UNIX time or an aware datetime")
    return float(at)


def _numeric_date(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TokenRejected(f"claim '{name}' is not a NumericDate")
    try:
        number = float(value)  # an integer like 10**400 has no float: OverflowError
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise TokenRejected(f"claim '{name}' is not a NumericDate (out of range)")
    return number


def _norm_typ(value: str) -> str:
    v = value.lower()
    return v[len("application/") :] if v.startswith("application/") else v


class Validator:
    """Validates signed JWTs against a fixed policy.

    Security consequences a caller must know:

    * **Trust comes from configuration.**  Only ``keys`` or ``jwks_url`` are
      used; nothing in the token can add a key.
    * **The returned claims are the only thing to use.**  Do not decode the
      token again elsewhere.
    * **Audience is checked by default when present.**  Pass ``audience``;
      a token carrying ``aud`` is refused when none is configured.
    * **A verified signature is remembered per key** (``cache_size``, 0 turns
      it off): a server sees the same access token many times, and the RSA or
      EC operation is the whole cost.  Header policy, key membership and
      claims are still checked on every call (see :meth:`verify_jws`).
    """

    def __init__(
        self,
        keys: Any = None,
        *,
        jwks_url: str | None = None,
        algorithms: Sequence[str] = ("RS256",),
        audience: str | Iterable[str] | None = None,
        issuer: str | None = None,
        leeway: float = 0,
        require: Sequence[str] = ("exp",),
        typ: str | None = None,
        max_age: float | None = None,
        ca_file: str | None = None,
        proxies: Mapping[str, str] | None = None,
        timeout: float | tuple[float, float] = (5.0, 10.0),
        jwks_client: JWKSClient | None = None,
        cache_size: int = 1024,
    ) -> None:
        if (keys is None) == (jwks_url is None and jwks_client is None):
            raise BadInput("give exactly one of keys= or jwks_url=")
        algs = tuple(algorithms)
        if not algs:
            raise BadInput("algorithms must not be empty")
        for a in algs:
            if a.lower() == "none":
                raise BadInput("algorithm 'none' can never be allowed")
            if a not in SUPPORTED_ALGORITHMS:
                raise BadInput(f"unsupported algorithm {a!r} (supported: {', '.join(SUPPORTED_ALGORITHMS)})")
        if any(a.startswith("HS") for a in algs) and any(not a.startswith("HS") for a in algs):
            # RFC 8725 §3.1: mixing MAC and signature algorithms is how key confusion starts.
            raise BadInput("do not mix HS* with asymmetric algorithms in one validator")
        if leeway < 0 or (max_age is not None and max_age <= 0):
            raise BadInput("leeway must be >= 0 and max_age > 0")
        if cache_size < 0:
            raise BadInput("cache_size must be >= 0")
        self.cache_size = cache_size
        self._verified: dict[bytes, VerifiedJWS] = {}
        self.algorithms = algs
        self.audience: frozenset[str] | None = (
            None if audience is None else frozenset([audience] if isinstance(audience, str) else audience)
        )
        self.issuer = issuer
        self.leeway = float(leeway)
        self.require = tuple(require)
        self.typ = typ
        self.max_age = max_age
        self._keyset: KeySet | None = None
        self._jwks: JWKSClient | None = jwks_client
        if keys is not None:
            self._keyset = load_keys(keys)
            if not any(k.accepts(a) for k in self._keyset.keys for a in algs):
                raise BadInput(
                    f"none of the keys can verify {', '.join(algs)} "
                    f"(key types: {', '.join(sorted({k.kind for k in self._keyset.keys}))})"
                )
        elif self._jwks is None:
            assert jwks_url is not None
            self._jwks = JWKSClient(jwks_url, ca_file=ca_file, proxies=proxies, timeout=timeout)

    @property
    def jwks_client(self) -> JWKSClient | None:
        """The JWKS client when keys come from a URL (``None`` for fixed keys);
        a server can ask it whether the next validation may block on a fetch."""
        return self._jwks

    # ------------------------------------------------------------------ header
    def _check_header(self, header: Mapping[str, Any]) -> str:
        alg = header.get("alg")
        if not isinstance(alg, str) or not alg:
            raise TokenRejected("header has no 'alg'")
        if alg.lower() == "none":
            raise TokenRejected("alg 'none' (unsigned token) is never accepted")
        if alg not in self.algorithms:
            raise TokenRejected(f"alg {alg!r} is not allowed (allowed: {', '.join(self.algorithms)})")
        if "crit" in header:
            crit = header["crit"]
            if not isinstance(crit, list) or not crit or not all(isinstance(c, str) for c in crit):
                raise TokenRejected("header 'crit' is malformed")
            raise TokenRejected(f"critical header extension(s) not understood: {', '.join(crit)}")
        if "b64" in header:
            raise TokenRejected("unencoded payload (b64) is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejected("header 'kid' is not a string")
        if self.typ is not None:
            typ = header.get("typ")
            if not isinstance(typ, str) or _norm_typ(typ) != _norm_typ(self.typ):
                raise TokenRejected(f"header typ is {typ!r}, expected {self.typ!r}")
        return alg

    def _candidates(self, alg: str, kid: str | None, fetch: bool = True) -> list[VerificationKey]:
        if self._keyset is not None:
            found = self._keyset.candidates(alg, kid)
        else:
            assert self._jwks is not None
            found = self._jwks.keys_for(alg, kid, fetch=fetch)
        if not found:
            if kid is not None:
                raise TokenRejected(f"no configured key with kid {kid!r} can verify {alg}")
            raise TokenRejected(f"no configured key can verify {alg}")
        return found[:_MAX_KEY_TRIES]

    # ------------------------------------------------------------------ public
    def verify_jws(self, token: str | bytes, *, fetch: bool = True) -> VerifiedJWS:
        """Check structure, header policy and signature; return what was signed.
        Claims are not looked at (use :meth:`validate` for JWTs).  With
        ``fetch=False`` a key set that needs fetching raises
        :class:`rest.jwt.jwks.FetchNeeded` instead (for event loops).

        A signature that verified is remembered (``cache_size`` entries) under
        the SHA-256 of the exact token bytes together with the key object that
        verified it; the same token is then accepted without a second RSA/EC
        operation only while the header still passes the policy and that very
        key object is still a candidate for it (a JWKS refresh makes new key
        objects: a key the issuer withdrew stops verifying at once).  Failures
        are never remembered, and claims are checked on every call."""
        digest = self._digest(token)
        if digest is not None:
            hit = self._verified.get(digest)
            if hit is not None:
                alg = self._check_header(hit.header)
                if any(k is hit.key for k in self._candidates(alg, hit.header.get("kid"), fetch)):
                    return VerifiedJWS(dict(hit.header), hit.payload, hit.key)
                self._verified.pop(digest, None)
        parts = split_compact(token)
        alg = self._check_header(parts.header)
        # header jwk/jku/x5u/x5c are deliberately ignored: never a key source.
        for key in self._candidates(alg, parts.header.get("kid"), fetch):
            try:
                alg_obj, prepared = key.verifier(alg)  # prepared once per key, not per token
                if alg_obj.verify(parts.signing_input, prepared, parts.signature):
                    if digest is not None:
                        if len(self._verified) >= self.cache_size:
                            self._verified.clear()  # bounded; only signed tokens get here
                        self._verified[digest] = VerifiedJWS(dict(parts.header), parts.payload, key)
                    return VerifiedJWS(parts.header, parts.payload, key)
            except (PyJWTError, InvalidKeyError, ValueError, TypeError):
                continue
        raise TokenRejected("signature does not verify")

    def _digest(self, token: str | bytes) -> bytes | None:
        """The memo key of a token (``None``: memo off, or not a token the
        strict parser could accept, which then refuses it)."""
        if not self.cache_size:
            return None
        if isinstance(token, str):
            if not token.isascii():
                return None
            token = token.encode("ascii")
        elif not isinstance(token, bytes):
            return None
        return hashlib.sha256(token).digest()

    def validate(
        self, token: str | bytes, at: float | int | dt.datetime | None = None, *, fetch: bool = True
    ) -> dict[str, Any]:
        """Validate a JWT and return its claims, or raise :class:`TokenRejected`.

        ``at`` pins the validation instant (UNIX seconds or aware datetime);
        default now.  ``fetch=False``: never fetch the JWKS or wait for a
        fetch; raise :class:`rest.jwt.jwks.FetchNeeded` instead (an event
        loop calls this and, on that, calls again in a worker thread)."""
        now = _as_timestamp(at)
        verified = self.verify_jws(token, fetch=fetch)
        claims = strict_json_object(verified.payload, what="claims")
        return self.check_claims(claims, now)

    def check_claims(self, claims: dict[str, Any], now: float) -> dict[str, Any]:
        """The claim rules alone (exposed so reports can explain each one)."""
        for name in self.require:
            if name not in claims:
                raise TokenRejected(f"required claim '{name}' is missing")
        exp = _numeric_date(claims, "exp")
        nbf = _numeric_date(claims, "nbf")
        iat = _numeric_date(claims, "iat")
        if exp is not None and now >= exp + self.leeway:
            raise TokenRejected(f"token expired {int(now - exp)}s ago")
        if nbf is not None and now < nbf - self.leeway:
            raise TokenRejected(f"token not valid for another {int(nbf - now)}s (nbf)")
        if iat is not None and iat > now + self.leeway:
            raise TokenRejected("token issued in the future (iat)")
        if self.max_age is not None:
            if iat is None:
                raise TokenRejected("max_age set but the token has no 'iat'")
            if now - iat > self.max_age + self.leeway:
                raise TokenRejected(f"token is older than max_age ({int(now - iat)}s)")
        if "aud" in claims:
            aud = claims["aud"]
            auds = [aud] if isinstance(aud, str) else aud
            if not isinstance(auds, list) or not all(isinstance(a, str) for a in auds):
                raise TokenRejected("claim 'aud' is not a string or list of strings")
            if self.audience is None:
                raise TokenRejected("token has an 'aud' but no audience was configured to match it")
            if not self.audience.intersection(auds):
                raise TokenRejected("audience does not match")
        elif self.audience is not None:
            raise TokenRejected("claim 'aud' is missing")
        if self.issuer is not None:
            iss = claims.get("iss")
            if iss is None:
                raise TokenRejected("claim 'iss' is missing")
            if iss != self.issuer:
                raise TokenRejected("issuer does not match")
        return claims


def validate(
    token: str | bytes, at: float | int | dt.datetime | None = None, **config: Any
) -> dict[str, Any]:
    """One-shot ``Validator(**config).validate(token, at)``."""
    return Validator(**config).validate(token, at)
