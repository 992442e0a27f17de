"""Running: jobs on a bounded thread pool, each failure an ``error`` finding.

Habits borrowed from sslyze's scanner: a job that raises, times out or
whose function does not exist becomes an ``error`` finding, never a crash;
jobs sharing an ``exclusive`` key never overlap; a ``burst`` job runs after
every other job on its host; ``settings.concurrency`` jobs at once, each
with ``settings.timeout`` seconds.  :func:`run_jobs` is a plain function
over a list of jobs (sharding and inventories build on it); :func:`assess`
plans, runs and collects an :class:`~compare.model.Assessment`.
"""

from __future__ import annotations

import importlib
import queue
import threading
import time
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from compare.config import Targets, resolved_secrets
from compare.findings import (
    Finding,
    Status,
    check_info,
    finding,
    redact,
)
from compare.model import Assessment, JobRun, Result, now_iso
from compare.plan import Job, plan, target_info
from compare.progress import RunProgress, progress_bar
from compare.stream import Recorder
from rest.http.budget import HostBudget, WaitMeter, use_budget

# the engine's own verdicts about checks (declared in compare/catalogue.toml)
UNAVAILABLE = check_info("compare.check-unavailable").check_id
CHECK_ERROR = check_info("compare.check-error").check_id
TIMEOUT = check_info("compare.check-timeout").check_id
INTERRUPTED = check_info("compare.check-interrupted").check_id


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
    job: Job,
    *,
    show_raw: bool = False,
    memo: dict[str, Any] | None = None,
    budget: HostBudget | None = None,
    meter: WaitMeter | None = None,
) -> tuple[list[Finding], JobRun]:
    """Run one job; any failure becomes an ``error`` finding (never raises).

    ``memo`` (one dict per run): the outputs of successful ``shared`` jobs,
    reused by later jobs with the same key.  ``budget``: the run's per-host
    request budget, current while the check runs (its probes obey it);
    ``meter`` counts the time the check waited for it.
    """
    with use_budget(budget, meter):
        return _run_job(job, show_raw=show_raw, memo=memo)


def _run_job(job: Job, *, show_raw: bool, memo: dict[str, Any] | None) -> tuple[list[Finding], JobRun]:
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
ResultCallback = Callable[[int, list[Finding], JobRun], None]


def run_jobs(
    jobs: list[Job],
    *,
    concurrency: int = 4,
    timeout: float = 120.0,
    show_raw: bool = False,
    on_done: ProgressCallback | None = None,
    per_host: int = 0,
    budget: HostBudget | None = None,
    on_result: ResultCallback | None = None,
    keep: bool = True,
) -> list[tuple[list[Finding], JobRun]]:
    """Run jobs on at most ``concurrency`` working daemon threads; results in job order.

    ``on_result(i, findings, run)`` sees every job's outcome as it arrives
    (in the calling thread); with ``keep=False`` the outcomes are handed
    only to it and not kept (a streamed run's memory stays flat) and the
    returned list is empty.

    ``per_host`` (> 0): at most that many jobs at once on one ``host``, so
    the targets of one host share its budget while other hosts' jobs run.

    ``budget``: the run's :class:`~rest.http.budget.HostBudget` (request
    rate and pauses per host), current in every job.  Waiting for it is not
    working: a job's ``timeout`` counts only the time it was not waiting for
    its host's budget, a waiting job does not hold one of the
    ``concurrency`` slots (another worker takes a job meanwhile), and no
    job is started on a host that is paused (after a 429 or an exhausted
    quota) while other hosts' jobs can run.

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
    have = [False] * n  # outcome arrived (results[i] stays None when not kept)

    def record(i: int, outcome: tuple[list[Finding], JobRun]) -> None:
        have[i] = True
        if keep:
            results[i] = outcome
        if on_result:
            on_result(i, *outcome)
        if on_done:
            on_done(jobs[i], outcome[1])

    pending: list[int] = list(range(n))
    busy: set[str] = set()
    light_left: dict[str, int] = {}
    for j in jobs:
        if j.host and not j.burst:
            light_left[j.host] = light_left.get(j.host, 0) + 1
    started: dict[int, float] = {}
    meters: dict[int, WaitMeter] = {}
    released: set[int] = set()
    cond = threading.Condition()
    done: queue.Queue[tuple[int, tuple[list[Finding], JobRun]]] = queue.Queue()
    memo: dict[str, Any] = {}  # shared jobs' outputs, for this run only
    on_host: dict[str, int] = {}  # jobs running per host (per_host cap)
    idle = 0  # workers looking for a job

    def working() -> int:  # caller holds cond: running jobs not waiting for a host's budget
        return sum(1 for i in started if i not in released and not meters[i].waiting)

    def runnable(i: int) -> bool:
        j = jobs[i]
        if j.exclusive and j.exclusive in busy:
            return False
        if per_host > 0 and j.host and on_host.get(j.host, 0) >= per_host:
            return False
        if budget is not None and j.host and budget.paused_for(j.host) > 0:
            return False  # it would only wait: let another host's job have the slot
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
        nonlocal idle
        with cond:
            idle += 1
            try:
                while pending:
                    i = None
                    if working() < concurrency:
                        i = next((i for i in pending if runnable(i)), None)
                    if i is not None:
                        pending.remove(i)
                        if jobs[i].exclusive:
                            busy.add(jobs[i].exclusive)
                        if jobs[i].host:
                            on_host[jobs[i].host] = on_host.get(jobs[i].host, 0) + 1
                        meters[i] = WaitMeter()
                        started[i] = time.monotonic()
                        return i
                    cond.wait(0.2)
                return None
            finally:
                idle -= 1

    def worker() -> None:
        while (i := take()) is not None:
            outcome = run_job(jobs[i], show_raw=show_raw, memo=memo, budget=budget, meter=meters[i])
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
                if not have[i]:
                    finished += 1
                    record(i, outcome)
            except queue.Empty:
                pass
            now = time.monotonic()
            with cond:
                # a job's clock stops while it waits for its host's budget
                overdue = [
                    i
                    for i, t in started.items()
                    if not have[i] and i not in released and now - t - meters[i].waited() > timeout
                ]
                for i in overdue:
                    release(i)  # the endpoint is hung anyway: let its other jobs run (and time out)
                # the stuck thread of an abandoned job, and a worker waiting for
                # a host's budget, keep their threads: give the pool a new one
                grow = bool(pending) and idle == 0 and working() < concurrency
            for i in overdue:
                job = jobs[i]
                f = _error(job, TIMEOUT, f"{job.name} did not finish within {timeout:g}s and was abandoned")
                run = JobRun(job.name, job.target, job.func, now - started[i], "timeout", 1)
                finished += 1
                record(i, ([f], run))
            if grow:
                spawn()

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
            if not have[i]:
                where = "while running" if i in started else "before it started"
                f = _error(job, INTERRUPTED, f"{job.name} was interrupted {where} (Ctrl-C)")
                run = JobRun(job.name, job.target, job.func, now - started.get(i, now), "interrupted", 1)
                record(i, ([f], run))
    return [r for r in results if r is not None]


def assess(
    targets: Targets,
    *,
    progress: bool | None = None,
    on_done: ProgressCallback | None = None,
    stream: Path | None = None,
    resume: bool = False,
) -> Assessment:
    """Run the static and live checks of both sides over ``targets``.

    ``progress``: show the progress line on stderr (default: only when
    stderr is a terminal).  ``stream``: append each finished target's
    findings to this JSON Lines file as it finishes and build the
    assessment from it (:mod:`compare.stream`); with ``resume`` the file
    is an interrupted run's, whose finished targets are not run again.
    Never raises for a failing check (errors are findings); raises
    :class:`compare.stream.StreamError` for an unusable stream file, before
    any check runs.
    """
    s = targets.settings
    jobs, skipped = plan(targets)
    started_at = now_iso()
    t0 = time.perf_counter()
    recorder: Recorder | None = None
    todo = list(range(len(jobs)))
    if stream is not None:
        recorder = Recorder(stream, targets, jobs, skipped, resume=resume, started=started_at)
        todo = recorder.todo
        recorder.start(t0)
    from rich.console import Console

    console = Console(stderr=True)
    show_bar = console.is_terminal if progress is None else progress
    counts = RunProgress(
        [jobs[i] for i in todo], targets=len(targets.all()), targets_done=recorder.resumed if recorder else 0
    )

    def run_all(tick: Callable[[], None]) -> list[tuple[list[Finding], JobRun]]:
        def on_result(k: int, findings: list[Finding], run: JobRun) -> None:
            i = todo[k]
            counts.done(jobs[i], run, sum(1 for f in findings if f.status is Status.ERROR))
            if recorder is not None:
                recorder.add(i, findings, run, time.perf_counter())
            tick()
            if on_done:
                on_done(jobs[i], run)

        return run_jobs(
            [jobs[i] for i in todo],
            concurrency=s.concurrency,
            timeout=s.timeout,
            show_raw=s.show_raw,
            per_host=s.per_host,
            budget=HostBudget(s.per_host_rate),
            on_result=on_result,
            keep=recorder is None,
        )

    try:
        if show_bar and todo:
            with progress_bar(console) as bar:
                task = bar.add_task("", total=len(todo), line=counts.line())
                outcomes = run_all(lambda: bar.update(task, advance=1, line=counts.line()))
        else:
            outcomes = run_all(lambda: None)
    finally:
        if recorder is not None:
            recorder.close()
    duration = time.perf_counter() - t0
    if recorder is not None:
        results, runs = recorder.assemble()
        started_at, duration = recorder.started, recorder.before + duration
    else:
        results, runs = [], []
        for job, (findings, run) in zip(jobs, outcomes, strict=True):
            results += [Result(f, job.target, job.name) for f in findings]
            runs.append(run)
        results += skipped
    return Assessment(
        targets=[target_info(t) for t in targets.all()],
        results=results,
        runs=runs,
        started=started_at,
        duration_s=duration,
        source=targets.source,
        fail_on=s.fail_on,
        min_score=s.min_score,
    )


__all__ = [
    "CHECK_ERROR",
    "INTERRUPTED",
    "TIMEOUT",
    "UNAVAILABLE",
    "ProgressCallback",
    "ResultCallback",
    "assess",
    "resolve_check",
    "run_job",
    "run_jobs",
    "scrub",
]
