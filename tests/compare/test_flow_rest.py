"""``apisec flow`` on the REST side: generate from the sample contract and
roles matrix, preview without sending, run against the real sample service
(secure: every step green; legacy: exactly its known flaws fail)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from apisec_samples.rest_service import OPENAPI, ROLES
from compare.flow.generate_openapi import generate_openapi
from compare.flow.model import FlowError, load_flow, schema, validate
from compare.flow.preview import preview
from compare.flow.run import run_flow
from tests.compare.flow_services import LEGACY_FLAWS, sample_flow_service

REST_VARIATIONS = {
    "happy-path", "no-credentials", "garbage-token", "expired-token", "alg-none", "tampered-token",
    "key-confusion", "cors-foreign-origin", "plain-http",
}  # fmt: skip


@pytest.fixture(scope="module")
def secure(tmp_path_factory):
    with sample_flow_service("secure", tmp_path_factory.mktemp("secure")) as svc:
        yield svc


@pytest.fixture
def legacy(tmp_path_factory):
    """Fresh per test: the flow's happy paths change the service's state (deleteOrder)."""
    with sample_flow_service("legacy", tmp_path_factory.mktemp("legacy")) as svc:
        yield svc


def _by_step(findings):
    return {f.target.rsplit("[", 1)[1].rstrip("]"): f for f in findings}


# ------------------------------------------------------------------ generate


def test_generate_covers_every_operation_and_variation() -> None:
    flow, notes = generate_openapi(
        OPENAPI, roles=ROLES, expired_token="env:EXPIRED", public_key="file:pub.pem", base_url="https://h:1"
    )
    ops = {op["name"]: op for op in flow["operations"]}
    assert set(ops) == {
        "health",
        "listOrders",
        "createOrder",
        "getOrder",
        "reports",
        "listUsers",
        "deleteOrder",
    }
    assert list(ops)[-1] == "deleteOrder"  # destructive operations run last
    for name, op in ops.items():
        variations = {s["variation"] for s in op["steps"]}
        if name == "health":  # public: no credential variations
            assert variations == {"happy-path", "cors-foreign-origin", "plain-http"}
        else:
            assert REST_VARIATIONS <= variations, name
    get_order = {s["name"]: s for s in ops["getOrder"]["steps"]}
    assert get_order["getOrder/happy-path"]["request"] == {
        "method": "GET", "path": "/api/orders/1", "identity": "alice", "token": "valid"
    }  # fmt: skip
    assert get_order["getOrder/bola/bob"]["request"]["path"] == "/api/orders/1"
    assert get_order["getOrder/bola/alice"]["request"]["path"] == "/api/orders/2"
    users = {s["name"] for s in ops["listUsers"]["steps"]}
    assert {"listUsers/wrong-role/alice", "listUsers/wrong-role/bob"} <= users
    assert ops["listUsers"]["steps"][0]["request"]["identity"] == "admin"
    create = ops["createOrder"]["steps"][0]["request"]
    assert create["json"] == {"item": "example", "quantity": 1}  # from the NewOrder schema
    assert flow["connection"]["identities"]["alice"] == {"token": "env:ALICE_TOKEN"}
    assert notes == []


def test_generate_says_what_it_left_out() -> None:
    flow, notes = generate_openapi(OPENAPI, base_url="http://h:1")
    variations = {s["variation"] for op in flow["operations"] for s in op["steps"]}
    assert not variations & {"expired-token", "key-confusion", "bola", "wrong-role", "plain-http"}
    assert flow["connection"]["identities"] == {"user": {"token": "env:APISEC_TOKEN"}}
    text = " ".join(notes)
    for word in ("expired-token", "key-confusion", "wrong-role", "plain-HTTP"):
        assert word in text


def test_flow_schema_is_shipped_and_refuses_bad_edits(tmp_path: Path) -> None:
    assert schema()["$id"] == "urn:apisec:flow:1"
    flow, _ = generate_openapi(OPENAPI, base_url="https://h:1")
    bad = json.loads(json.dumps(flow))
    bad["connection"]["identities"]["user"]["token"] = (
        "eyJhbGciOiJSUzI1NiJ9.e30.sig"  # a value, not a reference
    )
    with pytest.raises(FlowError, match="identities/user/token"):
        validate(bad)
    bad = json.loads(json.dumps(flow))
    bad["apisec_flow"] = 2
    with pytest.raises(FlowError, match="version 2"):
        validate(bad)
    bad = json.loads(json.dumps(flow))
    bad["operations"][1]["steps"][0]["request"]["identity"] = "mallory"
    with pytest.raises(FlowError, match="unknown identity 'mallory'"):
        validate(bad)
    (tmp_path / "f.yaml").write_text("apisec_flow: 1\nname: x\n", encoding="utf-8")
    with pytest.raises(FlowError, match="invalid flow file"):
        load_flow(tmp_path / "f.yaml")


def test_generated_file_holds_references_only(secure) -> None:
    text = secure.flow_file.read_text(encoding="utf-8")
    for value in secure.env.values():
        assert value not in text
    assert "&id" not in text and "*id" not in text  # no YAML aliases for people to trip over
    assert yaml.safe_load(text)["connection"]["public_key"] == "file:service-public.pem"


# ------------------------------------------------------------------ preview


def test_preview_shows_raw_requests_redacted_and_sends_nothing(secure) -> None:
    flow = load_flow(secure.flow_file)
    # a port nothing listens on: a preview that tried to send would still print, so
    # also prove the service saw nothing by the absence of any exchange (pure function)
    text = preview(flow, env=secure.env, base_url="https://127.0.0.1:9")
    assert "### getOrder/alg-none  [alg-none]  expect: refused (401/403)" in text
    assert "GET /api/orders/1 HTTP/1.1\nHost: 127.0.0.1:9\n" in text
    assert "Authorization: Bearer [REDACTED]" in text
    assert '{"item": "example", "quantity": 1}' in text
    for value in secure.env.values():
        assert value not in text
        assert value.split(".")[1] not in text  # not even the JWT payload


def test_preview_without_secrets_shows_references(secure) -> None:
    text = preview(load_flow(secure.flow_file), env={}, only=["getOrder/tampered-token"])
    assert "Authorization: Bearer <env:ALICE_TOKEN, tampered variant>" in text
    assert text.count("### ") == 1


# ------------------------------------------------------------------ run


def test_secure_service_runs_all_green(secure) -> None:
    findings = run_flow(load_flow(secure.flow_file), ca_file=secure.ca_file, env=secure.env)
    bad = [(f.target, f.status.value, f.evidence) for f in findings if f.status.value != "pass"]
    assert not bad
    assert len(findings) == sum(len(op["steps"]) for op in load_flow(secure.flow_file)["operations"])
    assert all(f.raw for f in findings if "plain-http" not in f.target)


def test_legacy_service_fails_exactly_its_known_flaws(legacy) -> None:
    findings = run_flow(load_flow(legacy.flow_file), ca_file=legacy.ca_file, env=legacy.env)
    steps = _by_step(findings)
    failed = {name for name, f in steps.items() if f.status.value == "fail"}
    assert failed == LEGACY_FLAWS
    assert {f.status.value for n, f in steps.items() if n not in LEGACY_FLAWS} == {"pass"}
    bola = steps["getOrder/bola/bob"]
    assert bola.check_id == "flow.bola" and bola.severity.value == "high"
    assert steps["reports/alg-none"].severity.value == "critical"
    for f in findings:  # raw exchanges are redacted
        for value in legacy.env.values():
            assert value not in json.dumps(f.to_dict())


def test_refusals_without_an_accepted_happy_path_are_errors_not_passes(legacy) -> None:
    env = {**legacy.env, "ALICE_TOKEN": legacy.env["EXPIRED_TOKEN"]}  # alice's "valid" token is expired
    findings = run_flow(load_flow(legacy.flow_file), ca_file=legacy.ca_file, env=env, only=["listOrders"])
    steps = _by_step(findings)
    assert steps["listOrders/happy-path"].status.value == "error"
    assert steps["listOrders/no-credentials"].status.value == "error"
    assert "proves nothing" in steps["listOrders/no-credentials"].evidence


def test_missing_secret_is_an_error_finding(legacy) -> None:
    env = {k: v for k, v in legacy.env.items() if k != "BOB_TOKEN"}
    findings = run_flow(
        load_flow(legacy.flow_file), ca_file=legacy.ca_file, env=env, only=["getOrder/bola/bob"]
    )
    # --only brings the operation's happy path along: a refusal is judged against it
    steps = _by_step(findings)
    assert list(steps) == ["getOrder/happy-path", "getOrder/bola/bob"]
    assert steps["getOrder/happy-path"].status.value == "pass"
    assert steps["getOrder/bola/bob"].status.value == "error"
    assert "BOB_TOKEN" in steps["getOrder/bola/bob"].evidence


def test_only_that_matches_nothing_is_refused(legacy) -> None:
    with pytest.raises(FlowError, match="no-such-step"):
        run_flow(load_flow(legacy.flow_file), env=legacy.env, only=["no-such-step"])


# ------------------------------------------------------------------ CLI


def test_cli_generate_run_report_and_gate(legacy, tmp_path: Path, apisec, monkeypatch) -> None:
    out = tmp_path / "gen" / "flow.yaml"
    out.parent.mkdir()
    r = apisec("flow", "generate", "--openapi", str(OPENAPI), "--roles", str(ROLES), "--base-url", legacy.url,
               "--expired-token-env", "EXPIRED_TOKEN", "-o", str(out))  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "key-confusion variations left out" in r.stderr
    for k, v in legacy.env.items():
        monkeypatch.setenv(k, v)
    reports = tmp_path / "reports"
    r = apisec(
        "flow", "run", str(out), "--ca-file", str(legacy.ca_file), "-o", str(reports), "-f", "json,sarif"
    )
    assert r.exit_code == 1, r.stderr  # critical/high failures at the default --fail-on high
    doc = json.loads((reports / "assessment.json").read_text())
    failed = {f["target"].rsplit("[", 1)[1].rstrip("]") for f in doc["findings"] if f["status"] == "fail"}
    assert failed == LEGACY_FLAWS - {"reports/key-confusion"}
    r = apisec("compare", "report", str(reports / "assessment.json"), "--fail-on", "never")
    assert r.exit_code == 0 and "flow.bola" in r.stdout
    r = apisec("flow", "run", str(out), "--ca-file", str(legacy.ca_file), "--baseline",
               str(reports / "assessment.json"), "--only", "listUsers", "-f", "json")  # fmt: skip
    assert r.exit_code == 0, r.stderr  # nothing new since the baseline
    assert json.loads(r.stdout)["baseline"]
    monkeypatch.delenv("BOB_TOKEN")  # a step that cannot run makes the run incomplete: exit 1
    args = (
        "flow",
        "run",
        str(out),
        "--ca-file",
        str(legacy.ca_file),
        "--only",
        "listOrders/happy-path,getOrder/bola/bob",
    )
    r = apisec(*args)
    assert r.exit_code == 1 and "could not run" in r.stderr
    assert apisec(*args, "--allow-incomplete").exit_code == 0


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path, apisec) -> None:
    r = apisec("flow", "generate", "--openapi", str(tmp_path / "missing.yaml"))
    assert r.exit_code == 2 and r.stderr.startswith("apisec: error: ") and r.stderr.count("\n") == 1
    r = apisec("flow", "generate", "--openapi", str(OPENAPI), "--wsdl", str(OPENAPI))
    assert r.exit_code == 2 and "exactly one" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("apisec_flow: 1\nname: x\nkind: rest\nconnection: {base_url: ftp://x}\noperations: []\n")
    r = apisec("flow", "run", str(bad))
    assert r.exit_code == 2 and "invalid flow file at connection/base_url" in r.stderr
    assert "Traceback" not in r.stderr
