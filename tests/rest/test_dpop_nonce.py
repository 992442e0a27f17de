"""DPoP server nonces (RFC 9449 §8/§9) against real servers: the sample
Authlib AS demanding a nonce at its token endpoint, and a uvicorn app behind
the guard demanding one per request; rest.client's DPoP session picks the
nonce up and retries once; a proof with a missing, stale or foreign nonce is
refused with ``use_dpop_nonce`` and the current nonce."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest
import requests

from apisec_samples.oauth_server import SECURE as AS_SECURE
from apisec_samples.oauth_server import serve as serve_as
from apisec_samples.oauth_server.server import AUDIENCE
from rest.client import DPoPSession, requests_session
from rest.errors import BadInput, TokenRequestFailed
from rest.guard import GuardConfig
from rest.jwt import Validator
from rest.jwt.dpop import DPoPKey, DPoPNonces, ProofChecker
from tests.rest.guard_apps import serve_guarded
from tests.rest.test_dpop import creds, tls


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def _settle(records: list, n: int, limit: float = 10.0) -> None:
    """Wait until the server has written ``n`` audit records: an allowed
    request is audited after its response went out, so the client can read
    the answer first (a wait for an event, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while len(records) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # and no more than n: a late extra record would show


@pytest.fixture(scope="module")
def nonce_as(pki):
    server = serve_as(dataclasses.replace(AS_SECURE, dpop=True, dpop_nonce=True), tls=tls(pki))
    yield server
    server.stop()


def _validator(server, pki):
    return Validator(jwks_url=server.url + "/jwks", ca_file=str(pki.ca.cert_path), issuer=server.url,
                     audience=AUDIENCE)  # fmt: skip


@pytest.fixture(scope="module")
def clock():
    return Clock()


@pytest.fixture(scope="module")
def records():
    return []


@pytest.fixture(scope="module")
def nonce_api(nonce_as, pki, clock, records):
    checker = ProofChecker(nonces=DPoPNonces(60, clock=clock))
    cfg = GuardConfig(
        validator=_validator(nonce_as, pki), dpop=checker, audit=records.append, rate_limit=None
    )
    with serve_guarded(cfg, pki) as srv:
        yield srv


def test_client_takes_the_nonce_at_the_token_endpoint_and_the_api(nonce_as, nonce_api, pki, records):
    session = requests_session(creds(nonce_as, dpop=True), ca_file=pki.ca.cert_path)
    assert isinstance(session, DPoPSession) and session.token["token_type"] == "DPoP"
    assert session.dpop_nonces.get(nonce_as.url.split("/realms")[0])  # the AS's nonce was kept
    records.clear()
    r = session.get(nonce_api.url + "/me", timeout=10)
    assert r.status_code == 200 and r.json()["sub"]
    # first try refused for the nonce, second accepted: one retry
    _settle(records, 2)
    assert [(rec["status"], rec.get("reason", "")[:16]) for rec in records] == [
        (401, "DPoP proof nonce"), (200, "allowed")
    ]  # fmt: skip
    assert r.headers["DPoP-Nonce"]
    records.clear()
    assert session.get(nonce_api.url + "/me", timeout=10).status_code == 200
    _settle(records, 1)
    assert [rec["status"] for rec in records] == [200]  # the kept nonce works at once
    session.close()


def test_guard_refuses_missing_stale_and_foreign_nonces(nonce_as, nonce_api, pki, clock):
    session = requests_session(creds(nonce_as, dpop=True), ca_file=pki.ca.cert_path)
    token, key = session.token["access_token"], session.dpop_key
    session.close()
    url = nonce_api.url + "/me"

    def send(nonce):
        proof = key.proof("GET", url, access_token=token, nonce=nonce)
        return requests.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof},
                            verify=str(pki.ca.cert_path), timeout=10)  # fmt: skip

    missing = send(None)
    assert missing.status_code == 401
    assert 'error="use_dpop_nonce"' in missing.headers["WWW-Authenticate"]
    assert missing.headers["WWW-Authenticate"].startswith("DPoP ")
    nonce = missing.headers["DPoP-Nonce"]
    assert send("not-the-servers-nonce").status_code == 401
    ok = send(nonce)
    assert ok.status_code == 200 and ok.headers["DPoP-Nonce"] == nonce
    # rotation: one window on, the old nonce still works and the answer carries the new one
    clock.t += 60
    rotated = send(nonce)
    assert rotated.status_code == 200 and rotated.headers["DPoP-Nonce"] != nonce
    # two windows on: the old nonce is stale, refused with the current one
    clock.t += 60
    stale = send(nonce)
    assert stale.status_code == 401 and 'error="use_dpop_nonce"' in stale.headers["WWW-Authenticate"]
    assert stale.headers["DPoP-Nonce"] not in (nonce, rotated.headers["DPoP-Nonce"])
    assert send(stale.headers["DPoP-Nonce"]).status_code == 200
    assert send(rotated.headers["DPoP-Nonce"]).status_code == 200  # the previous window's
    # other proof faults are still invalid_token, not a nonce request
    bad = requests.get(url, headers={"Authorization": f"DPoP {token}",
                                     "DPoP": DPoPKey().proof("GET", url, access_token=token, nonce=nonce)},
                       verify=str(pki.ca.cert_path), timeout=10)  # fmt: skip
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["WWW-Authenticate"]


def test_token_endpoint_demands_the_nonce(nonce_as, pki):
    svc = nonce_as.extra["service"]

    def post(nonce):
        proof = DPoPKey().proof("POST", nonce_as.url + "/token", nonce=nonce)
        return requests.post(nonce_as.url + "/token", data={"grant_type": "client_credentials"},
                             auth=(svc.client_id, svc.client_secret), headers={"DPoP": proof},
                             verify=str(pki.ca.cert_path), timeout=10)  # fmt: skip

    r = post(None)
    assert r.status_code == 400 and r.json()["error"] == "use_dpop_nonce" and r.headers["DPoP-Nonce"]
    assert post("stale-or-foreign").json()["error"] == "use_dpop_nonce"
    ok = post(r.headers["DPoP-Nonce"])
    assert ok.status_code == 200 and ok.json()["token_type"] == "DPoP"


def test_client_retries_once_only(nonce_as, pki):
    """A resource whose nonce is always stale by the time it is checked: the
    client retries once and then hands back the refusal (no loop)."""
    ticking = itertools.count(0, 1000).__next__  # every reading two windows on
    records: list[dict] = []
    checker = ProofChecker(nonces=DPoPNonces(60, clock=lambda: float(ticking())))
    cfg = GuardConfig(
        validator=_validator(nonce_as, pki), dpop=checker, audit=records.append, rate_limit=None
    )
    with serve_guarded(cfg, pki) as srv:
        session = requests_session(creds(nonce_as, dpop=True), ca_file=pki.ca.cert_path)
        r = session.get(srv.url + "/me", timeout=10)
        session.close()
    assert r.status_code == 401 and 'error="use_dpop_nonce"' in r.headers["WWW-Authenticate"]
    _settle(records, 2)
    assert [rec["status"] for rec in records] == [401, 401]


def test_token_endpoint_without_dpop_client_fails_cleanly(nonce_as, pki):
    # a bearer-only client at a DPoP AS that demands nonces: no proof, so a plain bearer token
    with requests_session(creds(nonce_as, dpop=False), ca_file=pki.ca.cert_path) as s:
        assert s.token["token_type"].lower() == "bearer"


def test_nonce_configuration_is_checked():
    with pytest.raises(BadInput):
        DPoPNonces(0)
    with pytest.raises(BadInput):
        DPoPNonces(secret=b"short")
    n = DPoPNonces(60, secret=b"s" * 32, clock=lambda: 120.0)
    assert n.accepts(n.current()) and not n.accepts(None) and not n.accepts(n.current() + "x")
    assert DPoPNonces(60, secret=b"s" * 32, clock=lambda: 120.0).current() == n.current()  # shared secret


def test_a_refused_token_request_stays_refused(nonce_as, pki):
    bad = dataclasses.replace(creds(nonce_as, dpop=True), client_secret="wrong")
    with pytest.raises(TokenRequestFailed):
        requests_session(bad, ca_file=pki.ca.cert_path)
