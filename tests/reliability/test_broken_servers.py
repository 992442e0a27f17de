"""The engine against broken servers, through the public CLI (``apisec
compare run``), one test per fault, on real 127.0.0.1 sockets: every check
ends within its timeout as an error finding, the assessment is marked
incomplete (exit 1), nothing hangs (the subprocess timeout is only a hang
guard), memory stays bounded (the child's peak RSS, from wait4), and Ctrl-C
writes the results gathered so far."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability import fault_servers

CHECK_TIMEOUT = 5
MAX_RSS_MB = 400
"""A 1 GB body must never be held: the whole CLI stays far below this."""


def _apisec() -> str:
    return shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))


def run_cli(
    args: list[str], cwd: Path, *, hang_guard: float = 180, interrupt_when: Callable[[], bool] | None = None
):
    """Run ``apisec`` and return (exit code, peak RSS in MB, stderr); SIGINT
    it once ``interrupt_when()`` is true."""
    proc = subprocess.Popen(
        [_apisec(), *args], cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    start = time.monotonic()
    interrupted = False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if interrupt_when is not None and not interrupted and interrupt_when():
            proc.send_signal(signal.SIGINT)
            interrupted = True
        if time.monotonic() - start > hang_guard:
            proc.kill()
            proc.wait()
            pytest.fail(f"apisec {' '.join(args)} hung for more than {hang_guard}s")
        time.sleep(0.1)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = proc.stderr.read().decode(errors="replace")
    return proc.returncode, usage.ru_maxrss / 1024, stderr


def _report(out: Path) -> dict:
    return json.loads((out / "assessment.json").read_text())


def _assess(tmp_path: Path, *targets: str) -> tuple[int, float, dict, str]:
    out = tmp_path / "out"
    code, rss, err = run_cli(
        [
            "compare",
            "run",
            *targets,
            "--timeout",
            str(CHECK_TIMEOUT),
            "-o",
            str(out),
            "-f",
            "json",
            "--no-progress",
        ],
        tmp_path,
    )
    return code, rss, _report(out), err


def _errors(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["status"] == "error"]


NO_ANSWER = {"silent", "drip", "reset", "bad-tls"}
"""Faults where no HTTP response ever arrives.  With an endless body or a
redirect loop the status line and headers did arrive: probes that judge only
those (methods, headers, redirects are not followed by design) may report
what they saw; anything that needs the body reads a bounded prefix or errors."""
FAULTS = ["silent", "drip", "reset", "endless-body", "endless-chunked", "redirect-loop", "bad-tls"]


@pytest.mark.parametrize("kind", FAULTS)
def test_a_broken_server_becomes_error_findings_and_an_incomplete_assessment(
    kind: str, tmp_path: Path
) -> None:
    srv = fault_servers.start(kind)
    try:
        # the REST probes, the SOAP side's WSDL download and a TLS scan all meet the fault
        code, rss, report, err = _assess(
            tmp_path, "--rest", srv.url, "--soap", srv.url + "service?wsdl", "--tls", f"127.0.0.1:{srv.port}"
        )
    finally:
        srv.stop()
    assert code == 1, err
    assert "Traceback" not in err
    gate = report["gate"]
    assert gate["complete"] is False and gate["passed"] is False
    errored = {f["target"] for f in _errors(report)}
    # the WSDL download needs the whole document: never a verdict from a part of one
    assert srv.url + "service?wsdl" in errored
    if kind in NO_ANSWER:  # no HTTP answer at all: nothing to judge, every REST check errors
        assert srv.url in errored
        assert not [f for f in report["findings"] if f["status"] == "pass" and f["target"] == srv.url]
    for run in report["assessment"]["runs"]:
        # a check ends within its timeout (plus the engine's 0.1 s polling)
        assert run["seconds"] <= CHECK_TIMEOUT + 2, run
    assert rss < MAX_RSS_MB, f"peak RSS {rss:.0f} MB"


def test_an_unresolvable_host_is_an_error_finding(tmp_path: Path) -> None:
    code, rss, report, err = _assess(
        tmp_path,
        "--rest",
        "https://apisec-no-such-host.invalid/api",
        "--soap",
        "https://apisec-no-such-host.invalid/q?wsdl",
    )
    assert code == 1, err
    assert report["gate"]["complete"] is False
    assert _errors(report)
    assert all(r["outcome"] in ("error", "ok") for r in report["assessment"]["runs"])


def test_ctrl_c_writes_the_results_gathered_so_far(tmp_path: Path) -> None:
    silent, reset = fault_servers.start("silent"), fault_servers.start("reset")
    out = tmp_path / "out"
    seen = {"n": -1, "since": 0.0}

    def both_started_and_reset_done() -> bool:
        """The hung check is running and the reset target's check has stopped connecting for 3 s."""
        now = time.monotonic()
        if reset.accepted != seen["n"]:
            seen["n"], seen["since"] = reset.accepted, now
        return silent.accepted > 0 and reset.accepted > 0 and now - seen["since"] > 3

    try:
        code, _rss, err = run_cli(
            ["compare", "run", "--rest", silent.url, "--rest", reset.url.replace("https", "http"),
             "--timeout", "600", "-o", str(out), "-f", "json", "--no-progress"],
            tmp_path,
            interrupt_when=both_started_and_reset_done,
            hang_guard=120,
        )  # fmt: skip
    finally:
        silent.stop()
        reset.stop()
    assert code == 130, err
    assert "Traceback" not in err
    report = _report(out)
    outcomes = {r["target"]: r["outcome"] for r in report["assessment"]["runs"]}
    # the reset target's check finished before Ctrl-C; the hung one was interrupted
    assert sorted(outcomes.values()) == ["error", "interrupted"] or sorted(outcomes.values()) == [
        "interrupted",
        "ok",
    ], outcomes
    assert report["gate"]["complete"] is False
    assert [f for f in report["findings"] if f["check_id"] == "compare.check-interrupted"]
