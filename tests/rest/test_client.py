"""rest.client against the real sample authorization server (Authlib, TLS):
client secret and private_key_jwt, token caching and renewal before expiry,
requests and httpx (sync and async), and TLS held to a ``rest tls`` profile."""

from __future__ import annotations

import dataclasses
import http.server
import ssl
import threading
import time

import anyio
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apisec_samples.oauth_server import SECURE as AS_SECURE
from apisec_samples.oauth_server import serve as serve_as
from apisec_samples.oauth_server.server import AUDIENCE
from rest.client import (
    ClientCredentials,
    async_httpx_client,
    client_ssl_context,
    httpx_client,
    requests_session,
)
from rest.errors import BadInput, TokenRequestFailed
from rest.guard import GuardConfig
from rest.jwt import Validator
from tests.rest.guard_apps import serve_guarded


def tls(pki):
    return (pki.service.cert_path, pki.service.key_path)


@pytest.fixture(scope="module")
def auth(pki):
    # short-lived tokens so renewal before expiry happens within the test
    server = serve_as(dataclasses.replace(AS_SECURE, access_token_lifetime=4), tls=tls(pki))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(auth, pki):
    v = Validator(
        jwks_url=auth.url + "/jwks", ca_file=str(pki.ca.cert_path), issuer=auth.url, audience=AUDIENCE
    )
    with serve_guarded(GuardConfig(validator=v, audit=None, rate_limit=None), pki) as srv:
        yield srv


def issued(auth) -> int:
    return len(auth.extra["service"].store.tokens)


def secret_creds(auth, **kw):
    svc = auth.extra["service"]
    return ClientCredentials(auth.url + "/token", svc.client_id, client_secret=svc.client_secret, **kw)


def test_client_secret_caches_and_renews_before_expiry(auth, api, pki):
    session = requests_session(secret_creds(auth, leeway=2), ca_file=pki.ca.cert_path)
    before = issued(auth)
    first = session.token["access_token"]
    assert session.get(api.url + "/me", timeout=10).status_code == 200
    assert session.get(api.url + "/me", timeout=10).status_code == 200
    assert issued(auth) == before  # cached: no token request per call
    time.sleep(2.5)  # now inside the 2 s leeway of the 4 s token
    assert session.get(api.url + "/me", timeout=10).status_code == 200
    assert issued(auth) == before + 1 and session.token["access_token"] != first
    session.close()


def test_private_key_jwt(auth, api, pki):
    svc = auth.extra["service"]
    key = svc.client_key.as_pem(private=True)
    creds = ClientCredentials(auth.url + "/token", svc.client_id, private_key=key)
    assert creds.auth_method == "private_key_jwt"
    with requests_session(creds, ca_file=pki.ca.cert_path) as session:
        assert session.get(api.url + "/me", timeout=10).json()["sub"] == svc.client_id
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(TokenRequestFailed, match="invalid_client"):
        requests_session(ClientCredentials(auth.url + "/token", svc.client_id, private_key=stranger),
                         ca_file=pki.ca.cert_path)  # fmt: skip


def test_wrong_secret_is_refused_without_echoing_it(auth, pki):
    svc = auth.extra["service"]
    creds = ClientCredentials(auth.url + "/token", svc.client_id, client_secret="wrong-secret-value")
    with pytest.raises(TokenRequestFailed) as err:
        requests_session(creds, ca_file=pki.ca.cert_path)
    assert "invalid_client" in str(err.value) and "wrong-secret-value" not in str(err.value)


def test_httpx_sync_and_async(auth, api, pki):
    client = httpx_client(secret_creds(auth), ca_file=pki.ca.cert_path)
    try:  # already open (the first token was fetched): close, do not re-enter
        assert client.get(api.url + "/me").status_code == 200
    finally:
        client.close()

    async def run() -> int:
        client = await async_httpx_client(secret_creds(auth), ca_file=pki.ca.cert_path)
        try:
            return (await client.get(api.url + "/me")).status_code
        finally:
            await client.aclose()

    assert anyio.run(run) == 200


def test_tokens_never_go_over_cleartext(auth, pki):
    with requests_session(secret_creds(auth), ca_file=pki.ca.cert_path) as session:
        with pytest.raises(requests.exceptions.InvalidURL, match="over http"):
            session.get("http://127.0.0.1:9/me", timeout=5)


def test_untrusted_authorization_server_is_refused(auth):
    from rest.errors import TargetUnreachable

    with pytest.raises(TargetUnreachable):
        requests_session(secret_creds(auth))  # the test CA is not trusted by default


class _LegacyTLS:
    """A TLS 1.2 server offering only static-RSA CBC (no forward secrecy)."""

    def __init__(self, pki) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls(pki))
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("AES128-SHA256")
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_tls_context_follows_the_profile(pki):
    legacy = _LegacyTLS(pki)
    try:
        lax = ssl.create_default_context(cafile=str(pki.ca.cert_path))
        lax.set_ciphers("DEFAULT:AES128-SHA256")
        s = ssl.create_connection(("127.0.0.1", legacy.httpd.server_address[1]), timeout=5)
        with lax.wrap_socket(s, server_hostname="127.0.0.1") as conn:  # the server is reachable
            assert conn.version() == "TLSv1.2"
        strict = client_ssl_context("mozilla-intermediate", ca_file=pki.ca.cert_path)
        s = ssl.create_connection(("127.0.0.1", legacy.httpd.server_address[1]), timeout=5)
        with pytest.raises(ssl.SSLError):
            strict.wrap_socket(s, server_hostname="127.0.0.1").close()
        s.close()
    finally:
        legacy.close()
    ctx = client_ssl_context("nist-800-52r2", ca_file=pki.ca.cert_path)
    assert ctx.minimum_version is ssl.TLSVersion.TLSv1_2 and ctx.verify_mode is ssl.CERT_REQUIRED
    assert all(
        "ECDHE" in c["name"] or "DHE" in c["name"] or c["protocol"] == "TLSv1.3" for c in ctx.get_ciphers()
    )
    with pytest.raises(BadInput, match="unknown TLS profile"):
        client_ssl_context("mozilla-medium")


def test_credential_rules():
    with pytest.raises(BadInput, match="exactly one client credential"):
        ClientCredentials("https://as.example/token", "c")
    with pytest.raises(BadInput, match="exactly one client credential"):
        ClientCredentials("https://as.example/token", "c", client_secret="s", private_key="k")
    with pytest.raises(BadInput, match="https"):
        ClientCredentials("http://as.example/token", "c", client_secret="s")
    assert (
        ClientCredentials("https://as.example/token", "c", client_cert=("c.pem", "k.pem")).auth_method
        == "tls_client_auth"
    )


def test_mutual_tls_identity_against_a_server_that_requires_it(pki):
    """mTLS at the TLS layer (``tls_client_auth`` itself, where the
    certificate is the OAuth client authentication, is test_client_mtls.py):
    the AS's listener is made to require a
    client certificate from the test CA; the client's certificate (with
    private_key_jwt as the OAuth client authentication) gets a token, and
    without it the handshake is refused."""
    from rest.errors import TargetUnreachable

    server = serve_as("secure", tls=tls(pki))
    try:
        ctx = server._server.config.ssl  # the live listener's context: applies to new connections
        ctx.load_verify_locations(str(pki.ca.cert_path))
        ctx.verify_mode = ssl.CERT_REQUIRED
        svc = server.extra["service"]
        key = svc.client_key.as_pem(private=True)
        with_cert = ClientCredentials(
            server.url + "/token", svc.client_id, private_key=key,
            client_cert=(pki.client.cert_path, pki.client.key_path),
        )  # fmt: skip
        with requests_session(with_cert, ca_file=pki.ca.cert_path) as session:
            assert session.token["token_type"].lower() == "bearer"
        with pytest.raises(TargetUnreachable):
            requests_session(ClientCredentials(server.url + "/token", svc.client_id, private_key=key),
                             ca_file=pki.ca.cert_path)  # fmt: skip
    finally:
        server.stop()


def test_dpop_choice_reads_the_authorization_server_metadata(auth, pki):
    from rest.client.auth import _wants_dpop
    from rest.client.tls import client_ssl_context
    from rest.errors import TargetUnreachable

    ctx = client_ssl_context(ca_file=pki.ca.cert_path)
    origin, _, path = auth.url.partition("/realms/")  # RFC 8414 §3.1: well-known before the issuer path
    md = f"{origin}/.well-known/oauth-authorization-server/realms/{path}"
    creds = secret_creds(auth, metadata_url=md)
    assert _wants_dpop(creds, ctx) is AS_SECURE.dpop is False  # the secure sample does not advertise DPoP
    with pytest.raises(TargetUnreachable):  # no metadata there: fail closed, never "no DPoP"
        _wants_dpop(dataclasses.replace(creds, metadata_url=auth.url + "/no-such-document"), ctx)
    with pytest.raises(TargetUnreachable):  # the profile's context does not trust the AS: refused
        _wants_dpop(creds, client_ssl_context())
