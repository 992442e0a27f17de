"""The sample REST service's token wiring: it verifies RS256 tokens from an
external issuer given as a public key, a JWKS document or a JWKS URL (how
the demo connects it to the sample authorization server)."""

from __future__ import annotations

import time

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from apisec_samples.rest_service import serve

ISSUER = "https://issuer.apisec.test"


@pytest.fixture(scope="module")
def issuer_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def token(key, kid="k1", **claims):
    now = int(time.time())
    payload = {"sub": "alice", "scope": "orders:read", "iat": now, "exp": now + 300, "iss": ISSUER}
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def status(svc, tok):
    r = requests.get(
        svc.url + "/api/orders",
        headers={"Authorization": f"Bearer {tok}"},
        verify=str(svc.ca_file),
        timeout=10,
    )
    return r.status_code


def jwk_of(key, kid="k1"):
    import json

    d = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    d.update(kid=kid, use="sig", alg="RS256")
    return d


def test_public_key_wiring(pki, issuer_key):
    svc = serve("secure", pki=pki, public_key=issuer_key.public_key(), issuer=ISSUER)
    try:
        assert status(svc, token(issuer_key)) == 200
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert status(svc, token(other)) == 401
        assert status(svc, token(issuer_key, iss="https://evil.test")) == 401
        assert status(svc, token(issuer_key, exp=int(time.time()) - 3600)) == 401
        with pytest.raises(RuntimeError, match="external issuer"):
            svc.mint("alice")
    finally:
        svc.stop()


def test_jwks_document_and_url_wiring(pki, issuer_key):
    jwks = {"keys": [jwk_of(issuer_key, "k1")]}

    async def jwks_endpoint(request):
        return JSONResponse(jwks)

    jwks_server = serve(pki=pki, app=lambda _v: Starlette(routes=[Route("/jwks.json", jwks_endpoint)]))
    by_doc = serve("secure", pki=pki, jwks=jwks, audience="orders-api")
    by_url = serve("secure", pki=pki, jwks=jwks_server.url + "/jwks.json", jwks_ca_file=str(pki.ca.cert_path))
    try:
        assert status(by_doc, token(issuer_key, aud="orders-api")) == 200
        assert status(by_doc, token(issuer_key, aud="other-api")) == 401
        assert status(by_doc, token(issuer_key, kid="unknown", aud="orders-api")) == 401
        assert status(by_url, token(issuer_key)) == 200
        assert (
            status(
                by_url,
                jwt.encode(
                    {"sub": "alice", "exp": int(time.time()) + 60},
                    "an-hmac-secret-of-thirty-two-bytes!",
                    algorithm="HS256",
                ),
            )
            == 401
        )
    finally:
        for s in (jwks_server, by_doc, by_url):
            s.stop()


def test_own_key_tokens_and_configs(pki):
    with serve("legacy", pki=pki) as svc:
        env = svc.role_env()
        assert set(env) == {"ALICE_TOKEN", "BOB_TOKEN", "ADMIN_TOKEN"}
        assert status(svc, env["ALICE_TOKEN"]) == 200
        assert (
            jwt.decode(env["ADMIN_TOKEN"], options={"verify_signature": False})["scope"].split()[-1]
            == "admin"
        )
        # the key material a demo or another service needs to verify the same tokens
        claims = jwt.decode(
            env["BOB_TOKEN"],
            svc.public_key_pem(),
            algorithms=["RS256"],
            audience=svc.audience,
            issuer=svc.issuer,
        )
        assert claims["sub"] == "bob"
        key = jwt.PyJWKSet.from_dict(svc.jwks())[svc.kid].key
        assert jwt.decode(env["BOB_TOKEN"], key, algorithms=["RS256"], audience=svc.audience)["sub"] == "bob"
    with pytest.raises(ValueError, match="unknown sample configuration"):
        serve("medium")
