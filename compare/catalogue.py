"""The check catalogue: every check id of both sides, read from one data file.

``compare/catalogue.toml`` (shipped inside the package) declares each check
once: id, side, control, dimension, severity, title, pass and fail wording,
references, remediation and the ``module:function`` that emits it.  Nothing
is registered as a side effect of importing a check module (sslyze lists its
plugins in ``scan_commands.py`` the same way): :func:`load` reads the file,
validates it as a whole and returns plain entries; :mod:`compare.findings`
turns them into :class:`~compare.findings.CheckInfo` the first time a check
id is looked up.

This module imports nothing from apisec, so :mod:`compare.findings` (the
contract both sides import) can depend on it without an import circle.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

CATALOGUE_FILE = "catalogue.toml"

SIDES = ("soap", "rest")
DIMENSIONS = ("encryption", "access-control", "token-auth", "protocols", "resilience", "observability")
SEVERITIES = ("critical", "high", "medium", "low", "info")
_CHECK_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$")
_IMPLEMENTED = re.compile(r"^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
_REQUIRED = (
    "id",
    "side",
    "control",
    "dimension",
    "severity",
    "title",
    "pass",
    "fail",
    "references",
    "remediation",
    "implemented",
)


class CatalogueError(ValueError):
    """The catalogue file is malformed (a programming error caught by the tests)."""


@dataclass(frozen=True)
class Control:
    """A security control shared by SOAP and REST checks, mapped to one dimension."""

    name: str
    dimension: str
    label: str


@dataclass(frozen=True)
class Entry:
    """One check as declared in the catalogue (plain strings; enums live in findings)."""

    check_id: str
    side: str
    control: str
    dimension: str
    severity: str
    title: str
    pass_wording: str
    fail_wording: str
    references: tuple[str, ...]
    remediation: str
    implemented: str
    """``module:function`` that emits the finding: where to read the code."""
    peer: str | None = None
    """The same control's check on the other side (same control, same severity)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``apisec checks list --format json`` (field names are a contract)."""
        return {
            "id": self.check_id,
            "side": self.side,
            "control": self.control,
            "dimension": self.dimension,
            "severity": self.severity,
            "title": self.title,
            "pass": self.pass_wording,
            "fail": self.fail_wording,
            "references": list(self.references),
            "remediation": self.remediation,
            "implemented": self.implemented,
            "peer": self.peer,
        }


@dataclass(frozen=True)
class Catalogue:
    """The whole catalogue: controls and checks, in file order."""

    controls: Mapping[str, Control]
    checks: Mapping[str, Entry]

    def for_side(self, side: str | None) -> list[Entry]:
        return [e for e in self.checks.values() if side is None or e.side == side]


def _fail(where: str, msg: str) -> CatalogueError:
    return CatalogueError(f"{CATALOGUE_FILE}: {where}: {msg}")


def parse(data: bytes | str) -> Catalogue:
    """Parse and validate catalogue text; raises :class:`CatalogueError`."""
    try:
        doc = tomllib.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except tomllib.TOMLDecodeError as exc:
        raise _fail("syntax", str(exc)) from None
    controls: dict[str, Control] = {}
    for name, spec in (doc.get("controls") or {}).items():
        if not isinstance(spec, dict) or spec.get("dimension") not in DIMENSIONS:
            raise _fail(f"control {name}", f"needs a dimension among {', '.join(DIMENSIONS)}")
        controls[name] = Control(name, spec["dimension"], str(spec.get("label", name)))
    checks: dict[str, Entry] = {}
    for i, raw in enumerate(doc.get("check") or []):
        where = f"check #{i + 1} ({raw.get('id', '?')})"
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise _fail(where, f"missing {', '.join(missing)}")
        unknown = set(raw) - set(_REQUIRED) - {"peer"}
        if unknown:
            raise _fail(where, f"unknown key(s) {', '.join(sorted(unknown))}")
        cid = raw["id"]
        if not _CHECK_ID.match(cid):
            raise _fail(where, "id is not dotted lower-case (e.g. 'tls.weak-cipher')")
        if cid in checks:
            raise _fail(where, "declared twice")
        if raw["side"] not in SIDES:
            raise _fail(where, f"side must be one of {', '.join(SIDES)}")
        if raw["severity"] not in SEVERITIES:
            raise _fail(where, f"severity must be one of {', '.join(SEVERITIES)}")
        control = controls.get(raw["control"])
        if control is None:
            raise _fail(where, f"unknown control {raw['control']!r} (declare it under [controls])")
        if raw["dimension"] != control.dimension:
            raise _fail(where, f"dimension {raw['dimension']!r} differs from control {control.name}'s "
                               f"{control.dimension!r}")  # fmt: skip
        if not _IMPLEMENTED.match(raw["implemented"]):
            raise _fail(where, "implemented must be 'package.module:function'")
        checks[cid] = Entry(
            check_id=cid,
            side=raw["side"],
            control=raw["control"],
            dimension=raw["dimension"],
            severity=raw["severity"],
            title=raw["title"],
            pass_wording=raw["pass"],
            fail_wording=raw["fail"],
            references=tuple(raw["references"]),
            remediation=raw["remediation"],
            implemented=raw["implemented"],
            peer=raw.get("peer"),
        )
    for e in checks.values():  # one control, one severity across the two sides
        if e.peer is None:
            continue
        p = checks.get(e.peer)
        if p is None:
            raise _fail(f"check {e.check_id}", f"peer {e.peer!r} is not in the catalogue")
        if p.side == e.side or p.control != e.control or p.severity != e.severity:
            raise _fail(
                f"check {e.check_id}",
                f"peer {p.check_id} must be on the other side with the same control and severity",
            )
    return Catalogue(controls=controls, checks=checks)


@cache
def load(path: str | None = None) -> Catalogue:
    """The catalogue shipped with apisec (or the file at ``path``), parsed once."""
    if path is not None:
        return parse(Path(path).read_bytes())
    return parse(resources.files("compare").joinpath(CATALOGUE_FILE).read_bytes())


__all__ = ["CATALOGUE_FILE", "Catalogue", "CatalogueError", "Control", "Entry", "load", "parse"]
