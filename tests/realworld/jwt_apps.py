"""JWT-protected routes written the way real Flask and FastAPI services write
them with PyJWT, each with one mistake people actually make, and a correct one.

The verification logic is framework-neutral (:class:`Verifiers`); the Flask
and FastAPI apps only read the bearer token and map a refusal to 401, as
those apps do.  Keys are generated per run; the certificate PEM file is what
an IdP publishes and what the key-confusion route HMACs with, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

ISSUER = "https://idp.realworld.test"
AUDIENCE = "orders-api"
HS_SECRET = b"k" * 32  # the real HMAC key the kid routes keep under kid 'default'

#: route -> the mistake it makes
ROUTES = {
    "/correct": "RS256 with issuer, audience, exp required",
    "/no-verify": "jwt.decode(options={'verify_signature': False})",
    "/no-exp": "options={'verify_exp': False} and exp not required",
    "/no-aud": "options={'verify_aud': False}",
    "/hs-rs": "alg taken from the header; HS256 keyed with the published certificate file's bytes",
    "/kid-path": "HMAC key read from open(KEY_DIR / kid)",
    "/kid-sql": "HMAC key looked up with f\"SELECT key FROM keys WHERE kid = '{kid}'\"",
    "/jku": "keys fetched from the header jku with PyJWKClient, no allow-list",
}


class Refused(Exception):
    pass


@dataclass
class Keys:
    private_pem: bytes
    public_pem: bytes
    cert_path: Path
    key_dir: Path
    db_path: Path
    key: rsa.RSAPrivateKey


def make_keys(work: Path) -> Keys:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.realworld.test signing")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    cert_path = work / "idp-signing.crt"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_dir = work / "keys"
    key_dir.mkdir()
    (key_dir / "default").write_bytes(HS_SECRET)
    db_path = work / "keys.sqlite"
    with sqlite3.connect(db_path) as db:
        db.execute("CREATE TABLE keys (kid TEXT PRIMARY KEY, key TEXT)")
        db.execute("INSERT INTO keys VALUES ('default', ?)", (HS_SECRET.decode(),))
    return Keys(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        cert_path,
        key_dir,
        db_path,
        key,
    )


def token_for(keys: Keys, route: str) -> str:
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": int(time.time())}
    claims["exp"] = claims["iat"] + 600
    if route in ("/kid-path", "/kid-sql"):
        return jwt.encode(claims, HS_SECRET, algorithm="HS256", headers={"kid": "default"})
    return jwt.encode(claims, keys.key, algorithm="RS256", headers={"kid": "rs1"})


class Verifiers:
    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.public = serialization.load_pem_public_key(keys.public_pem)

    def _strict(self, token: str, **kw) -> dict:
        return jwt.decode(
            token, self.public, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
            options={"require": ["exp", "iss", "aud"]}, **kw,
        )  # fmt: skip

    def verify(self, route: str, token: str) -> dict:
        try:
            return self._verify(route, token)
        except (jwt.PyJWTError, ValueError, KeyError, OSError, sqlite3.Error, TypeError) as exc:
            raise Refused(str(exc)) from None

    def _verify(self, route: str, token: str) -> dict:
        if route == "/correct":
            return self._strict(token)
        if route == "/no-verify":
            return jwt.decode(token, options={"verify_signature": False})
        if route == "/no-exp":
            return jwt.decode(
                token, self.public, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER,
                options={"verify_exp": False},
            )  # fmt: skip
        if route == "/no-aud":
            return jwt.decode(
                token,
                self.public,
                algorithms=["RS256"],
                issuer=ISSUER,
                options={"verify_aud": False, "require": ["exp"]},
            )
        if route == "/hs-rs":
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "HS256":  # the mistake: the token picks the algorithm
                key = self.keys.cert_path.read_bytes()  # "the key" = the published certificate file
                signed, _, sig = token.rpartition(".")
                mac = hmac.new(key, signed.encode(), hashlib.sha256).digest()
                if not hmac.compare_digest(jwt.utils.base64url_encode(mac), sig.encode()):
                    raise Refused("bad mac")
                claims = json.loads(jwt.utils.base64url_decode(signed.split(".")[1]))
                if claims.get("aud") != AUDIENCE or claims.get("exp", 0) < time.time():
                    raise Refused("claims")
                return claims
            return self._strict(token)
        if route == "/kid-path":
            kid = jwt.get_unverified_header(token).get("kid", "default")
            with open(os.path.join(self.keys.key_dir, kid)) as f:  # the mistake: kid is a path
                secret = f.read()
            return jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
        if route == "/kid-sql":
            kid = jwt.get_unverified_header(token).get("kid", "default")
            with sqlite3.connect(self.keys.db_path) as db:
                row = db.execute(f"SELECT key FROM keys WHERE kid = '{kid}'").fetchone()  # noqa: S608 - the mistake
            if row is None:
                raise Refused("unknown kid")
            return jwt.decode(token, row[0], algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
        if route == "/jku":
            header = jwt.get_unverified_header(token)
            if "jku" in header:  # the mistake: any URL the token names
                signing = jwt.PyJWKClient(header["jku"], timeout=3).get_signing_key_from_jwt(token)
                return jwt.decode(
                    token, signing.key, algorithms=["RS256", "ES256"], audience=AUDIENCE, issuer=ISSUER
                )
            return self._strict(token)
        raise Refused("unknown route")


def _bearer(value: str | None) -> str:
    if not value or not value.startswith("Bearer "):
        raise Refused("no bearer token")
    return value[7:]


def flask_app(keys: Keys):
    import warnings

    from flask import Flask, jsonify, request

    app = Flask("realworld_jwt")
    verifiers = Verifiers(keys)

    def view(route: str):
        def handler():
            try:
                with warnings.catch_warnings():  # short HMAC keys warn in PyJWT; the route still accepts
                    warnings.simplefilter("ignore")
                    claims = verifiers.verify(route, _bearer(request.headers.get("Authorization")))
            except Refused as exc:
                return jsonify(error="invalid_token", detail=str(exc)[:80]), 401
            return jsonify(orders=[], user=claims.get("sub"))

        return handler

    for route in ROUTES:
        app.add_url_rule(route, route, view(route))
    return app


def fastapi_app(keys: Keys):
    import warnings

    from fastapi import FastAPI, Header, HTTPException

    app = FastAPI()
    verifiers = Verifiers(keys)

    def add(route: str) -> None:
        @app.get(route)
        def handler(authorization: str | None = Header(default=None)) -> dict:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    claims = verifiers.verify(route, _bearer(authorization))
            except Refused as exc:
                raise HTTPException(status_code=401, detail="invalid token") from exc
            return {"orders": [], "user": claims.get("sub")}

    for route in ROUTES:
        add(route)
    return app
