"""The flow file: read, validate against its shipped JSON Schema, write, and
resolve its ``env:``/``file:`` references.

A flow is plain data (the YAML people read and edit), so the schema in
``flow-schema-1.json`` *is* the model: everything that reads a flow goes
through :func:`load_flow`, which refuses a document the schema rejects
instead of guessing what a hand edit meant.  Secrets never live in a flow:
credentials are references resolved only when a step is built
(:class:`Secrets`), so a flow can be committed and shared.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from rest import safeyaml

FLOW_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("flow-schema-1.json")
MAX_FLOW_BYTES = 8 * 1024 * 1024


class FlowError(Exception):
    """An unusable flow file, contract or reference (exit 2)."""

    exit_code = 2


class MissingSecret(FlowError):
    """A step needs a secret whose reference cannot be resolved now."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The flow file JSON Schema (draft 2020-12) shipped with apisec."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    """The schema with every local ``#/$defs/…`` reference replaced by its
    target (the flow schema is not recursive): validating a 5000-step flow
    then costs no reference lookups, which were most of the time."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            siblings = {k: v for k, v in node.items() if k != "$ref"}  # only annotations in this schema
            return {**_inline(defs[ref[len("#/$defs/") :]], defs), **siblings}
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    full = schema()
    return jsonschema.Draft202012Validator(_inline(full, full.get("$defs", {})))


@lru_cache(maxsize=1)
def _fast_validator() -> Any:
    try:
        import jsonschema_rs
    except ImportError:  # a dependency; in an environment that lacks it, jsonschema decides (slower)
        return _validator()
    return jsonschema_rs.validator_for(schema())


def validate(flow: Mapping[str, Any]) -> None:
    """Raise :class:`FlowError` (one line) when ``flow`` breaks the schema.

    jsonschema-rs decides (a 5000-step flow in ~10 ms; the pure-Python
    validator took ~3 s); a flow it refuses is validated again by
    ``jsonschema`` for the message (the first error by path, as always), and
    refused even if that one found nothing (``tests/compare/test_flow_rest.py``
    runs both on valid and broken flows)."""
    if isinstance(flow, Mapping) and flow.get("apisec_flow") not in (None, FLOW_VERSION):
        raise FlowError(
            f"flow file version {flow.get('apisec_flow')!r} is not supported (this apisec reads {FLOW_VERSION})"
        )
    if not _fast_validator().is_valid(flow):
        errors = sorted(_validator().iter_errors(flow), key=lambda e: list(e.absolute_path))
        if not errors:  # fail closed: the two validators disagree
            raise FlowError("invalid flow file: refused by the flow schema")
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        raise FlowError(f"invalid flow file at {where}: {' '.join(first.message.split())[:200]}{more}")
    names = [s["name"] for op in flow["operations"] for s in op["steps"]]
    dupes = sorted(n for n, count in Counter(names).items() if count > 1)
    if dupes:
        raise FlowError(f"invalid flow file: step names must be unique ({', '.join(dupes[:3])})")
    identities = flow["connection"].get("identities") or {}
    for op in flow["operations"]:
        for step in op["steps"]:
            who = (step.get("request") or {}).get("identity")
            if who is not None and who not in identities:
                raise FlowError(f"invalid flow file: step {step['name']!r} names unknown identity {who!r}")


def load_flow(path: str | Path) -> dict[str, Any]:
    """Read and validate a flow file (YAML or JSON); records its folder so
    ``file:`` references resolve relative to it."""
    p = Path(path)
    if not p.is_file():
        raise FlowError(f"flow file not found: {p}")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise FlowError(f"cannot read flow file {p}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FLOW_BYTES:
        raise FlowError(f"flow file {p} is larger than {MAX_FLOW_BYTES} bytes")
    try:
        data = safeyaml.load(raw.decode("utf-8"))  # libyaml, aliases bounded, dates stay strings
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise FlowError(f"flow file {p} is not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(data, dict):
        raise FlowError(f"flow file {p} must be a mapping at the top level")
    validate(data)
    data["_base_dir"] = str(p.resolve().parent)
    return data


def dump_flow(flow: Mapping[str, Any], *, check: bool = True) -> str:
    """The flow as YAML (stable key order as built, readable block style);
    ``check=False`` when the caller has just validated it."""
    clean = {k: v for k, v in flow.items() if not k.startswith("_")}
    if check:
        validate(clean)
    header = (
        f"# apisec flow file (schema version {FLOW_VERSION}, see docs/flows.md).\n"
        "# Credentials are env:/file: references only; edit steps freely, then\n"
        "#   apisec flow preview THIS_FILE  |  apisec flow run THIS_FILE  |  apisec flow export THIS_FILE --postman C.json\n"
    )
    from compare.flow.yamlout import dump

    return header + dump(clean)


def steps(flow: Mapping[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Every (operation, step) pair in file order."""
    return [(op, step) for op in flow["operations"] for step in op["steps"]]


def select(
    flow: Mapping[str, Any], only: list[str] | None, *, with_happy_path: bool = False
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The steps named by ``only`` (a step name, an operation name or a
    variation); all steps when ``only`` is empty.  An ``only`` that matches
    nothing is an input error, not an empty (green) run.  ``with_happy_path``
    adds the happy path of every operation a chosen step belongs to (what
    ``flow run`` needs to judge refusals)."""
    pairs = steps(flow)
    if not only:
        return pairs
    wanted = set(only)
    chosen = [(o, s) for o, s in pairs if wanted & {s["name"], o["name"], s["variation"]}]
    matched = {n for o, s in chosen for n in (s["name"], o["name"], s["variation"])}
    unknown = sorted(wanted - matched)
    if unknown:
        raise FlowError(f"--only names no step, operation or variation: {', '.join(unknown)}")
    if with_happy_path:  # a refusal proves something only after its operation's happy path was accepted
        ops = {id(o) for o, _s in chosen}
        chosen_ids = {id(s) for _o, s in chosen}
        chosen = [
            (o, s) for o, s in pairs
            if id(s) in chosen_ids or (id(o) in ops and s["variation"] == "happy-path")
        ]  # fmt: skip
    return chosen


class Secrets:
    """Resolves ``env:NAME`` / ``file:PATH`` references of one flow.

    ``env`` defaults to the process environment; file paths are relative to
    the flow file's folder.  Every resolved value is remembered so reports
    can redact it (:attr:`values`).
    """

    def __init__(self, base_dir: str | Path | None = None, env: Mapping[str, str] | None = None) -> None:
        self.base_dir = Path(base_dir) if base_dir else Path.cwd()
        self.env = os.environ if env is None else env
        self.values: list[str] = []

    def available(self, ref: str | None) -> bool:
        if not ref:
            return False
        kind, _, name = ref.partition(":")
        if kind == "env":
            return bool(self.env.get(name))
        return kind == "file" and (self.base_dir / name).is_file()

    def get(self, ref: str, *, what: str = "secret") -> str:
        """The value behind ``ref``; :class:`MissingSecret` when it is not there."""
        kind, _, name = ref.partition(":")
        if kind == "env":
            value = self.env.get(name)
            if not value:
                raise MissingSecret(f"{what} needs the environment variable {name} (from {ref})")
        elif kind == "file":
            path = self.base_dir / name
            try:
                value = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise MissingSecret(f"{what}: cannot read {path} (from {ref}): {exc}") from None
        else:
            raise FlowError(f"{what}: {ref!r} is not an env:NAME or file:PATH reference")
        value = value.strip() if kind == "env" else value
        self.values.append(value)
        return value

    def path(self, ref: str) -> Path:
        """The file behind a ``file:`` reference (keys and certificates)."""
        kind, _, name = ref.partition(":")
        if kind != "file":
            raise FlowError(f"{ref!r} must be a file:PATH reference")
        path = self.base_dir / name
        if not path.is_file():
            raise MissingSecret(f"file not found: {path} (from {ref})")
        return path
