"""Flow files are validated by jsonschema-rs (fast) with jsonschema's message:
both validators reach the same verdict on the shipped flows and on broken
edits, and `flow generate` validates what it writes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from apisec_samples.rest_service import OPENAPI
from compare.flow import model
from compare.flow.generate_openapi import generate_openapi
from compare.flow.model import FlowError, load_flow, validate

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
FLOWS = [SAMPLES / "rest_service/flow.yaml", SAMPLES / "soap_service/flow-secure.yaml"]


def _rest_flow() -> dict[str, Any]:
    flow, _ = generate_openapi(
        OPENAPI, base_url="https://h:1", expired_token="env:E", public_key="file:k.pem"
    )
    return json.loads(json.dumps(flow))


def _step(f: dict[str, Any]) -> dict[str, Any]:
    return f["operations"][0]["steps"][1]


BROKEN: dict[str, Callable[[dict[str, Any]], Any]] = {
    "no name": lambda f: f.pop("name"),
    "unknown kind": lambda f: f.update(kind="grpc"),
    "token value, not a reference": lambda f: f["connection"]["identities"]["user"].update(token="eyJ.e30.x"),
    "unknown top-level key": lambda f: f.update(extra=1),
    "base_url not a string": lambda f: f["connection"].update(base_url=443),
    "unknown variation": lambda f: _step(f).update(variation="sql-injection"),
    "unknown outcome": lambda f: _step(f)["expect"].update(outcome="maybe"),
    "status not an integer": lambda f: _step(f)["expect"].update(status=["401"]),
    "unknown token kind": lambda f: _step(f)["request"].update(token="stolen"),
    "step without expect": lambda f: _step(f).pop("expect"),
    "empty step name": lambda f: _step(f).update(name=""),
    "operations not a list": lambda f: f.update(operations={}),
    "headers not strings": lambda f: _step(f)["request"].update(headers={"X": 1}),
}


def _python_valid(flow: Any) -> bool:
    return jsonschema.Draft202012Validator(model.schema()).is_valid(
        flow
    )  # the schema as shipped, $refs and all


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_flows_are_refused_by_both_validators(name: str) -> None:
    flow = _rest_flow()
    BROKEN[name](flow)
    assert not _python_valid(flow)
    assert not model._fast_validator().is_valid(flow)
    with pytest.raises(FlowError, match="invalid flow file"):
        validate(flow)


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
def test_shipped_flows_are_valid_for_both_validators(path: Path) -> None:
    flow = load_flow(path)  # validates
    flow.pop("_base_dir")
    assert _python_valid(flow) and model._fast_validator().is_valid(flow)


def test_generated_flow_is_valid_for_both_validators() -> None:
    assert type(model._fast_validator()).__module__.startswith("jsonschema_rs")  # a dependency
    flow = _rest_flow()
    assert _python_valid(flow) and model._fast_validator().is_valid(flow)
    validate(flow)


def test_duplicate_step_names_are_refused() -> None:
    flow = _rest_flow()
    dup = copy.deepcopy(_step(flow))
    flow["operations"][0]["steps"].append(dup)
    with pytest.raises(FlowError, match="step names must be unique"):
        validate(flow)


def test_generated_file_is_one_its_readers_accept(apisec, tmp_path: Path) -> None:
    out = tmp_path / "flow.yaml"
    ok = apisec("flow", "generate", "--openapi", str(OPENAPI), "--base-url", "https://h:1", "-o", str(out))
    assert ok.exit_code == 0, ok.stderr
    load_flow(out)
