"""Join the parts of a sharded run into one assessment (``apisec compare merge``).

Each part is the ``assessment.json`` of ``apisec compare run --shard K/N``;
its ``assessment.shard`` record says which shard of which inventory it is.
The merge puts the targets back in inventory order, so fingerprints,
matrix, scores and gate equal those of one unsharded run.  A shard that is
absent is never silently forgotten: it becomes an ``error`` finding
(``compare.shard-missing``) and the merged assessment is incomplete, so the
gate fails unless ``--allow-incomplete``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from compare.findings import Side, Status, check_info, finding
from compare.model import Assessment, JobRun, Result, TargetInfo

SHARD_MISSING = check_info("compare.shard-missing").check_id


class MergeError(ValueError):
    """Parts that cannot be merged (not sharded, different inventories, a shard twice)."""


def _shard(name: str, a: Assessment) -> tuple[int, int, str, list[int]]:
    rec = a.shard
    if not isinstance(rec, Mapping):
        raise MergeError(f"{name} is not a shard's assessment (no assessment.shard: run with --shard K/N)")
    try:
        index, count, inventory = int(rec["index"]), int(rec["count"]), str(rec["inventory"])
        positions = [int(p) for p in rec.get("positions", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise MergeError(f"{name}: unreadable assessment.shard record ({exc})") from None
    if len(positions) != len(a.targets):
        raise MergeError(f"{name}: assessment.shard.positions does not match its {len(a.targets)} target(s)")
    return index, count, inventory, positions


def merge_parts(parts: Sequence[tuple[str, Assessment]]) -> Assessment:
    """One assessment from ``(name, part)`` pairs; raises :class:`MergeError`."""
    if not parts:
        raise MergeError("nothing to merge: give the assessment.json of every shard")
    seen: dict[int, str] = {}
    count = inventory = None
    placed: list[tuple[int, TargetInfo, list[Result]]] = []
    runs: list[JobRun] = []
    for name, a in parts:
        index, n, inv, positions = _shard(name, a)
        if count is None:
            count, inventory = n, inv
        elif (n, inv) != (count, inventory):
            raise MergeError(
                f"{name} is shard {index}/{n} of inventory {inv}, the others of {count} shard(s) of "
                f"inventory {inventory}: merge parts of one sharded run only"
            )
        if index in seen:
            raise MergeError(f"shard {index}/{n} given twice: {seen[index]} and {name}")
        seen[index] = name
        by_target: dict[str, list[Result]] = {t.name: [] for t in a.targets}
        for r in a.results:
            by_target.setdefault(r.target, []).append(r)
        placed += [(pos, t, by_target[t.name]) for pos, t in zip(positions, a.targets, strict=True)]
        runs += a.runs
    assert count is not None
    placed.sort(key=lambda p: p[0])
    targets = [t for _, t, _ in placed]
    results = [r for _, _, rs in placed for r in rs]
    for k in sorted(set(range(1, count + 1)) - set(seen)):
        label = f"shard {k}/{count}"
        targets.append(TargetInfo(label, Side.REST, "default", "shard", label))
        evidence = f"no assessment of {label} was given to the merge: its targets were not assessed"
        results.append(Result(finding(SHARD_MISSING, Status.ERROR, label, evidence), label, "merge"))
    first = parts[0][1]
    return Assessment(
        targets=targets,
        results=results,
        runs=runs,
        started=min((a.started for _, a in parts if a.started), default=""),
        duration_s=max(a.duration_s for _, a in parts),
        source=first.source,
        fail_on=first.fail_on,
        min_score=first.min_score,
        allow_incomplete=False,
        note=first.note,
    )


__all__ = ["MergeError", "SHARD_MISSING", "merge_parts"]
