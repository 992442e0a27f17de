"""The progress line of ``apisec compare run``: targets done/total, checks,
errors, elapsed and ETA, on stderr and only on a terminal by default."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from compare.findings import Dimension, Side
from compare.model import JobRun
from compare.plan import Job
from compare.progress import RunProgress
from tests.conftest import require_peer


def _job(target: str, name: str) -> Job:
    return Job(name, target, Side.REST, Dimension.PROTOCOLS, "m:f", lambda fn: fn(), target)


def test_a_target_is_done_when_all_its_checks_are() -> None:
    jobs = [_job("a", "x"), _job("a", "y"), _job("b", "x")]
    p = RunProgress(jobs, targets=4, targets_done=1)  # 1 resumed, 1 with nothing to run ("d")
    assert p.line() == "targets 2/4 · checks 0/3 · errors 0"
    p.done(jobs[0], JobRun("x", "a", "m:f", 0.1, "ok", 2), 0)
    assert p.line() == "targets 2/4 · checks 1/3 · errors 0"  # "a" still has a check running
    p.done(jobs[2], JobRun("x", "b", "m:f", 0.1, "ok", 3), 2)
    p.done(jobs[1], JobRun("y", "a", "m:f", 0.1, "timeout", 1), 1)
    assert p.line() == "targets 4/4 · checks 3/3 · errors 3"


def test_the_line_shows_on_a_terminal_and_not_in_a_pipe(static_targets_file: Path) -> None:
    script = require_peer("script", "util-linux script gives the CLI a pseudo-terminal")
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    cmd = shlex.join(
        [exe, "compare", "run", "-c", str(static_targets_file), "-f", "json", "--fail-on", "never"]
    )
    proc = subprocess.run([script, "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "targets 2/2 · checks" in proc.stdout and "errors 0" in proc.stdout and "ETA" in proc.stdout
    piped = subprocess.run(shlex.split(cmd), capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and "targets" not in piped.stderr and "ETA" not in piped.stderr
