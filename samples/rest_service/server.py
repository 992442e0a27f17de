"""Run the sample service on uvicorn in a background thread.

``serve()`` binds 127.0.0.1 on an ephemeral port by default (tests and the
demo run many services at once), generates a TLS certificate with
:mod:`apisec_samples.pki` unless one is given, and — when no verification
key is wired in — generates an RS256 signing key so callers can mint tokens
with :meth:`ServiceHandle.mint`.
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apisec_samples.tls import harden

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
    _server: uvicorn.Server
    _thread: threading.Thread
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
        self._server.should_exit = True
        self._thread.join(timeout=10)
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
    ssl_kwargs: dict[str, Any] = {}
    ca_file = None
    if tls:
        if pki is None:
            tempdir = tempfile.TemporaryDirectory(prefix="apisec-rest-sample-")
            pki = make_pki(Path(tempdir.name))
        ssl_kwargs = {"ssl_certfile": str(pki.service.cert_path), "ssl_keyfile": str(pki.service.key_path)}
        ca_file = pki.ca.cert_path
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP
    # (with proto 0 every response waits ~40 ms for a delayed ACK).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    uv_config = uvicorn.Config(
        asgi,
        log_level="critical",
        access_log=False,
        server_header=False,
        lifespan="off",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=1,
        **ssl_kwargs,
    )
    if ssl_kwargs:
        uv_config.load()
        harden(uv_config.ssl)
    server = uvicorn.Server(uv_config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"rest-{cfg.name}"
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sample REST service ({cfg.name}) did not start")
        time.sleep(0.02)
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    handle = ServiceHandle(
        url=f"{scheme}://{shown}:{bound_port}",
        config=cfg,
        ca_file=ca_file,
        issuer=issuer,
        audience=audience,
        _server=server,
        _thread=thread,
        _signing_key=signing_key,
        _tempdir=tempdir,
    )
    return handle
