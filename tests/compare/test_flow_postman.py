"""``apisec flow export --postman``: the collection validates against the
vendored Postman Collection v2.1 schema, and newman (the real npm peer from
tests/node) runs it against the real sample REST service — secure: every
assertion passes; legacy: exactly the assertions of its known flaws fail —
reaching the same verdicts step by step as ``apisec flow run``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from compare.flow.model import FlowError, load_flow
from compare.flow.postman import export_postman, validate_collection
from compare.flow.run import run_flow
from tests.compare.flow_services import LEGACY_FLAWS, sample_flow_service

NEWMAN = Path(__file__).parents[1] / "node" / "node_modules" / ".bin" / "newman"


def _newman() -> str:
    if not NEWMAN.is_file():
        pytest.fail(f"peer newman not installed at {NEWMAN} (./scripts/test runs npm ci in tests/node)")
    return str(NEWMAN)


def run_newman(svc, folder: Path, *, drop: str | None = None) -> dict[str, bool]:
    """Export the service's flow, run it with newman; step name → all assertions passed."""
    collection, _ = export_postman(load_flow(svc.flow_file))
    path = folder / "collection.json"
    path.write_text(json.dumps(collection), encoding="utf-8")
    report = folder / "newman.json"
    args = [_newman(), "run", str(path), "--ssl-extra-ca-certs", str(svc.ca_file),
            # the secure service allows 30 requests per 5 s: stay under it, as a CI job would
            "--delay-request", "200", "--timeout-request", "10000",
            "-r", "json", "--reporter-json-export", str(report), "--env-var", f"baseUrl={svc.url}"]  # fmt: skip
    env = {**svc.env, "PUBLIC_KEY_PEM": (svc.flow_file.parent / "service-public.pem").read_text()}
    for k, v in env.items():
        if k != drop:
            args += ["--env-var", f"{k}={v}"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=240)
    assert report.is_file(), proc.stderr[-2000:]
    doc = json.loads(report.read_text())
    verdicts: dict[str, bool] = {}
    for ex in doc["run"]["executions"]:
        name = ex["item"]["name"]
        asserts = ex.get("assertions") or []
        assert asserts, f"{name}: no assertion ran"
        verdicts[name] = all(not a.get("error") for a in asserts)
    assert proc.returncode == (0 if all(verdicts.values()) else 1)
    return verdicts


def test_export_is_a_valid_v21_collection_without_credential_values(tmp_path: Path) -> None:
    with sample_flow_service("secure", tmp_path) as svc:
        collection, left_out = export_postman(load_flow(svc.flow_file))
        text = json.dumps(collection)
        for value in svc.env.values():
            assert value not in text
    validate_collection(collection)
    assert [f["name"] for f in collection["item"]] == [
        "health", "listOrders", "createOrder", "getOrder", "reports", "listUsers", "deleteOrder"
    ]  # fmt: skip
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables.pop("baseUrl") == svc.url
    assert set(variables) == {"ALICE_TOKEN", "BOB_TOKEN", "ADMIN_TOKEN", "EXPIRED_TOKEN", "PUBLIC_KEY_PEM"}
    assert set(variables.values()) == {""}
    assert {name for name, _ in left_out} == {f"{op['name']}/plain-http" for op in collection["item"]}
    items = {i["name"]: i for f in collection["item"] for i in f["item"]}
    tests = "\n".join(items["getOrder/bola/bob"]["event"][-1]["script"]["exec"])
    assert "pm.test(" in tests and "oneOf([401, 403, 404])" in tests
    assert "Left out" in collection["info"]["description"]


def test_schema_validation_refuses_a_broken_collection() -> None:
    with pytest.raises(FlowError, match="not Postman v2.1"):
        validate_collection({"info": {"name": "x"}, "item": [{"name": "no request"}]})


def test_newman_secure_passes_every_assertion_and_matches_flow_run(tmp_path: Path) -> None:
    with sample_flow_service("secure", tmp_path) as svc:
        verdicts = run_newman(svc, tmp_path)
    assert verdicts and all(verdicts.values()), [n for n, ok in verdicts.items() if not ok]
    with sample_flow_service("secure", tmp_path) as svc:  # fresh state: the flow deletes an order
        findings = run_flow(load_flow(svc.flow_file), ca_file=svc.ca_file, env=svc.env)
    steps = {f.target.rsplit("[", 1)[1].rstrip("]"): f.status.value == "pass" for f in findings}
    assert {n: steps[n] for n in verdicts} == verdicts


def test_newman_legacy_fails_exactly_the_known_flaws_like_flow_run(tmp_path: Path) -> None:
    with sample_flow_service("legacy", tmp_path) as svc:
        verdicts = run_newman(svc, tmp_path)
    assert {n for n, ok in verdicts.items() if not ok} == LEGACY_FLAWS
    with sample_flow_service("legacy", tmp_path) as svc:
        findings = run_flow(load_flow(svc.flow_file), ca_file=svc.ca_file, env=svc.env)
    steps = {f.target.rsplit("[", 1)[1].rstrip("]"): f.status.value == "pass" for f in findings}
    assert {n: steps[n] for n in verdicts} == verdicts


def test_newman_unset_credential_fails_instead_of_passing_on_401(tmp_path: Path) -> None:
    with sample_flow_service("secure", tmp_path) as svc:
        verdicts = run_newman(svc, tmp_path, drop="BOB_TOKEN")
    # bob's steps would be "refused" (401 for an empty token) and pass; they fail instead
    assert {n for n, ok in verdicts.items() if not ok} == {"getOrder/bola/bob", "listUsers/wrong-role/bob"}


def test_cli_export_says_what_it_left_out(tmp_path: Path, apisec) -> None:
    with sample_flow_service("legacy", tmp_path) as svc:
        out = tmp_path / "c.json"
        r = apisec("flow", "export", str(svc.flow_file), "--postman", str(out))
    assert r.exit_code == 0, r.stderr
    assert "wrote" in r.stdout and "left out reports/plain-http:" in r.stdout
    validate_collection(json.loads(out.read_text()))
    r = apisec("flow", "export", str(tmp_path / "none.yaml"), "--postman", str(tmp_path / "x.json"))
    assert r.exit_code == 2 and not (tmp_path / "x.json").exists()
