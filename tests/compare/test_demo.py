"""End to end: ``apisec demo`` runs once (session fixture) from an empty
folder against the real sample services, and every test inspects its output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.compare.reportcheck import check_junit, check_sarif, png_size, render_html
from tests.conftest import CliResult, run_apisec

CORE = ("encryption", "access-control", "token-auth", "protocols")
JWT_RE = re.compile(r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}")


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def installed_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages laid out as a non-editable install lays them out (only
    what setuptools ships: modules plus declared package data), so the demo
    proves it needs nothing from the checkout."""
    lib = tmp_path_factory.mktemp("site-packages")
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(lib)],
        cwd=REPO,
        capture_output=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-2000:]
    return lib


@pytest.fixture(scope="session")
def demo(installed_tree: Path, tmp_path_factory: pytest.TempPathFactory):
    """``apisec demo`` from an empty folder, importing only the installed tree."""
    cwd = tmp_path_factory.mktemp("empty-folder")
    env = {**os.environ, "PYTHONPATH": str(installed_tree), "COLUMNS": "200"}
    where = subprocess.run(
        [sys.executable, "-c", "import compare, apisec_samples, rest, wssec; "
         "print(compare.__file__, apisec_samples.__file__, rest.__file__, wssec.__file__)"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert where.returncode == 0 and all(p.startswith(str(installed_tree)) for p in where.stdout.split()), (
        where.stdout + where.stderr
    )
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "compare.cli", "demo"], cwd=cwd, env=env, capture_output=True, timeout=180
    )
    seconds = time.monotonic() - t0
    result = CliResult(
        proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )
    assert list(cwd.iterdir()) == [cwd / "apisec-report"], "the demo writes only its report folder"
    return result, cwd / "apisec-report", seconds


@pytest.fixture(scope="session")
def demo_doc(demo) -> dict:
    result, out, _ = demo
    assert result.exit_code == 0, result.stderr
    return json.loads((out / "assessment.json").read_text(encoding="utf-8"))


def test_demo_exits_0_quickly_and_prints_the_side_by_side_table(demo) -> None:
    result, out, seconds = demo
    assert result.exit_code == 0, result.stderr[-3000:]
    assert seconds < 60, f"demo took {seconds:.1f}s"
    assert "SOAP vs REST — secure" in result.stdout and "SOAP vs REST — legacy" in result.stdout
    for label in (
        "Encryption",
        "Authorization & access control",
        "Token-based authentication",
        "Security protocols",
    ):
        assert label in result.stdout
    assert "Traceback" not in result.stderr
    assert "\x1b[" not in result.stdout  # stdout is a pipe: no colour


def test_demo_writes_every_format_into_the_default_folder(demo) -> None:
    _, out, _ = demo
    names = {p.name for p in out.iterdir()}
    assert {"report.txt", "report.md", "report.html", "assessment.json", "apisec.sarif", "junit.xml"} <= names
    assert not [n for n in names if n.startswith(".")]  # no temp files left behind


def test_both_sides_and_all_core_dimensions_pass_and_fail(demo_doc: dict) -> None:
    findings = demo_doc["findings"]
    groups = {g["group"]: g for g in demo_doc["matrix"]["groups"]}
    assert set(groups) == {"secure", "legacy"}
    for side in ("soap", "rest"):
        assert any(f["status"] == "pass" for f in findings if f["side"] == side)
        assert any(f["status"] == "fail" for f in findings if f["side"] == side)
        for dim in CORE:
            cells = [next(r for r in g["rows"] if r["dimension"] == dim)[side] for g in groups.values()]
            assert sum(c["counts"]["pass"] for c in cells) > 0, (side, dim)
            assert sum(c["counts"]["fail"] for c in cells) > 0, (side, dim)
    # the legacy pair fails every core dimension on both sides
    for row in groups["legacy"]["rows"]:
        if row["dimension"] in CORE:
            assert row["soap"]["failing"] and row["rest"]["failing"], row["dimension"]
    # REST encryption is its transport: the Encryption row shows the TLS/plain-HTTP checks
    enc = next(r for r in groups["secure"]["rows"] if r["dimension"] == "encryption")
    assert enc["rest"]["counts"]["pass"] > 0


def test_every_planned_check_ran(demo_doc: dict) -> None:
    runs = demo_doc["assessment"]["runs"]
    jobs = {(r["target"], r["job"]) for r in runs}
    for side in ("secure", "legacy"):
        assert {(f"soap-{side}", "soap.wsdl"), (f"soap-{side}", "soap.probe"), (f"rest-{side}", "rest.http"),
                (f"rest-{side}", "rest.jwt"), (f"rest-{side}", "rest.oauth"), (f"rest-{side}", "rest.openapi")} <= jobs  # fmt: skip
    assert ("soap-secure", "soap.tls") in jobs and ("rest-secure", "rest.tls") in jobs
    not_ok = [r for r in runs if r["outcome"] != "ok"]
    assert not not_ok, not_ok


def test_secure_beats_legacy_on_both_sides(demo_doc: dict) -> None:
    groups = {g["group"]: g for g in demo_doc["matrix"]["groups"]}
    for side in ("soap", "rest"):
        assert groups["secure"]["sides"][side]["score"] > groups["legacy"]["sides"][side]["score"] + 20, side
    legacy = {
        f["check_id"]
        for f in demo_doc["findings"]
        if f["status"] == "fail" and f["target_name"].endswith("legacy")
    }
    # measured flaws of the legacy services, one per core dimension and side
    assert {"wssec.body-not-encrypted", "wssec.unsigned-accepted", "wssec.replay-accepted"} <= legacy
    assert {"http.plain-http", "authz.bola", "oauth.implicit-grant", "http.cors"} <= legacy


def test_demo_reports_validate_and_hold_no_secret(demo) -> None:
    _, out, _ = demo
    doc = check_sarif(out / "apisec.sarif")
    assert doc["runs"][0]["results"]
    counts = check_junit(out / "junit.xml")
    assert counts["failures"] > 0 and counts["tests"] > counts["failures"]
    for p in (f for f in out.rglob("*") if f.is_file()):  # the flows/ folder too
        text = p.read_text(encoding="utf-8", errors="replace")
        assert not JWT_RE.search(text), f"unredacted JWT in {p.name}"
        assert "PRIVATE KEY-----\n" not in text


def test_demo_html_renders_in_chromium(demo, tmp_path: Path) -> None:
    _, out, _ = demo
    dom, png = render_html(out / "report.html", tmp_path, width=1400, height=2400)
    assert 'id="matrix-secure"' in dom and 'id="matrix-legacy"' in dom
    assert "<svg" in dom and "Findings by dimension and severity" in dom
    assert "soap-legacy" in dom and "rest-legacy" in dom
    assert png_size(png) == (1400, 2400) and png.stat().st_size > 50_000


def test_demo_output_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "report"
    f.write_text("x")
    r = run_apisec("demo", "--output", str(f))
    assert r.exit_code == 2 and r.stderr.startswith("apisec: error:") and f.read_text() == "x"


def test_demo_help_says_it_exits_0() -> None:
    r = run_apisec("demo", "--help")
    assert r.exit_code == 0 and "Exits 0 when the demo completed" in " ".join(r.stdout.split())


def test_demo_report_says_the_legacy_pair_fails_on_purpose_and_gates_per_pair(demo, demo_doc: dict) -> None:
    result, out, _ = demo
    gates = {g["group"]: g for g in demo_doc["gate"]["groups"]}
    assert gates["secure"]["passed"] is True and gates["secure"]["complete"] is True
    assert gates["legacy"]["passed"] is False
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "insecure on purpose" in md and "[secure]: passed" in md and "[legacy]: FAILED" in md
    assert "insecure on purpose" in " ".join(result.stdout.split())


def test_every_check_id_the_demo_emits_is_in_the_catalogue(demo_doc: dict) -> None:
    from tests.conftest import run_apisec

    r = run_apisec("checks", "list", "--format", "json")
    catalogue = {c["id"] for c in json.loads(r.stdout)["checks"]}
    emitted = {f["check_id"] for f in demo_doc["findings"]}
    assert len(emitted) > 80 and emitted <= catalogue, sorted(emitted - catalogue)


def test_demo_writes_the_sample_flows_and_their_postman_exports(demo) -> None:
    from compare.flow.model import load_flow
    from compare.flow.postman import validate_collection

    _, out, _ = demo
    flows = out / "flows"
    names = sorted(p.name for p in flows.iterdir())
    assert names == sorted(
        f"{side}-{c}.{kind}" for side in ("rest", "soap") for c in ("secure", "legacy")
        for kind in ("flow.yaml", "postman.json")
    )  # fmt: skip
    for p in flows.glob("*.flow.yaml"):
        flow = load_flow(p)
        assert flow["connection"]["base_url"].startswith(("https://127.0.0.1:", "http://127.0.0.1:"))
        assert not JWT_RE.search(p.read_text()) and "PRIVATE KEY" not in p.read_text()
    for p in flows.glob("*.postman.json"):
        validate_collection(json.loads(p.read_text()))


def _by_the_documented_rule(findings: list[dict]) -> tuple[int | None, str]:
    """docs/compare.md "The scoring rule", written again independently of compare.matrix."""
    weight = {"critical": 10, "high": 5, "medium": 3, "low": 1, "info": 0.5}
    evidence = [f for f in findings if f["status"] in ("pass", "warn", "fail")]
    earned = sum(weight[f["severity"]] * {"pass": 1, "warn": 0.5, "fail": 0}[f["status"]] for f in evidence)
    total = sum(weight[f["severity"]] for f in evidence)
    value = round(100 * earned / total) if total else None
    fails = [f for f in evidence if f["status"] == "fail"]
    if any(f["status"] == "error" for f in findings):
        return None, "incomplete"
    if value is None:
        return None, "not assessed"
    if value < 60 or any(f["severity"] == "critical" for f in fails):
        return value, "weak"
    if len({f["check_id"] for f in evidence}) < 3:
        return None, "too little evidence"
    if value >= 85 and not any(f["severity"] in ("critical", "high") for f in fails):
        return value, "strong"
    return value, "moderate"


def test_every_matrix_cell_follows_the_documented_scoring_rule(demo_doc: dict) -> None:
    groups = {t["name"]: t["group"] for t in demo_doc["assessment"]["targets"]}
    checked = 0
    for g in demo_doc["matrix"]["groups"]:
        mine = [f for f in demo_doc["findings"] if groups[f["target_name"]] == g["group"]]
        for side in ("soap", "rest"):
            side_findings = [f for f in mine if f["side"] == side]
            overall = g["sides"][side]
            assert (overall["score"], overall["strength"]) == _by_the_documented_rule(side_findings)
            for row in g["rows"]:
                cell = row[side]
                expected = _by_the_documented_rule(
                    [f for f in side_findings if f["dimension"] == row["dimension"]]
                )
                assert (cell["score"], cell["strength"]) == expected, (g["group"], side, row["dimension"])
                checked += 1
    assert checked == 24
    legacy = next(g for g in demo_doc["matrix"]["groups"] if g["group"] == "legacy")
    enc = next(r for r in legacy["rows"] if r["dimension"] == "encryption")
    assert enc["soap"]["strength"] == enc["rest"]["strength"] == "weak"  # neither side encrypts
    assert enc["verdict"].startswith("both weak")
    # no dimension is strong on a single check's evidence
    for g in demo_doc["matrix"]["groups"]:
        for row in g["rows"]:
            for side in ("soap", "rest"):
                cell = row[side]
                if cell["strength"] == "strong":
                    assert cell["counts"]["pass"] + cell["counts"]["warn"] + cell["counts"]["fail"] >= 3


def test_empty_passes_are_not_applicable_and_pass_rows_show_the_pass_wording(demo_doc: dict) -> None:
    na = [f for f in demo_doc["findings"] if f["status"] == "n/a"]
    assert any(f["check_id"] == "wssec.bsp-r3228" for f in na)  # nothing encrypted: the rule does not apply
    xsw = next(
        f for f in demo_doc["findings"] if f["check_id"] == "wssec.xsw-accepted" and f["status"] == "pass"
    )
    assert xsw["title"].startswith("Service refuses an XML Signature Wrapping attack")
    bad = next(
        f for f in demo_doc["findings"] if f["check_id"] == "wssec.xsw-accepted" and f["status"] == "fail"
    )
    assert bad["title"].startswith("Service accepts an XML Signature Wrapping attack")
