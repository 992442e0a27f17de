"""``apisec rest oauth`` through the real console script: exit codes per the issue."""

from __future__ import annotations

import json
import os

import pytest

from apisec_samples.oauth_server import serve


@pytest.fixture(scope="module")
def servers(pki):
    tls = (pki.service.cert_path, pki.service.key_path)
    s, i = serve("secure", tls=tls), serve("insecure", tls=tls)
    yield s, i
    s.stop()
    i.stop()


def test_secure_exit_0_insecure_exit_1(servers, pki, apisec, monkeypatch):
    secure, insecure = servers
    svc = secure.extra["service"]
    monkeypatch.setenv("APISEC_TEST_CLIENT_SECRET", svc.client_secret)
    r = apisec("rest", "oauth", secure.url, "--ca-file", str(pki.ca_path), "--client-id", svc.client_id,
               "--client-secret-env", "APISEC_TEST_CLIENT_SECRET", "--format", "json")  # fmt: skip
    assert r.exit_code == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["tool"] == "apisec" and len(doc["findings"]) == 17
    assert svc.client_secret not in r.stdout
    isvc = insecure.extra["service"]
    monkeypatch.setenv("APISEC_TEST_CLIENT_SECRET", isvc.client_secret)
    r = apisec("rest", "oauth", insecure.url, "--ca-file", str(pki.ca_path), "--client-id", isvc.client_id,
               "--client-secret-env", "APISEC_TEST_CLIENT_SECRET")  # fmt: skip
    assert r.exit_code == 1
    assert "oauth.password-grant" in r.stdout and isvc.client_secret not in r.stdout
    never = apisec("rest", "oauth", insecure.url, "--ca-file", str(pki.ca_path), "--fail-on", "never")
    assert never.exit_code == 0


def test_input_errors_exit_2(servers, pki, apisec):
    secure, _ = servers
    no_ca = apisec("rest", "oauth", secure.url)
    assert no_ca.exit_code == 2 and "TLS" in no_ca.stderr and "Traceback" not in no_ca.stderr
    half = apisec("rest", "oauth", secure.url, "--client-id", "x")
    assert half.exit_code == 2
    unset = apisec(
        "rest", "oauth", secure.url, "--client-id", "x", "--client-secret-env", "APISEC_NOPE_UNSET"
    )
    assert unset.exit_code == 2 and "APISEC_NOPE_UNSET" in unset.stderr
    assert "APISEC_NOPE_UNSET" not in os.environ
    bad = apisec("rest", "oauth", "ftp://as.example")
    assert bad.exit_code == 2
    gone = apisec(
        "rest", "oauth", secure.url.replace("/realms/secure", "/nowhere"), "--ca-file", str(pki.ca_path)
    )
    assert gone.exit_code == 2 and gone.stderr.count("\n") == 1
