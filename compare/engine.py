"""Run both sides' checks over a set of targets and collect an :class:`Assessment`.

Habits borrowed from sslyze's scanner:

* every check is a *job* (one check function against one target), and a
  job that raises, times out or whose function does not exist becomes an
  ``error`` finding — never a crash of the whole assessment;
* jobs that open many connections to one endpoint (TLS scans) declare an
  *exclusive* key so at most one of them hammers a server at a time, and a
  job that floods a host on purpose (the rate-limit burst) runs after every
  other job on that host, so the 429s it provokes cannot make their probes
  inconclusive; other jobs keep running concurrently;
* work is bounded: ``settings.concurrency`` jobs at once, each with
  ``settings.timeout`` seconds.

The engine knows the side libraries only through the agreed function names
(``wssec.checks.check_wsdl``, ``rest.tls.check``, …).  A function that is not
installed yields a ``compare.check-unavailable`` error finding naming it, so
a report says exactly which part of an assessment did not run.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import queue
import threading
import time
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from compare.config import RestTarget, SoapTarget, Target, Targets, TlsTarget, resolved_secrets
from compare.findings import (
    TOOL_NAME,
    Dimension,
    Finding,
    Side,
    Status,
    __version__,
    check_info,
    finding,
    redact,
    to_json_document,
)

# the engine's own verdicts about checks (declared in compare/catalogue.toml)
UNAVAILABLE = check_info("compare.check-unavailable").check_id
CHECK_ERROR = check_info("compare.check-error").check_id
TIMEOUT = check_info("compare.check-timeout").check_id
INTERRUPTED = check_info("compare.check-interrupted").check_id
NOT_CONFIGURED = check_info("compare.check-not-configured").check_id


# ---------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Job:
    """One check function against one target."""

    name: str
    """Short id of the job kind, e.g. ``soap.wsdl``, ``rest.tls``."""
    target: str
    """Name of the configured target."""
    side: Side
    dimension: Dimension
    """Where an ``error`` of this job lands in the matrix."""
    func: str
    """``module:function`` of the agreed check entry point."""
    call: Callable[[Callable[..., Any]], Any]
    """Calls the resolved function with the target's material (resolving
    secrets only now, inside the worker)."""
    locus: str
    """What the job looks at (URL, file, host:port) — the target of error findings."""
    exclusive: str | None = None
    """Jobs sharing this key never run at the same time (aggressive scans)."""
    host: str | None = None
    """``host:port`` the job talks to (live jobs only)."""
    burst: bool = False
    """The job floods ``host`` on purpose (rate-limit probe): it runs after
    every other job on that host, so their requests are not throttled."""
    shared: str | None = None
    """Jobs with the same key compute the same thing (one TLS scan of a
    host:port:SNI for every target on it): within one run the first
    successful output is reused by the others instead of scanning again.
    A failure is not shared: each job then tries for itself."""


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
        doc = to_json_document(
            self.findings,
            [t.location for t in self.targets],
            matrix=self.matrix(),
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

        doc["gate"] = evaluate(self).to_dict()
        doc["gate"]["groups"] = [g.to_dict() for g in per_group(self)]
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
        runs = [
            JobRun(
                job=str(r.get("job", "")),
                target=str(r.get("target", "")),
                func=str(r.get("func", "")),
                seconds=float(r.get("seconds", 0.0)),
                outcome=str(r.get("outcome", "ok")),
                findings=int(r.get("findings", 0)),
            )
            for r in meta.get("runs", [])
        ]
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


# ---------------------------------------------------------------- planning


def _is_url(s: str | None) -> bool:
    return bool(s) and urlsplit(s).scheme in ("http", "https")


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _hp(url: str) -> str:
    host, port = _host_port(url)
    return f"{host}:{port}"


def _read(path: Path | str) -> bytes:
    """A sample message, read bounded (the XML parser refuses what is over its limit)."""
    from wssec.safexml import DEFAULT_MAX_BYTES

    with Path(path).open("rb") as fh:
        return fh.read(DEFAULT_MAX_BYTES + 1)


def _load_document(loc: str, ca_file: Path | None) -> Any:
    """An OpenAPI document as a mapping (file or URL, JSON or YAML)."""
    from rest.openapi.loader import MAX_SPEC_BYTES, parse_document

    if _is_url(loc):
        import requests

        with requests.get(
            loc, timeout=15, verify=str(ca_file) if ca_file else True, stream=True, allow_redirects=False
        ) as resp:
            resp.raise_for_status()
            data = resp.raw.read(MAX_SPEC_BYTES + 1, decode_content=True)
    else:
        with Path(loc).open("rb") as fh:
            data = fh.read(MAX_SPEC_BYTES + 1)
    # the rest side's bounded parser: size cap and YAML alias-bomb refusal
    return parse_document(data, name=loc)


def wsdl_soap_address(wsdl: str) -> str | None:
    """The endpoint a WSDL names: a local file's soap:address/soap12:address,
    or for ``https://host/svc?wsdl`` the conventional ``https://host/svc``
    (the WSDL is not downloaded twice; its soap:address is checked by
    ``wssec.http-endpoint``)."""
    if _is_url(wsdl):
        parts = urlsplit(wsdl)
        if parts.query.lower() in ("wsdl", "singlewsdl"):
            return parts._replace(query="", fragment="").geturl()
        return None
    from wssec.safexml import parse_xml_file

    try:
        root = parse_xml_file(wsdl)
    except Exception:  # noqa: BLE001 - the WSDL check itself reports a bad WSDL
        return None
    for ns in ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/"):
        for el in root.iter(f"{{{ns}}}address"):
            loc = el.get("location")
            if loc:
                return loc
    return None


def _tls_job(target: str, side: Side, host: str, port: int, *, hostname: str | None, profile: str,
             ca_file: Path | None, client_cert: Path | None = None, client_key: Path | None = None,
             name: str = "tls") -> Job:  # fmt: skip
    def call(fn: Callable[..., Any]) -> Any:
        return fn(
            host,
            port,
            hostname=hostname,
            profile=profile,
            ca_file=str(ca_file) if ca_file else None,
            client_cert=str(client_cert) if client_cert else None,
            client_key=str(client_key) if client_key else None,
            side=side.value,
        )

    return Job(
        name=f"{side.value}.{name}",
        target=target,
        side=side,
        dimension=Dimension.PROTOCOLS,
        func="rest.tls:check",
        call=call,
        locus=f"{host}:{port}",
        exclusive=f"tls:{host}:{port}",
        host=f"{host}:{port}",
        # everything the scan's result depends on (the target name and side do not:
        # _normalise puts the findings on each job's side)
        shared="rest.tls:check\0"
        + "\0".join(str(v) for v in (host, port, hostname, profile, ca_file, client_cert, client_key, name)),
    )


def _not_configured(target: str, side: Side, dimension: Dimension, locus: str, what: str) -> Finding:
    return finding(NOT_CONFIGURED, Status.SKIP, locus, what, side=side, dimension=dimension)


def plan_soap(t: SoapTarget, *, show_raw: bool) -> tuple[list[Job], list[Finding]]:
    """The jobs one SOAP target needs, and skip findings for what cannot run."""
    jobs: list[Job] = []
    skipped: list[Finding] = []
    side = Side.SOAP
    if t.wsdl:
        wsdl = t.wsdl
        jobs.append(
            Job(
                "soap.wsdl",
                t.name,
                side,
                Dimension.ENCRYPTION,
                "wssec.checks:check_wsdl",
                lambda fn: fn(wsdl, verify=str(t.ca_file)) if t.ca_file and _is_url(wsdl) else fn(wsdl),
                wsdl,
            )
        )
    if t.sample_request:
        sample_path = t.sample_request
        jobs.append(
            Job(
                "soap.message",
                t.name,
                side,
                Dimension.ENCRYPTION,
                "wssec.checks:check_message",
                # with signing material the sample is the template the probes sign
                lambda fn: fn(
                    _read(sample_path),
                    target=str(sample_path),
                    require_security=not (t.signing_key and t.signing_cert),
                ),
                str(sample_path),
            )
        )
    endpoint = t.endpoint or (wsdl_soap_address(t.wsdl) if t.wsdl else None)
    if endpoint and t.profile.live:
        if t.sample_request and t.signing_key and t.signing_cert:
            key, cert, trust, sample_path = (
                t.signing_key,
                t.signing_cert,
                t.trust or t.ca_file,
                t.sample_request,
            )
            ep = endpoint

            def probe(fn: Callable[..., Any]) -> Any:
                return fn(
                    ep,
                    _read(sample_path),
                    str(key),
                    str(cert),
                    trust=str(trust) if trust else None,
                    record_raw=show_raw,
                )

            jobs.append(
                Job(
                    "soap.probe",
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    "wssec.checks:probe_service",
                    probe,
                    ep,
                    host=_hp(ep),
                )
            )
        else:
            missing = [n for n, v in (("sample_request", t.sample_request), ("signing_key", t.signing_key),
                                      ("signing_cert", t.signing_cert)) if not v]  # fmt: skip
            skipped.append(
                _not_configured(
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    endpoint,
                    f"live WS-Security probe not run: target has no {', '.join(missing)}",
                )
            )
        if urlsplit(endpoint).scheme == "https":
            host, port = _host_port(endpoint)
            jobs.append(
                _tls_job(
                    t.name, side, host, port, hostname=None, profile=t.profile.tls_profile, ca_file=t.ca_file
                )
            )
    return jobs, skipped


def plan_rest(t: RestTarget, *, show_raw: bool) -> tuple[list[Job], list[Finding]]:
    """The jobs one REST target needs, and skip findings for what cannot run."""
    jobs: list[Job] = []
    skipped: list[Finding] = []
    side = Side.REST
    ca = str(t.ca_file) if t.ca_file else None
    if t.openapi:
        spec_loc = t.openapi
        jobs.append(
            Job(
                "rest.openapi",
                t.name,
                side,
                Dimension.ACCESS_CONTROL,
                "rest.openapi:audit",
                lambda fn: fn(_load_document(spec_loc, t.ca_file) if _is_url(spec_loc) else spec_loc),
                spec_loc,
            )
        )
    live = t.profile.live
    if t.base_url and live:
        base = t.base_url

        def http(fn: Callable[..., Any]) -> Any:
            headers = {k: v.resolve() for k, v in t.headers.items()} or None
            token = t.token.resolve() if t.token else None
            spec: Any = None
            if t.openapi:
                spec = _load_document(t.openapi, t.ca_file) if _is_url(t.openapi) else t.openapi
            extra: dict[str, Any] = {"env": {**os.environ, **t.env}} if t.env else {}
            return fn(
                base,
                headers=headers,
                token=token,
                openapi=spec,
                roles=str(t.roles) if t.roles else None,
                rate_limit_probe=t.profile.rate_limit_probe,
                ca_file=ca,
                record_raw=show_raw,
                **extra,
            )

        host, port = _host_port(base)
        jobs.append(
            Job(
                "rest.http",
                t.name,
                side,
                Dimension.ACCESS_CONTROL,
                "rest.http:check",
                http,
                base,
                host=f"{host}:{port}",
                burst=t.profile.rate_limit_probe > 0,
            )
        )
        if t.token:
            probe_url = urljoin(base.rstrip("/") + "/", t.probe_path.lstrip("/")) if t.probe_path else base

            def jwt(fn: Callable[..., Any]) -> Any:
                pub = t.public_key.read_bytes() if t.public_key else None
                return fn(probe_url, t.token.resolve(), public_key=pub, ca_file=ca)

            jobs.append(
                Job(
                    "rest.jwt",
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    "rest.jwt:probe",
                    jwt,
                    probe_url,
                    host=_hp(probe_url),
                )
            )
        else:
            skipped.append(
                _not_configured(
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    base,
                    "JWT probes not run: target has no token reference",
                )
            )
    if t.oauth_issuer and live:
        issuer = t.oauth_issuer

        def oauth(fn: Callable[..., Any]) -> Any:
            secret = t.client_secret.resolve() if t.client_secret else None
            return fn(issuer, ca_file=ca, client_id=t.client_id, client_secret=secret)

        jobs.append(
            Job(
                "rest.oauth",
                t.name,
                side,
                Dimension.TOKEN_AUTH,
                "rest.oauth:check",
                oauth,
                issuer,
                host=_hp(issuer),
            )
        )
    if live:
        seen: set[tuple[str, int]] = set()
        for url in (t.base_url, t.oauth_issuer):
            if url and urlsplit(url).scheme == "https":
                host, port = _host_port(url)
                if (host, port) in seen:
                    continue
                seen.add((host, port))
                jobs.append(
                    _tls_job(
                        t.name,
                        side,
                        host,
                        port,
                        hostname=None,
                        profile=t.profile.tls_profile,
                        ca_file=t.ca_file,
                        name="tls" if url == t.base_url else "tls-issuer",
                    )
                )
    return jobs, skipped


def plan_tls(t: TlsTarget) -> list[Job]:
    return [
        _tls_job(
            t.name,
            t.side,
            t.host,
            t.port,
            hostname=t.hostname,
            profile=t.profile.tls_profile,
            ca_file=t.ca_file,
            client_cert=t.client_cert,
            client_key=t.client_key,
        )
    ]


def target_info(t: Target) -> TargetInfo:
    if isinstance(t, SoapTarget):
        docs = tuple(
            d for d in (t.wsdl, str(t.sample_request) if t.sample_request else None) if d and not _is_url(d)
        )
        return TargetInfo(t.name, Side.SOAP, t.group, "soap", t.location, docs)
    if isinstance(t, RestTarget):
        docs = tuple(d for d in (t.openapi,) if d and not _is_url(d))
        return TargetInfo(t.name, Side.REST, t.group, "rest", t.location, docs)
    return TargetInfo(t.name, t.side, t.group, "tls", t.location, ())


def plan(targets: Targets) -> tuple[list[Job], list[Result]]:
    """Every job of an assessment, plus skip results for checks that cannot run."""
    jobs: list[Job] = []
    skipped: list[Result] = []
    show_raw = targets.settings.show_raw
    for t in targets.soap:
        j, s = plan_soap(t, show_raw=show_raw)
        jobs += j
        skipped += [Result(f, t.name, "plan") for f in s]
    for t in targets.rest:
        j, s = plan_rest(t, show_raw=show_raw)
        jobs += j
        skipped += [Result(f, t.name, "plan") for f in s]
    for t in targets.tls:
        jobs += plan_tls(t)
    return jobs, skipped


# ---------------------------------------------------------------- running


_IMPORT_LOCK = threading.Lock()


def resolve_check(func: str) -> Callable[..., Any] | None:
    """Import ``module:function``; None when this installation lacks it."""
    module, _, attr = func.partition(":")
    with _IMPORT_LOCK:  # workers resolve concurrently; never see a half-imported module
        try:
            mod = importlib.import_module(module)
        except ImportError:
            return None
    fn = getattr(mod, attr, None)
    if isinstance(fn, types.ModuleType):
        # a package function shadowed by its same-named submodule once that
        # submodule is imported (rest.jwt.probe → rest/jwt/probe.py): the
        # submodule's function of that name is the entry point
        fn = getattr(fn, attr, None)
    return fn if callable(fn) else None


def scrub(text: str) -> str:
    """:func:`compare.findings.redact` plus the exact secret values this
    process resolved from ``env:``/``file:`` references."""
    text = redact(text)
    for secret in resolved_secrets():
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    return text


def _error(job: Job, check_id: str, evidence: str) -> Finding:
    f = finding(check_id, Status.ERROR, job.locus, "", side=job.side, dimension=job.dimension)
    return replace(f, evidence=scrub(evidence))


def _normalise(job: Job, out: Any, seconds: float, show_raw: bool) -> list[Finding]:
    """Check output → findings on the job's side, timed, raw kept only on request."""
    if out is None:
        return []
    if isinstance(out, Finding):
        out = [out]
    items = list(out)
    bad = [type(x).__name__ for x in items if not isinstance(x, Finding)]
    if bad:
        raise TypeError(f"{job.func} returned {bad[0]} instead of Finding objects")
    share = seconds * 1000.0 / max(len(items), 1)
    fixed: list[Finding] = []
    for f in items:
        raw: tuple[dict[str, Any], ...] = ()
        if show_raw and f.raw:
            raw = tuple(_redact_raw(r) for r in f.raw)
        fixed.append(
            replace(
                f,
                side=job.side,
                evidence=scrub(f.evidence),
                duration_ms=f.duration_ms if f.duration_ms is not None else share,
                raw=raw,
            )
        )
    return fixed


def _redact_raw(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _redact_raw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_raw(v) for v in value]
    return value


def run_job(
    job: Job, *, show_raw: bool = False, memo: dict[str, Any] | None = None
) -> tuple[list[Finding], JobRun]:
    """Run one job; any failure becomes an ``error`` finding (never raises).

    ``memo`` (one dict per run): the outputs of successful ``shared`` jobs,
    reused by later jobs with the same key.
    """
    t0 = time.perf_counter()
    fn = resolve_check(job.func)
    if fn is None:
        module, _, attr = job.func.partition(":")
        f = _error(
            job,
            UNAVAILABLE,
            f"check {module}.{attr} is not available in this installation; {job.name} was not assessed",
        )
        return [f], JobRun(job.name, job.target, job.func, time.perf_counter() - t0, "unavailable", 1)
    try:
        if memo is not None and job.shared and job.shared in memo:
            out = memo[job.shared]
        else:
            out = job.call(fn)
            if memo is not None and job.shared:
                out = [out] if isinstance(out, Finding) else list(out or ())
                memo[job.shared] = out
        seconds = time.perf_counter() - t0
        findings = _normalise(job, out, seconds, show_raw)
        return findings, JobRun(job.name, job.target, job.func, seconds, "ok", len(findings))
    except Exception as exc:  # noqa: BLE001 - sslyze habit: a failing plugin is a result
        seconds = time.perf_counter() - t0
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        what = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        f = _error(job, CHECK_ERROR, f"{job.name} could not complete: {what}")
        return [replace(f, duration_ms=seconds * 1000.0)], JobRun(
            job.name, job.target, job.func, seconds, "error", 1
        )


ProgressCallback = Callable[[Job, JobRun], None]


def run_jobs(
    jobs: list[Job],
    *,
    concurrency: int = 4,
    timeout: float = 120.0,
    show_raw: bool = False,
    on_done: ProgressCallback | None = None,
    per_host: int = 0,
) -> list[tuple[list[Finding], JobRun]]:
    """Run jobs on at most ``concurrency`` daemon threads; results in job order.

    ``per_host`` (> 0): at most that many jobs at once on one ``host``, so
    the targets of one host share its budget while other hosts' jobs run.

    Scheduling rules: jobs with the same ``exclusive`` key never overlap;
    a ``burst`` job (one that deliberately trips rate limits) starts only
    when every other job on its ``host`` has finished, so its 429s cannot
    make their probes inconclusive.  A worker never sits on a blocked job:
    it takes the next runnable one.  A job still running after ``timeout``
    seconds is recorded as a timeout error and abandoned (its thread is a
    daemon and cannot block exit; it releases its keys, and a replacement
    worker keeps the pool at its size).
    """
    n = len(jobs)
    results: list[tuple[list[Finding], JobRun] | None] = [None] * n
    pending: list[int] = list(range(n))
    busy: set[str] = set()
    light_left: dict[str, int] = {}
    for j in jobs:
        if j.host and not j.burst:
            light_left[j.host] = light_left.get(j.host, 0) + 1
    started: dict[int, float] = {}
    released: set[int] = set()
    cond = threading.Condition()
    done: queue.Queue[tuple[int, tuple[list[Finding], JobRun]]] = queue.Queue()
    memo: dict[str, Any] = {}  # shared jobs' outputs, for this run only
    on_host: dict[str, int] = {}  # jobs running per host (per_host cap)

    def runnable(i: int) -> bool:
        j = jobs[i]
        if j.exclusive and j.exclusive in busy:
            return False
        if per_host > 0 and j.host and on_host.get(j.host, 0) >= per_host:
            return False
        return not (j.burst and j.host and light_left.get(j.host, 0) > 0)

    def release(i: int) -> None:  # caller holds cond
        if i in released:
            return
        released.add(i)
        j = jobs[i]
        if j.exclusive:
            busy.discard(j.exclusive)
        if j.host:
            on_host[j.host] -= 1
        if j.host and not j.burst:
            light_left[j.host] -= 1
        cond.notify_all()

    def take() -> int | None:
        with cond:
            while pending:
                i = next((i for i in pending if runnable(i)), None)
                if i is not None:
                    pending.remove(i)
                    if jobs[i].exclusive:
                        busy.add(jobs[i].exclusive)
                    if jobs[i].host:
                        on_host[jobs[i].host] = on_host.get(jobs[i].host, 0) + 1
                    started[i] = time.monotonic()
                    return i
                cond.wait(0.2)
            return None

    def worker() -> None:
        while (i := take()) is not None:
            outcome = run_job(jobs[i], show_raw=show_raw, memo=memo)
            with cond:
                release(i)
            done.put((i, outcome))

    def spawn() -> None:
        threading.Thread(target=worker, name="apisec-check", daemon=True).start()

    finished = 0

    def collect() -> None:
        nonlocal finished
        while finished < n:
            try:
                i, outcome = done.get(timeout=0.1)
                if results[i] is None:
                    results[i] = outcome
                    finished += 1
                    if on_done:
                        on_done(jobs[i], outcome[1])
            except queue.Empty:
                pass
            now = time.monotonic()
            with cond:
                overdue = [i for i, t in started.items() if results[i] is None and now - t > timeout]
                for i in overdue:
                    release(i)  # the endpoint is hung anyway: let its other jobs run (and time out)
            for i in overdue:
                job = jobs[i]
                f = _error(job, TIMEOUT, f"{job.name} did not finish within {timeout:g}s and was abandoned")
                run = JobRun(job.name, job.target, job.func, now - started[i], "timeout", 1)
                results[i] = ([f], run)
                finished += 1
                if on_done:
                    on_done(job, run)
                spawn()  # the stuck thread keeps its slot; give the pool a new one

    for _ in range(max(1, min(concurrency, n))):
        spawn()
    try:
        collect()
    except KeyboardInterrupt:
        # Ctrl-C: keep what finished, record every other job as interrupted
        # (an error finding: the assessment is incomplete) and return, so the
        # caller still writes the results gathered so far.
        with cond:
            pending.clear()  # workers take nothing new
        now = time.monotonic()
        for i, job in enumerate(jobs):
            if results[i] is None:
                where = "while running" if i in started else "before it started"
                f = _error(job, INTERRUPTED, f"{job.name} was interrupted {where} (Ctrl-C)")
                run = JobRun(job.name, job.target, job.func, now - started.get(i, now), "interrupted", 1)
                results[i] = ([f], run)
    return [r for r in results if r is not None]


def assess(
    targets: Targets,
    *,
    progress: bool | None = None,
    on_done: ProgressCallback | None = None,
) -> Assessment:
    """Run the static and live checks of both sides over ``targets``.

    ``progress``: show a rich progress bar on stderr (default: only when
    stderr is a terminal).  Never raises for a failing check: errors are
    findings.
    """
    s = targets.settings
    jobs, skipped = plan(targets)
    started_at = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    t0 = time.perf_counter()
    from rich.console import Console

    console = Console(stderr=True)
    show_bar = console.is_terminal if progress is None else progress
    if show_bar and jobs:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("[bold]assessing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("", total=len(jobs))

            def tick(job: Job, run: JobRun) -> None:
                bar.update(task, advance=1, description=f"{job.target} {job.name} ({run.outcome})")
                if on_done:
                    on_done(job, run)

            outcomes = run_jobs(
                jobs,
                concurrency=s.concurrency,
                timeout=s.timeout,
                show_raw=s.show_raw,
                per_host=s.per_host,
                on_done=tick,
            )
    else:
        outcomes = run_jobs(
            jobs,
            concurrency=s.concurrency,
            timeout=s.timeout,
            show_raw=s.show_raw,
            per_host=s.per_host,
            on_done=on_done,
        )
    results: list[Result] = []
    runs: list[JobRun] = []
    for job, (findings, run) in zip(jobs, outcomes, strict=True):
        results += [Result(f, job.target, job.name) for f in findings]
        runs.append(run)
    results += skipped
    return Assessment(
        targets=[target_info(t) for t in targets.all()],
        results=results,
        runs=runs,
        started=started_at,
        duration_s=time.perf_counter() - t0,
        source=targets.source,
        fail_on=s.fail_on,
        min_score=s.min_score,
    )


__all__ = [
    "Assessment",
    "CHECK_ERROR",
    "INTERRUPTED",
    "Job",
    "JobRun",
    "NOT_CONFIGURED",
    "Result",
    "TIMEOUT",
    "TargetInfo",
    "UNAVAILABLE",
    "assess",
    "plan",
    "resolve_check",
    "run_job",
    "run_jobs",
]
