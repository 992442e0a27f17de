"""``apisec compare run`` / ``compare report`` through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

from tests.compare.reportcheck import check_sarif


def test_run_writes_all_formats_and_gates(apisec, static_targets_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = apisec("compare", "run", "-c", str(static_targets_file), "-o", str(out), "--format", "all")
    assert r.exit_code == 1, r.stderr  # the legacy WSDL fails at high (body not signed)
    assert {p.name for p in out.iterdir()} == {
        "report.txt", "report.md", "report.html", "assessment.json", "apisec.sarif", "junit.xml",
    }  # fmt: skip
    assert "SOAP vs REST — legacy" in r.stdout and "gate --fail-on high: FAILED" in r.stdout
    assert "\x1b[" not in r.stdout  # not a terminal: no colour
    check_sarif(out / "apisec.sarif")
    r2 = apisec("compare", "run", "-c", str(static_targets_file), "-o", str(out), "--fail-on", "never")
    assert r2.exit_code == 0, r2.stderr
    r3 = apisec("compare", "run", "-c", str(static_targets_file), "--format", "json", "--fail-on", "critical")
    # the only critical static finding: the legacy policy's text password (same severity as REST's
    # http.basic-over-http: one control, one severity on both sides)
    assert r3.exit_code == 1, r3.stderr
    gate = json.loads(r3.stdout)["gate"]
    assert gate["failing"] == ["wssec.plaintext-password"] and gate["complete"], gate


def test_ad_hoc_soap_target_and_report_rerender(apisec, sample_docs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "a"
    r = apisec("compare", "run", "--soap", str(sample_docs["legacy"]), "-o", str(out), "-f", "json,md")
    assert r.exit_code == 1, r.stderr
    doc = json.loads((out / "assessment.json").read_text())
    assert {f["check_id"] for f in doc["findings"] if f["status"] == "fail"} >= {"wssec.body-not-signed"}
    again = tmp_path / "b"
    r = apisec("compare", "report", str(out / "assessment.json"), "-o", str(again), "-f", "sarif,junit,html")
    assert r.exit_code == 1, r.stderr
    check_sarif(again / "apisec.sarif")
    r = apisec("compare", "report", str(out / "assessment.json"), "--format", "md", "--fail-on", "never")
    # the WSDL's soap:address (127.0.0.1:8443) is down: its TLS scan could not run
    assert r.exit_code == 1 and "FAILED (incomplete)" in r.stdout and "soap.tls@" in r.stdout
    r = apisec("compare", "report", str(out / "assessment.json"), "--format", "md", "--fail-on", "never",
               "--allow-incomplete")  # fmt: skip
    assert r.exit_code == 0 and "## Side by side" in r.stdout
    # baseline against itself: nothing new, so the gate passes
    r = apisec("compare", "run", "--soap", str(sample_docs["legacy"]), "--baseline", str(out / "assessment.json"),
               "-f", "json", "--allow-incomplete")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["baseline"]["new_problems"] == 0
    assert {f["baseline"] for f in doc["findings"]} == {"unchanged"}


def test_bad_input_exits_2_with_one_line_and_no_output(apisec, tmp_path: Path) -> None:
    out = tmp_path / "never"
    cases = [
        ("compare", "run", "-c", str(tmp_path / "missing.toml"), "-o", str(out)),
        ("compare", "run", "-o", str(out)),
        ("compare", "run", "--soap", "nope.wsdl", "-o", str(out)),
        ("compare", "run", "--rest", "https://127.0.0.1:1", "-f", "pdf"),
        ("compare", "run", "--rest", "https://127.0.0.1:1", "-f", "json,md"),
        ("compare", "report", str(tmp_path / "missing.json")),
    ]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rest]]\nbase_url = "https://a.test"\ntoken = "literal-token"\n')
    cases.append(("compare", "run", "-c", str(bad), "-o", str(out)))
    notjson = tmp_path / "x.json"
    notjson.write_text('{"tool": "other"}')
    cases.append(("compare", "report", str(notjson), "-o", str(out)))
    # a malformed --baseline is refused like a malformed report (one loader), never an internal error
    saved = tmp_path / "saved.json"
    saved.write_text('{"tool": "apisec", "findings": []}')
    for i, text in enumerate(["[1]", '{"tool": "apisec", "findings": [], "assessment": "x"}']):
        badbase = tmp_path / f"base{i}.json"
        badbase.write_text(text)
        cases.append(("compare", "report", str(saved), "--baseline", str(badbase), "-o", str(out)))
        cases.append(("compare", "merge", str(badbase), "-o", str(out)))
    for args in cases:
        r = apisec(*args)
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        assert r.stderr.startswith("apisec: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert "Traceback" not in r.stderr and "literal-token" not in r.stderr
        assert "internal error" not in r.stderr, r.stderr
    assert not out.exists()


def test_unreachable_live_target_is_an_error_finding_not_a_crash(apisec, tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = apisec("compare", "run", "--soap", f"https://127.0.0.1:{port}/quote", "-f", "json", "--timeout", "30")
    assert r.exit_code == 1, r.stderr  # nothing could be checked: incomplete fails closed
    doc = json.loads(r.stdout)
    assert doc["findings"], doc
    statuses = {f["status"] for f in doc["findings"]}
    assert statuses <= {"error", "skip"} and "error" in statuses
    errors = [f for f in doc["findings"] if f["status"] == "error"]
    assert all(f["side"] == "soap" and f["dimension"] == "protocols" for f in errors)
    assert "could not run" in r.stderr and doc["gate"]["complete"] is False
    allowed = apisec(
        "compare", "run", "--soap", f"https://127.0.0.1:{port}/quote", "-f", "json", "--allow-incomplete"
    )
    assert allowed.exit_code == 0, allowed.stderr
    old = apisec(
        "compare", "run", "--soap", f"https://127.0.0.1:{port}/quote", "-f", "json", "--fail-on-error"
    )
    assert old.exit_code == 1, old.stderr  # the old opt-in flag still parses


def test_a_report_that_cannot_be_written_leaves_no_file(
    apisec, static_targets_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / "report.md").mkdir(parents=True)  # one destination is unusable
    r = apisec("compare", "run", "-c", str(static_targets_file), "-o", str(out), "-f", "all")
    assert r.exit_code == 2 and "report.md is a folder" in r.stderr, r.stderr
    assert [p.name for p in out.iterdir()] == ["report.md"]  # nothing else, no temp files


def test_apisec_toml_in_the_current_folder_is_the_default(
    apisec, static_targets_file: Path, tmp_path: Path
) -> None:
    import shutil

    work = tmp_path / "project"
    shutil.copytree(static_targets_file.parent, work)
    r = apisec("compare", "run", "-f", "json", "--fail-on", "never", cwd=work)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {t["name"] for t in doc["assessment"]["targets"]} == {"quote-secure", "quote-legacy"}
    assert doc["assessment"]["source"] == str((work / "apisec.toml").resolve())


def test_min_score_gate(apisec, static_targets_file: Path, tmp_path: Path) -> None:
    r = apisec("compare", "run", "-c", str(static_targets_file), "--fail-on", "never", "--min-score", "90")
    assert r.exit_code == 1, r.stderr  # the legacy SOAP service scores far below 90
    assert "--min-score 90 [legacy]: FAILED — SOAP in legacy:" in " ".join(r.stdout.split())
    r = apisec(
        "compare",
        "run",
        "-c",
        str(static_targets_file),
        "--fail-on",
        "never",
        "--min-score",
        "0",
        "-f",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["assessment"]["min_score"] == 0
    cfg = tmp_path / "apisec.toml"
    cfg.write_text(static_targets_file.read_text().replace('fail_on = "high"', 'fail_on = "never"')
                   + "\n[thresholds]\nmin_score = 95\n")  # fmt: skip
    for doc in ("quote-secure.wsdl", "quote-legacy.wsdl", "request.xml"):
        (tmp_path / doc).write_bytes((static_targets_file.parent / doc).read_bytes())
    r = apisec("compare", "run", "-c", str(cfg), "-o", str(tmp_path / "out"), "-f", "json")
    assert r.exit_code == 1, r.stderr
    r2 = apisec("compare", "report", str(tmp_path / "out" / "assessment.json"), "--min-score", "0")
    assert r2.exit_code == 0, r2.stderr  # the threshold is recorded and can be overridden on re-render
