"""Cost of ``apisec flow generate`` on a large contract.

    nice -n 19 python bench/bench_flow_generate.py [--operations 500] [--runs 5]

The target (issue 17): **generating a flow from a 500-operation contract
takes under 2 s end to end**; the script exits 1 when the median is over.
Measured on the shared 2-core development machine (docs/flows.md, "Cost"):
0.68 s on a nearly quiet machine (2.54 s before, 1.30 s of it the
pure-Python JSON Schema pass of openapi-spec-validator); 1.13 s at load
average 6-9, against 6.29 s for the code before, alternated in the same
session (5.6x).

Synthesises an OpenAPI 3.1 contract with N operations (GET/POST/DELETE on
N/3 resources, path parameters, a JSON request body behind a shared
``$ref`` schema, bearer security) and a roles matrix with a BOLA and a BFLA
row per resource, writes both to a temporary folder, and times the whole
generation (load + validate the contract, read the matrix, build every
step, dump the YAML) with the contract cache cleared first (every CLI run
starts cold).  Beside it: the contract loader alone, the same contract as
YAML, and openapi-spec-validator on the backend the loader uses next to its
pure-Python schema backend (the "before" of the loader), as a ratio, which
stays meaningful on a busy machine where absolute times do not.
Medians of wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

LIMIT_S = 2.0


def contract(operations: int) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    ok = {"200": {"description": "ok"}, "401": {"description": "no"}}
    i = 0
    while sum(len(p) - ("parameters" in p) for p in paths.values()) < operations:
        coll, item = f"/api/r{i}", f"/api/r{i}/{{id}}"
        paths[coll] = {
            "post": {
                "operationId": f"create{i}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                },
                "responses": ok,
            }
        }
        paths[item] = {
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "get": {"operationId": f"get{i}", "responses": ok},
            "delete": {"operationId": f"delete{i}", "responses": ok},
        }
        i += 1
    return {
        "openapi": "3.1.0",
        "info": {"title": "synthetic", "version": "1"},
        "servers": [{"url": "https://api.example.test"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Thing": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "count": {"type": "integer", "minimum": 1}},
                }
            },
        },
    }


def roles(resources: int) -> dict[str, Any]:
    reqs = []
    for i in range(resources):
        reqs.append(
            {"method": "GET", "path": f"/api/r{i}/1", "check": "bola", "allow": ["alice"], "deny": ["bob"]}
        )
        reqs.append({"method": "DELETE", "path": f"/api/r{i}/1", "check": "bfla", "allow": ["admin"],
                     "deny": ["alice", "bob"]})  # fmt: skip
    return {
        "roles": {n: {"token": "${" + n.upper() + "_TOKEN}"} for n in ("alice", "bob", "admin")},
        "requests": reqs,
    }


def _median(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class _NoAliasDumper(yaml.SafeDumper):
    """Writes shared dicts out in full (as contract tools do), not as aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--operations", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    from jsonschema_path import SchemaPath
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate
    from openapi_spec_validator.schemas import get_validator_backend, schema_v31
    from openapi_spec_validator.schemas.backend import jsonschema as python_backend

    from compare.flow.generate_openapi import generate_openapi
    from compare.flow.model import dump_flow
    from rest import safeyaml
    from rest.openapi import loader
    from rest.openapi.loader import load_spec

    spec = contract(args.operations)
    n_ops = sum(len(p) - ("parameters" in p) for p in spec["paths"].values())
    resources = len(spec["paths"]) // 2
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, roles_path = Path(tmp) / "openapi.json", Path(tmp) / "roles.yaml"
        yaml_path = Path(tmp) / "openapi.yaml"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        yaml_path.write_text(yaml.dump(spec, Dumper=_NoAliasDumper, sort_keys=False), encoding="utf-8")
        roles_path.write_text(yaml.safe_dump(roles(resources)), encoding="utf-8")
        result: dict[str, Any] = {}

        def clear_cache() -> None:
            # every CLI run starts with an empty contract cache: clear it, or the
            # warm-up run's load would hide validation from every timed run
            with loader._CACHE_LOCK:
                loader._CACHE.clear()

        loads: list[float] = []
        real_load = loader._load_spec

        def timed_load(spec: Any) -> Any:  # bench-only instrumentation: the contract's share of each run
            t = time.perf_counter()
            try:
                return real_load(spec)
            finally:
                loads.append(time.perf_counter() - t)

        def generate() -> None:
            clear_cache()
            flow, _ = generate_openapi(spec_path, roles=roles_path, public_key="file:k.pem",
                                       expired_token="env:EXPIRED")  # fmt: skip
            result["text"] = dump_flow(flow)  # as the CLI: validated against the flow schema, then written
            result["steps"] = sum(len(op["steps"]) for op in flow["operations"])

        generate()  # warm imports (the CLI pays them once per process too)
        loader._load_spec = timed_load
        try:
            gen = _median(generate, args.runs)
        finally:
            loader._load_spec = real_load
        load = statistics.median(loads)
        load_yaml = _median(lambda: (clear_cache(), load_spec(yaml_path)), args.runs)
        val = _median(lambda: validate(spec), args.runs)
        pure = type("PurePython", (OpenAPIV31SpecValidator,),
                    {"schema_validator": python_backend.create_validator(dict(schema_v31))})  # fmt: skip
        val_py = _median(lambda: list(pure(SchemaPath.from_dict(spec)).iter_errors()), args.runs)
    backend = get_validator_backend()
    parser = "libyaml" if safeyaml.using_libyaml() else "pure-Python PyYAML"
    print(f"contract: {n_ops} operations, {resources} resources; flow: {result['steps']} steps, "
          f"{len(result['text']) // 1024} KiB YAML")  # fmt: skip
    print(f"schema backend: {backend}; YAML parser: {parser}; medians of {args.runs}")
    verdict = "OK" if gen < LIMIT_S else "OVER"
    print(f"flow generate       {gen:7.3f} s  (target: under {LIMIT_S:.1f} s end to end: {verdict})")
    print(f"  of which contract {load:7.3f} s  (rest.openapi.loader: read, validate, index; same runs)")
    print(f"  of which the flow {gen - load:7.3f} s  (roles, steps, flow schema, YAML)")
    print(f"contract as YAML    {load_yaml:7.3f} s  (load_spec of the same contract written as YAML)")
    print(f"spec validation     {val:7.3f} s  (openapi-spec-validator alone, {backend} schema backend)")
    print(f"  pure-Python       {val_py:7.3f} s  (its jsonschema backend, the loader's before): "
          f"{val_py / val:.1f}x slower")  # fmt: skip
    print(f"target/generate: {LIMIT_S / gen:.2f}x headroom")
    return 0 if gen < LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
