"""DPoP (RFC 9449) end to end: the sample Authlib AS advertises DPoP and binds
tokens to the client's key, rest.client proves possession on every request,
and the guard refuses every way of using a bound token without the key."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest
import requests

from apisec_samples.oauth_server import SECURE as AS_SECURE
from apisec_samples.oauth_server import serve as serve_as
from apisec_samples.oauth_server.server import AUDIENCE
from rest.client import ClientCredentials, DPoPSession, requests_session
from rest.errors import BadInput
from rest.guard import GuardConfig
from rest.jwt import Validator
from rest.jwt.dpop import DPoPKey, ProofChecker
from tests.rest.guard_apps import serve_guarded


def tls(pki):
    return (pki.service.cert_path, pki.service.key_path)


def metadata_url(issuer: str) -> str:
    u = urlsplit(issuer)
    return f"{u.scheme}://{u.netloc}/.well-known/oauth-authorization-server{u.path}"


@pytest.fixture(scope="module")
def dpop_as(pki):
    server = serve_as(dataclasses.replace(AS_SECURE, dpop=True), tls=tls(pki))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(dpop_as, pki):
    v = Validator(jwks_url=dpop_as.url + "/jwks", ca_file=str(pki.ca.cert_path), issuer=dpop_as.url,
                  audience=AUDIENCE)  # fmt: skip
    cfg = GuardConfig(validator=v, dpop=ProofChecker(), audit=None, rate_limit=None)
    with serve_guarded(cfg, pki) as srv:
        yield srv


def creds(server, **kw):
    svc = server.extra["service"]
    return ClientCredentials(server.url + "/token", svc.client_id, client_secret=svc.client_secret,
                             metadata_url=metadata_url(server.url), **kw)  # fmt: skip


def test_advertised_dpop_is_used_and_bound(dpop_as, api, pki):
    session = requests_session(creds(dpop_as), ca_file=pki.ca.cert_path)
    assert isinstance(session, DPoPSession) and session.token["token_type"] == "DPoP"
    import jwt

    claims = jwt.decode(session.token["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": session.dpop_key.jkt}
    assert session.get(api.url + "/me", timeout=10).status_code == 200
    assert session.get(api.url + "/me", timeout=10).status_code == 200  # a fresh proof each time
    session.close()


def test_not_advertised_means_bearer(pki, api):
    plain_as = serve_as("secure", tls=tls(pki))
    try:
        with requests_session(creds(plain_as), ca_file=pki.ca.cert_path) as session:
            assert not isinstance(session, DPoPSession) and session.token["token_type"].lower() == "bearer"
    finally:
        plain_as.stop()
    with pytest.raises(BadInput, match="requests_session only"):
        from rest.client import httpx_client

        httpx_client(creds(plain_as, dpop=True), ca_file=pki.ca.cert_path)


def test_guard_refuses_a_bound_token_without_its_key(dpop_as, api, pki):
    session = requests_session(creds(dpop_as), ca_file=pki.ca.cert_path)
    token, key = session.token["access_token"], session.dpop_key
    session.close()
    url = api.url + "/me"

    def send(scheme, proof=None, target=url):
        headers = {"Authorization": f"{scheme} {token}"}
        if proof:
            headers["DPoP"] = proof
        return requests.get(target, headers=headers, verify=str(pki.ca.cert_path), timeout=10)

    good = key.proof("GET", url, access_token=token)
    assert send("DPoP", good).status_code == 200
    refused = {
        "replayed proof": send("DPoP", good),
        "as a bearer token": send("Bearer"),
        "no proof": send("DPoP"),
        "another key": send("DPoP", DPoPKey().proof("GET", url, access_token=token)),
        "another URL": send("DPoP", key.proof("GET", api.url + "/admin", access_token=token)),
        "another method": send("DPoP", key.proof("POST", url, access_token=token)),
        "no ath": send("DPoP", key.proof("GET", url)),
    }
    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 401)
    assert 'DPoP algs="' in refused["no proof"].headers["WWW-Authenticate"]


def test_guard_without_dpop_refuses_the_scheme(dpop_as, pki):
    session = requests_session(creds(dpop_as), ca_file=pki.ca.cert_path)
    token, key = session.token["access_token"], session.dpop_key
    session.close()
    v = Validator(jwks_url=dpop_as.url + "/jwks", ca_file=str(pki.ca.cert_path), issuer=dpop_as.url,
                  audience=AUDIENCE)  # fmt: skip
    with serve_guarded(GuardConfig(validator=v, audit=None), pki) as srv:
        r = requests.get(srv.url + "/me", verify=str(pki.ca.cert_path), timeout=10, headers={
            "Authorization": f"DPoP {token}", "DPoP": key.proof("GET", srv.url + "/me", access_token=token)})  # fmt: skip
        assert r.status_code == 401


def test_token_endpoint_refuses_a_bad_proof(dpop_as, pki):
    svc = dpop_as.extra["service"]
    proof = DPoPKey().proof("POST", dpop_as.url + "/elsewhere")
    r = requests.post(dpop_as.url + "/token", data={"grant_type": "client_credentials"},
                      auth=(svc.client_id, svc.client_secret), headers={"DPoP": proof},
                      verify=str(pki.ca.cert_path), timeout=10)  # fmt: skip
    assert r.status_code == 400 and r.json() == {"error": "invalid_dpop_proof"}
