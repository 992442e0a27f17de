"""Findings of finished targets on disk as they arrive, and resuming a run.

``apisec compare run --stream FILE.jsonl`` appends one JSON line per
*finished* target (all its checks done: their findings, job timings and
the plan's skips) the moment it finishes, so the engine keeps nothing of a
finished target in memory and an interrupted run (Ctrl-C, a killed runner,
SIGKILL) leaves a file that ``--resume FILE.jsonl`` continues:

* The first line is a header naming the run: a fingerprint of the
  inventory, the targets' profiles and material references and the plan
  (:func:`run_id`).  A resume whose inventory or profile differ is refused
  (:class:`StreamError`, exit 2): findings of another inventory are never
  mixed in.
* A target is recorded only when *all* its checks finished, in one line
  written with one ``write`` and flushed: on resume it is not run again.  A
  target that was running when the run stopped has no line and is run
  again entirely, so nothing is lost or done twice.
* A torn last line (killed mid-write) is ignored and cut off before the
  resumed run appends; a malformed line anywhere else is refused.
* The reports are built from the file (:func:`load`), in plan order, so a
  resumed run's assessment equals an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.config import Targets
from compare.model import JobRun, Result
from compare.plan import Job

FORMAT = "apisec-stream"
VERSION = 1


class StreamError(Exception):
    """The stream file cannot be used (missing, not a stream, another run)."""


def run_id(targets: Targets, jobs: Iterable[Job], skipped: Iterable[Result]) -> str:
    """A fingerprint of what a run assesses and how: every target as
    configured (profile, references to secrets and files, never their
    values), the planned checks and skips, and ``show_raw``.  Concurrency,
    timeout and rate are not part of it (a resume may change them)."""
    h = hashlib.sha256()
    for t in targets.all():
        h.update(repr(t).encode("utf-8") + b"\n")
    for j in jobs:
        h.update("\0".join((j.name, j.target, j.func, j.locus)).encode("utf-8") + b"\n")
    for r in skipped:
        h.update("\0".join((r.target, r.job, r.finding.check_id)).encode("utf-8") + b"\n")
    h.update(b"raw" if targets.settings.show_raw else b"-")
    return h.hexdigest()[:32]


@dataclass
class TargetRecord:
    """Everything one finished target contributed: ``(plan index, findings,
    run)`` per check and its plan-time skips."""

    name: str
    jobs: list[tuple[int, list[Result], JobRun]] = field(default_factory=list)
    skipped: list[Result] = field(default_factory=list)
    elapsed: float = 0.0
    """Seconds since the run (first session) began when the line was written."""

    def to_json(self) -> str:
        return json.dumps(
            {
                "target": self.name,
                "elapsed": round(self.elapsed, 3),
                "jobs": [
                    {"index": i, "run": run.to_dict(), "findings": [r.to_dict() for r in results]}
                    for i, results, run in self.jobs
                ],
                "skipped": [r.to_dict() for r in self.skipped],
            },
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TargetRecord:
        return cls(
            name=str(data["target"]),
            jobs=[
                (int(j["index"]), [Result.from_dict(f) for f in j["findings"]], JobRun.from_dict(j["run"]))
                for j in data["jobs"]
            ],
            skipped=[Result.from_dict(f) for f in data.get("skipped", ())],
            elapsed=float(data.get("elapsed", 0.0)),
        )


@dataclass
class Stream:
    """What a stream file holds: its header and its finished targets."""

    header: dict[str, Any]
    records: dict[str, TargetRecord]
    end: int
    """Byte offset just past the last whole line (a torn tail starts here)."""

    @property
    def elapsed(self) -> float:
        return max((r.elapsed for r in self.records.values()), default=0.0)


def _bad(path: Path, why: str) -> StreamError:
    return StreamError(f"{path}: {why}")


def load(path: Path, expected_id: str | None = None) -> Stream:
    """Read a stream file; ``expected_id``: refuse one written for another run."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _bad(path, "no such stream file (start the run with --stream FILE)") from None
    except OSError as exc:
        raise _bad(path, f"cannot read: {exc.strerror or exc}") from None
    lines = data.split(b"\n")
    # everything after the last newline is a torn write (or nothing)
    whole, torn = lines[:-1], lines[-1]
    end = len(data) - len(torn)
    if not whole:
        raise _bad(path, "not an apisec stream file (no header line)")
    try:
        header = json.loads(whole[0])
    except ValueError:
        raise _bad(path, "not an apisec stream file (the first line is not JSON)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _bad(path, "not an apisec stream file (no apisec-stream header)")
    if header.get("version") != VERSION:
        raise _bad(path, f"stream format version {header.get('version')!r} is not {VERSION}")
    if expected_id is not None and header.get("run") != expected_id:
        raise _bad(
            path,
            "was written for another inventory or profile (run "
            f"{str(header.get('run'))[:12]}…, this one {expected_id[:12]}…); give the same targets, "
            "profiles and --shard, or start a new --stream file",
        )
    records: dict[str, TargetRecord] = {}
    for n, raw in enumerate(whole[1:], start=2):
        if not raw.strip():
            continue
        try:
            record = TargetRecord.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            raise _bad(
                path, f"line {n} is not a finished-target record (the file was edited or damaged)"
            ) from None
        records[record.name] = record
    return Stream(header, records, end)


class Writer:
    """Appends one line per finished target; each line is written whole and flushed."""

    def __init__(
        self, path: Path, header: Mapping[str, Any] | None = None, *, resume_at: int | None = None
    ) -> None:
        """A new file with ``header`` (refused if ``path`` exists), or with
        ``resume_at`` the existing file cut to that offset (a torn tail)."""
        self.path = path
        try:
            if resume_at is None:
                self._fh = path.open("xb")
                self._fh.write(json.dumps(dict(header or {}), separators=(",", ":")).encode("utf-8") + b"\n")
                self._fh.flush()
            else:
                self._fh = path.open("r+b")
                self._fh.truncate(resume_at)  # drop a torn last line
                self._fh.seek(resume_at)
        except FileExistsError:
            raise _bad(path, "already exists: continue it with --resume FILE, or remove it") from None
        except OSError as exc:
            raise _bad(path, f"cannot write: {exc.strerror or exc}") from None

    def write(self, record: TargetRecord) -> None:
        self._fh.write(record.to_json().encode("utf-8") + b"\n")  # one line, one write
        self._fh.flush()
        os.fsync(self._fh.fileno())  # a killed runner's finished targets stay finished

    def close(self) -> None:
        self._fh.close()


class Recorder:
    """The engine's side of a stream: collects each target's check outcomes,
    writes the target's line once all of them are in (and none was
    interrupted), and forgets it; at the end :meth:`assemble` rebuilds the
    whole run, in plan order, from the file plus what is still in memory
    (targets an interruption left unfinished)."""

    def __init__(
        self,
        path: Path,
        targets: Targets,
        jobs: list[Job],
        skipped: list[Result],
        *,
        resume: bool,
        started: str,
    ) -> None:
        rid = run_id(targets, jobs, skipped)
        self.path, self.rid, self.jobs = path, rid, jobs
        self.order = [t.name for t in targets.all()]
        self._skipped: dict[str, list[Result]] = {}
        for r in skipped:
            self._skipped.setdefault(r.target, []).append(r)
        if resume:
            previous = load(path, rid)
            self.started = str(previous.header.get("started") or started)
            self.done: set[str] = set(previous.records)
            self.before = previous.elapsed
            self._writer = Writer(path, resume_at=previous.end)
        else:
            self.started, self.done, self.before = started, set(), 0.0
            hdr = header(rid, started=started, source=targets.source, targets=len(self.order), jobs=len(jobs))
            self._writer = Writer(path, hdr)
        self.todo = [i for i, j in enumerate(jobs) if j.target not in self.done]
        self._left: dict[str, int] = {}
        for i in self.todo:
            self._left[jobs[i].target] = self._left.get(jobs[i].target, 0) + 1
        self._open: dict[str, TargetRecord] = {}
        self.session_start = 0.0
        self.resumed = len(self.done)

    def start(self, clock: float) -> None:
        """Record the targets that have nothing to run (only plan skips)."""
        self.session_start = clock
        for name in self.order:
            if name not in self.done and name not in self._left:
                self._finish(TargetRecord(name, skipped=self._skipped.get(name, [])), clock)

    def _finish(self, record: TargetRecord, clock: float) -> None:
        record.elapsed = self.before + clock - self.session_start
        self._writer.write(record)
        self.done.add(record.name)

    def add(self, index: int, findings: list[Any], run: JobRun, clock: float) -> None:
        """One check of plan position ``index`` finished (the collector thread)."""
        job = self.jobs[index]
        record = self._open.setdefault(
            job.target, TargetRecord(job.target, skipped=self._skipped.get(job.target, []))
        )
        record.jobs.append((index, [Result(f, job.target, job.name) for f in findings], run))
        self._left[job.target] -= 1
        if self._left[job.target] == 0 and all(r.outcome != "interrupted" for _, _, r in record.jobs):
            del self._open[job.target]
            self._finish(record, clock)

    def close(self) -> None:
        self._writer.close()

    def assemble(self) -> tuple[list[Result], list[JobRun]]:
        """Results and job runs of the whole run in plan order (checks, then
        skips, as an unstreamed run lists them): read back from the file,
        plus the targets an interruption left unfinished."""
        stream = load(self.path, self.rid)
        records = {**stream.records, **self._open}
        by_index: dict[int, tuple[list[Result], JobRun]] = {}
        for record in records.values():
            for i, results, run in record.jobs:
                by_index[i] = (results, run)
        results: list[Result] = []
        runs: list[JobRun] = []
        for i in sorted(by_index):
            results += by_index[i][0]
            runs.append(by_index[i][1])
        for name in self.order:
            if name in records:
                results += records[name].skipped
            else:  # interrupted before any of its checks finished: its skips still count
                results += self._skipped.get(name, [])
        return results, runs


def header(rid: str, *, started: str, source: str | None, targets: int, jobs: int) -> dict[str, Any]:
    from compare.findings import __version__

    return {
        "format": FORMAT,
        "version": VERSION,
        "run": rid,
        "started": started,
        "source": source,
        "targets": targets,
        "jobs": jobs,
        "tool_version": __version__,
    }


__all__ = [
    "FORMAT",
    "VERSION",
    "Recorder",
    "Stream",
    "StreamError",
    "TargetRecord",
    "Writer",
    "header",
    "load",
    "run_id",
]
