"""Bounded input reading, all-or-nothing output writing and comma lists: the
file plumbing commands and library code share (no CLI framework here)."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from compare.errors import InputError


def read_input(path: str | Path, *, what: str = "input", max_bytes: int = 64 * 1024 * 1024) -> bytes:
    """Read a file (``-`` for stdin) or raise :class:`InputError` with one line."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{what} file not found: {p}")
        if p.is_dir():
            raise InputError(f"{what} is a directory, not a file: {p}")
        try:
            with p.open("rb") as fh:
                data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"cannot read {what} {p}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise InputError(f"{what} is larger than {max_bytes} bytes")
    return data


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` all-or-nothing: a temp file in the same folder
    renamed into place, so a failing command never leaves a partial file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"output folder does not exist: {parent}")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def split_csv(values: Sequence[str] | str | None) -> list[str]:
    """``--sign Body,Timestamp --sign To`` → ``["Body", "Timestamp", "To"]``."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out.extend(part.strip() for part in v.split(",") if part.strip())
    return out


__all__ = ["atomic_write", "read_input", "split_csv"]
