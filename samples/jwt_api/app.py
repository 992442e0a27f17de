"""The flawed JWT API.  Each route verifies tokens *differently*:

========================  ===============================================
route                     flaw
========================  ===============================================
/secure                   none: pyjwt with RS256 pinned, aud, iss, exp required
/flaw/none-alg            accepts ``alg: none`` (any spelling)
/flaw/unsigned            never checks the signature
/flaw/key-confusion       HS* verified with the RSA public key PEM as secret
/flaw/claims-ignored      signature checked, exp/aud/iss ignored
/flaw/embedded-jwk        trusts the header ``jwk`` (and ``x5c``)
/flaw/jku                 fetches keys from the header ``jku`` (and ``x5u``)
/flaw/kid                 reads the HMAC key from the file named by ``kid``
/flaw/weak-secret         HS256 with the secret "secret"
/flaw/psychic             textbook ECDSA without the 0 < r, s < n check
/fragile                  correct, but answers 500 to any alg but RS256
                          (an API whose error handling breaks on odd tokens)
========================  ===============================================

The flaws are real code paths (the way such bugs look in the wild), so the
probes find them by behaviour, not by a flag.  Never deploy this.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apisec_samples.serving import RunningServer, serve_asgi

ISSUER = "https://issuer.jwt-api.apisec.test"
AUDIENCE = "https://jwt-api.apisec.test"
WEAK_SECRET = b"secret"

ROUTES = (
    "/secure",
    "/flaw/none-alg",
    "/flaw/unsigned",
    "/flaw/key-confusion",
    "/flaw/claims-ignored",
    "/flaw/embedded-jwk",
    "/flaw/jku",
    "/flaw/kid",
    "/flaw/weak-secret",
    "/flaw/psychic",
    "/fragile",
)


class Refused(Exception):
    pass


def _b64d(seg: str) -> bytes:
    return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    try:
        h64, p64, s64 = token.split(".")
        return json.loads(_b64d(h64)), json.loads(_b64d(p64)), _b64d(s64), f"{h64}.{p64}".encode()
    except Exception as exc:  # noqa: BLE001
        raise Refused("malformed") from exc


# P-256 domain parameters for the naive ECDSA of /flaw/psychic
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_A = _P - 3
_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)


def _add(p1, p2):
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    if p1[0] == p2[0] and (p1[1] + p2[1]) % _P == 0:
        return None
    if p1 == p2:
        lam = (3 * p1[0] * p1[0] + _A) * pow(2 * p1[1], -1, _P) % _P
    else:
        lam = (p2[1] - p1[1]) * pow(p2[0] - p1[0], -1, _P) % _P
    x = (lam * lam - p1[0] - p2[0]) % _P
    return (x, (lam * (p1[0] - x) - p1[1]) % _P)


def _mul(k, point):
    acc = None
    while k:
        if k & 1:
            acc = _add(acc, point)
        point = _add(point, point)
        k >>= 1
    return acc


def _naive_ecdsa_verify(pub: ec.EllipticCurvePublicKey, data: bytes, sig: bytes) -> bool:
    """Textbook ECDSA *without* the range check (the Java CVE-2022-21449 bug):
    the inverse of 0 is taken as 0 and the point at infinity has x = 0."""
    if len(sig) != 64:
        return False
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    z = int.from_bytes(hashlib.sha256(data).digest(), "big")
    w = pow(s, -1, _N) if s % _N else 0
    nums = pub.public_numbers()
    point = _add(_mul(z * w % _N, _G), _mul(r * w % _N, (nums.x, nums.y)))
    x = 0 if point is None else point[0]
    return x % _N == r


@dataclass
class JwtApi:
    """Keys and verification logic of the sample API."""

    rsa_key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ec_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    kid_dir: Path | None = None
    """Folder of HMAC key files for /flaw/kid (a file ``default`` holds the real key)."""
    kid_secret: bytes = field(default_factory=lambda: __import__("os").urandom(32))

    @property
    def public_pem(self) -> bytes:
        return self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def private_pem(self) -> bytes:
        return self.rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    # ------------------------------------------------------------ token minting
    def claims(self, lifetime: int = 600, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + lifetime, **extra}

    def token_for(self, route: str, **extra: Any) -> str:
        """A valid token for ``route`` (what the route's issuer would mint)."""
        c = self.claims(**extra)
        if route == "/flaw/weak-secret":
            return jwt.encode(c, WEAK_SECRET, algorithm="HS256")
        if route == "/flaw/kid":
            return jwt.encode(c, self.kid_secret, algorithm="HS256", headers={"kid": "default"})
        if route == "/flaw/psychic":
            return jwt.encode(c, self.ec_key, algorithm="ES256")
        return jwt.encode(c, self.rsa_key, algorithm="RS256", headers={"kid": "api-key-1"})

    # ------------------------------------------------------------ verification
    def _strict(self, token: str) -> dict[str, Any]:
        return jwt.decode(
            token, self.rsa_key.public_key(), algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
            options={"require": ["exp", "iss", "aud"]},
        )  # fmt: skip

    def verify(self, route: str, token: str) -> dict[str, Any]:
        try:
            return self._verify(route, token)
        except Refused:
            raise
        except Exception as exc:  # noqa: BLE001 - any library error is a refusal
            raise Refused(type(exc).__name__) from exc

    def _verify(self, route: str, token: str) -> dict[str, Any]:
        pub = self.rsa_key.public_key()
        if route in ("/secure", "/fragile"):
            return self._strict(token)
        header, claims, sig, signed = _parts(token)
        alg = str(header.get("alg", ""))
        if route == "/flaw/none-alg":
            if alg.lower() == "none":
                return claims  # the flaw
            return self._strict(token)
        if route == "/flaw/unsigned":
            return jwt.decode(token, options={"verify_signature": False})  # the flaw
        if route == "/flaw/key-confusion":
            if alg.startswith("HS"):  # the flaw: the public key PEM used as HMAC secret
                mac = hmac.new(self.public_pem, signed, hashlib.sha256).digest()
                if not hmac.compare_digest(mac, sig):
                    raise Refused("bad mac")
                return claims
            return self._strict(token)
        if route == "/flaw/claims-ignored":
            return jwt.decode(
                token, pub, algorithms=["RS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iss": False},
            )  # fmt: skip
        if route == "/flaw/embedded-jwk":
            if "jwk" in header:  # the flaw
                key = jwt.PyJWK(header["jwk"], algorithm=alg)
                return jwt.decode(token, key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)
            if "x5c" in header:  # the same flaw: a certificate nobody validated
                cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
                return jwt.decode(
                    token, cert.public_key(), algorithms=[alg], audience=AUDIENCE, issuer=ISSUER
                )
            return self._strict(token)
        if route == "/flaw/jku":
            if "jku" in header:  # the flaw
                doc = requests.get(header["jku"], timeout=3).json()
                for k in doc.get("keys", []):
                    if k.get("kid") == header.get("kid"):
                        key = jwt.PyJWK(k, algorithm=alg)
                        return jwt.decode(token, key, algorithms=[alg], audience=AUDIENCE, issuer=ISSUER)
                raise Refused("no key")
            if "x5u" in header:  # the same flaw, by certificate URL
                cert = x509.load_pem_x509_certificate(requests.get(header["x5u"], timeout=3).content)
                return jwt.decode(
                    token, cert.public_key(), algorithms=[alg], audience=AUDIENCE, issuer=ISSUER
                )
            return self._strict(token)
        if route == "/flaw/kid":
            assert self.kid_dir is not None
            kid = str(header.get("kid", "default"))
            secret = (self.kid_dir / kid).read_bytes()  # the flaw: kid is a path
            mac = hmac.new(secret, signed, hashlib.sha256).digest()
            if alg != "HS256" or not hmac.compare_digest(mac, sig):
                raise Refused("bad mac")
            return claims
        if route == "/flaw/weak-secret":
            return jwt.decode(token, WEAK_SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
        if route == "/flaw/psychic":
            if alg != "ES256" or not _naive_ecdsa_verify(self.ec_key.public_key(), signed, sig):
                raise Refused("bad signature")
            return claims
        raise Refused("unknown route")

    # ------------------------------------------------------------ ASGI
    def asgi(self) -> Starlette:
        async def handler(request: Request) -> JSONResponse:
            route = request.url.path
            auth = request.headers.get("authorization", "")
            if not auth.lower().startswith("bearer "):
                return JSONResponse({"error": "missing token"}, 401, {"WWW-Authenticate": "Bearer"})
            if route == "/fragile":
                try:
                    alg = _parts(auth[7:].strip())[0].get("alg")
                except Refused:
                    alg = "RS256"  # malformed tokens are refused normally below
                if alg != "RS256":
                    return JSONResponse({"error": "internal error"}, 500)
            try:
                claims = self.verify(route, auth[7:].strip())
            except Refused:
                return JSONResponse(
                    {"error": "invalid token"}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
                )
            return JSONResponse({"route": route, "sub": claims.get("sub")})

        return Starlette(routes=[Route(r, handler, methods=["GET", "POST"]) for r in ROUTES])


def serve(
    api: JwtApi | None = None, host: str = "127.0.0.1", port: int = 0, tls: tuple[str, str] | None = None
) -> RunningServer:
    """Start the API; the handle's ``extra["api"]`` is the :class:`JwtApi`
    (mint tokens with ``handle.extra["api"].token_for(route)``)."""
    import shutil
    import tempfile

    api = api or JwtApi()
    made = None
    if api.kid_dir is None:
        made = api.kid_dir = Path(tempfile.mkdtemp(prefix="apisec-jwt-api-kid-"))
        (api.kid_dir / "default").write_bytes(api.kid_secret)
    try:
        running = serve_asgi(api.asgi(), host, port, tls)
    except BaseException:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise
    running.extra["api"] = api
    if made is not None:  # the kid secret does not outlive the server
        running.extra["on_stop"] = [lambda: shutil.rmtree(made, ignore_errors=True)]
    return running
