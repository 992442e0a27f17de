"""``compare run --stream FILE.jsonl`` / ``--resume FILE.jsonl``: findings of
finished targets on disk as they arrive, and a killed run continued to the
same assessment as an uninterrupted one (real runs of the console script
against the legacy REST sample, interrupted with SIGINT and SIGKILL)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apisec_samples.rest_service import OPENAPI, serve

N_TARGETS = 8


def _exe() -> str:
    return shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))


@pytest.fixture(scope="module")
def legacy():
    handle = serve("legacy")
    yield handle
    handle.stop()


def _inventory(path: Path, svc, *, probe: int = 0, n: int = N_TARGETS) -> Path:
    """N REST targets on one legacy sample (all live probes but the burst),
    one check at a time so that a run can be stopped mid-way."""
    out = [f"[settings]\nconcurrency = 1\n\n[profiles.quick]\nrate_limit_probe = {probe}\n"]
    for i in range(n):
        out.append(
            f'[[rest]]\nname = "api-{i}"\nbase_url = "{svc.url}/api/orders"\nopenapi = "{OPENAPI}"\n'
            f'token = "env:APISEC_STREAM_TOKEN"\nca_file = "{svc.ca_file}"\nprofile = "quick"\n'
        )
    path.write_text("\n".join(out), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def env(legacy) -> dict[str, str]:
    return {**os.environ, "APISEC_STREAM_TOKEN": legacy.mint("alice")}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_exe(), "compare", "run", "--no-progress", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def _comparable(doc: dict) -> tuple:
    """Findings (with fingerprints and evidence) in report order, matrix
    scores, gate verdict and target order: what must not change."""
    findings = [
        (
            f["target_name"],
            f["job"],
            f["check_id"],
            f["status"],
            f["severity"],
            f["fingerprint"],
            f["evidence"],
        )
        for f in doc["findings"]
    ]
    return findings, doc["matrix"], doc["gate"], [t["name"] for t in doc["assessment"]["targets"]]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1] if path.exists() else []


def _stop_midway(env: dict[str, str], inv: Path, stream: Path, sig: int, after: int = 2) -> int:
    """Start a streamed run and send ``sig`` once ``after`` targets are recorded."""
    proc = subprocess.Popen(
        [_exe(), "compare", "run", "--no-progress", "-c", str(inv), "--stream", str(stream), "-f", "json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 300
    while len(_lines(stream)) < 1 + after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be stopped: make it longer"
    proc.send_signal(sig)
    proc.communicate(timeout=120)
    return proc.returncode


@pytest.fixture(scope="module")
def whole(legacy, env, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The inventory and its uninterrupted, unstreamed assessment."""
    tmp = tmp_path_factory.mktemp("whole")
    inv = _inventory(tmp / "apisec.toml", legacy)
    r = _run(env, "-c", str(inv), "-o", str(tmp / "whole"), "-f", "json")
    assert r.returncode == 1, r.stderr  # the legacy sample fails at high
    return inv, json.loads((tmp / "whole" / "assessment.json").read_text())


def test_a_streamed_run_writes_one_line_per_target_and_reports_the_same(whole, env, tmp_path: Path) -> None:
    inv, expected = whole
    stream = tmp_path / "run.jsonl"
    r = _run(env, "-c", str(inv), "--stream", str(stream), "-o", str(tmp_path / "out"), "-f", "json")
    assert r.returncode == 1, r.stderr
    lines = [json.loads(x) for x in _lines(stream)]
    assert lines[0]["format"] == "apisec-stream" and lines[0]["targets"] == N_TARGETS
    assert sorted(x["target"] for x in lines[1:]) == [f"api-{i}" for i in range(N_TARGETS)]
    got = json.loads((tmp_path / "out" / "assessment.json").read_text())
    assert _comparable(got) == _comparable(expected)
    # a second --stream into the same file is refused: never mixed, never overwritten
    again = _run(env, "-c", str(inv), "--stream", str(stream), "-f", "json")
    assert again.returncode == 2 and "already exists" in again.stderr and again.stdout == "", again.stderr
    assert len(_lines(stream)) == 1 + N_TARGETS


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_a_stopped_run_resumes_to_the_uninterrupted_assessment(whole, env, tmp_path: Path, sig: int) -> None:
    inv, expected = whole
    stream = tmp_path / "run.jsonl"
    code = _stop_midway(env, inv, stream, sig)
    assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    before = _lines(stream)
    assert 3 <= len(before) < 1 + N_TARGETS, len(before)  # stopped mid-way, finished targets kept
    if sig == signal.SIGKILL:
        # a kill in the middle of a write leaves a torn last line
        with stream.open("ab") as fh:
            fh.write(b'{"target":"api-7","elapsed":1.0,"jobs":[{"index":2')
    r = _run(env, "-c", str(inv), "--resume", str(stream), "-o", str(tmp_path / "resumed"), "-f", "json")
    assert r.returncode == 1, r.stderr  # the same gate as the uninterrupted run
    after = _lines(stream)
    assert after[: len(before)] == before  # finished targets were not run or written again
    names = [json.loads(x)["target"] for x in after[1:]]
    assert sorted(names) == [f"api-{i}" for i in range(N_TARGETS)]  # each exactly once, torn line gone
    got = json.loads((tmp_path / "resumed" / "assessment.json").read_text())
    assert _comparable(got) == _comparable(expected)
    assert got["gate"]["complete"]


def test_a_resume_file_of_another_inventory_or_profile_is_refused(legacy, env, tmp_path: Path) -> None:
    inv = _inventory(tmp_path / "apisec.toml", legacy, n=2)
    stream = tmp_path / "run.jsonl"
    assert _run(env, "-c", str(inv), "--stream", str(stream), "-f", "json").returncode == 1
    kept = stream.read_bytes()
    for other in (
        _inventory(tmp_path / "profile.toml", legacy, n=2, probe=5),  # same targets, another profile
        _inventory(tmp_path / "more.toml", legacy, n=3),  # another inventory
    ):
        out = tmp_path / "refused"
        r = _run(env, "-c", str(other), "--resume", str(stream), "-o", str(out), "-f", "json")
        assert r.returncode == 2 and "another inventory or profile" in r.stderr, r.stderr
        assert r.stderr.startswith("apisec: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert not out.exists() and stream.read_bytes() == kept


def test_unusable_stream_files_are_input_errors(legacy, env, tmp_path: Path) -> None:
    inv = _inventory(tmp_path / "apisec.toml", legacy, n=2)
    stream = tmp_path / "run.jsonl"
    assert _run(env, "-c", str(inv), "--stream", str(stream), "-f", "json").returncode == 1
    lines = _lines(stream)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_bytes(b"\n".join([lines[0], b"{not json", lines[2]]) + b"\n")
    notstream = tmp_path / "findings.jsonl"
    notstream.write_text('{"check_id": "x"}\n')
    for path, why in (
        (tmp_path / "missing.jsonl", "no such stream file"),
        (notstream, "not an apisec stream file"),
        (damaged, "line 2 is not a finished-target record"),
    ):
        r = _run(env, "-c", str(inv), "--resume", str(path), "-f", "json")
        assert r.returncode == 2 and why in r.stderr and r.stdout == "", (why, r.stderr)
        assert r.stderr.startswith("apisec: error: ") and "Traceback" not in r.stderr
    r = _run(
        env, "-c", str(inv), "--stream", str(tmp_path / "a.jsonl"), "--resume", str(stream), "-f", "json"
    )
    assert r.returncode == 2 and "--resume" in r.stderr, r.stderr
