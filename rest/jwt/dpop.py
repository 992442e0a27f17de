"""DPoP (RFC 9449): proofs of possession a client signs per request, and the
checks a server makes on them.

A DPoP-bound access token carries ``cnf.jkt``, the RFC 7638 thumbprint of
the client's public key; each request carries a fresh proof JWT signed with
that key, naming the method (``htm``), the URL (``htu``), the time
(``iat``), a unique ``jti`` and, at a resource server, the hash of the
access token (``ath``).  A stolen token is useless without the key.

The proof's key comes from its own ``jwk`` header (that is the point of
DPoP), so the checks here are what makes that safe: the key must be public,
strong enough (:mod:`rest.jwt.keys` rules) and of the proof's algorithm; the
thumbprint must match the token's ``cnf.jkt``; ``jti`` is remembered for the
acceptance window so a proof cannot be replayed.

Server nonces (RFC 9449 §8 at the token endpoint, §9 at a resource server)
bound a proof's lifetime by the server's clock instead of the client's
``iat``: with :class:`DPoPNonces` given to the :class:`ProofChecker`, a proof
without the current (or the just-rotated) nonce is refused with
:class:`UseDPoPNonce`, which carries the nonce to send in a ``DPoP-Nonce``
header; the client signs a new proof with it and tries once more.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt as pyjwt
from cryptography.hazmat.primitives.asymmetric import ec

from rest.errors import BadInput, TokenRejected
from rest.jwt.jose import b64url_encode, split_compact, strict_json_object
from rest.jwt.keys import KeySet

DPOP_ALGORITHMS = ("ES256", "ES384", "PS256", "RS256", "EdDSA")
"""Asymmetric only: a MAC cannot prove possession to a third party."""
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): the ``cnf.jkt`` value."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise TokenRejected("DPoP key is not a complete EC, RSA or OKP public JWK")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(token: str) -> str:
    """``ath``: base64url SHA-256 of the access token's ASCII bytes."""
    return b64url_encode(hashlib.sha256(token.encode("ascii")).digest())


def normalize_htu(url: str) -> str:
    """The URL without query and fragment, scheme and host lower-cased (RFC 9449 §4.3)."""
    p = urlsplit(url)
    return urlunsplit((p.scheme.lower(), p.netloc.lower(), p.path or "/", "", ""))


class DPoPKey:
    """A client's proof-of-possession key (P-256, made fresh unless given)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self._key = private_key or ec.generate_private_key(ec.SECP256R1())
        if not isinstance(self._key, ec.EllipticCurvePrivateKey) or self._key.curve.name != "secp256r1":
            raise BadInput("DPoP key must be an EC P-256 private key (ES256)")
        jwk = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(self._key.public_key()))
        self.public_jwk: dict[str, Any] = {k: jwk[k] for k in ("kty", "crv", "x", "y")}
        self.jkt = thumbprint(self.public_jwk)

    def proof(
        self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None
    ) -> str:
        """A fresh proof for one request (``access_token`` adds ``ath``)."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": normalize_htu(url),
            "iat": int(time.time()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        headers = {"typ": "dpop+jwt", "jwk": self.public_jwk}
        return pyjwt.encode(claims, self._key, algorithm="ES256", headers=headers)


NONCE_SYNTAX = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,512}")
"""RFC 9449 §8.1: ``nonce = 1*NQCHAR`` (bounded here)."""


class UseDPoPNonce(TokenRejected):
    """The proof lacks the server's current nonce (missing, stale or foreign):
    answer ``error="use_dpop_nonce"`` with ``DPoP-Nonce: <nonce>``."""

    def __init__(self, reason: str, nonce: str) -> None:
        super().__init__(reason)
        self.nonce = nonce


class DPoPNonces:
    """Server-provided DPoP nonces, stateless and rotating.

    A nonce is an HMAC of the current time window (``lifetime`` seconds)
    under ``secret``; the current and the previous window's nonces are
    accepted, so a nonce works for ``lifetime`` to ``2 * lifetime`` seconds
    and a client that just received one is never refused at a rotation.
    Nothing is stored per client.  Several processes serving one API must
    share ``secret`` (default: random per process)."""

    def __init__(
        self, lifetime: float = 60.0, *, secret: bytes | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        if lifetime <= 0:
            raise BadInput("DPoP nonce lifetime must be > 0")
        if secret is not None and len(secret) < 32:
            raise BadInput("DPoP nonce secret must be at least 32 bytes")
        self.lifetime = lifetime
        self._secret = secret or secrets.token_bytes(32)
        self._clock = clock
        self._memo: tuple[int, str] = (-1, "")

    def _window(self) -> int:
        return int(self._clock() // self.lifetime)

    def _nonce(self, window: int) -> str:
        memo = self._memo
        if memo[0] == window:
            return memo[1]
        nonce = b64url_encode(
            hmac.new(self._secret, window.to_bytes(8, "big", signed=True), "sha256").digest()[:18]
        )
        self._memo = (window, nonce)
        return nonce

    def current(self) -> str:
        """The nonce to hand out now (``DPoP-Nonce``)."""
        return self._nonce(self._window())

    def accepts(self, nonce: object) -> bool:
        """Whether ``nonce`` is the current or the previous window's."""
        if not isinstance(nonce, str):
            return False
        window = self._window()
        expected = (self._nonce(window), self._nonce(window - 1))
        return any(hmac.compare_digest(nonce.encode(), e.encode()) for e in expected)


class ProofChecker:
    """Checks DPoP proofs (RFC 9449 §4.3) and remembers their ``jti``s.  Thread-safe."""

    def __init__(
        self,
        *,
        algorithms: Sequence[str] = DPOP_ALGORITHMS,
        max_age: float = 300.0,
        leeway: float = 5.0,
        max_jtis: int = 100_000,
        nonces: DPoPNonces | None = None,
    ) -> None:
        """``nonces``: demand server nonces (RFC 9449 §8/§9); ``None``: the
        proof's ``iat`` alone bounds its age."""
        bad = [a for a in algorithms if a not in DPOP_ALGORITHMS]
        if bad or not algorithms:
            raise BadInput(f"DPoP algorithms must be among {', '.join(DPOP_ALGORITHMS)}")
        self.algorithms = tuple(algorithms)
        self.max_age, self.leeway, self.max_jtis = max_age, leeway, max_jtis
        self.nonces = nonces
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(
        self,
        proof: str,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        jkt: str | None = None,
        now: float | None = None,
    ) -> str:
        """Validate ``proof`` for ``method url``; return its key's thumbprint.
        ``access_token`` requires a matching ``ath``, ``jkt`` a matching key.
        Raises :class:`TokenRejected` (one line, no token echoed), or its
        subclass :class:`UseDPoPNonce` when only the server nonce is wrong."""
        now = time.time() if now is None else now
        parts = split_compact(proof)
        header = parts.header
        if header.get("typ") != "dpop+jwt":
            raise TokenRejected("DPoP proof typ is not dpop+jwt")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRejected(f"DPoP proof alg {alg!r} is not allowed")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise TokenRejected("DPoP proof has no jwk header")
        try:
            keys = KeySet.from_jwks({"keys": [jwk]}, trusted=False, where="DPoP proof jwk")
        except BadInput as exc:
            raise TokenRejected(str(exc)) from None
        key = keys.keys[0]
        if not key.accepts(alg):
            raise TokenRejected(f"DPoP proof key cannot sign {alg}")
        try:
            alg_obj = pyjwt.get_algorithm_by_name(alg)
            ok = alg_obj.verify(parts.signing_input, alg_obj.prepare_key(key.key), parts.signature)
        except (pyjwt.PyJWTError, ValueError, TypeError):
            ok = False
        if not ok:
            raise TokenRejected("DPoP proof signature does not verify")
        claims = strict_json_object(parts.payload, what="DPoP claims")
        jti, iat = claims.get("jti"), claims.get("iat")
        if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
            raise TokenRejected("DPoP proof jti is missing or malformed")
        if claims.get("htm") != method.upper():
            raise TokenRejected("DPoP proof htm does not match the request method")
        if not isinstance(claims.get("htu"), str) or normalize_htu(claims["htu"]) != normalize_htu(url):
            raise TokenRejected("DPoP proof htu does not match the request URL")
        if isinstance(iat, bool) or not isinstance(iat, (int, float)):
            raise TokenRejected("DPoP proof iat is missing")
        if iat > now + self.leeway or iat < now - self.max_age - self.leeway:
            raise TokenRejected("DPoP proof iat is outside the acceptance window")
        if access_token is not None and claims.get("ath") != access_token_hash(access_token):
            raise TokenRejected("DPoP proof ath does not match the access token")
        proof_jkt = thumbprint(jwk)
        if jkt is not None and proof_jkt != jkt:
            raise TokenRejected("DPoP proof key is not the key the token is bound to")
        if self.nonces is not None and not self.nonces.accepts(claims.get("nonce")):
            # last, and before the jti is spent: the client signs a new proof
            # with this nonce and tries again
            what = "missing" if "nonce" not in claims else "stale or not ours"
            raise UseDPoPNonce(f"DPoP proof nonce is {what}", self.nonces.current())
        self._remember(f"{proof_jkt}:{jti}", now)
        return proof_jkt

    def _remember(self, key: str, now: float) -> None:
        horizon = now - self.max_age - 2 * self.leeway
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < horizon:
                self._seen.popitem(last=False)
            if key in self._seen:
                raise TokenRejected("DPoP proof jti was already used (replay)")
            self._seen[key] = now
            while len(self._seen) > self.max_jtis:
                self._seen.popitem(last=False)
