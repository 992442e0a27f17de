"""``apisec compare run --shard K/N``: a stable, host-grouped partition of the
inventory, also driven by a Kubernetes Indexed Job's ``JOB_COMPLETION_INDEX``."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from compare.config import RestTarget, Targets, TlsTarget, load_targets
from compare.shard import Shard, ShardError, host_key, parse_shard, resolve_shard, select, shard_of

HOSTS = ("alpha.example", "beta.example", "gamma.example", "delta.example")


def inventory_toml(docs: dict[str, Path], per_host: int = 2) -> str:
    """Static SOAP targets (no network: ``live = false``) spread over HOSTS,
    several per host, alternating the secure and the legacy WSDL."""
    out = ["[settings]\nconcurrency = 2\ntimeout = 60\n\n[profiles.static]\nlive = false\n"]
    n = 0
    for host in HOSTS:
        for j in range(per_host):
            wsdl = docs["secure" if n % 2 == 0 else "legacy"]
            out.append(
                f'[[soap]]\nname = "svc-{n}"\ngroup = "{"secure" if n % 2 == 0 else "legacy"}"\n'
                f'wsdl = "{wsdl}"\nendpoint = "https://{host}:{8443 + j}/svc{n}"\n'
                f'sample_request = "{docs["request"]}"\nprofile = "static"\n'
            )
            n += 1
    return "\n".join(out)


@pytest.fixture(scope="module")
def inventory_file(sample_docs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("inventory") / "apisec.toml"
    p.write_text(inventory_toml(sample_docs), encoding="utf-8")
    return p


def _rest_inventory(n_hosts: int = 30, per_host: int = 3) -> Targets:
    rest = tuple(
        RestTarget(f"api-{h}-{i}", base_url=f"https://host{h}.example:{8000 + i}/v{i}")
        for h in range(n_hosts)
        for i in range(per_host)
    )
    return Targets(rest=rest, tls=(TlsTarget("tls-0", "HOST0.example", 443),))


def test_partition_is_stable_under_reordering_and_covers_everything_once() -> None:
    targets = _rest_inventory()
    shuffled = list(targets.rest)
    random.Random(7).shuffle(shuffled)
    other = Targets(rest=tuple(shuffled), tls=targets.tls)
    seen: list[str] = []
    for k in range(1, 5):
        a, rec_a = select(targets, Shard(k, 4))
        b, rec_b = select(other, Shard(k, 4))
        assert {t.name for t in a.all()} == {t.name for t in b.all()}
        assert rec_a["inventory"] == rec_b["inventory"]  # order-independent inventory id
        assert [targets.all()[i].name for i in rec_a["positions"]] == [t.name for t in a.all()]
        seen += [t.name for t in a.all()]
    assert sorted(seen) == sorted(t.name for t in targets.all())  # every target exactly once
    sizes = [len(select(targets, Shard(k, 4))[0].all()) for k in range(1, 5)]
    assert all(sizes), sizes  # 30 hosts over 4 shards: none empty (a constant hash would fail here)


def test_targets_of_one_host_stay_together() -> None:
    targets = _rest_inventory()
    for count in (2, 3, 7):
        by_host: dict[str, set[int]] = {}
        for t in targets.all():
            by_host.setdefault(host_key(t), set()).add(shard_of(t, count))
        assert all(len(s) == 1 for s in by_host.values()), by_host
    # ports and paths do not split a host; host names compare case-insensitively
    assert host_key(targets.tls[0]) == host_key(targets.rest[0]) == "host0.example"
    assert shard_of(targets.tls[0], 5) == shard_of(targets.rest[0], 5)


def test_shard_spec_and_kubernetes_indexed_job_env() -> None:
    assert parse_shard("2/4") == Shard(2, 4)
    for bad in ("0/4", "5/4", "2", "a/b", "2/0", "-1/3"):
        with pytest.raises(ShardError):
            parse_shard(bad)
    assert resolve_shard(None, env={}) is None
    # JOB_COMPLETION_INDEX is 0-based: pod 2 of 4 assesses shard 3/4
    assert resolve_shard(None, env={"JOB_COMPLETION_INDEX": "2", "APISEC_SHARD_COUNT": "4"}) == Shard(3, 4)
    assert resolve_shard(None, 4, env={"JOB_COMPLETION_INDEX": "0"}) == Shard(1, 4)
    assert resolve_shard("1/2", env={"JOB_COMPLETION_INDEX": "3"}) == Shard(1, 2)  # the flag wins
    with pytest.raises(ShardError, match="no shard count"):  # fail closed: not the whole inventory per pod
        resolve_shard(None, env={"JOB_COMPLETION_INDEX": "1"})
    with pytest.raises(ShardError, match="no shard index"):
        resolve_shard(None, 4, env={})
    with pytest.raises(ShardError):
        resolve_shard(None, 4, env={"JOB_COMPLETION_INDEX": "4"})  # index 4 of 4 is out of range
    with pytest.raises(ShardError, match="disagrees"):
        resolve_shard("1/2", 3, env={})


def _apisec(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    base = {k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX", "APISEC_SHARD_COUNT")}
    return subprocess.run(
        [exe, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**base, "COLUMNS": "200", **(env or {})},
    )


def test_cli_shards_by_flag_and_by_indexed_job_env(inventory_file: Path, tmp_path: Path) -> None:
    names = {t.name for t in load_targets(inventory_file).all()}
    parts: dict[int, set[str]] = {}
    for k in (1, 2):
        out = tmp_path / f"flag-{k}"
        r = _apisec(
            "compare", "run", "-c", str(inventory_file), "--shard", f"{k}/2", "-o", str(out), "-f", "json"
        )
        assert r.returncode in (0, 1), r.stderr
        doc = json.loads((out / "assessment.json").read_text())
        shard = doc["assessment"]["shard"]
        assert (shard["index"], shard["count"], shard["inventory_targets"]) == (k, 2, len(names))
        parts[k] = {t["name"] for t in doc["assessment"]["targets"]}
        assert {f["target_name"] for f in doc["findings"]} <= parts[k]
    assert parts[1] | parts[2] == names and not parts[1] & parts[2]
    # the same shard from a Kubernetes Indexed Job's variables (0-based index)
    out = tmp_path / "env-2"
    r = _apisec(
        "compare", "run", "-c", str(inventory_file), "-o", str(out), "-f", "json",
        env={"JOB_COMPLETION_INDEX": "1", "APISEC_SHARD_COUNT": "2"},
    )  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads((out / "assessment.json").read_text())
    assert {t["name"] for t in doc["assessment"]["targets"]} == parts[2]
    assert doc["assessment"]["shard"]["index"] == 2


def test_cli_bad_shard_is_one_line_exit_2_and_no_output(inventory_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "none"
    for args, env in (
        (["--shard", "3/2"], None),
        (["--shard", "x"], None),
        ([], {"JOB_COMPLETION_INDEX": "0"}),  # an Indexed Job without a count
    ):
        r = _apisec("compare", "run", "-c", str(inventory_file), "-o", str(out), *args, env=env)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("apisec: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert "Traceback" not in r.stderr and not out.exists()


def _shards_in_parallel(inventory: Path, out: Path, count: int, fmt: str = "json") -> list[Path]:
    """Every shard as its own process at once, as an Indexed Job's pods run
    (JOB_COMPLETION_INDEX 0..count-1, APISEC_SHARD_COUNT=count)."""
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    base = {k: v for k, v in os.environ.items() if k not in ("JOB_COMPLETION_INDEX", "APISEC_SHARD_COUNT")}
    procs = [
        subprocess.Popen(
            [exe, "compare", "run", "-c", str(inventory), "-o", str(out / f"part-{i}"), "-f", fmt],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**base, "JOB_COMPLETION_INDEX": str(i), "APISEC_SHARD_COUNT": str(count)},
        )
        for i in range(count)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode in (0, 1), err
    return [out / f"part-{i}" / "assessment.json" for i in range(count)]


def _comparable(doc: dict) -> tuple:
    findings = sorted(
        (f["target_name"], f["check_id"], f["status"], f["severity"], f["fingerprint"], f["evidence"])
        for f in doc["findings"]
    )
    gate = {k: v for k, v in doc["gate"].items()}
    targets = [(t["name"], t["group"], t["location"]) for t in doc["assessment"]["targets"]]
    return findings, doc["matrix"], gate, targets


def test_shards_merged_equal_one_unsharded_run(inventory_file: Path, tmp_path: Path) -> None:
    whole = _apisec("compare", "run", "-c", str(inventory_file), "-o", str(tmp_path / "whole"), "-f", "json")
    assert whole.returncode == 1, whole.stderr  # the legacy WSDLs fail at high
    parts = _shards_in_parallel(inventory_file, tmp_path, 3)
    sizes = [len(json.loads(p.read_text())["assessment"]["targets"]) for p in parts]
    assert sum(sizes) == 8 and sum(1 for s in sizes if s) >= 2, sizes  # really split
    merged = _apisec("compare", "merge", *map(str, parts), "-o", str(tmp_path / "merged"), "-f", "json,md")
    assert merged.returncode == whole.returncode, merged.stderr
    a = json.loads((tmp_path / "whole" / "assessment.json").read_text())
    b = json.loads((tmp_path / "merged" / "assessment.json").read_text())
    assert _comparable(b) == _comparable(a)  # same findings, fingerprints, scores, gate, target order
    assert b["gate"]["complete"] and (tmp_path / "merged" / "report.md").is_file()


def test_a_missing_shard_makes_the_merge_incomplete(inventory_file: Path, tmp_path: Path) -> None:
    parts = _shards_in_parallel(inventory_file, tmp_path, 3)
    present = [p for p in parts if json.loads(p.read_text())["assessment"]["shard"]["index"] != 2]
    out = tmp_path / "merged"
    r = _apisec("compare", "merge", *map(str, present), "-o", str(out), "-f", "json", "--fail-on", "never")
    assert r.returncode == 1, r.stderr  # nothing fails at "never": only the missing shard trips the gate
    doc = json.loads((out / "assessment.json").read_text())
    assert not doc["gate"]["complete"] and "merge@shard 2/3" in doc["gate"]["incomplete_checks"], doc["gate"]
    missing = [f for f in doc["findings"] if f["check_id"] == "compare.shard-missing"]
    assert [(f["status"], f["target_name"]) for f in missing] == [("error", "shard 2/3")]
    r = _apisec(
        "compare", "merge", *map(str, present), "-f", "json", "--fail-on", "never", "--allow-incomplete"
    )
    assert r.returncode == 0, r.stderr
    every = _apisec("compare", "merge", *map(str, parts), "-f", "json", "--fail-on", "never")
    assert every.returncode == 0 and json.loads(every.stdout)["gate"]["complete"], every.stderr


def test_merge_refuses_parts_that_do_not_belong_together(inventory_file: Path, tmp_path: Path) -> None:
    parts = _shards_in_parallel(inventory_file, tmp_path / "of3", 3)
    of2 = _shards_in_parallel(inventory_file, tmp_path / "of2", 2)
    whole = tmp_path / "whole"
    r = _apisec("compare", "run", "-c", str(inventory_file), "-o", str(whole), "-f", "json")
    assert r.returncode == 1, r.stderr
    for args, why in (
        ([parts[0], parts[0]], "given twice"),
        ([parts[0], of2[1]], "merge parts of one sharded run only"),
        ([parts[0], whole / "assessment.json"], "not a shard's assessment"),
        ([tmp_path / "nope.json"], "not found"),
    ):
        out = tmp_path / "refused"
        r = _apisec("compare", "merge", *map(str, args), "-o", str(out), "-f", "json")
        assert r.returncode == 2 and why in r.stderr, (why, r.stderr)
        assert r.stderr.startswith("apisec: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert not out.exists()


def test_merge_with_a_baseline_gates_only_new_problems(inventory_file: Path, tmp_path: Path) -> None:
    whole = tmp_path / "whole"
    r = _apisec("compare", "run", "-c", str(inventory_file), "-o", str(whole), "-f", "json")
    assert r.returncode == 1, r.stderr  # known debt: the legacy WSDLs fail at high
    parts = _shards_in_parallel(inventory_file, tmp_path, 2)
    base = str(whole / "assessment.json")
    r = _apisec("compare", "merge", *map(str, parts), "--baseline", base, "-f", "json")
    assert r.returncode == 0, r.stderr  # nothing new against the same inventory's earlier run
    doc = json.loads(r.stdout)
    assert doc["baseline"]["counts"]["new"] == 0 and doc["baseline"]["counts"]["unchanged"] > 0, doc[
        "baseline"
    ]
    r = _apisec("compare", "merge", *map(str, parts[:1]), "--baseline", base, "-f", "json")
    assert r.returncode == 1, r.stderr  # a missing shard still fails closed under a baseline
