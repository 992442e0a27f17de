"""The guard accepts tokens of real issuers and refuses another issuer's:
the sample Authlib authorization server (RFC 9068 JWTs via its JWKS over
HTTPS, and RFC 7662 introspection), and a Keycloak-style realm JWKS."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from apisec_samples.oauth_server import serve as serve_as
from apisec_samples.oauth_server.server import AUDIENCE as AS_AUDIENCE
from apisec_samples.serving import serve_asgi
from rest.client import ClientCredentials, requests_session
from rest.guard import AccessPolicy, GuardConfig, Introspector
from rest.jwt import JWKSClient, Validator
from tests.rest.guard_apps import serve_guarded


def tls(pki):
    return (pki.service.cert_path, pki.service.key_path)


@pytest.fixture(scope="module")
def auth_servers(pki):
    a = serve_as("secure", tls=tls(pki))
    b = serve_as("secure", tls=tls(pki))  # another issuer (own key, own URL)
    yield a, b
    a.stop()
    b.stop()


def client_token(server, pki) -> str:
    svc = server.extra["service"]
    creds = ClientCredentials(server.url + "/token", svc.client_id, client_secret=svc.client_secret)
    session = requests_session(creds, ca_file=pki.ca.cert_path)
    token = session.token["access_token"]
    session.close()
    return token


def call(srv, pki, token):
    r = requests.get(srv.url + "/me", headers={"Authorization": f"Bearer {token}"},
                     verify=str(pki.ca.cert_path), timeout=10)  # fmt: skip
    return r.status_code, (r.json() if r.status_code == 200 else None)


def test_sample_authorization_server_tokens_via_jwks(auth_servers, pki):
    a, b = auth_servers
    ca = str(pki.ca.cert_path)
    validator = Validator(
        jwks_url=a.url + "/jwks", ca_file=ca, issuer=a.url, audience=AS_AUDIENCE, typ="at+jwt"
    )
    with serve_guarded(GuardConfig(validator=validator, audit=None), pki) as srv:
        status, body = call(srv, pki, client_token(a, pki))
        assert status == 200 and body["sub"] == a.extra["service"].client_id
        assert call(srv, pki, client_token(b, pki))[0] == 401  # other issuer, other key
    assert validator.jwks_client.fetch_count >= 1


def test_sample_authorization_server_opaque_path_via_introspection(auth_servers, pki):
    a, b = auth_servers
    svc = a.extra["service"]
    intro = Introspector(a.url + "/introspect", svc.client_id, svc.client_secret, issuer=a.url,
                         ca_file=str(pki.ca.cert_path))  # fmt: skip
    with serve_guarded(GuardConfig(introspector=intro, audit=None), pki) as srv:
        token = client_token(a, pki)
        assert call(srv, pki, token)[0] == 200
        assert call(srv, pki, token)[0] == 200
        assert intro.request_count == 1  # cached per token digest
        assert call(srv, pki, "opaque-" + uuid.uuid4().hex)[0] == 401  # inactive
        assert call(srv, pki, client_token(b, pki))[0] == 401  # unknown to this AS
    wrong = Introspector(
        a.url + "/introspect", svc.client_id, "not-the-secret", ca_file=str(pki.ca.cert_path)
    )
    with serve_guarded(GuardConfig(introspector=wrong, audit=None), pki) as srv:
        assert call(srv, pki, client_token(a, pki))[0] == 503  # cannot check: fail closed


def keycloak_realm(pki):
    """A Keycloak-shaped realm: JWKS at /realms/demo/protocol/openid-connect/certs
    with a signing key and an encryption key, served over HTTPS."""
    sig = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    enc = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(key, kid, use, alg):
        d = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
        d.update(kid=kid, use=use, alg=alg)
        return d

    doc = {"keys": [jwk(enc, "enc-1", "enc", "RSA-OAEP"), jwk(sig, "sig-1", "sig", "RS256")]}

    async def certs(request):
        return JSONResponse(doc, headers={"Cache-Control": "no-cache"})

    app = Starlette(routes=[Route("/realms/demo/protocol/openid-connect/certs", certs)])
    server = serve_asgi(app, tls=tls(pki), name="keycloak-style")
    return server, sig


def kc_token(key, issuer, kid="sig-1", **claims):
    now = int(time.time())
    payload = {
        "exp": now + 300, "iat": now, "jti": str(uuid.uuid4()), "iss": issuer, "aud": ["orders-api", "account"],
        "sub": str(uuid.uuid4()), "typ": "Bearer", "azp": "orders-frontend", "preferred_username": "alice",
        "realm_access": {"roles": ["offline_access", "orders-admin"]}, "scope": "openid profile email",
    }  # fmt: skip
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def test_keycloak_style_jwks_over_https(pki):
    server, key = keycloak_realm(pki)
    issuer = server.url + "/realms/demo"
    try:
        jwks = JWKSClient(issuer + "/protocol/openid-connect/certs", ca_file=str(pki.ca.cert_path))
        validator = Validator(jwks_client=jwks, issuer=issuer, audience="orders-api")
        policy = AccessPolicy.from_roles_file(
            {
                "roles": {"orders-admin": {"token": "x"}, "user": {"token": "x"}},
                "requests": [
                    {"path": "/admin", "check": "bfla", "allow": ["orders-admin"], "deny": ["user"]}
                ],
            }
        )
        with serve_guarded(GuardConfig(validator=validator, policy=policy, audit=None), pki) as srv:
            status, body = call(srv, pki, kc_token(key, issuer))
            assert status == 200 and "orders-admin" in body["roles"]
            assert call(srv, pki, kc_token(key, issuer, realm_access={"roles": []}))[0] == 200
            r = requests.get(srv.url + "/admin", headers={"Authorization": f"Bearer {kc_token(key, issuer, realm_access={'roles': []})}"},
                             verify=str(pki.ca.cert_path), timeout=10)  # fmt: skip
            assert r.status_code == 403
            other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            assert (
                call(srv, pki, kc_token(other, "https://other.example/realms/demo", kid="other-1"))[0] == 401
            )
            assert call(srv, pki, kc_token(other, issuer))[0] == 401  # right kid, wrong key
            assert call(srv, pki, kc_token(key, "https://other.example/realms/demo"))[0] == 401
            assert call(srv, pki, kc_token(key, issuer, aud="account"))[0] == 401
        assert jwks.fetch_count <= 2  # cached per key set, not fetched per request (+1 rate-limited refetch)
    finally:
        server.stop()
