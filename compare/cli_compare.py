"""``apisec compare …``: side-by-side assessments of SOAP and REST services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from compare.cliutil import EXIT_FAILED, EXIT_OK, FailOn, InputError

app = typer.Typer(
    name="compare",
    help=(
        "Put a SOAP service and a REST service side by side: run both sides' checks, "
        "build the matrix (encryption, access control, token authentication, protocols, "
        "resilience, observability) and write terminal, Markdown, HTML, JSON, SARIF and "
        "JUnit reports with CI exit codes."
    ),
    no_args_is_help=True,
)


@app.callback()
def _compare() -> None:
    """Side-by-side SOAP/REST assessments."""


FORMAT_HELP = (
    "Report formats, comma-separated or repeated: text, md, html, json, sarif, junit, or all. "
    "With --output every format is written into the folder (text as report.txt); "
    "without it, exactly one format is printed to stdout."
)


def _emit(
    assessment,
    output: Path | None,
    formats: list[str],
    fail_on: str | None,
    allow_incomplete: bool = False,
    min_score: int | None = None,
) -> int:
    """Write/print the reports and return the gate's exit code."""
    from rich.console import Console

    from compare.gate import evaluate
    from compare.reporters import FORMATS, render, write_reports
    from compare.reporters.terminal import print_report

    threshold = fail_on or assessment.fail_on
    assessment.fail_on = threshold
    if min_score is not None:
        assessment.min_score = min_score
    if allow_incomplete:
        assessment.allow_incomplete = True
    console = Console() if Console().is_terminal else Console(width=160)
    if output is not None:
        written = write_reports(assessment, output, formats)
        print_report(assessment, console, fail_on=threshold, findings=True)
        for fmt, path in written.items():
            print(f"wrote {fmt:5} {path}")
    else:
        if len(formats) != 1:
            raise InputError(
                f"without --output only one --format can go to stdout (got {', '.join(formats)}); "
                f"add -o DIR to write {', '.join(FORMATS[f] for f in formats)}"
            )
        if formats[0] == "text":
            print_report(assessment, console, fail_on=threshold)
        else:
            sys.stdout.write(render(assessment, formats[0]))
    verdict = evaluate(assessment, threshold)
    if verdict.incomplete:
        print(
            f"{len(verdict.incomplete)} check(s) could not run (error findings): the assessment is incomplete"
            + ("; accepted by --allow-incomplete" if verdict.allow_incomplete else "; exit 1"),
            file=sys.stderr,
        )
    return EXIT_OK if verdict.passed else EXIT_FAILED


def _output_option() -> Any:
    """--output, shared by run, merge and report (one definition, one help text)."""
    return typer.Option(None, "--output", "-o", help="Folder to write the reports into.")


def _formats_option() -> Any:
    """--format, shared by run, merge and report."""
    return typer.Option(["text"], "--format", "-f", help=FORMAT_HELP)


def _recorded_fail_on_option() -> Any:
    """--fail-on of the commands that re-gate a saved run (merge, report)."""
    return typer.Option(
        None, "--fail-on", help="Exit 1 when a check failed at or above this severity (default: as recorded)."
    )


def _min_score_option() -> Any:
    """--min-score, shared by run, merge and report."""
    return typer.Option(
        None,
        "--min-score",
        min=0,
        max=100,
        help="Also exit 1 when a side's overall matrix score (0-100) in any group is below this.",
    )


@app.command("run")
def run(
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="Targets file (apisec.toml, or .yaml/.yml), or an inventory: a .csv/.jsonl list, an OpenAPI "
        "document (one target per server) or a folder of WSDLs. Default: ./apisec.toml if present.",
    ),
    soap: list[str] = typer.Option(
        [], "--soap", help="A SOAP target: WSDL file/URL or endpoint URL (repeatable)."
    ),
    rest: list[str] = typer.Option(
        [], "--rest", help="A REST target: base URL or OpenAPI file (repeatable)."
    ),
    tls: list[str] = typer.Option(
        [], "--tls", help="A TLS endpoint HOST:PORT graded on its own (repeatable)."
    ),
    output: Path | None = _output_option(),
    formats: list[str] = _formats_option(),
    fail_on: FailOn | None = typer.Option(
        None,
        "--fail-on",
        help="Exit 1 when a check fails at or above this severity (default: the targets file's, else high). "
        "With --baseline only new problems count.",
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="A previous assessment.json: mark findings new/fixed/unchanged."
    ),
    show_raw: bool = typer.Option(
        False, "--show-raw", help="Keep each probe's raw request/response (secrets redacted) in the reports."
    ),
    concurrency: int | None = typer.Option(None, "--concurrency", min=1, max=64, help="Checks run at once."),
    timeout: float | None = typer.Option(None, "--timeout", min=1, help="Seconds one check may take."),
    per_host: int | None = typer.Option(
        None,
        "--per-host",
        min=0,
        max=64,
        help="At most N checks at once against one host:port (0: no cap beyond --concurrency).",
    ),
    per_host_rate: float | None = typer.Option(
        None,
        "--per-host-rate",
        min=0,
        max=10_000,
        help="At most R HTTP requests per second to one host:port, shared by all its targets "
        "(0: no cap; a host's 429/503 Retry-After and RateLimit headers pause it either way).",
    ),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress line on stderr (default: only on a terminal)."
    ),
    min_score: int | None = _min_score_option(),
    allow_incomplete: bool = typer.Option(
        False,
        "--allow-incomplete",
        help="Pass the gate even when some checks could not run (unreachable target, missing secret, "
        "timeout). Without it an incomplete assessment exits 1.",
    ),
    shard: str | None = typer.Option(
        None,
        "--shard",
        help="Assess only shard K of N (K from 1) of the inventory: a stable split by host, so the same "
        "target always lands in the same shard and one host's targets stay together. Without it, "
        "JOB_COMPLETION_INDEX (Kubernetes Indexed Job, 0-based) is used when set. "
        "Join the parts' JSON with 'apisec compare merge'.",
    ),
    shard_count: int | None = typer.Option(
        None,
        "--shard-count",
        envvar="APISEC_SHARD_COUNT",
        min=1,
        help="Number of shards when the index comes from JOB_COMPLETION_INDEX (env: APISEC_SHARD_COUNT).",
    ),
    stream: Path | None = typer.Option(
        None,
        "--stream",
        help="Append each finished target's findings to this JSON Lines file as it finishes (memory stays "
        "flat; the reports are built from it). An interrupted run continues with --resume FILE.",
    ),
    resume: Path | None = typer.Option(
        None,
        "--resume",
        help="Continue the interrupted run recorded in this --stream file: finished targets are not run "
        "again, unfinished ones are run entirely. The targets and profiles must be the same (else exit 2).",
    ),
    fail_on_error: bool = typer.Option(
        False,
        "--fail-on-error",
        hidden=True,
        help="Kept for old pipelines: failing on checks that could not run is now the default.",
    ),
) -> None:
    """Assess SOAP and REST targets side by side and write the reports.

    Targets come from the targets file (-c) and/or --soap/--rest/--tls.
    Exit codes: 0 every planned check ran and none failed at or above
    --fail-on; 1 the gate tripped: a failing check, or an incomplete
    assessment (a check errored, timed out or could not run; accept that
    with --allow-incomplete); 2 bad input (targets file, options,
    unwritable output, an unusable --resume file); 130 interrupted
    (Ctrl-C): the reports hold the results gathered so far, every
    unfinished check an 'error' finding (with --stream, continue with
    --resume FILE).  A target that is down is an 'error' finding, not a
    crash, and makes the assessment incomplete.
    """
    from dataclasses import replace

    from compare.baseline import apply_baseline, load_baseline
    from compare.config import Targets, load_targets, targets_from_cli
    from compare.engine import assess
    from compare.reporters import parse_formats

    fmts = parse_formats(formats)
    if config is None and Path("apisec.toml").is_file() and not (soap or rest or tls):
        config = Path("apisec.toml")
    targets = load_targets(config) if config is not None else Targets()
    targets = targets.merged(targets_from_cli(soap, rest, tls))
    if not targets:
        raise InputError("nothing to assess: give -c apisec.toml or at least one --soap/--rest/--tls target")
    from compare.shard import ShardError, resolve_shard, select

    try:
        part = resolve_shard(shard, shard_count)
    except ShardError as exc:
        raise InputError(str(exc)) from None
    shard_record = None
    if part is not None:
        targets, shard_record = select(targets, part)
    if per_host_rate is not None and per_host_rate != per_host_rate:  # NaN passes typer's range check
        raise InputError("--per-host-rate must be a number of requests per second, got nan")
    settings = targets.settings
    settings = replace(
        settings,
        show_raw=show_raw or settings.show_raw,
        concurrency=concurrency or settings.concurrency,
        per_host=settings.per_host if per_host is None else per_host,
        per_host_rate=settings.per_host_rate if per_host_rate is None else per_host_rate,
        timeout=timeout or settings.timeout,
    )
    targets = replace(targets, settings=settings)
    previous = load_baseline(baseline) if baseline is not None else None
    import warnings

    from compare.demo import quiet_scanner_warnings

    if stream is not None and resume is not None and stream != resume:
        raise InputError("--resume FILE continues that file; give it alone, or the same FILE to --stream")
    from compare.stream import StreamError

    with warnings.catch_warnings():
        quiet_scanner_warnings()
        try:
            assessment = assess(
                targets, progress=progress, stream=resume or stream, resume=resume is not None
            )
        except StreamError as exc:
            raise InputError(str(exc)) from None
    assessment.shard = shard_record
    if previous is not None:
        assessment = apply_baseline(assessment, previous)
    del fail_on_error  # the old opt-in is the default now (fail closed)
    code = _emit(assessment, output, fmts, fail_on.value if fail_on else None, allow_incomplete, min_score)
    if shard_record is not None and not targets:
        # An empty shard (fewer hosts than shards) is not a failed scan: its
        # part still records the shard so that the merge knows it ran.
        print(f"shard {part} holds no target of this inventory", file=sys.stderr)
        code = EXIT_OK
    if any(r.outcome == "interrupted" for r in assessment.runs):
        print("apisec: interrupted: the results gathered so far were written", file=sys.stderr)
        if resume or stream:
            print(
                f"apisec: continue with: apisec compare run ... --resume {resume or stream}", file=sys.stderr
            )
        raise typer.Exit(130)
    raise typer.Exit(code)


@app.command("merge")
def merge(
    parts: list[Path] = typer.Argument(
        ..., help="The assessment.json of every shard ('apisec compare run --shard K/N -f json -o DIR')."
    ),
    output: Path | None = _output_option(),
    formats: list[str] = _formats_option(),
    fail_on: FailOn | None = _recorded_fail_on_option(),
    min_score: int | None = _min_score_option(),
    allow_incomplete: bool = typer.Option(
        False,
        "--allow-incomplete",
        help="Pass the gate even though a shard is missing or some checks could not run.",
    ),
    baseline: Path | None = typer.Option(
        None,
        "--baseline",
        help="A previous assessment.json: mark the merged findings new/fixed/unchanged "
        "(give it here, not to the shards).",
    ),
) -> None:
    """Join the shards of one sharded run into one assessment, gate and report.

    Every part must come from the same inventory and shard count; a shard
    given twice is an input error (exit 2).  A missing shard is a
    'compare.shard-missing' error finding: the merged assessment is
    incomplete and the gate exits 1 unless --allow-incomplete.
    """
    from compare.baseline import load_assessment
    from compare.merge import MergeError, merge_parts
    from compare.reporters import parse_formats

    fmts = parse_formats(formats)
    loaded = [(str(path), load_assessment(path)) for path in parts]
    previous = None
    if baseline is not None:
        from compare.baseline import load_baseline

        previous = load_baseline(baseline)
    try:
        assessment = merge_parts(loaded)
    except MergeError as exc:
        raise InputError(str(exc)) from None
    if previous is not None:
        from compare.baseline import apply_baseline

        assessment = apply_baseline(assessment, previous)
    code = _emit(
        assessment, output, fmts, fail_on.value if fail_on else None, allow_incomplete, min_score=min_score
    )
    raise typer.Exit(code)


@app.command("report")
def report(
    assessment_file: Path = typer.Argument(..., help="An assessment.json written by 'apisec compare run'."),
    output: Path | None = _output_option(),
    formats: list[str] = _formats_option(),
    fail_on: FailOn | None = _recorded_fail_on_option(),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="A previous assessment.json: mark findings new/fixed/unchanged."
    ),
    min_score: int | None = _min_score_option(),
    allow_incomplete: bool = typer.Option(
        False,
        "--allow-incomplete",
        help="Pass the gate even though some checks of the saved run could not run (default: as recorded).",
    ),
) -> None:
    """Re-render a saved assessment in other formats (no target is contacted)."""
    from compare.baseline import apply_baseline, load_assessment, load_baseline
    from compare.reporters import parse_formats

    fmts = parse_formats(formats)
    assessment = load_assessment(assessment_file)
    if baseline is not None:
        assessment = apply_baseline(assessment, load_baseline(baseline))
    code = _emit(
        assessment, output, fmts, fail_on.value if fail_on else None, allow_incomplete, min_score=min_score
    )
    raise typer.Exit(code)
