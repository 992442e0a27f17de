"""Check ids of the JWT probes, registered once with their meaning.

Every id is a contract (CI baselines filter on it).  A ``fail`` means the
API accepted a forged token exactly like a genuine one.
"""

from __future__ import annotations

from compare.findings import register

_T = "token-auth"
_BCP = "RFC 8725"
_OWASP = "OWASP API2:2023 Broken Authentication"

NONE_ALG = register(
    "jwt.none-alg", "API accepts unsigned tokens with alg 'none'", side="rest", dimension=_T, severity="critical",
    references=(f"{_BCP} §2.1, §3.1", "RFC 7518 §3.6", _OWASP),
    remediation="Pin the accepted algorithms on the verifier (never 'none', in any spelling).",
)  # fmt: skip
UNSIGNED = register(
    "jwt.unsigned", "API accepts a token with its signature removed", side="rest", dimension=_T,
    severity="critical", references=(f"{_BCP} §3.1", "RFC 7515 §5.2", _OWASP),
    remediation="Verify the signature on every request; decode-without-verify is not validation.",
)  # fmt: skip
TAMPERED = register(
    "jwt.tampered-payload", "API accepts changed claims under the original signature", side="rest",
    dimension=_T, severity="critical", references=("RFC 7515 §5.2", _OWASP),
    remediation="Verify the signature over the exact received header and payload before using any claim.",
)  # fmt: skip
KEY_CONFUSION = register(
    "jwt.key-confusion", "API accepts HS256 tokens keyed with its RSA/EC public key", side="rest",
    dimension=_T, severity="critical", references=(f"{_BCP} §2.1, §3.1", "CVE-2016-10555", _OWASP),
    remediation="Bind each key to its algorithm family; never let the token header choose HMAC for a public key.",
)  # fmt: skip
EMBEDDED_JWK = register(
    "jwt.embedded-jwk", "API trusts a key embedded in the token header (jwk or x5c)", side="rest", dimension=_T,
    severity="critical", references=(f"{_BCP} §3.10", "RFC 7515 §4.1.3, §4.1.6", "CVE-2018-0114"),
    remediation="Take verification keys only from configuration or the issuer's JWKS, never from the header.",
)  # fmt: skip
JKU = register(
    "jwt.jku-injection", "API fetches verification keys from the token's jku or x5u URL", side="rest", dimension=_T,
    severity="critical", references=(f"{_BCP} §3.10", "RFC 7515 §4.1.2", "OWASP API7:2023 SSRF"),
    remediation="Ignore jku/x5u; fetch keys only from a configured JWKS URL.",
)  # fmt: skip
KID = register(
    "jwt.kid-injection", "API uses the token's kid as a file path or query (path traversal / empty key)",
    side="rest", dimension=_T, severity="critical", references=(f"{_BCP} §3.10", "RFC 7515 §4.1.4"),
    remediation="Treat kid as an opaque lookup key into a fixed key set; never as a path or SQL fragment.",
)  # fmt: skip
WEAK_SECRET = register(
    "jwt.weak-secret", "HS-signed token uses a guessable secret", side="rest", dimension=_T, severity="critical",
    references=(f"{_BCP} §3.5", "RFC 7518 §3.2"),
    remediation="Use a random secret of at least the hash size (32 bytes for HS256), or asymmetric keys.",
)  # fmt: skip
PSYCHIC = register(
    "jwt.psychic-signature", "API accepts an ES256 signature with r = s = 0", side="rest", dimension=_T,
    severity="critical", references=("CVE-2022-21449", f"{_BCP} §3.4"),
    remediation="Upgrade the ECDSA implementation (Java 15-18 unpatched is vulnerable); reject r or s outside [1, n-1].",
)  # fmt: skip
EXPIRED = register(
    "jwt.expired", "API accepts an expired token", side="rest", dimension=_T, severity="high",
    references=("RFC 7519 §4.1.4", f"{_BCP} §3.10"),
    remediation="Check exp on every request with a small leeway.",
)  # fmt: skip
NOT_YET_VALID = register(
    "jwt.not-yet-valid", "API accepts a token before its nbf", side="rest", dimension=_T, severity="medium",
    references=("RFC 7519 §4.1.5",), remediation="Check nbf with a small leeway.",
)  # fmt: skip
WRONG_AUD = register(
    "jwt.wrong-audience", "API accepts a token minted for another audience", side="rest", dimension=_T,
    severity="high", references=("RFC 7519 §4.1.3", f"{_BCP} §3.9", "RFC 9068 §4"),
    remediation="Require aud and compare it with this API's identifier.",
)  # fmt: skip
WRONG_ISS = register(
    "jwt.wrong-issuer", "API accepts a token from another issuer", side="rest", dimension=_T, severity="high",
    references=("RFC 7519 §4.1.1", f"{_BCP} §3.8", "RFC 9068 §4"),
    remediation="Require iss and compare it exactly with the trusted issuer.",
)  # fmt: skip
MISSING_EXP = register(
    "jwt.missing-exp", "API accepts a token without exp (never expires)", side="rest", dimension=_T,
    severity="medium", references=("RFC 9068 §2.2", f"{_BCP} §3.10"),
    remediation="Require the exp claim.",
)  # fmt: skip

ALL = (
    NONE_ALG, UNSIGNED, TAMPERED, KEY_CONFUSION, EMBEDDED_JWK, JKU, KID, WEAK_SECRET, PSYCHIC,
    EXPIRED, NOT_YET_VALID, WRONG_AUD, WRONG_ISS, MISSING_EXP,
)  # fmt: skip
