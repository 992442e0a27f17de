"""Reporters: one module per audience, all rendering the same :class:`Assessment`.

People read ``text`` (terminal), ``md`` and ``html``; machines read ``json``
(the findings model plus the matrix), ``sarif`` (GitHub code scanning) and
``junit`` (CI test tabs).  Every renderer returns the whole document as a
string; :func:`write_reports` renders *all* requested formats in memory
first and only then writes them (each atomically), so a failure never leaves
a half-written report set behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compare.model import Assessment

FORMATS: dict[str, str] = {
    "text": "report.txt",
    "md": "report.md",
    "html": "report.html",
    "json": "assessment.json",
    "sarif": "apisec.sarif",
    "junit": "junit.xml",
}
"""``--format`` name → file name written into the output folder."""

ALL_FORMATS = tuple(FORMATS)


def _renderer(fmt: str) -> Callable[[Assessment], str]:
    if fmt == "text":
        from compare.reporters.terminal import render_text as r
    elif fmt == "md":
        from compare.reporters.markdown import render as r
    elif fmt == "html":
        from compare.reporters.html import render as r
    elif fmt == "json":
        from compare.reporters.json import render as r
    elif fmt == "sarif":
        from compare.reporters.sarif import render as r
    elif fmt == "junit":
        from compare.reporters.junit import render as r
    else:
        raise ValueError(f"unknown report format {fmt!r} (choose from {', '.join(FORMATS)})")
    return r


def parse_formats(values: Iterable[str] | str | None) -> list[str]:
    """``--format text,md --format json`` → ``["text", "md", "json"]`` ("all" expands)."""
    from compare.errors import InputError
    from compare.fileio import split_csv

    out: list[str] = []
    for v in split_csv(list(values) if values is not None and not isinstance(values, str) else values):
        v = v.lower()
        if v == "all":
            out.extend(ALL_FORMATS)
        elif v in ("markdown",):
            out.append("md")
        elif v in ("xml",):
            out.append("junit")
        elif v in FORMATS:
            out.append(v)
        else:
            raise InputError(f"unknown --format {v!r}; choose from {', '.join(FORMATS)} or all")
    return list(dict.fromkeys(out))


def render(assessment: Assessment, fmt: str) -> str:
    """One format as text."""
    return _renderer(fmt)(assessment)


def write_reports(assessment: Assessment, out_dir: str | Path, formats: Iterable[str]) -> dict[str, Path]:
    """Render every format, then write them all into ``out_dir`` (created if needed).

    Returns format → written path.  Rendering happens before any write, and
    each write is atomic, so on error no new or half-written file appears.
    """
    from compare.errors import InputError

    rendered = {fmt: render(assessment, fmt) for fmt in formats}
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"output path exists and is not a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create output folder {out}: {exc.strerror or exc}") from None
    blocked = [FORMATS[f] for f in rendered if (out / FORMATS[f]).is_dir()]
    if blocked:
        raise InputError(f"cannot write reports into {out}: {', '.join(blocked)} is a folder")
    # stage every file next to its destination, then rename them all: a full
    # disk or a permission error leaves the previous report set untouched
    staged: dict[str, Path] = {}
    try:
        for fmt, text in rendered.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{FORMATS[fmt]}.", suffix=".tmp", dir=out)
            staged[fmt] = Path(tmp)
            with os.fdopen(fd, "wb") as fh:
                fh.write(text.encode("utf-8"))
    except OSError as exc:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write reports into {out}: {exc.strerror or exc}") from None
    written: dict[str, Path] = {}
    for fmt, tmp in staged.items():
        path = out / FORMATS[fmt]
        os.replace(tmp, path)
        written[fmt] = path
    return written


__all__ = ["ALL_FORMATS", "FORMATS", "parse_formats", "render", "write_reports"]
