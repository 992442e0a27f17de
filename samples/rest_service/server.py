"""Run the sample service on uvicorn in a background thread.

``serve()`` binds 127.0.0.1 on an ephemeral port by default (tests and the
demo run many services at once), generates a TLS certificate with
:mod:`apisec_samples.pki` unless one is given, and — when no verification
key is wired in — generates an RS256 signing key so callers can mint tokens
with :meth:`ServiceHandle.mint`.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apisec_samples.serving import RunningServer, serve_asgi

from ..pki import TestPKI, make_pki
from .app import build_app
from .auth import TokenVerifier
from .config import ServiceConfig, get_config

SAMPLE_ISSUER = "https://sample-issuer.apisec.test"
SAMPLE_AUDIENCE = "apisec-sample-api"
SAMPLE_SCOPES = {
    "alice": "orders:read orders:write",
    "bob": "orders:read orders:write",
    "admin": "orders:read admin",
}


@dataclass
class ServiceHandle:
    """A running sample service."""

    url: str
    """``https://127.0.0.1:PORT`` (no trailing slash)."""
    config: ServiceConfig
    ca_file: Path | None
    """CA bundle that verifies the service certificate (``None`` over plain HTTP)."""
    issuer: str | None
    audience: str | None
    _running: RunningServer
    _signing_key: Any = None
    _tempdir: tempfile.TemporaryDirectory | None = None
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def mint(self, sub: str, scope: str | None = None, *, ttl: int = 900, **claims: Any) -> str:
        """An RS256 access token for ``sub`` (only when the service owns its key)."""
        if self._signing_key is None:
            raise RuntimeError("this service verifies tokens from an external issuer; mint them there")
        now = int(time.time())
        payload: dict[str, Any] = {
            "sub": sub,
            "scope": scope if scope is not None else SAMPLE_SCOPES.get(sub, "orders:read"),
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        if self.issuer:
            payload["iss"] = self.issuer
        if self.audience:
            payload["aud"] = self.audience
        payload.update(claims)
        return jwt.encode(payload, self._signing_key, algorithm="RS256", headers={"kid": self.kid})

    def public_key_pem(self) -> bytes:
        """The token verification key (PEM SubjectPublicKeyInfo) of a service that owns its key."""
        if self._signing_key is None:
            raise RuntimeError("this service verifies tokens from an external issuer")
        return self._signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwks(self) -> dict[str, Any]:
        """The JWKS document of the service's own key (``kid`` as in minted tokens)."""
        if self._signing_key is None:
            raise RuntimeError("this service verifies tokens from an external issuer")
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._signing_key.public_key()))
        jwk.update(kid=self.kid, use="sig", alg="RS256")
        return {"keys": [jwk]}

    def role_env(self) -> dict[str, str]:
        """Tokens for the placeholders of ``roles.yaml`` (ALICE_TOKEN, BOB_TOKEN, ADMIN_TOKEN)."""
        return {f"{who.upper()}_TOKEN": self.mint(who) for who in ("alice", "bob", "admin")}

    def stop(self) -> None:
        """Stop the server and wait for its thread (bounded)."""
        self._running.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> ServiceHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(
    config: str | ServiceConfig = "secure",
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = True,
    jwks: Mapping[str, Any] | str | None = None,
    public_key: Any = None,
    *,
    pki: TestPKI | None = None,
    issuer: str | None = None,
    audience: str | None = None,
    jwks_ca_file: str | None = None,
    app: Any = None,
) -> ServiceHandle:
    """Start the sample service and return once it accepts connections.

    ``jwks`` (a JWKS dict or URL) or ``public_key`` wire token verification
    to an external authorization server; with neither, the service makes its
    own RS256 key and :meth:`ServiceHandle.mint` issues tokens (``iss`` and
    ``aud`` are then the sample values unless given).  ``app`` replaces the
    ASGI app (the test API mounts several configurations under one server).
    """
    cfg = get_config(config)
    if not tls and cfg.guarded:  # cleartext on purpose: the guard must take credentials there
        cfg = cfg.but(credentials_over_http=True)
    signing_key = None
    if jwks is None and public_key is None:
        signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_key = signing_key.public_key()
        issuer = issuer or SAMPLE_ISSUER
        audience = audience or SAMPLE_AUDIENCE
    verifier = TokenVerifier(
        public_key=public_key, jwks=jwks, issuer=issuer, audience=audience, ca_file=jwks_ca_file
    )
    asgi = app(verifier) if callable(app) else build_app(cfg, verifier)
    tempdir = None
    ca_file = None
    if tls:
        if pki is None:
            tempdir = tempfile.TemporaryDirectory(prefix="apisec-rest-sample-")
            pki = make_pki(Path(tempdir.name))
        ca_file = pki.ca.cert_path
    try:
        tls_files = (pki.service.cert_path, pki.service.key_path) if tls and pki else None
        running = serve_asgi(asgi, host, port, tls_files, name=f"rest-{cfg.name}")
    except BaseException:
        if tempdir is not None:  # it holds a private key
            tempdir.cleanup()
        raise
    handle = ServiceHandle(
        url=running.url,
        config=cfg,
        ca_file=ca_file,
        issuer=issuer,
        audience=audience,
        _running=running,
        _signing_key=signing_key,
        _tempdir=tempdir,
    )
    return handle
