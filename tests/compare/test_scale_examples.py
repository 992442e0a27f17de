"""docs/scale.md's GitHub Actions workflow and Kubernetes manifests: parsed,
and their commands run locally, one process per shard in parallel, with the
matrix value / ``JOB_COMPLETION_INDEX`` set as the runners set them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.compare.test_shard import _apisec, _comparable, inventory_toml

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scale.md"


def _yaml_blocks() -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M)


def _env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX", "APISEC_SHARD_COUNT")}
    path = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}"
    return {**base, "PATH": path, "COLUMNS": "200", **extra}


def _parallel(commands: list[tuple[list[str], Path, dict[str, str]]]) -> list[int]:
    procs = [
        subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for argv, cwd, env in commands
    ]
    codes = []
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err  # a shard's exit 1 is accepted by the example's own `|| test $? -eq 1`
        codes.append(p.returncode)
    return codes


@pytest.fixture(scope="module")
def whole(sample_docs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int, dict]:
    """The inventory's targets file, and the exit code and report of one unsharded run."""
    folder = tmp_path_factory.mktemp("whole")
    text = inventory_toml(sample_docs)
    (folder / "apisec.toml").write_text(text, encoding="utf-8")
    r = _apisec("compare", "run", "-c", str(folder / "apisec.toml"), "-o", str(folder / "out"), "-f", "json")
    assert r.returncode == 1, r.stderr
    return text, r.returncode, json.loads((folder / "out" / "assessment.json").read_text())


def _step(steps: list[dict], name: str) -> dict:
    return next(s for s in steps if s.get("name") == name)


def test_github_actions_workflow_runs_locally(whole: tuple[str, int, dict], tmp_path: Path) -> None:
    inventory, code, report = whole
    wf = yaml.safe_load(_yaml_blocks()[0])
    shard_job, merge_job = wf["jobs"]["shard"], wf["jobs"]["merge"]
    assert (
        merge_job["needs"] == "shard" and merge_job["if"] == "always()"
    )  # a failed shard still reaches the gate
    assert shard_job["strategy"]["fail-fast"] is False
    shards = shard_job["strategy"]["matrix"]["shard"]
    run = _step(shard_job["steps"], "assess one shard")["run"]
    upload = next(
        s for s in shard_job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")
    )
    download = next(
        s for s in merge_job["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact")
    )
    jobs = []
    for k in shards:
        runner = tmp_path / f"runner-{k}"
        runner.mkdir()
        (runner / "apisec.toml").write_text(inventory, encoding="utf-8")
        jobs.append((["bash", "-ec", run.replace("${{ matrix.shard }}", str(k))], runner, _env()))
    _parallel(jobs)
    # upload-artifact / download-artifact with a pattern: one folder per artifact under `path`
    merge = tmp_path / "merge"
    for k in shards:
        name = upload["with"]["name"].replace("${{ matrix.shard }}", str(k))
        dest = merge / download["with"]["path"] / name
        dest.mkdir(parents=True)
        shutil.copy(tmp_path / f"runner-{k}" / upload["with"]["path"], dest / "assessment.json")
    gate = _step(merge_job["steps"], "merge and gate")["run"]
    r = subprocess.run(
        ["bash", "-ec", gate], cwd=merge, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert r.returncode == code, r.stderr
    merged = json.loads((merge / "report" / "assessment.json").read_text())
    assert _comparable(merged) == _comparable(report)
    # a lost artifact: the merge gate fails closed (incomplete)
    shutil.rmtree(
        merge / download["with"]["path"] / upload["with"]["name"].replace("${{ matrix.shard }}", "2")
    )
    r = subprocess.run(
        ["bash", "-ec", gate], cwd=merge, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 1, r.stderr
    merged = json.loads((merge / "report" / "assessment.json").read_text())
    assert not merged["gate"]["complete"] and "merge@shard 2/4" in merged["gate"]["incomplete_checks"]


def test_kubernetes_indexed_job_runs_locally(whole: tuple[str, int, dict], tmp_path: Path) -> None:
    inventory, code, report = whole
    shards_job, merge_job = yaml.safe_load_all(_yaml_blocks()[1])
    spec = shards_job["spec"]
    assert spec["completionMode"] == "Indexed" and spec["parallelism"] == spec["completions"]
    (container,) = spec["template"]["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["APISEC_SHARD_COUNT"] == str(spec["completions"])
    scan = tmp_path / container["workingDir"].strip("/")
    (scan / "results").mkdir(parents=True)
    (scan / "apisec.toml").write_text(inventory, encoding="utf-8")
    _parallel([
        (container["command"], scan, _env(**env, JOB_COMPLETION_INDEX=str(i)))
        for i in range(spec["completions"])
    ])  # fmt: skip
    parts = sorted((scan / "results").glob("part-*/assessment.json"))
    assert len(parts) == spec["completions"]
    (merger,) = merge_job["spec"]["template"]["spec"]["containers"]
    assert merger["workingDir"] == container["workingDir"]
    r = subprocess.run(merger["command"], cwd=scan, env=_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == code, r.stderr
    merged = json.loads((scan / "results" / "report" / "assessment.json").read_text())
    assert _comparable(merged) == _comparable(report)
