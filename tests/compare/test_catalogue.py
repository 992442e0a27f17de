"""The check catalogue: one data file declares every check id of both sides;
findings, SARIF rules, ``apisec checks list`` and docs/checks.md read it."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from compare.catalogue import CatalogueError, load, parse
from compare.catalogue_views import to_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_every_check_names_code_that_exists() -> None:
    cat = load()
    assert len(cat.checks) > 100
    for e in cat.checks.values():
        module, _, attr = e.implemented.partition(":")
        fn = getattr(importlib.import_module(module), attr, None)
        assert callable(fn), f"{e.check_id}: {e.implemented} is not a function"
        assert e.pass_wording and e.fail_wording and e.title and e.remediation, e.check_id
    assert cat.checks["tls.cert-expired"].implemented == "rest.tls.checks:check_certificates"
    assert cat.checks["wssec.xsw-accepted"].implemented == "wssec.checks.live:probe_xsw"


def test_the_same_control_has_the_same_severity_on_both_sides() -> None:
    cat = load()
    soap, rest = cat.checks["wssec.plain-http"], cat.checks["http.plain-http"]
    assert soap.peer == "http.plain-http" and (soap.control, soap.severity) == (rest.control, rest.severity)
    assert soap.dimension == "encryption"  # transport encryption sits in the Encryption row on both sides
    peers = [e for e in cat.checks.values() if e.peer]
    assert len(peers) >= 5
    for e in peers:
        p = cat.checks[e.peer]
        assert p.side != e.side and p.control == e.control and p.severity == e.severity, e.check_id


def test_registry_is_the_catalogue_whatever_was_imported() -> None:
    """compare report imports no side module: the registry must not depend on imports."""
    code = (
        "from compare.findings import REGISTRY; print(len(REGISTRY), REGISTRY['wssec.xsw-accepted'].severity)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == [str(len(load().checks)), "critical"]


GOOD = """
[controls]
transport-encryption = { dimension = "encryption", label = "TLS" }
authentication = { dimension = "access-control", label = "authn" }

[[check]]
id = "x.one"
side = "soap"
control = "transport-encryption"
dimension = "encryption"
severity = "high"
title = "t"
pass = "p"
fail = "f"
references = []
remediation = "r"
implemented = "x.mod:fn"
"""


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.replace('control = "transport-encryption"', 'control = "nope"'), "unknown control"),
        (lambda s: s.replace('dimension = "encryption"\nseverity', 'dimension = "protocols"\nseverity'),
         "differs from control"),
        (lambda s: s + s[s.index("[[check]]"):], "declared twice"),
        (lambda s: s.replace('fail = "f"\n', ""), "missing fail"),
        (lambda s: s.replace('severity = "high"', 'severity = "severe"'), "severity must be"),
        (lambda s: s.replace('implemented = "x.mod:fn"', 'implemented = "x.mod.fn"'), "implemented must be"),
        (lambda s: s.replace('id = "x.one"', 'id = "X One"'), "dotted lower-case"),
        (lambda s: s + s[s.index("[[check]]"):].replace("x.one", "y.two").replace('"soap"', '"rest"')
         .replace('"high"', '"low"') + 'peer = "x.one"\n', "same control and severity"),
    ],
)  # fmt: skip
def test_a_malformed_catalogue_is_refused(edit, message: str) -> None:
    assert parse(GOOD).checks["x.one"].fail_wording == "f"
    with pytest.raises(CatalogueError, match=message):
        parse(edit(GOOD))


def test_docs_checks_md_is_generated_from_the_catalogue() -> None:
    page = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert page == to_markdown(load()), (
        "docs/checks.md is stale: run 'apisec checks list --format md > docs/checks.md'"
    )


def test_checks_list_cli(apisec) -> None:
    r = apisec("checks", "list", "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    ids = {c["id"] for c in doc["checks"]}
    assert ids == set(load().checks)
    assert {"transport-encryption", "token-validation", "replay-protection"} <= set(doc["controls"])
    soap = apisec("checks", "list", "--side", "soap")
    assert soap.exit_code == 0 and "wssec.xsw-accepted" in soap.stdout and "jwt.none-alg" not in soap.stdout
    assert "wssec.checks.live:probe_xsw" in soap.stdout
    md = apisec("checks", "list", "--format", "md", "--side", "rest")
    assert md.exit_code == 0 and md.stdout.startswith("# Check catalogue") and "wssec." not in md.stdout
    bad = apisec("checks", "list", "--side", "grpc")
    assert bad.exit_code == 2 and bad.stderr.startswith("apisec: error:")


def test_flow_steps_have_the_control_and_severity_of_the_check_they_test() -> None:
    from compare.flow import ids

    cat = load()
    mirrored = {v: ids.mirrored_check(v) for v in ids.entries()}
    assert {v for v, base in mirrored.items() if base is None} == {"happy-path", "soap-happy-path"}
    for variation, base in mirrored.items():
        if base is None:
            continue
        step, control = cat.checks[f"flow.{variation}"], cat.checks[base]
        assert (step.side, step.control, step.dimension, step.severity) == (
            control.side, control.control, control.dimension, control.severity
        ), variation  # fmt: skip
        assert step.references[1:] == control.references and step.remediation == control.remediation
        assert step.title == step.pass_wording, variation  # what the step shows when it passes
    assert ids.check_id("happy-path") == "flow.happy-path"
    assert ids.check_id("happy-path", "soap") == "flow.soap-happy-path"
    assert ids.check_id("bola") == "flow.bola"


def test_flow_schema_admits_exactly_the_catalogued_variations() -> None:
    from compare.flow import ids
    from compare.flow.model import schema

    enum = schema()["$defs"]["step"]["properties"]["variation"]["enum"]
    assert sorted(enum) == sorted(set(ids.entries()) - {"soap-happy-path"})  # SOAP's is 'happy-path' too
