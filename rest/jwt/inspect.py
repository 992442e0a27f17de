"""Decode a JWT *without trusting it* and say what looks wrong.

Inspection is for people reading a token during an incident or a review: it
shows header and claims and lists warnings (RFC 8725 / RFC 9068 hygiene).
Nothing here verifies a signature, and the output says so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any

from rest.jwt.jose import unverified_parts

NOT_VERIFIED = (
    "signature NOT verified: nothing below is trustworthy until 'apisec rest jwt verify' accepts it"
)

_WEAK_ALGS = {"HS256": "shared-secret MAC: every verifier can also mint tokens"}
_SENSITIVE = re.compile(
    r"(?i)(pass(word|wd)?|secret|ssn|social.?security|credit.?card|card.?number|cvv|pin|private.?key|"
    r"api.?key|dob|birth|salary|iban|account.?number)"
)
LONG_LIFETIME = 24 * 3600


@dataclass(frozen=True)
class Inspection:
    header: dict[str, Any]
    claims: dict[str, Any] | None
    signature_bytes: int
    warnings: list[str] = field(default_factory=list)
    times: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form; values of sensitive-looking claims are redacted."""
        claims = None
        if self.claims is not None:
            claims = {k: ("[REDACTED]" if _SENSITIVE.search(k) else v) for k, v in self.claims.items()}
        return {
            "verified": False,
            "notice": NOT_VERIFIED,
            "header": self.header,
            "claims": claims,
            "signature_bytes": self.signature_bytes,
            "times": self.times,
            "warnings": self.warnings,
        }


def _number(v: Any) -> float | None:
    """A claim as a finite float, or None (not a number, or beyond a float: 10**400)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


def _iso(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return dt.datetime.fromtimestamp(v, dt.UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def inspect_token(token: str, now: float | None = None) -> Inspection:
    """Header, claims and warnings of ``token`` (raises TokenRejected when it is not a JWT at all)."""
    now = time.time() if now is None else now
    header, claims, sig = unverified_parts(token)
    warns: list[str] = []
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        warns.append(f"alg is {alg!r}: an unsigned token; never accept it")
    elif alg.startswith("HS"):
        warns.append(f"alg {alg} is a {_WEAK_ALGS.get('HS256')}")
    elif alg not in (
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
    ):
        warns.append(f"alg {alg!r} is not a registered JWS signature algorithm")
    if isinstance(alg, str) and alg.lower() != "none" and not sig:
        warns.append("signature part is empty")
    for h in ("jwk", "jku", "x5u", "x5c"):
        if h in header:
            warns.append(f"header carries '{h}': a verifier must never take its key from the token")
    if "crit" in header:
        warns.append(f"header declares critical extensions {header['crit']!r}")
    kid = header.get("kid")
    if isinstance(kid, str) and re.search(r"(\.\./|/|\\|'|\"|;|--)", kid):
        warns.append("kid contains path or query metacharacters")
    times: dict[str, str] = {}
    if claims is None:
        warns.append("payload is not a JSON object (not a JWT claims set)")
    else:
        for name in ("iat", "nbf", "exp", "auth_time"):
            if name in claims:
                iso = _iso(claims[name])
                if iso is None:
                    warns.append(f"claim '{name}' is not a NumericDate")
                else:
                    times[name] = iso
        exp, iat, nbf = (_number(claims.get(n)) for n in ("exp", "iat", "nbf"))
        if "exp" not in claims:
            warns.append("no 'exp': the token never expires")
        elif exp is not None:
            if exp <= now:
                warns.append("token has expired")
            start = iat if iat is not None else now
            if exp - start > LONG_LIFETIME:
                warns.append(
                    f"long lifetime: {int((exp - start) // 3600)} h (access tokens should live minutes)"
                )
        if nbf is not None and nbf > now:
            warns.append("token is not valid yet (nbf in the future)")
        if "aud" not in claims:
            warns.append("no 'aud': any API trusting this issuer would accept it")
        if "iss" not in claims:
            warns.append("no 'iss'")
        for name in claims:
            if _SENSITIVE.search(name):
                warns.append(
                    f"claim '{name}' looks sensitive: JWT payloads are only base64, readable by anyone"
                )
    return Inspection(header, claims, len(sig), warns, times)
