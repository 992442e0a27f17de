"""Split one inventory into N stable shards (``apisec compare run --shard K/N``).

A compliance scan is stateless per target, so the distributed engine is the
one the user's CI or cluster already runs (a GitHub Actions matrix, a
Kubernetes Indexed Job): each runner assesses one shard, and
``apisec compare merge`` joins the parts into one assessment.

Why a hash of the host and not a position in the file: the same target must
land in the same shard whatever order the targets file lists it in (a
re-ordered inventory must not move work between runners), and every target
of one host must land in the same shard so that one process sees all the
load it puts on that host (per-host politeness, one TLS scan per endpoint).

Shards are numbered 1..N on the command line (``--shard 2/4``); a Kubernetes
Indexed Job's ``JOB_COMPLETION_INDEX`` is 0-based and maps to shard index+1.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from compare.config import RestTarget, SoapTarget, Target, Targets, TlsTarget

INDEX_ENV = "JOB_COMPLETION_INDEX"
"""Set by Kubernetes in every pod of an Indexed Job (0-based)."""
COUNT_ENV = "APISEC_SHARD_COUNT"
"""The shard count when the index comes from :data:`INDEX_ENV`."""


class ShardError(ValueError):
    """A shard specification that cannot be used (bad ``K/N``, index without count)."""


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (1 <= self.count <= 10_000) or not (1 <= self.index <= self.count):
            raise ShardError(f"shard {self.index}/{self.count} is out of range: want 1 <= K <= N <= 10000")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(spec: str) -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``; anything else raises :class:`ShardError`."""
    k, sep, n = spec.strip().partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise ShardError(f"--shard wants K/N (e.g. 2/4, shards numbered from 1), got {spec!r}")
    return Shard(int(k), int(n))


def _count(raw: str | int, where: str) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ShardError(f"{where} wants a whole number of shards, got {raw!r}") from None


def resolve_shard(
    spec: str | None, count: int | str | None = None, env: Mapping[str, str] | None = None
) -> Shard | None:
    """The shard this process assesses, or None for the whole inventory.

    ``--shard K/N`` wins; without it a Kubernetes Indexed Job's
    ``JOB_COMPLETION_INDEX`` (0-based) is read, and then the count must come
    from ``count`` (``--shard-count``) or ``APISEC_SHARD_COUNT``: an index
    without a count fails closed rather than letting every pod assess the
    whole inventory.
    """
    env = os.environ if env is None else env
    if count is None and env.get(COUNT_ENV, "").strip():
        count = env[COUNT_ENV]
    if spec:
        shard = parse_shard(spec)
        if count is not None and _count(count, "--shard-count") != shard.count:
            raise ShardError(f"--shard {shard} disagrees with the shard count {count}")
        return shard
    index = env.get(INDEX_ENV, "").strip()
    if not index:
        if count is not None:
            raise ShardError(
                f"a shard count is set but no shard index: give --shard K/N or run where {INDEX_ENV} is set"
            )
        return None
    if count is None:
        raise ShardError(
            f"{INDEX_ENV}={index} is set (Kubernetes Indexed Job) but no shard count: "
            f"give --shard-count N or {COUNT_ENV}"
        )
    if not index.isdigit():
        raise ShardError(f"{INDEX_ENV} wants a 0-based whole number, got {index!r}")
    return Shard(int(index) + 1, _count(count, "--shard-count"))


def _url_host(value: str | None) -> str | None:
    if value and urlsplit(value).scheme in ("http", "https"):
        return (urlsplit(value).hostname or "").lower() or None
    return None


def host_key(t: Target) -> str:
    """What keeps targets together: the host they talk to (else the contract)."""
    if isinstance(t, TlsTarget):
        return t.host.lower()
    if isinstance(t, SoapTarget):
        return _url_host(t.endpoint) or _url_host(t.wsdl) or f"file:{t.wsdl or t.name}"
    if isinstance(t, RestTarget):
        return _url_host(t.base_url) or _url_host(t.openapi) or f"file:{t.openapi or t.name}"
    raise TypeError(f"not a target: {t!r}")


def shard_of(t: Target, count: int) -> int:
    """The 1-based shard ``t`` belongs to out of ``count`` (stable across runs and machines)."""
    digest = hashlib.sha256(host_key(t).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def inventory_id(targets: Targets) -> str:
    """A fingerprint of the whole inventory (order-independent): merge refuses
    parts cut from different inventories."""
    names = sorted(f"{t.side.value}\0{t.name}\0{t.location}" for t in targets.all())
    return hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()[:16]


def select(targets: Targets, shard: Shard) -> tuple[Targets, dict[str, Any]]:
    """The targets of ``shard`` and the record every part carries in its JSON.

    The record names the shard, the count, the inventory it was cut from and
    the positions of its targets in that inventory (so a merge restores the
    unsharded order).
    """
    everything = targets.all()
    keep = {id(t) for t in everything if shard_of(t, shard.count) == shard.index}
    part = replace(
        targets,
        soap=tuple(t for t in targets.soap if id(t) in keep),
        rest=tuple(t for t in targets.rest if id(t) in keep),
        tls=tuple(t for t in targets.tls if id(t) in keep),
    )
    record = {
        "index": shard.index,
        "count": shard.count,
        "inventory": inventory_id(targets),
        "inventory_targets": len(everything),
        "positions": [i for i, t in enumerate(everything) if id(t) in keep],
    }
    return part, record


__all__ = [
    "COUNT_ENV",
    "INDEX_ENV",
    "Shard",
    "ShardError",
    "host_key",
    "inventory_id",
    "parse_shard",
    "resolve_shard",
    "select",
    "shard_of",
]
