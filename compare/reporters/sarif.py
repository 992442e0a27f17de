"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

* one ``reportingDescriptor`` (rule) per check id seen in the assessment, with
  help text (remediation and references) and the ``security-severity``
  property GitHub uses to rank security alerts (critical 9.5, high 8.0,
  medium 5.5, low 2.0, info 0.0);
* one ``result`` per problem (``fail`` → level by severity, ``warn`` →
  ``warning``); passes and skips are not alerts; checks that could not run
  are ``toolExecutionNotifications`` so the upload says what was not
  assessed;
* ``partialFingerprints["apisecFingerprint/v1"]`` is the stable fingerprint
  of :mod:`compare.baseline`, so alerts survive re-runs and port changes;
* results are anchored to a file in the repository: the WSDL, sample
  message or OpenAPI document the check read, else the line of the target's
  ``name`` in the targets file, with the live URL as a logical location.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compare.baseline import fingerprints
from compare.findings import REGISTRY, TOOL_NAME, Finding, Severity, Status, redact

if TYPE_CHECKING:
    from compare.model import Assessment, Result, TargetInfo

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/apisec/apisec"

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
BASELINE_STATE = {"new": "new", "unchanged": "unchanged"}
FINGERPRINT_KEY = "apisecFingerprint/v1"

# jobs whose findings are about a document the target names
_DOCUMENT_JOBS = {"soap.wsdl": 0, "soap.message": 1, "rest.openapi": 0}


def _rule_name(check_id: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[.\-]", check_id))


def _rule(check_id: str, sample: Finding) -> dict[str, Any]:
    """Rule metadata from the check catalogue (the finding only for an id a
    newer apisec wrote into a saved report and this one does not know)."""
    info = REGISTRY.get(check_id)
    title = (info.fail_wording or info.title) if info else sample.title
    severity = info.severity if info else sample.severity
    remediation = (info.remediation if info else sample.remediation) or "See the finding's evidence."
    references = list(info.references if info else sample.references)
    side = (info.side if info else sample.side).value
    dimension = (info.dimension if info else sample.dimension).value
    help_text = remediation + ("\nReferences: " + "; ".join(references) if references else "")
    help_md = f"**Remediation.** {remediation}"
    if references:
        help_md += "\n\n**References.**\n" + "\n".join(f"- {r}" for r in references)
    return {
        "id": check_id,
        "name": _rule_name(check_id),
        "shortDescription": {"text": title},
        "fullDescription": {
            "text": f"{title} ({side} side, {dimension}"
            + (f", control {info.control}" if info and info.control else "")
            + ")."
        },
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[severity],
            "problem.severity": "error" if severity.rank >= Severity.HIGH.rank else "warning",
            "precision": "high",
            "tags": ["security", f"apisec/{side}", f"apisec/{dimension}"]
            + ([f"apisec/control/{info.control}"] if info and info.control else []),
            **({"implemented": info.implemented} if info and info.implemented else {}),
        },
    }


class _Anchors:
    """Turns targets, documents and the targets file into SARIF locations."""

    def __init__(self, assessment: Assessment, root: Path) -> None:
        self.root = root
        self.assessment = assessment
        self._lines: dict[str, int] = {}
        src = assessment.source
        if src and Path(src).is_file():
            text = Path(src).read_text(encoding="utf-8", errors="replace").splitlines()
            for t in assessment.targets:
                pat = re.compile(
                    r"""^\s*-?\s*name\s*[:=]\s*["']?""" + re.escape(t.name) + r"""["']?\s*(#.*)?$"""
                )
                for i, line in enumerate(text, start=1):
                    if pat.match(line):
                        self._lines[t.name] = i
                        break

    def uri(self, path: str) -> tuple[str, str | None]:
        """(uri, uriBaseId): relative to the source root when inside it."""
        if re.match(r"^[a-z][a-z0-9+.-]*://", path):
            return path, None
        p = Path(path).resolve()
        try:
            return p.relative_to(self.root).as_posix(), "%SRCROOT%"
        except ValueError:
            return p.as_uri(), None

    def location(self, r: Result, target: TargetInfo | None) -> dict[str, Any]:
        doc: str | None = None
        line = 1
        if target is not None and r.job in _DOCUMENT_JOBS:
            wanted = _DOCUMENT_JOBS[r.job]
            docs = list(target.documents)
            if r.job == "soap.message":
                doc = next((d for d in docs if d == r.finding.target), docs[-1] if docs else None)
            elif docs:
                doc = docs[min(wanted, len(docs) - 1)]
        if doc is not None and "#/" in r.finding.target:
            line = pointer_line(doc, r.finding.target.split("#", 1)[1]) or line
        if doc is None and self.assessment.source and r.target in self._lines:
            doc, line = self.assessment.source, self._lines[r.target]
        if doc is None and target is not None and target.documents:
            doc = target.documents[0]
        if doc is None:
            doc = target.location if target is not None else r.finding.target
        uri, base = self.uri(doc)
        art: dict[str, Any] = {"uri": uri}
        if base:
            art["uriBaseId"] = base
        loc: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": art, "region": {"startLine": line}},
            "logicalLocations": [
                {
                    "name": r.finding.target,
                    "fullyQualifiedName": f"{r.target}/{r.finding.target}",
                    "kind": "resource",
                }
            ],
        }
        return loc


def pointer_line(path: str, pointer: str) -> int | None:
    """1-based line of a JSON pointer (``/paths/~1orders/get``) in a local
    YAML or JSON document, so an OpenAPI finding points at its operation."""
    import yaml

    p = Path(path)
    if not p.is_file():
        return None
    try:
        node = yaml.compose(p.read_text(encoding="utf-8"))  # JSON is YAML; nodes carry line marks
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return None
    for raw in pointer.strip("/").split("/") if pointer.strip("/") else []:
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                return None
            line = next(k for k, v in node.value if v is match).start_mark.line + 1
            node = match
            continue
        if isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
            continue
        return None
    return line if pointer.strip("/") else (node.start_mark.line + 1 if node is not None else None)


def sarif_document(assessment: Assessment, root: str | Path | None = None) -> dict[str, Any]:
    """The SARIF log as a dict (see module docstring)."""
    root_path = Path(root or os.getcwd()).resolve()
    anchors = _Anchors(assessment, root_path)
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for r in assessment.results:
        cid = r.finding.check_id
        if cid not in index:
            index[cid] = len(rules)
            rules.append(_rule(cid, r.finding))
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for r, fp in zip(assessment.results, fingerprints(assessment.results), strict=True):
        f = r.finding
        target = assessment.target(r.target)
        if f.status is Status.ERROR:
            notifications.append(
                {
                    "level": "error",
                    "message": {"text": redact(f"{r.target}: {f.evidence or f.title}")},
                    "descriptor": {"id": f.check_id, "index": index[f.check_id]},
                }
            )
            continue
        if f.status not in (Status.FAIL, Status.WARN):
            continue
        text = f"{f.title} — {r.target} ({f.target})"
        if f.evidence:
            text += f": {f.evidence}"
        res: dict[str, Any] = {
            "ruleId": f.check_id,
            "ruleIndex": index[f.check_id],
            "kind": "fail",
            "level": LEVEL[f.severity] if f.status is Status.FAIL else "warning",
            "message": {"text": redact(text)},
            "locations": [anchors.location(r, target)],
            "partialFingerprints": {FINGERPRINT_KEY: fp},
            "properties": {
                "status": f.status.value,
                "severity": f.severity.value,
                "side": f.side.value,
                "dimension": f.dimension.value,
                "target": r.target,
                "security-severity": SECURITY_SEVERITY[f.severity],
            },
        }
        if r.baseline in BASELINE_STATE:
            res["baselineState"] = BASELINE_STATE[r.baseline]
        results.append(res)
    invocation: dict[str, Any] = {"executionSuccessful": True, "toolExecutionNotifications": notifications}
    if assessment.started:
        invocation["startTimeUtc"] = assessment.started.replace("+00:00", "Z")
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": assessment.tool_version,
                "semanticVersion": assessment.tool_version
                if re.match(r"^\d+\.\d+\.\d+", assessment.tool_version)
                else None,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "automationDetails": {"id": "apisec/compare/"},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root_path.as_uri() + "/"}},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {"targets": [t.to_dict() for t in assessment.targets]},
    }
    if run["tool"]["driver"]["semanticVersion"] is None:
        del run["tool"]["driver"]["semanticVersion"]
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(assessment: Assessment) -> str:
    return json.dumps(sarif_document(assessment), indent=2, ensure_ascii=False) + "\n"


def validate(document: dict[str, Any]) -> None:
    """Validate against the vendored SARIF 2.1.0 schema (raises jsonschema.ValidationError)."""
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls(schema, format_checker=cls.FORMAT_CHECKER).validate(document)


__all__ = ["SARIF_SCHEMA_URI", "SCHEMA_FILE", "render", "sarif_document", "validate"]
