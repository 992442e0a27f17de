"""The one progress line of ``apisec compare run`` on stderr.

A scan of a thousand targets is watched for hours: the line says how many
*targets* are finished (what the user listed), how many checks ran, how
many ended in error (an incomplete run shows early), the time spent and the
time left (rich's estimate from the pace of the checks so far).  Shown only
on a terminal unless ``--progress`` forces it; it never writes to stdout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from compare.model import JobRun
from compare.plan import Job


class RunProgress:
    """Counts for the line: targets done/total, checks done/total, errors."""

    def __init__(self, jobs: Iterable[Job], *, targets: int, targets_done: int = 0) -> None:
        self._left = Counter(j.target for j in jobs)
        self.checks_total = sum(self._left.values())
        self.targets_total = targets
        # targets with nothing to run (only skips, or finished before a resume) are done
        self.targets_done = targets_done + max(0, targets - targets_done - len(self._left))
        self.checks_done = 0
        self.errors = 0

    def done(self, job: Job, run: JobRun, errors: int) -> None:
        """One check finished with ``errors`` error findings (the engine's collector thread)."""
        self.checks_done += 1
        self.errors += errors
        self._left[job.target] -= 1
        if self._left[job.target] == 0:
            self.targets_done += 1

    def line(self) -> str:
        return (
            f"targets {self.targets_done}/{self.targets_total} · checks {self.checks_done}/{self.checks_total}"
            f" · errors {self.errors}"
        )


def progress_bar(console: Any) -> Any:
    """The rich Progress that renders one :class:`RunProgress` line."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]assessing"),
        BarColumn(bar_width=20),
        TextColumn("{task.fields[line]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


__all__ = ["RunProgress", "progress_bar"]
