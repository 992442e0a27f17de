"""The contract loader refuses every contract openapi-spec-validator refuses,
on its fast path too: the jsonschema-rs schema backend reaches the same
verdict as the pure-Python one on valid and invalid contracts, libyaml reads
YAML as the pure-Python loader does (aliases bounded alike), and the
loader's cache hands out copies a caller may change freely."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema_path import SchemaPath
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator
from openapi_spec_validator.schemas import get_validator_backend, schema_v30, schema_v31
from openapi_spec_validator.schemas.backend import jsonschema as python_backend
from openapi_spec_validator.schemas.backend import jsonschema_rs as rust_backend

from apisec_samples.rest_service import OPENAPI
from rest import safeyaml
from rest.errors import BadInput
from rest.openapi import loader
from rest.openapi.loader import load_spec, parse_document

DATA = Path(__file__).parent / "data"
OK = {"200": {"description": "ok"}}


def _v31() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/a/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "get": {"operationId": "getA", "responses": copy.deepcopy(OK)},
                "post": {
                    "operationId": "postA",
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}
                    },
                    "responses": copy.deepcopy(OK),
                },
            }
        },
        "components": {
            "schemas": {"A": {"type": "object", "properties": {"n": {"type": "integer", "default": 1}}}},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _v30() -> dict[str, Any]:
    doc = _v31()
    doc["openapi"] = "3.0.3"
    return doc


def _get(d: dict[str, Any]) -> dict[str, Any]:
    return d["paths"]["/a/{id}"]["get"]


INVALID: dict[str, Callable[[dict[str, Any]], Any]] = {
    # missing required fields
    "no info": lambda d: d.pop("info"),
    "info without version": lambda d: d["info"].pop("version"),
    "response without description": lambda d: _get(d)["responses"]["200"].pop("description"),
    "parameter without name": lambda d: d["paths"]["/a/{id}"]["parameters"][0].pop("name"),
    # wrong types
    "security is a string": lambda d: _get(d).update(security="bearer"),
    "info.version is a number": lambda d: d["info"].update(version=1),
    "server url is a number": lambda d: d.update(servers=[{"url": 3}]),
    "parameter in body": lambda d: _get(d).update(parameters=[{"name": "q", "in": "body"}]),
    "schema type misspelt": lambda d: d["components"]["schemas"].update(B={"type": "integr"}),
    "schema minimum is a string": lambda d: d["components"]["schemas"].update(B={"minimum": "x"}),
    "unknown top-level field": lambda d: d.update(surprise=1),
    "response code not a status": lambda d: _get(d)["responses"].update(abc={"description": "x"}),
    # openapi-spec-validator's own checks
    "duplicate operationId": lambda d: _get(d).update(operationId="postA"),
    "undeclared path parameter": lambda d: d["paths"].update({"/b/{x}": {"get": {"responses": OK}}}),
    "default of the wrong type": lambda d: d["components"]["schemas"]["A"]["properties"]["n"].update(
        default="one"
    ),
    # bad $ref
    "schema $ref to nowhere": lambda d: d["components"]["schemas"]["A"]["properties"].update(
        m={"$ref": "#/components/schemas/Nope"}
    ),
    "response $ref to nowhere": lambda d: _get(d)["responses"].update(
        {"404": {"$ref": "#/components/responses/x"}}
    ),
    "path item $ref to the network": lambda d: d["paths"].update(
        {"/remote": {"$ref": "http://169.254.169.254/latest/meta-data"}}
    ),
    "parameter $ref to nowhere": lambda d: _get(d).update(parameters=[{"$ref": "#/components/parameters/x"}]),
}

VALID: dict[str, Callable[[dict[str, Any]], Any]] = {
    "as built": lambda d: None,
    "extension field": lambda d: d.update({"x-internal": True}),
    "public operation": lambda d: _get(d).update(security=[]),
    "server with variables": lambda d: d.update(
        servers=[{"url": "https://{h}/v1", "variables": {"h": {"default": "api.example.test"}}}]
    ),
}


def _cases(table: dict[str, Callable[[dict[str, Any]], Any]]) -> list[Any]:
    return [pytest.param(make, mutate, id=f"{make.__name__[1:]}-{name}") for name, mutate in table.items() for make in (_v30, _v31)]  # fmt: skip


def _verdict(doc: dict[str, Any], backend: Any) -> str:
    """openapi-spec-validator's verdict with a given schema backend: 'valid',
    the first error's kind, or the exception it raised."""
    cls, schema = (OpenAPIV31SpecValidator, schema_v31) if doc["openapi"] == "3.1.0" else (OpenAPIV30SpecValidator, schema_v30)  # fmt: skip
    validator = type("V", (cls,), {"schema_validator": backend.create_validator(dict(schema))})
    try:
        errors = list(validator(SchemaPath.from_dict(copy.deepcopy(doc))).iter_errors())
    except Exception as exc:  # noqa: BLE001 - an unresolvable $ref is a verdict too
        return f"raised {type(exc).__name__}"
    return "invalid" if errors else "valid"


@pytest.mark.parametrize("make, mutate", _cases(INVALID))
def test_invalid_contracts_are_refused_with_one_line(make, mutate) -> None:
    doc = make()
    mutate(doc)
    with pytest.raises(BadInput) as err:
        load_spec(doc)
    msg = str(err.value)
    assert "\n" not in msg and ("invalid OpenAPI" in msg or "$ref" in msg), msg
    assert "On instance" not in msg  # the Rust backend's instance dump is cut off


@pytest.mark.parametrize("make, mutate", _cases(INVALID) + _cases(VALID))
def test_fast_schema_backend_reaches_the_python_backends_verdict(make, mutate) -> None:
    doc = make()
    mutate(doc)
    assert _verdict(doc, rust_backend) == _verdict(doc, python_backend)


@pytest.mark.parametrize("make, mutate", _cases(VALID))
def test_valid_contracts_are_accepted(make, mutate) -> None:
    doc = make()
    mutate(doc)
    assert [o.operation_id for o in load_spec(doc).operations] == ["getA", "postA"]


@pytest.mark.parametrize("path", [OPENAPI, DATA / "good-openapi.json", DATA / "bad-openapi.yaml"])
def test_shipped_contracts_are_valid_on_both_backends(path: Path) -> None:
    doc = parse_document(Path(path).read_bytes())
    assert _verdict(doc, rust_backend) == _verdict(doc, python_backend) == "valid"
    load_spec(path)


def test_invalid_file_refused_on_both_backends() -> None:
    doc = parse_document((DATA / "invalid-openapi.yaml").read_bytes())
    assert _verdict(doc, rust_backend) == _verdict(doc, python_backend) == "invalid"
    with pytest.raises(BadInput, match=r"invalid OpenAPI 3\.0\.3 document at paths//x/get/security"):
        load_spec(DATA / "invalid-openapi.yaml")


def test_loader_runs_on_the_fast_backends() -> None:
    # jsonschema-rs is a dependency; libyaml ships in PyPI's PyYAML wheels
    assert get_validator_backend() == "jsonschema-rs"
    assert safeyaml.using_libyaml()


# ------------------------------------------------------------------ YAML


def _python_load(text: str) -> Any:
    class Pure(yaml.SafeLoader):
        yaml_implicit_resolvers = safeyaml._Loader.yaml_implicit_resolvers

    return yaml.load(text, Loader=Pure)  # noqa: S506 - a SafeLoader subclass


@pytest.mark.parametrize("path", [OPENAPI, DATA / "bad-openapi.yaml", DATA / "invalid-openapi.yaml"])
def test_libyaml_reads_what_the_python_loader_reads(path: Path) -> None:
    text = Path(path).read_text(encoding="utf-8")
    assert safeyaml.load(text) == _python_load(text)


def test_yaml_keeps_dates_as_strings_and_merges_keys() -> None:
    text = "version: 2024-01-01\nbase: &b {a: 1}\nuse: {<<: *b, c: 2}\n"
    assert safeyaml.load(text) == {"version": "2024-01-01", "base": {"a": 1}, "use": {"a": 1, "c": 2}}


def test_alias_limit_counts_every_alias_on_both_parsers(monkeypatch) -> None:
    at_limit = "a: &a [1]\nb: [" + ", ".join(["*a"] * safeyaml.MAX_YAML_ALIASES) + "]\n"
    over = "a: &a [1]\nb: [" + ", ".join(["*a"] * (safeyaml.MAX_YAML_ALIASES + 1)) + "]\n"
    assert len(safeyaml.load(at_limit)["b"]) == safeyaml.MAX_YAML_ALIASES
    with pytest.raises(yaml.YAMLError, match="aliases"):
        safeyaml.load(over)
    with pytest.raises(yaml.YAMLError, match="aliases"):
        safeyaml.load("a: &a [x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" + "c: [" + ", ".join(["*b"] * 300) + "]\n")  # fmt: skip

    # the fallback when PyYAML lacks libyaml
    monkeypatch.setattr(safeyaml, "_Loader", safeyaml._make_loader(yaml.SafeLoader))
    assert len(safeyaml.load(at_limit)["b"]) == safeyaml.MAX_YAML_ALIASES
    with pytest.raises(yaml.YAMLError, match="aliases"):
        safeyaml.load(over)


def test_recursive_yaml_is_refused_not_expanded() -> None:
    with pytest.raises(BadInput, match="JSON cannot represent|aliases"):
        parse_document(b"openapi: 3.1.0\nx: &a [*a]\n")


# ------------------------------------------------------------------ the cache


def test_cached_contract_is_a_copy_per_caller(tmp_path: Path, monkeypatch) -> None:
    p = tmp_path / "api.json"
    p.write_text(json.dumps(_v31()), encoding="utf-8")
    loads: list[int] = []
    real = loader._load_spec
    monkeypatch.setattr(loader, "_load_spec", lambda spec: loads.append(1) or real(spec))
    first = load_spec(p)
    first.data["paths"].clear()  # a careless caller
    first.operations[0].parameters[0].__dict__["name"] = "mangled"
    first.schemes["bearer"].flows["x"] = {}
    second = load_spec(p)
    assert loads == [1]  # not parsed or validated again
    assert "/a/{id}" in second.data["paths"] and second.operations[0].parameters[0].name == "id"
    assert second.schemes["bearer"].flows == {}
    second.data["info"]["title"] = "changed"
    assert load_spec(p).data["info"]["title"] == "t"


# ------------------------------------------------------------------ the index


def _ref_heavy(tmp_path: Path) -> Path:
    (tmp_path / "schemes.yaml").write_text(
        yaml.safe_dump({"basic": {"type": "http", "scheme": "Basic"}}), encoding="utf-8"
    )
    doc = _v31()
    doc["paths"]["/a/{id}"]["get"]["parameters"] = [
        {"$ref": "#/components/parameters/q"},
        {"name": "h", "in": "header", "schema": {"type": "string", "enum": ["x", "y"]}},
    ]
    doc["paths"]["/alias/{id}"] = {"$ref": "#/components/pathItems/item"}
    doc["components"]["pathItems"] = {
        "item": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "operationId": "getAlias",
                "parameters": [{"$ref": "#/components/parameters/q"}],
                "responses": OK,
            },
        }
    }
    doc["paths"]["/b"] = {
        "servers": [{"url": "https://{region}.example.test", "variables": {"region": {"default": "eu"}}}],
        "post": {
            "security": [{"basic": []}, {}],
            "parameters": [
                {"name": "p", "in": "query", "schema": {"type": "integer"}, "examples": {"one": {"value": 7}}}
            ],
            "responses": {"201": {"$ref": "#/components/responses/made"}},
        },
    }
    doc["components"]["parameters"] = {
        "q": {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}, "example": "x"},
        "id": {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "example": 3}},
    }
    doc["components"]["responses"] = {"made": {"description": "made"}}
    doc["components"]["securitySchemes"]["basic"] = {"$ref": "schemes.yaml#/basic"}
    doc["components"]["securitySchemes"]["oauth"] = {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "https://t.example.test/token", "scopes": {"r": "read"}}},
    }
    path = tmp_path / "api.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name", ["sample", "good", "bad", "ref-heavy"]
)  # the index reads the data directly until a $ref, then jsonschema-path
def test_index_reads_what_jsonschema_path_reads(name: str, tmp_path: Path) -> None:
    path = {"sample": OPENAPI, "good": DATA / "good-openapi.json", "bad": DATA / "bad-openapi.yaml"}.get(
        name
    ) or _ref_heavy(tmp_path)
    data = parse_document(Path(path).read_bytes())
    root = Path(path).resolve()
    handlers = {"file": loader._ConfinedFileHandler(root.parent)}

    def sp() -> SchemaPath:
        return SchemaPath.from_dict(copy.deepcopy(data), base_uri=root.as_uri(), handlers=handlers)

    direct = loader._index(sp(), data, "x")
    fast = loader._index(loader._DataPath(data, sp()), data, "x")
    assert fast == direct and fast.operations
    assert load_spec(path).operations == direct.operations
    if name == "ref-heavy":
        ops = {(o.method, o.path): o for o in fast.operations}
        assert [(p.name, p.example) for p in ops[("get", "/alias/{id}")].parameters] == [
            ("id", 3),
            ("q", "x"),
        ]
        assert ops[("post", "/b")].servers == ("https://eu.example.test",) and ops[("post", "/b")].public
        assert fast.schemes["basic"].scheme == "basic" and fast.schemes["oauth"].flows
        assert [p.example for p in ops[("post", "/b")].parameters] == [7]
