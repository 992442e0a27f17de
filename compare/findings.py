"""The findings model: the one contract both sides of apisec speak.

Every check in :mod:`wssec` and :mod:`rest` yields :class:`Finding` objects;
the engine in :mod:`compare` collects them and the reporters render them.
Keeping this module free of any other apisec import is what lets the two
sides depend on it without depending on each other or on the engine.

Check ids are contracts (CI pipelines filter and baseline on them), so every
id is declared once, as data, in ``compare/catalogue.toml`` (read by
:mod:`compare.catalogue`, which imports nothing from apisec) with its title,
pass and fail wording, side, control, dimension, severity, references,
remediation and implementing function; :data:`REGISTRY` is that catalogue,
loaded on first use, and a ``Finding`` for an unknown id is refused rather
than silently invented.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from compare import catalogue as _catalogue

TOOL_NAME = "apisec"

try:  # the installed distribution's version; a plain checkout says "0+local"
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _dist_version

    try:
        __version__ = _dist_version("apisec")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        __version__ = "0+local"
except ImportError:  # pragma: no cover
    __version__ = "0+local"


class Status(StrEnum):
    """Outcome of one check against one target."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"  # the check could not run (unreachable host, bad input)
    SKIP = "skip"  # not run (not configured, or skipped on purpose)
    NA = "n/a"  # does not apply: nothing of the kind to check (shown, never scored)


EVIDENCE = (Status.PASS, Status.WARN, Status.FAIL)
"""The statuses that say something about the target and are scored; ``n/a``,
``skip`` and ``error`` are shown, never scored."""


class Severity(StrEnum):
    """How bad a failing check is; ordered so thresholds can compare."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Larger is worse: critical=4 … info=0."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Side(StrEnum):
    """Which security model a finding speaks about."""

    SOAP = "soap"
    REST = "rest"


class Dimension(StrEnum):
    """The axes of the side-by-side comparison."""

    ENCRYPTION = "encryption"
    ACCESS_CONTROL = "access-control"
    TOKEN_AUTH = "token-auth"
    PROTOCOLS = "protocols"
    RESILIENCE = "resilience"
    OBSERVABILITY = "observability"


@dataclass(frozen=True)
class CheckInfo:
    """What a check id means; declared once, reused by every finding and report."""

    check_id: str
    """Stable dotted id, e.g. ``wssec.body-not-signed``; never renamed."""
    title: str
    """One line a reviewer understands without the docs."""
    side: Side
    """The side the check normally reports for (the engine may reuse a rest
    check on a SOAP endpoint and override the side on the finding)."""
    dimension: Dimension
    """Where the check lands in the side-by-side matrix."""
    severity: Severity
    """Severity of a ``fail``; a ``warn`` is reported at most ``medium``."""
    references: tuple[str, ...] = ()
    """Standards the check enforces: RFC sections, WS-I BSP rules, OWASP ids."""
    remediation: str = ""
    """What to change so the check passes."""
    control: str = ""
    """The shared SOAP/REST control (``transport-encryption``, ``token-validation`` …)."""
    pass_wording: str = ""
    """What a PASS row says (defaults to the title)."""
    fail_wording: str = ""
    """What a FAIL/WARN row says (defaults to the title)."""
    implemented: str = ""
    """``module:function`` that emits the finding."""
    peer: str | None = None
    """The same control's check id on the other side (same severity)."""

    def wording(self, status: Status | str) -> str:
        """The row text for a verdict: pass wording, fail wording, else the neutral title."""
        status = Status(status)
        if status is Status.PASS:
            return self.pass_wording or self.title
        if status in (Status.FAIL, Status.WARN):
            return self.fail_wording or self.title
        return self.title


class UnknownCheck(KeyError):
    """A finding named a check id that is not in the catalogue."""

    def __str__(self) -> str:
        return f"unknown check id {self.args[0]!r}: declare it in compare/catalogue.toml"


def _info(e: _catalogue.Entry) -> CheckInfo:
    return CheckInfo(
        check_id=e.check_id,
        title=e.title,
        side=Side(e.side),
        dimension=Dimension(e.dimension),
        severity=Severity(e.severity),
        references=e.references,
        remediation=e.remediation,
        control=e.control,
        pass_wording=e.pass_wording,
        fail_wording=e.fail_wording,
        implemented=e.implemented,
        peer=e.peer,
    )


class _Registry(Mapping[str, CheckInfo]):
    """The catalogue as :class:`CheckInfo` objects, read on first access."""

    def __init__(self) -> None:
        self._data: dict[str, CheckInfo] | None = None

    def _load(self) -> dict[str, CheckInfo]:
        if self._data is None:
            self._data = {cid: _info(e) for cid, e in _catalogue.load().checks.items()}
        return self._data

    def __getitem__(self, check_id: str) -> CheckInfo:
        return self._load()[check_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


REGISTRY: Mapping[str, CheckInfo] = _Registry()
"""Every check id apisec knows, from ``compare/catalogue.toml``."""


def register(check_id: str, *_args: Any, **_kwargs: Any) -> CheckInfo:
    """Deprecated: check ids are declared in ``compare/catalogue.toml`` only.

    Kept so older callers keep working; it returns the catalogue's entry and
    raises :class:`UnknownCheck` for an id the catalogue does not declare
    (the arguments are ignored: the catalogue is the one declaration)."""
    return check_info(check_id)


def check_info(check_id: str) -> CheckInfo:
    """Look a check id up in the catalogue; raises :class:`UnknownCheck` for an unknown id."""
    try:
        return REGISTRY[check_id]
    except KeyError:
        raise UnknownCheck(check_id) from None


@dataclass(frozen=True)
class Finding:
    """One check's verdict about one target.

    ``evidence`` must already be redacted (use :func:`redact`); reports print
    it verbatim.  ``raw`` optionally holds a redacted raw request/response
    exchange for ``--show-raw`` reports.
    """

    check_id: str
    title: str
    status: Status
    severity: Severity
    side: Side
    dimension: Dimension
    target: str
    evidence: str = ""
    references: tuple[str, ...] = ()
    remediation: str = ""
    duration_ms: float | None = None
    raw: tuple[dict[str, Any], ...] = ()

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; field names are a contract."""
        out: dict[str, Any] = {
            "check_id": self.check_id,
            "title": self.title,
            "status": self.status.value,
            "severity": self.severity.value,
            "side": self.side.value,
            "dimension": self.dimension.value,
            "target": self.target,
            "evidence": self.evidence,
            "references": list(self.references),
            "remediation": self.remediation,
        }
        if self.duration_ms is not None:
            out["duration_ms"] = round(self.duration_ms, 3)
        if self.raw:
            out["raw"] = [dict(r) for r in self.raw]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Read a finding back from its JSON form (for baselines and re-rendering)."""
        return cls(
            check_id=str(data["check_id"]),
            title=str(data.get("title", "")),
            status=Status(data["status"]),
            severity=Severity(data["severity"]),
            side=Side(data["side"]),
            dimension=Dimension(data["dimension"]),
            target=str(data.get("target", "")),
            evidence=str(data.get("evidence", "")),
            references=tuple(data.get("references", ())),
            remediation=str(data.get("remediation", "")),
            duration_ms=data.get("duration_ms"),
            raw=tuple(data.get("raw", ())),
        )


def finding(
    check_id: str,
    status: Status | str,
    target: str,
    evidence: str = "",
    *,
    severity: Severity | str | None = None,
    side: Side | str | None = None,
    dimension: Dimension | str | None = None,
    title: str | None = None,
    duration_ms: float | None = None,
    raw: Iterable[Mapping[str, Any]] = (),
) -> Finding:
    """Build a :class:`Finding` from the registry entry of ``check_id``.

    Only the verdict, the target and the evidence vary per call; the title
    (the catalogue's pass wording for a pass, its fail wording for a fail or
    warn), dimension, references and remediation come from the catalogue so
    they stay identical across runs.  A ``warn`` is capped at ``medium``
    severity.
    """
    info = check_info(check_id)
    status = Status(status)
    sev = Severity(severity) if severity is not None else info.severity
    if status is Status.WARN and sev.rank > Severity.MEDIUM.rank:
        sev = Severity.MEDIUM
    return Finding(
        check_id=check_id,
        title=title or info.wording(status),
        status=status,
        severity=sev,
        side=Side(side) if side is not None else info.side,
        dimension=Dimension(dimension) if dimension is not None else info.dimension,
        target=target,
        evidence=redact(evidence),
        references=info.references,
        remediation=info.remediation,
        duration_ms=duration_ms,
        raw=tuple(dict(r) for r in raw),
    )


# ---------------------------------------------------------------- redaction

_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
        "[REDACTED PRIVATE KEY]",
    ),
    # JWT / JWS compact serialisations: keep the header, hide payload and signature
    # (a JSON header base64url-encodes to "ey…" or "ew…"; two-part and unsigned
    # forms count too)
    (
        re.compile(r"\b(e[wy][A-Za-z0-9_-]{10,})\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?"),
        r"\1.[REDACTED]",
    ),
    # Authorization headers
    (
        re.compile(r"(?i)\b(authorization|proxy-authorization)(\s*[:=]\s*)(\w+\s+)?[^\s,;\"']+"),
        r"\1\2\3[REDACTED]",
    ),
    # key=value secrets (a value never starts with "{" or "[": a JSON key such as
    # "token": {...} names an object, and hiding its brace breaks the document)
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|client_secret|api[_-]?key|access_token|refresh_token|token)"
            r"(\"?\s*[:=]\s*\"?)(?![{\[])[^\s,;&\"'<]+"
        ),
        r"\1\2[REDACTED]",
    ),
    # WS-Security passwords in XML
    (
        re.compile(r"(<(?:\w+:)?Password\b[^>]*>)[^<]*(</(?:\w+:)?Password>)"),
        r"\1[REDACTED]\2",
    ),
)


def redact(text: str) -> str:
    """Hide secrets (private keys, passwords, bearer tokens, JWT bodies) in
    free text before it reaches a report or a log line."""
    if not text:
        return text
    for pattern, repl in _SECRET_PATTERNS:
        text = pattern.sub(repl, text)
    return text


# ---------------------------------------------------------------- thresholds & JSON

FAIL_ON_CHOICES = ("critical", "high", "medium", "low", "never")


def exceeds_threshold(findings: Iterable[Finding], fail_on: str = "high") -> bool:
    """True when a ``fail`` finding is at or above ``fail_on`` (``never``: never).

    This is the CI exit-code rule: exit 1 exactly when this is true."""
    if fail_on not in FAIL_ON_CHOICES:
        raise ValueError(f"--fail-on must be one of {', '.join(FAIL_ON_CHOICES)}")
    if fail_on == "never":
        return False
    floor = Severity(fail_on).rank
    return any(f.status is Status.FAIL and f.severity.rank >= floor for f in findings)


def to_json_document(
    findings: Iterable[Finding], targets: Iterable[str] = (), **extra: Any
) -> dict[str, Any]:
    """``{"tool": "apisec", "version", "targets", "findings": [...]}`` plus extras."""
    flist = list(findings)
    tlist = list(dict.fromkeys(list(targets) + [f.target for f in flist]))
    doc: dict[str, Any] = {
        "tool": TOOL_NAME,
        "version": __version__,
        "targets": tlist,
        "findings": [f.to_dict() for f in flist],
    }
    doc.update(extra)
    return doc


def dumps(findings: Iterable[Finding], targets: Iterable[str] = (), **extra: Any) -> str:
    """The JSON document as text (stable key order, UTF-8 safe)."""
    return json.dumps(to_json_document(findings, targets, **extra), indent=2, ensure_ascii=False)


def findings_from_document(doc: Mapping[str, Any]) -> list[Finding]:
    """Parse the ``findings`` array of a JSON document produced by :func:`dumps`."""
    if doc.get("tool") != TOOL_NAME or not isinstance(doc.get("findings"), list):
        raise ValueError("not an apisec findings document (missing tool/findings)")
    return [Finding.from_dict(f) for f in doc["findings"]]


def dataclass_to_jsonable(obj: Any) -> Any:
    """Helper for JSON forms of result dataclasses (enums → values)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: dataclass_to_jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (list, tuple)):
        return [dataclass_to_jsonable(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): dataclass_to_jsonable(v) for k, v in obj.items()}
    return obj


__all__ = [
    "CheckInfo",
    "Dimension",
    "EVIDENCE",
    "FAIL_ON_CHOICES",
    "Finding",
    "REGISTRY",
    "Severity",
    "Side",
    "Status",
    "TOOL_NAME",
    "UnknownCheck",
    "__version__",
    "check_info",
    "dumps",
    "exceeds_threshold",
    "finding",
    "findings_from_document",
    "redact",
    "register",
    "to_json_document",
]
