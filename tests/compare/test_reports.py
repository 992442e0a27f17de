"""Every reporter over a real (static) assessment: contents, SARIF schema,
JUnit structure, redaction, atomic writes, and the HTML in headless Chromium."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from compare.baseline import apply_baseline, fingerprints, locus
from compare.engine import Assessment, Result
from compare.findings import Status, finding
from compare.reporters import FORMATS, parse_formats, render, write_reports
from compare.reporters.sarif import sarif_document
from tests.compare.reportcheck import check_junit, check_sarif, png_size, render_html


@pytest.fixture(scope="module")
def written(static_assessment: Assessment, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_reports(static_assessment, tmp_path_factory.mktemp("reports"), FORMATS)


def test_every_format_is_written(written: dict[str, Path]) -> None:
    assert set(written) == set(FORMATS)
    for fmt, path in written.items():
        assert path.name == FORMATS[fmt] and path.stat().st_size > 200
    assert not [p for p in written["json"].parent.iterdir() if p.name.startswith(".")], "no temp files left"


def test_markdown_has_matrix_and_findings(written: dict[str, Path]) -> None:
    md = written["md"].read_text(encoding="utf-8")
    assert "## Side by side — secure" in md and "## Side by side — legacy" in md
    assert "| **Encryption** |" in md and "| **Token-based authentication** |" in md
    assert "`wssec.body-not-signed`" in md and "❌ fail" in md and "✅ pass" in md
    assert "**Remediation:**" in md


def test_text_report_is_plain(written: dict[str, Path]) -> None:
    text = written["text"].read_text(encoding="utf-8")
    assert "\x1b[" not in text
    assert "SOAP vs REST — legacy" in text and "wssec.body-not-encrypted" in text


def test_json_report_is_the_findings_model_plus_matrix(written: dict[str, Path]) -> None:
    doc = json.loads(written["json"].read_text(encoding="utf-8"))
    assert doc["tool"] == "apisec" and isinstance(doc["findings"], list)
    f = doc["findings"][0]
    assert {
        "check_id",
        "status",
        "severity",
        "side",
        "dimension",
        "target",
        "target_name",
        "fingerprint",
    } <= set(f)
    groups = {g["group"]: g for g in doc["matrix"]["groups"]}
    legacy_enc = next(r for r in groups["legacy"]["rows"] if r["dimension"] == "encryption")
    secure_enc = next(r for r in groups["secure"]["rows"] if r["dimension"] == "encryption")
    assert legacy_enc["soap"]["strength"] != "strong"
    assert any(x["check_id"] == "wssec.body-not-encrypted" for x in legacy_enc["soap"]["failing"])
    # static checks only: the secure WSDL's encryption evidence is too thin for a verdict
    assert secure_enc["soap"]["strength"] in ("strong", "too little evidence")


def test_sarif_validates_against_the_2_1_0_schema(written: dict[str, Path]) -> None:
    doc = check_sarif(written["sarif"])
    run = doc["runs"][0]
    failing = [r for r in run["results"] if r["ruleId"] == "wssec.body-not-signed"]
    assert failing and failing[0]["level"] == "error"
    # static findings are anchored to the WSDL they were found in
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in failing}
    assert any(u.endswith("quote-legacy.wsdl") for u in uris)


def test_sarif_schema_rejects_a_broken_document(static_assessment: Assessment) -> None:
    import jsonschema

    from compare.reporters.sarif import validate

    doc = sarif_document(static_assessment)
    doc["runs"][0]["results"][0]["level"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)
    del doc["version"]
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_sarif_live_findings_anchor_to_the_targets_file(static_targets_file: Path) -> None:
    from compare.engine import TargetInfo
    from compare.findings import Side

    a = Assessment(
        targets=[TargetInfo("quote-legacy", Side.SOAP, "legacy", "soap", "http://127.0.0.1:1/quote")],
        results=[
            Result(
                finding("wssec.body-not-signed", "fail", "http://127.0.0.1:1/quote"),
                "quote-legacy",
                "soap.probe",
            )
        ],
        source=str(static_targets_file),
    )
    loc = sarif_document(a, root=static_targets_file.parent)["runs"][0]["results"][0]["locations"][0]
    assert loc["physicalLocation"]["artifactLocation"] == {"uri": "apisec.toml", "uriBaseId": "%SRCROOT%"}
    lines = static_targets_file.read_text().splitlines()
    assert 'name = "quote-legacy"' in lines[loc["physicalLocation"]["region"]["startLine"] - 1]


def test_junit_one_testcase_per_finding(written: dict[str, Path], static_assessment: Assessment) -> None:
    counts = check_junit(written["junit"])
    assert counts["tests"] == len(static_assessment.results)
    assert counts["failures"] == sum(1 for f in static_assessment.findings if f.status is Status.FAIL) > 0


def test_secrets_never_reach_a_report(static_assessment: Assessment) -> None:
    leaky = finding(
        "wssec.plaintext-password",
        "fail",
        "http://127.0.0.1:1/quote",
        "<wsse:Password>hunter2</wsse:Password> Authorization: Bearer abc.def.ghi",
    )
    a = replace(static_assessment, results=[*static_assessment.results, Result(leaky, "quote-legacy", "x")])
    for fmt in FORMATS:
        out = render(a, fmt)
        assert "hunter2" not in out and "abc.def.ghi" not in out, fmt


def test_format_parsing() -> None:
    assert parse_formats(["text,md", "json"]) == ["text", "md", "json"]
    assert parse_formats(["all"]) == list(FORMATS)
    from compare.cliutil import InputError

    with pytest.raises(InputError):
        parse_formats(["pdf"])


def test_baseline_marks_new_fixed_unchanged(static_assessment: Assessment) -> None:
    # yesterday the 'secure' target still served the legacy WSDL: rename targets
    # so the two runs describe the same service
    legacy = [r for r in static_assessment.results if r.target == "quote-legacy" and r.job == "soap.wsdl"]
    secure = [r for r in static_assessment.results if r.target == "quote-secure" and r.job == "soap.wsdl"]

    def as_service(results: list[Result]) -> Assessment:
        rs = [replace(r, target="svc", finding=replace(r.finding, target="svc.wsdl")) for r in results]
        return Assessment(targets=[], results=rs)

    before, after = as_service(legacy), as_service(secure)
    marked = apply_baseline(after, before)
    states = {r.finding.check_id: r.baseline for r in marked.results}
    assert states["wssec.body-not-signed"] == "fixed"  # fail → pass
    assert states["wssec.no-security-policy"] == "unchanged"  # pass → pass
    back = apply_baseline(before, after)
    assert {r.finding.check_id: r.baseline for r in back.results}["wssec.body-not-encrypted"] == "new"
    assert back.baseline["new_problems"] >= 2
    # the gate counts only new problems when a baseline is applied
    from compare.reporters._common import gate

    assert gate(back, "high") and not gate(apply_baseline(before, before), "high")


def test_fingerprints_ignore_ephemeral_ports_and_number_repeats() -> None:
    assert locus("https://127.0.0.1:43121/api") == locus("https://127.0.0.1:51000/api")
    assert locus("https://example.test:443/") != locus("https://example.test:8443/")
    r1 = Result(finding("wssec.body-not-signed", "fail", "https://127.0.0.1:1/q"), "t", "j")
    r2 = Result(finding("wssec.body-not-signed", "fail", "https://127.0.0.1:2/q"), "t", "j")
    a, b = fingerprints([r1, r2])
    assert a != b and fingerprints([r2])[0] == a


def test_html_is_self_contained_and_renders_in_chromium(written: dict[str, Path], tmp_path: Path) -> None:
    html = written["html"].read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html
    assert "http://" not in html.split("<body>")[0].replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'src="http' not in html and 'href="http' not in html
    dom, png = render_html(written["html"], tmp_path)
    assert 'id="matrix-secure"' in dom and 'id="matrix-legacy"' in dom
    assert "Token-based authentication" in dom and "wssec.body-not-encrypted" in dom
    w, h = png_size(png)
    assert (w, h) == (1400, 2000) and png.stat().st_size > 20_000


FLAWED_OPENAPI = """openapi: 3.0.3
info: {title: flawed, version: "1"}
servers:
  - url: http://api.example.test
security:
  - bearer: []
paths:
  /orders/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      responses: {"200": {description: ok}}
    delete:
      security: []
      responses: {"204": {description: gone}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
"""


def test_sarif_openapi_findings_point_at_the_operation_line(tmp_path: Path) -> None:
    """A static REST target: the real OpenAPI audit through the engine, and the
    SARIF result for the unprotected DELETE lands on the line of `delete:`."""
    from compare.config import targets_from_mapping
    from compare.engine import assess

    (tmp_path / "openapi.yaml").write_text(FLAWED_OPENAPI, encoding="utf-8")
    targets = targets_from_mapping(
        {
            "profiles": {"static": {"live": False}},
            "rest": [{"name": "orders", "openapi": "openapi.yaml", "profile": "static"}],
        },
        base=tmp_path,
    )
    a = assess(targets, progress=False)
    assert {r.job for r in a.results} == {"rest.openapi"}
    doc = sarif_document(a, root=tmp_path)
    check_sarif_doc(doc)
    by_rule = {res["ruleId"]: res for res in doc["runs"][0]["results"]}
    loc = by_rule["openapi.unprotected-operation"]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "openapi.yaml", "uriBaseId": "%SRCROOT%"}
    line = FLAWED_OPENAPI.splitlines()[loc["region"]["startLine"] - 1]
    assert line.strip() == "delete:"
    servers = by_rule["openapi.http-server"]["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert FLAWED_OPENAPI.splitlines()[servers - 1] == "servers:"


def check_sarif_doc(doc: dict) -> None:
    from compare.reporters.sarif import validate

    validate(doc)


def test_narrow_terminals_keep_every_check_id_whole(static_assessment) -> None:
    import io
    import re

    from rich.console import Console

    from compare.reporters.terminal import print_report, report_renderable

    ids = {
        r.finding.check_id for r in static_assessment.results if r.finding.status.value in ("fail", "warn")
    }
    assert ids
    for width in (80, 100):
        buf = io.StringIO()
        print_report(static_assessment, Console(file=buf, width=width, color_system=None), fail_on="high")
        text = buf.getvalue()
        assert max(len(line) for line in text.splitlines()) <= width
        words = set(re.findall(r"[a-z0-9]+(?:[.-][a-z0-9]+)+", text))
        assert ids <= words, sorted(ids - words)  # every failing id printed whole
    # the wide table at 80 columns is what cut ids before: the stacked layout is needed
    buf = io.StringIO()
    Console(file=buf, width=80, color_system=None).print(report_renderable(static_assessment, narrow=False))
    assert not ids <= set(re.findall(r"[a-z0-9]+(?:[.-][a-z0-9]+)+", buf.getvalue()))
