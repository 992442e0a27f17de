"""The CI gate fails closed: a check that could not run makes the assessment
incomplete, an incomplete assessment fails the gate unless the user allows
it, and a cell with errors is never "strong"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from compare.engine import CHECK_ERROR, NOT_CONFIGURED, Assessment, Result, TargetInfo
from compare.findings import Side, finding
from compare.gate import evaluate, per_group
from compare.matrix import build_matrix

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _assessment(results: list[Result], **kw) -> Assessment:
    targets = [
        TargetInfo("api", Side.REST, "prod", "rest", "https://api"),
        TargetInfo("svc", Side.SOAP, "legacy", "soap", "http://svc"),
    ]
    return Assessment(targets=targets, results=results, **kw)


def test_an_error_makes_the_assessment_incomplete_and_fails_the_gate() -> None:
    ok = Result(finding("http.security-headers", "pass", "https://api"), "api", "rest.http")
    err = Result(finding(CHECK_ERROR, "error", "https://api", side="rest"), "api", "rest.jwt")
    complete = evaluate(_assessment([ok]))
    assert complete.passed and not complete.is_incomplete
    gate = evaluate(_assessment([ok, err]))
    assert not gate.passed and gate.incomplete == ("rest.jwt@api",)
    assert "FAILED (incomplete)" in gate.sentence() and "rest.jwt@api" in gate.sentence()
    allowed = evaluate(_assessment([ok, err]), allow_incomplete=True)
    assert allowed.passed and allowed.is_incomplete and "--allow-incomplete" in allowed.sentence()
    # a failing check at the threshold still fails an allowed incomplete run
    bad = Result(finding("http.cors", "fail", "https://api"), "api", "rest.http")
    assert not evaluate(_assessment([ok, err, bad]), allow_incomplete=True).passed


def test_no_evidence_at_all_is_incomplete() -> None:
    skip = Result(finding(NOT_CONFIGURED, "skip", "https://api", side="rest"), "api", "plan")
    gate = evaluate(_assessment([skip]))
    assert not gate.passed and gate.no_evidence and "no check produced evidence" in gate.sentence()
    assert not evaluate(_assessment([])).passed


def test_a_cell_with_errors_is_incomplete_never_strong() -> None:
    passes = [
        Result(finding(cid, "pass", "https://api"), "api", "rest.http")
        for cid in ("http.auth-not-enforced", "authz.bola", "authz.bfla", "openapi.no-security")
    ]
    err = Result(
        finding(CHECK_ERROR, "error", "https://api", side="rest", dimension="access-control"), "api", "x"
    )
    m = build_matrix(_assessment(passes + [err]))
    prod = next(g for g in m["groups"] if g["group"] == "prod")
    row = next(r for r in prod["rows"] if r["dimension"] == "access-control")
    assert row["rest"]["strength"] == "incomplete" and row["rest"]["score"] is None
    assert prod["sides"]["rest"]["strength"] == "incomplete" and prod["sides"]["rest"]["score"] is None
    m2 = build_matrix(_assessment(passes))
    row2 = next(r for r in m2["groups"][0]["rows"] if r["dimension"] == "access-control")
    assert row2["rest"]["score"] == 100 and row2["rest"]["strength"] == "strong"


def test_gate_is_computed_per_group_and_kept_in_json() -> None:
    ok = Result(finding("http.security-headers", "pass", "https://api"), "api", "rest.http")
    bad = Result(finding("wssec.body-not-signed", "fail", "svc.wsdl"), "svc", "soap.wsdl")
    a = _assessment([ok, bad])
    gates = {g.group: g.passed for g in per_group(a)}
    assert gates == {"prod": True, "legacy": False}
    doc = a.to_dict()
    assert doc["gate"]["passed"] is False and doc["gate"]["complete"] is True
    assert [g["group"] for g in doc["gate"]["groups"]] == ["prod", "legacy"]
    err = Result(finding(CHECK_ERROR, "error", "https://api", side="rest"), "api", "rest.jwt")
    back = Assessment.from_dict(
        json.loads(json.dumps(_assessment([ok, err], allow_incomplete=True).to_dict()))
    )
    assert back.allow_incomplete and evaluate(back).passed and evaluate(back).is_incomplete
    assert not evaluate(back, allow_incomplete=False).passed


def test_shipped_sample_without_secrets_exits_1_incomplete(apisec, tmp_path: Path, monkeypatch) -> None:
    """The issue's acceptance case: samples/apisec.toml as shipped (no env
    secrets, no pki/ folder, unresolvable hosts) must not pass the gate."""
    work = tmp_path / "samples"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("pki", "__pycache__"))
    for var in ("ORDERS_CLIENT_SECRET", "ORDERS_ACCESS_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    r = apisec("compare", "run", "-c", str(work / "apisec.toml"), "-o", str(tmp_path / "out"), "-f", "json",
               "--timeout", "30")  # fmt: skip
    assert r.exit_code == 1, (r.stdout, r.stderr)
    out = " ".join(r.stdout.split())
    assert "FAILED (incomplete)" in out and "rest.oauth@orders-api" in out, out
    doc = json.loads((tmp_path / "out" / "assessment.json").read_text())
    assert doc["gate"]["complete"] is False and "rest.jwt@orders-api" in doc["gate"]["incomplete_checks"]
    cells = [c for g in doc["matrix"]["groups"] for row in g["rows"] for c in (row["soap"], row["rest"])]
    assert all(c["strength"] != "strong" for c in cells if c["counts"]["error"])
    # compare report keeps the distinction; --allow-incomplete is the explicit way through
    r2 = apisec("compare", "report", str(tmp_path / "out" / "assessment.json"), "-f", "md")
    assert r2.exit_code == 1 and "FAILED (incomplete)" in r2.stdout
    r3 = apisec(
        "compare", "report", str(tmp_path / "out" / "assessment.json"), "-f", "md", "--allow-incomplete"
    )
    assert r3.exit_code == 0, r3.stdout
    assert "passed (incomplete)" in r3.stdout
    # a baseline does not hide an incomplete run (errors are not "unchanged problems")
    r4 = apisec("compare", "report", str(tmp_path / "out" / "assessment.json"), "-f", "json",
                "--baseline", str(tmp_path / "out" / "assessment.json"))  # fmt: skip
    assert r4.exit_code == 1 and json.loads(r4.stdout)["gate"]["complete"] is False
