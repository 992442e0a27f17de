"""Proof that apisec's own probes cannot break the guard, and that each probe
notices when the matching guard control is weakened on purpose.

The app is the sample REST service's secure configuration, which runs on
:class:`rest.guard.GuardMiddleware` (uvicorn on 127.0.0.1, TLS).  One test
runs the real ``apisec rest check`` and ``apisec rest jwt probe`` commands
against it (no fail at all); each pair test then weakens exactly one guard
option and shows the matching probe turning from pass to fail.
"""

from __future__ import annotations

import json
import os
import time

import pytest
from cryptography.hazmat.primitives import serialization

from apisec_samples.rest_service import OPENAPI, ROLES, SECURE, build_app, serve
from compare.findings import Status
from rest.http import check
from rest.jwt import Validator, probe
from rest.jwt.jose import split_compact, strict_json_object
from tests.conftest import run_apisec


@pytest.fixture(scope="module")
def secure(pki):
    with serve(SECURE, pki=pki) as svc:
        yield svc


def weakened(pki, **guard_overrides):
    """The secure service with guard options replaced (``validator`` may be a
    callable taking the real validator)."""

    def app(verifier):
        opts = dict(guard_overrides)
        if callable(opts.get("validator")):
            opts["validator"] = opts["validator"](verifier.validator())
        return build_app(SECURE, verifier, **opts)

    return serve(SECURE, pki=pki, app=app)


class SignatureNotVerified:
    """Weakened on purpose: claims are checked, the signature is not."""

    jwks_client = None

    def __init__(self, real: Validator) -> None:
        self.real = real

    def validate(self, token: str) -> dict:
        claims = strict_json_object(split_compact(token).payload, what="claims")
        return self.real.check_claims(claims, time.time())


class AudienceNotChecked:
    """Weakened on purpose: signature, expiry and issuer hold; ``aud`` is ignored."""

    jwks_client = None

    def __init__(self, real: Validator) -> None:
        self.real = real
        self.lax = Validator(
            keys=[v.key for v in real._keyset.keys], issuer=real.issuer, leeway=30, require=("exp", "sub")
        )

    def validate(self, token: str) -> dict:
        claims = strict_json_object(self.real.verify_jws(token).payload, what="claims")
        claims.pop("aud", None)
        return self.lax.check_claims(claims, time.time())


def pem(svc, private: bool) -> bytes:
    key = svc._signing_key
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    return svc.public_key_pem()


def statuses(findings, check_id):
    return {f.status for f in findings if f.check_id == check_id}


def test_every_probe_passes_against_the_guard(secure, tmp_path):
    url = secure.url + "/api/orders"
    env = secure.role_env()
    (tmp_path / "pub.pem").write_bytes(pem(secure, False))
    (tmp_path / "priv.pem").write_bytes(pem(secure, True))
    os.environ.update(env)
    try:
        rc = run_apisec(
            "rest", "check", url, "--token", env["ALICE_TOKEN"], "--openapi", str(OPENAPI),
            "--roles", str(ROLES), "--ca-file", str(secure.ca_file), "--format", "json", "--fail-on", "low",
        )  # fmt: skip
    finally:
        for k in env:
            os.environ.pop(k, None)
    report = json.loads(rc.stdout)
    bad = [(f["check_id"], f["status"], f["evidence"]) for f in report["findings"] if f["status"] != "pass"]
    assert bad == [] and rc.exit_code == 0, rc.stderr
    ids = {f["check_id"] for f in report["findings"]}
    assert {
        "http.auth-not-enforced",
        "http.rate-limit",
        "http.security-headers",
        "authz.bola",
        "authz.bfla",
    } <= ids

    jp = run_apisec(
        "rest", "jwt", "probe", url, "--token", secure.mint("alice"), "--public-key", str(tmp_path / "pub.pem"),
        "--signing-key", str(tmp_path / "priv.pem"), "--ca-file", str(secure.ca_file), "--format", "json",
        "--fail-on", "low",
    )  # fmt: skip
    findings = json.loads(jp.stdout)["findings"]
    not_pass = {(f["check_id"], f["status"]) for f in findings if f["status"] != "pass"}
    assert not_pass == {("jwt.weak-secret", "skip")}, jp.stderr  # RS256: no HMAC secret to crack
    assert jp.exit_code == 0
    assert len(findings) == 14


def test_signature_not_verified_fails_tampered_payload(secure, pki):
    only = ["jwt.tampered-payload", "jwt.none-alg", "jwt.unsigned"]
    intact = probe(secure.url + "/api/orders", secure.mint("alice"), ca_file=str(secure.ca_file), only=only)
    assert {f.status for f in intact} == {Status.PASS}
    with weakened(pki, validator=SignatureNotVerified) as weak:
        broken = probe(weak.url + "/api/orders", weak.mint("alice"), ca_file=str(weak.ca_file), only=only)
    assert statuses(broken, "jwt.tampered-payload") == {Status.FAIL}


def test_audience_not_checked_fails_wrong_audience(secure, pki):
    only = ["jwt.wrong-audience"]
    intact = probe(secure.url + "/api/orders", secure.mint("alice"), signing_key=pem(secure, True),
                   ca_file=str(secure.ca_file), only=only)  # fmt: skip
    assert statuses(intact, "jwt.wrong-audience") == {Status.PASS}
    with weakened(pki, validator=AudienceNotChecked) as weak:
        broken = probe(weak.url + "/api/orders", weak.mint("alice"), signing_key=pem(weak, True),
                       ca_file=str(weak.ca_file), only=only)  # fmt: skip
    assert statuses(broken, "jwt.wrong-audience") == {Status.FAIL}


def test_roles_not_applied_fails_bfla_and_bola(secure, pki):
    def authz(svc):
        found = check(svc.url + "/api/orders", token=svc.mint("alice"), roles=ROLES, env=svc.role_env(),
                      ca_file=svc.ca_file, rate_limit_probe=0)  # fmt: skip
        return statuses(found, "authz.bfla"), statuses(found, "authz.bola")

    assert authz(secure) == ({Status.PASS}, {Status.PASS})
    with weakened(pki, policy=None) as weak:
        assert authz(weak) == ({Status.FAIL}, {Status.FAIL})


def test_no_rate_limit_fails_rate_limit(secure, pki):
    def burst(svc):
        found = check(
            svc.url + "/api/orders", token=svc.mint("alice"), ca_file=svc.ca_file, rate_limit_probe=60
        )
        return statuses(found, "http.rate-limit")

    assert burst(secure) == {Status.PASS}
    with weakened(pki, rate_limit=None) as weak:
        assert burst(weak) == {Status.FAIL}


def flow_steps(svc, folder, only):
    """``apisec flow run`` (the library call) of the sample's generated flow
    against ``svc``: step name → status."""
    from compare.flow.generate_openapi import generate_openapi
    from compare.flow.model import dump_flow, load_flow
    from compare.flow.run import run_flow

    env = {**svc.role_env(), "EXPIRED_TOKEN": svc.mint("alice", ttl=-3600)}
    (folder / "service-public.pem").write_bytes(svc.public_key_pem())
    flow, _notes = generate_openapi(OPENAPI, roles=ROLES, base_url=svc.url, expired_token="env:EXPIRED_TOKEN",
                                    public_key="file:service-public.pem")  # fmt: skip
    (folder / "flow.yaml").write_text(dump_flow(flow), encoding="utf-8")
    found = run_flow(load_flow(folder / "flow.yaml"), ca_file=svc.ca_file, env=env, only=only)
    return {f.target.rsplit("[", 1)[1].rstrip("]"): f.status for f in found}


def test_flow_run_pairs_roles_and_signature(secure, pki, tmp_path):
    """The secure service passes every step of ``flow run`` (tests/compare/
    test_flow_rest.py runs the whole flow); here the flow's access-control
    and forged-token steps turn to fail when the guard is weakened."""
    only = ["getOrder", "listUsers"]
    intact = flow_steps(secure, tmp_path, only)
    assert set(intact.values()) == {Status.PASS}, intact
    watched = (
        "getOrder/bola/bob",
        "listUsers/wrong-role/alice",
        "getOrder/tampered-token",
        "getOrder/alg-none",
    )
    assert set(watched) <= set(intact)
    with weakened(pki, policy=None) as weak:
        no_roles = flow_steps(weak, tmp_path, only)
    assert (
        no_roles["getOrder/bola/bob"] is Status.FAIL and no_roles["listUsers/wrong-role/alice"] is Status.FAIL
    )
    assert no_roles["getOrder/tampered-token"] is Status.PASS
    with weakened(pki, validator=SignatureNotVerified) as weak:
        no_sig = flow_steps(weak, tmp_path, only)
    assert no_sig["getOrder/tampered-token"] is Status.FAIL
    assert no_sig["listUsers/wrong-role/alice"] is Status.PASS
