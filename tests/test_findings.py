"""The findings model: registry, thresholds, JSON form, redaction."""

from __future__ import annotations

import json

import pytest

from compare.findings import (
    Dimension,
    Finding,
    Severity,
    Side,
    Status,
    UnknownCheck,
    dumps,
    exceeds_threshold,
    finding,
    findings_from_document,
    redact,
    register,
)

SAMPLE = "http.cors"  # a real catalogue entry: rest, protocols, high


def test_finding_takes_its_meaning_from_the_catalogue() -> None:
    f = finding(SAMPLE, "fail", "https://api.example", "reflects https://evil.example")
    assert f.title == "CORS reflects arbitrary or null origins with credentials"  # the fail wording
    assert (
        finding(SAMPLE, "pass", "u").title
        == "CORS does not reflect arbitrary or null origins with credentials"
    )
    assert f.severity is Severity.HIGH and f.side is Side.REST and f.dimension is Dimension.PROTOCOLS
    assert "CWE-942" in f.references and f.remediation.startswith("Answer Access-Control-Allow-Origin")


def test_unknown_check_id_is_refused() -> None:
    with pytest.raises(UnknownCheck, match="compare/catalogue.toml"):
        finding("test.never-registered", "pass", "x")
    with pytest.raises(UnknownCheck):
        register("test.never-registered", "x", side="soap", dimension="encryption", severity="low")


def test_warn_is_capped_at_medium() -> None:
    assert finding(SAMPLE, "warn", "t").severity is Severity.MEDIUM


@pytest.mark.parametrize(
    ("status", "severity", "fail_on", "expected"),
    [
        ("fail", "high", "high", True),
        ("fail", "medium", "high", False),
        ("fail", "medium", "medium", True),
        ("fail", "critical", "never", False),
        ("warn", "medium", "low", False),
        ("pass", "critical", "low", False),
    ],
)
def test_fail_on_threshold(status: str, severity: str, fail_on: str, expected: bool) -> None:
    f = finding(SAMPLE, status, "t", severity=severity)
    assert exceeds_threshold([f], fail_on) is expected


def test_json_document_round_trips() -> None:
    f = finding(SAMPLE, "fail", "https://a", "evidence", duration_ms=1.5)
    doc = json.loads(dumps([f], targets=["https://a", "https://b"]))
    assert doc["tool"] == "apisec" and doc["version"]
    assert doc["targets"] == ["https://a", "https://b"]
    assert doc["findings"][0]["check_id"] == SAMPLE
    assert doc["findings"][0]["status"] == "fail"
    back = findings_from_document(doc)
    assert back == [f]
    assert isinstance(back[0], Finding) and back[0].status is Status.FAIL


def test_not_a_findings_document() -> None:
    with pytest.raises(ValueError):
        findings_from_document({"findings": []})


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("password=hunter2&user=x", "hunter2"),
        ('{"client_secret": "s3cr3t"}', "s3cr3t"),
        ("<wsse:Password Type='x'>hunter2</wsse:Password>", "hunter2"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-x", "eyJzdWIiOiIxIn0"),
        ("two-part eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9", "eyJzdWIiOiJhZG1pbiJ9"),
        ("spaced ewogICJhbGciOiAiSFMyNTYiCn0.eyJhIjoxfQ.c2ln", "eyJhIjoxfQ"),
        ("-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----", "MIIEv"),
    ],
)
def test_redaction_hides_secrets(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and "REDACTED" in out


def test_redaction_keeps_json_structure() -> None:
    """A key named like a secret that holds an object or list keeps its brace
    (``apisec soap policy`` once printed ``"token": [REDACTED]`` and broke its JSON)."""
    import json

    doc = {"token": {"kind": "Username"}, "supporting_tokens": [{"token": ["x"]}], "client_secret": "s3"}
    out = redact(json.dumps(doc, indent=2))
    assert json.loads(out)["token"] == {"kind": "Username"} and "s3" not in out


def test_findings_redact_their_evidence() -> None:
    f = finding(SAMPLE, "fail", "t", "sent password=hunter2")
    assert "hunter2" not in f.evidence
