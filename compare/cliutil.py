"""Plumbing every ``apisec`` command shares: input reading, atomic output,
the ``--format``/``--fail-on`` conventions and the exit-code contract.

Exit codes (a contract CI pipelines rely on):

* 0 — ok, or every check passed below the ``--fail-on`` threshold;
* 1 — verification refused, or a check failed at or above ``--fail-on``;
* 2 — usage or input error (unreadable file, malformed XML, bad key, bad host).

Library code raises exceptions carrying an ``exit_code`` attribute (see
``wssec.errors`` and ``rest.errors``); :func:`compare.cli.main` turns them
into one ``apisec: error: …`` line.  The side CLIs (``wssec.cli``,
``rest.cli``) import this module and :mod:`compare.findings`; the side
*libraries* import only :mod:`compare.findings`.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from compare.errors import EXIT_FAILED, EXIT_INPUT, EXIT_OK, InputError, Refused  # noqa: F401  (re-exported)
from compare.fileio import atomic_write, read_input, split_csv  # noqa: F401  (re-exported)
from compare.findings import (
    FAIL_ON_CHOICES,
    Finding,
    Status,
    dumps,
    exceeds_threshold,
    redact,
)


class OutputFormat(StrEnum):
    """``--format`` of single commands."""

    text = "text"
    json = "json"


class FailOn(StrEnum):
    """``--fail-on`` threshold."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    never = "never"


assert tuple(m.value for m in FailOn) == FAIL_ON_CHOICES

FORMAT_OPTION = typer.Option(
    OutputFormat.text, "--format", help="Output format: text for people, json for machines."
)
FAIL_ON_OPTION = typer.Option(
    FailOn.high,
    "--fail-on",
    help="Exit 1 when a check fails at or above this severity ('never' to always exit 0).",
)


def name_flags(exc: BaseException, flags: Mapping[str, str]) -> BaseException:
    """Rewrite the library's parameter names in ``exc``'s message as the
    command's flags (``decrypt_key`` -> ``--decrypt-key``), in place.

    Why: a library error names the Python argument a caller passes; a CLI
    user can only act on the flag.  Each command passes its own mapping
    (``audience`` is ``--audience`` on ``saml verify`` but
    ``--saml-audience`` on ``soap verify``).  Returns ``exc`` for ``raise``.
    """
    if not exc.args or not isinstance(exc.args[0], str):
        return exc
    message = exc.args[0]
    for param, flag in flags.items():
        message = re.sub(rf"(?<![\w-]){re.escape(param)}(?![\w-])", flag, message)
    exc.args = (message, *exc.args[1:])
    return exc


def wrote(path: str | Path, what: str) -> None:
    """The one line a command prints on stderr after writing a file
    (``wrote out.xml (encrypted Body)``); nothing when the output is stdout."""
    if str(path) != "-":
        print(f"wrote {path} ({what})", file=sys.stderr)


def merge_alias(new: Any, old: Any, new_flag: str, old_flag: str) -> Any:
    """The value of a renamed flag: ``new``, or its hidden old name's value.

    Renames keep the old name working (flags are contracts) as a hidden
    option; giving both is an input error rather than a silent choice.
    Lists (repeatable flags) are joined."""
    if isinstance(new, list) or isinstance(old, list):
        return [*(new or []), *(old or [])]
    if new not in (None, False) and old not in (None, False) and new != old:
        raise InputError(f"{old_flag} is the old name of {new_flag}: give one of them")
    return new if new not in (None, False) else old


def read_secret(
    flag: str,
    *,
    value: str | None = None,
    env: str | None = None,
    file: str | Path | None = None,
    required: bool = False,
) -> str | None:
    """One secret from exactly one of ``--x VALUE``, ``--x-env VAR`` or
    ``--x-file PATH`` (``flag`` is ``--x``), the vocabulary every secret of
    every command shares (docs/cli.md).

    Why three forms: a value on argv shows in ``ps`` and shell history;
    ``-env`` names a variable and ``-file`` a file (first line, trimmed),
    so the secret itself never appears on the command line.  An unset or
    empty variable, or an unreadable or empty file, is an input error naming
    the flag, never an empty secret.
    """
    given = [f for f, v in ((flag, value), (f"{flag}-env", env), (f"{flag}-file", file)) if v]
    if len(given) > 1:
        raise InputError(f"give one of {', '.join(given)}")
    if value:
        return value
    if env:
        got = os.environ.get(env)
        if got is None:
            raise InputError(f"{flag}-env: environment variable {env} is not set")
        if not got.strip():
            raise InputError(f"{flag}-env: environment variable {env} is empty")
        return got.strip()
    if file:
        lines = read_input(file, what=f"{flag}-file", max_bytes=1024 * 1024).decode("utf-8", "replace")
        first = lines.strip().splitlines()[0].strip() if lines.strip() else ""
        if not first:
            raise InputError(f"{flag}-file: {file} is empty")
        return first
    if required:
        raise InputError(f"give {flag}-env VAR or {flag}-file PATH (or {flag})")
    return None


def _status_style(status: Status) -> str:
    return {
        Status.PASS: "green",
        Status.FAIL: "bold red",
        Status.WARN: "yellow",
        Status.ERROR: "magenta",
        Status.SKIP: "dim",
        Status.NA: "dim",
    }[status]


def render_findings_text(findings: Sequence[Finding], *, title: str = "") -> None:
    """Print findings for people: a rich table on a terminal, plain lines otherwise."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        if title:
            print(title)
        for f in findings:
            line = f"{f.status.value.upper():5} {f.severity.value:8} {f.check_id:32} {f.target}"
            if f.evidence:
                line += f" — {f.evidence}"
            print(line)
        print(summary_line(findings))
        return
    table = Table(title=title or None, show_lines=False)
    for col in ("status", "severity", "check", "target", "evidence"):
        table.add_column(col)
    for f in findings:
        style = _status_style(f.status)
        table.add_row(f"[{style}]{f.status.value}[/]", f.severity.value, f.check_id, f.target, f.evidence)
    console.print(table)
    console.print(summary_line(findings))


def summary_line(findings: Iterable[Finding]) -> str:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.status.value] = counts.get(f.status.value, 0) + 1
    parts = [f"{counts.get(s.value, 0)} {s.value}" for s in Status if counts.get(s.value)]
    return "summary: " + (", ".join(parts) if parts else "no findings")


def emit_findings(
    findings: Sequence[Finding],
    fmt: OutputFormat | str = OutputFormat.text,
    *,
    targets: Sequence[str] = (),
    fail_on: FailOn | str = FailOn.high,
    title: str = "",
    extra: dict[str, Any] | None = None,
) -> int:
    """Print findings in ``fmt`` and return the exit code the command should use."""
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.json:
        print(dumps(findings, targets, **(extra or {})))
    else:
        render_findings_text(findings, title=title)
    return EXIT_FAILED if exceeds_threshold(findings, FailOn(fail_on).value) else EXIT_OK


def print_json(obj: Any) -> None:
    """Print a JSON document (for results that are not findings)."""
    print(redact(json.dumps(obj, indent=2, ensure_ascii=False, default=str)))


def print_refusal(exc: BaseException) -> None:
    """Print the one JSON shape of a refused verification on stdout:
    ``{"valid": false, "error": <exception class>, "reason": <message>}``.

    ``soap verify``, ``saml verify`` and ``jwt verify`` share it so a pipeline
    parses one shape; the caller re-raises ``exc`` so stderr still gets the
    ``apisec: error: …`` line and the exit code stays the contract's.
    """
    print_json({"valid": False, "error": type(exc).__name__, "reason": str(exc)})


def exit_with(code: int) -> None:
    """Leave a command with ``code`` (typer.Exit keeps click from printing)."""
    raise typer.Exit(code)
