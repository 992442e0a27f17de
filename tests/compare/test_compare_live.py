"""``apisec compare run`` against the real sample services, configured by a
targets file whose secrets are references (file: and env:)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.compare.reportcheck import check_sarif
from tests.conftest import run_apisec


@pytest.fixture(scope="module")
def legacy_pair(tmp_path_factory: pytest.TempPathFactory):
    """The legacy SOAP service, REST API and OAuth server, plus a targets file."""
    from apisec_samples import rest_service, soap_service
    from compare.demo import sample_services

    work = tmp_path_factory.mktemp("live")
    with sample_services(work) as s:
        soap, api, issuer = s.soap["legacy"], s.rest["legacy"], s.oauth["legacy"]
        (work / "request.xml").write_bytes(soap_service.request_xml())
        token = api.mint("alice")
        (work / "alice.token").write_text(token)
        cfg = work / "apisec.toml"
        cfg.write_text(
            f"""
[settings]
concurrency = 4
timeout = 60

[profiles.quick]
rate_limit_probe = 20

[[soap]]
name = "quote"
group = "legacy"
wsdl = "{soap.wsdl_url}"
endpoint = "{soap.url}"
sample_request = "request.xml"
signing_key = "{s.pki.client.key_path}"
signing_cert = "{s.pki.client.cert_path}"

[[rest]]
name = "orders"
group = "legacy"
base_url = "{api.url}/api/orders"
openapi = "{rest_service.OPENAPI}"
oauth_issuer = "{issuer.url}"
client_id = "{issuer.extra["service"].client_id}"
client_secret = "env:APISEC_TEST_OAUTH_SECRET"
token = "file:alice.token"
roles = "{rest_service.ROLES}"
profile = "quick"
""",
            encoding="utf-8",
        )
        env = {"APISEC_TEST_OAUTH_SECRET": issuer.extra["service"].client_secret, **api.role_env()}
        yield cfg, work, token, env


def test_compare_run_live_with_raw_evidence(
    legacy_pair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, _work, token, env = legacy_pair
    for k, v in env.items():
        monkeypatch.setenv(k, v)  # the secrets the targets file references (env:…, ${VAR})
    out = tmp_path / "out"
    r = run_apisec("compare", "run", "-c", str(cfg), "-o", str(out), "-f", "json,sarif,md", "--show-raw")
    assert r.exit_code == 1, r.stderr  # the legacy pair fails critical checks
    doc = json.loads((out / "assessment.json").read_text())
    runs = {(x["target"], x["job"]): x["outcome"] for x in doc["assessment"]["runs"]}
    assert runs == {
        ("quote", "soap.wsdl"): "ok", ("quote", "soap.message"): "ok", ("quote", "soap.probe"): "ok",
        ("orders", "rest.openapi"): "ok", ("orders", "rest.http"): "ok", ("orders", "rest.jwt"): "ok",
        ("orders", "rest.oauth"): "ok",
    }  # fmt: skip
    fails = {f["check_id"] for f in doc["findings"] if f["status"] == "fail"}
    assert {
        "wssec.unsigned-accepted",
        "http.auth-not-enforced",
        "authz.bola",
        "oauth.password-grant",
    } <= fails
    raw = [x for f in doc["findings"] for x in f.get("raw", [])]
    assert raw, "--show-raw keeps the probes' exchanges"
    text = "\n".join(p.read_text() for p in out.iterdir())
    assert token not in text and token.split(".")[1] not in text
    assert env["APISEC_TEST_OAUTH_SECRET"] not in text
    sarif = check_sarif(out / "apisec.sarif")
    # live findings are anchored to the target's line in the targets file
    uris = {
        res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for res in sarif["runs"][0]["results"]
        if res["properties"]["target"] == "orders" and res["ruleId"].startswith("http.")
    }
    assert any(u.endswith("apisec.toml") for u in uris), uris


def test_without_show_raw_no_exchange_is_kept(legacy_pair, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, _work, _token, env = legacy_pair
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    r = run_apisec("compare", "run", "-c", str(cfg), "-f", "json", "--fail-on", "never")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert not [f for f in doc["findings"] if f.get("raw")]


def test_a_missing_secret_is_an_error_finding_naming_the_reference(legacy_pair, monkeypatch) -> None:
    cfg, _work, _token, env = legacy_pair
    monkeypatch.delenv("APISEC_TEST_OAUTH_SECRET", raising=False)
    for k, v in env.items():
        if k != "APISEC_TEST_OAUTH_SECRET":
            monkeypatch.setenv(k, v)
    r = run_apisec("compare", "run", "-c", str(cfg), "-f", "json", "--fail-on", "never")
    assert r.exit_code == 1, r.stderr  # a check that could not run fails the gate (incomplete)
    doc = json.loads(r.stdout)
    assert doc["gate"]["incomplete_checks"] == ["rest.oauth@orders"], doc["gate"]
    token_row = next(
        row for g in doc["matrix"]["groups"] for row in g["rows"] if row["dimension"] == "token-auth"
    )
    assert token_row["rest"]["strength"] == "incomplete" and token_row["rest"]["score"] is None
    (err,) = [f for f in doc["findings"] if f["job"] == "rest.oauth"]
    assert err["status"] == "error" and "APISEC_TEST_OAUTH_SECRET" in err["evidence"]


def _soap_only_config(cfg: Path, extra: str) -> Path:
    """The targets file's SOAP target alone, with ``extra`` keys added."""
    text = cfg.read_text(encoding="utf-8")
    soap = text[text.index("[[soap]]") : text.index("[[rest]]")]
    out = cfg.with_name("soap-options.toml")
    out.write_text("[settings]\ntimeout = 60\n\n" + soap.rstrip() + "\n" + extra, encoding="utf-8")
    return out


def test_engine_passes_the_probe_options_soap_check_takes(legacy_pair, monkeypatch) -> None:
    """One ProbeOptions for 'soap check --url' and the engine: the username
    and password (by reference) reach the live probe's requests."""
    cfg, _work, _token, _env = legacy_pair
    soap_cfg = _soap_only_config(
        cfg, 'username = "probe-user"\npassword = "env:APISEC_TEST_SOAP_PW"\nsoap_action = "urn:GetQuote"\n'
    )
    monkeypatch.setenv("APISEC_TEST_SOAP_PW", "s3cret-probe-password")
    r = run_apisec("compare", "run", "-c", str(soap_cfg), "-f", "json", "--fail-on", "never", "--show-raw")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    runs = {x["job"]: x["outcome"] for x in doc["assessment"]["runs"]}
    assert runs["soap.probe"] == "ok", runs
    raw = "\n".join(
        json.dumps(x) for f in doc["findings"] if f["check_id"].startswith("wssec.") for x in f.get("raw", [])
    )
    assert "probe-user" in raw and "UsernameToken" in raw  # (raw excerpts keep bodies, not headers)
    assert "s3cret-probe-password" not in r.stdout


def test_a_missing_soap_password_makes_the_probe_an_error(legacy_pair, monkeypatch) -> None:
    cfg, _work, _token, _env = legacy_pair
    soap_cfg = _soap_only_config(cfg, 'username = "probe-user"\npassword = "env:APISEC_TEST_SOAP_PW_UNSET"\n')
    monkeypatch.delenv("APISEC_TEST_SOAP_PW_UNSET", raising=False)
    r = run_apisec("compare", "run", "-c", str(soap_cfg), "-f", "json", "--fail-on", "never")
    assert r.exit_code == 1, r.stderr  # incomplete
    doc = json.loads(r.stdout)
    assert doc["gate"]["incomplete_checks"] == ["soap.probe@quote"], doc["gate"]


def test_username_without_password_is_an_input_error(legacy_pair) -> None:
    cfg, _work, _token, _env = legacy_pair
    soap_cfg = _soap_only_config(cfg, 'username = "probe-user"\n')
    r = run_apisec("compare", "run", "-c", str(soap_cfg), "-f", "json")
    assert r.exit_code == 2 and "username and password go together" in r.stderr
