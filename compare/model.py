"""The assessment model: what one run found, in the form every reporter reads.

:class:`Assessment` (targets, results, job timings, gate settings) and its
JSON form; :class:`TargetInfo`, :class:`Result` and :class:`JobRun`.  No
planning and no running here (:mod:`compare.plan`, :mod:`compare.run`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compare.findings import (
    TOOL_NAME,
    Finding,
    Side,
    __version__,
    to_json_document,
)


def now_iso() -> str:
    """An assessment's ``started_at``: UTC, whole seconds, ISO 8601."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class JobRun:
    """How one job went: for timing tables and for telling errors apart."""

    job: str
    target: str
    func: str
    seconds: float
    outcome: str
    """``ok``, ``error``, ``timeout``, ``unavailable`` or ``interrupted`` (Ctrl-C)."""
    findings: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "target": self.target,
            "func": self.func,
            "seconds": round(self.seconds, 3),
            "outcome": self.outcome,
            "findings": self.findings,
        }

    @classmethod
    def from_dict(cls, r: Mapping[str, Any]) -> JobRun:
        return cls(
            job=str(r.get("job", "")),
            target=str(r.get("target", "")),
            func=str(r.get("func", "")),
            seconds=float(r.get("seconds", 0.0)),
            outcome=str(r.get("outcome", "ok")),
            findings=int(r.get("findings", 0)),
        )


@dataclass(frozen=True)
class TargetInfo:
    """What a report needs to know about a target (no secrets: references only)."""

    name: str
    side: Side
    group: str
    kind: str
    """``soap``, ``rest`` or ``tls`` (a TLS target may speak for either side)."""
    location: str
    documents: tuple[str, ...] = ()
    """Local WSDL/OpenAPI/sample files: SARIF anchors results to these."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "side": self.side.value,
            "group": self.group,
            "kind": self.kind,
            "location": self.location,
            "documents": list(self.documents),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TargetInfo:
        return cls(
            name=str(d["name"]),
            side=Side(d["side"]),
            group=str(d.get("group", "default")),
            kind=str(d.get("kind", d["side"])),
            location=str(d.get("location", "")),
            documents=tuple(d.get("documents", ())),
        )


@dataclass(frozen=True)
class Result:
    """A finding plus where it came from in this assessment."""

    finding: Finding
    target: str
    """Configured target name (stable across runs, unlike ephemeral URLs)."""
    job: str
    baseline: str | None = None
    """``new``, ``fixed`` or ``unchanged`` when compared with a baseline."""

    def to_dict(self, fingerprint: str | None = None) -> dict[str, Any]:
        d = self.finding.to_dict()
        d["target_name"] = self.target
        d["job"] = self.job
        if fingerprint:
            d["fingerprint"] = fingerprint
        if self.baseline:
            d["baseline"] = self.baseline
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Result:
        return cls(
            finding=Finding.from_dict(d),
            target=str(d.get("target_name") or d.get("target", "")),
            job=str(d.get("job", "")),
            baseline=d.get("baseline"),
        )


@dataclass
class Assessment:
    """Everything one run found, in a form every reporter renders."""

    targets: list[TargetInfo]
    results: list[Result]
    runs: list[JobRun] = field(default_factory=list)
    started: str = ""
    duration_s: float = 0.0
    source: str | None = None
    """Targets file the run was configured from."""
    fail_on: str = "high"
    min_score: int | None = None
    """Gate: a side's overall matrix score below this fails the run."""
    baseline: dict[str, Any] | None = None
    """Summary of a baseline comparison (counts and the fixed findings)."""
    tool_version: str = __version__
    allow_incomplete: bool = False
    """Gate: accept a run in which some checks could not run (``--allow-incomplete``)."""
    note: str = ""
    """A sentence every report shows under the gate (the demo says why its
    legacy pair fails on purpose)."""
    shard: dict[str, Any] | None = None
    """``apisec compare run --shard K/N``: which part of which inventory this
    is (index, count, inventory id, target positions); ``compare merge``
    reads it to join the parts and to notice a missing one."""

    @property
    def findings(self) -> list[Finding]:
        return [r.finding for r in self.results]

    def target(self, name: str) -> TargetInfo | None:
        return next((t for t in self.targets if t.name == name), None)

    def matrix(self) -> dict[str, Any]:
        from compare.matrix import build_matrix

        return build_matrix(self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: the findings model plus matrix and run details."""
        matrix = self.matrix()  # built once: the report's block and every gate verdict read it
        doc = to_json_document(
            self.findings,
            [t.location for t in self.targets],
            matrix=matrix,
            assessment={
                "started": self.started,
                "duration_s": round(self.duration_s, 3),
                "source": self.source,
                "fail_on": self.fail_on,
                "min_score": self.min_score,
                "allow_incomplete": self.allow_incomplete,
                "note": self.note,
                "targets": [t.to_dict() for t in self.targets],
                "runs": [r.to_dict() for r in self.runs],
                **({"shard": self.shard} if self.shard is not None else {}),
            },
        )
        doc["version"] = self.tool_version
        from compare.baseline import fingerprints

        fps = fingerprints(self.results)
        doc["findings"] = [r.to_dict(fp) for r, fp in zip(self.results, fps, strict=True)]
        if self.baseline is not None:
            doc["baseline"] = self.baseline
        from compare.gate import evaluate, per_group

        doc["gate"] = evaluate(self, matrix=matrix).to_dict()
        doc["gate"]["groups"] = [g.to_dict() for g in per_group(self, matrix=matrix)]
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Assessment:
        """Read a JSON report back (``apisec compare report``, ``--baseline``)."""
        if doc.get("tool") != TOOL_NAME or not isinstance(doc.get("findings"), list):
            raise ValueError("not an apisec assessment (missing tool/findings)")
        meta = doc.get("assessment") or {}
        results = [Result.from_dict(f) for f in doc["findings"]]
        targets = [TargetInfo.from_dict(t) for t in meta.get("targets", [])]
        known = {t.name for t in targets}
        for r in results:  # a plain findings document (no assessment block) still renders
            if r.target not in known:
                known.add(r.target)
                targets.append(
                    TargetInfo(r.target, r.finding.side, "default", r.finding.side.value, r.target)
                )
        runs = [JobRun.from_dict(r) for r in meta.get("runs", [])]
        return cls(
            targets=targets,
            results=results,
            runs=runs,
            started=str(meta.get("started", "")),
            duration_s=float(meta.get("duration_s", 0.0)),
            source=meta.get("source"),
            fail_on=str(meta.get("fail_on", "high")),
            min_score=meta.get("min_score"),
            allow_incomplete=bool(meta.get("allow_incomplete", False)),
            note=str(meta.get("note") or ""),
            baseline=doc.get("baseline"),
            tool_version=str(doc.get("version", __version__)),
            shard=meta.get("shard"),
        )


__all__ = ["Assessment", "JobRun", "Result", "TargetInfo"]
