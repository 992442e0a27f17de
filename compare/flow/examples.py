"""Happy-path values from an OpenAPI contract: a request body or parameter
built from the contract's own examples, defaults and schemas.

Preference order, as a reader of the contract would pick: ``example`` /
``examples`` of the media type, then the schema's ``example`` /
``examples`` / ``default`` / first ``enum`` / ``const``, then a value that
satisfies the schema's type, format and bounds.  Only local ``#/`` refs
are followed (the loader already validated and confined the document).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MAX_DEPTH = 8
_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "email": "user@example.test",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.test/",
    "ipv4": "192.0.2.1",
    "hostname": "example.test",
}


def deref(node: Any, doc: Mapping[str, Any], depth: int = 0) -> Any:
    """Follow a local ``$ref`` chain (bounded)."""
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and depth < _MAX_DEPTH:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return {}
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                return {}
            target = target[part]
        node = target
        depth += 1
    return node


def from_schema(schema: Any, doc: Mapping[str, Any], depth: int = 0) -> Any:
    """A value the schema accepts, preferring the contract's own examples."""
    schema = deref(schema, doc)
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    for key in ("allOf", "oneOf", "anyOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            if key == "allOf":
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    value = from_schema(part, doc, depth + 1)
                    if isinstance(value, dict):
                        merged.update(value)
                return merged
            return from_schema(schema[key][0], doc, depth + 1)
    stype = schema.get("type")
    if isinstance(stype, list):
        stype = next((t for t in stype if t != "null"), "null")
    if stype is None and "properties" in schema:
        stype = "object"
    if stype == "object":
        props = schema.get("properties") or {}
        return {
            str(k): from_schema(v, doc, depth + 1) for k, v in props.items() if isinstance(props, Mapping)
        }
    if stype == "array":
        return [from_schema(schema.get("items", {}), doc, depth + 1)]
    if stype == "integer":
        return int(schema.get("minimum", 1)) if "minimum" in schema else 1
    if stype == "number":
        return float(schema.get("minimum", 1))
    if stype == "boolean":
        return True
    if stype == "string":
        value = _FORMATS.get(str(schema.get("format", "")), "example")
        min_len = schema.get("minLength")
        if isinstance(min_len, int) and len(value) < min_len:
            value = value + "x" * (min_len - len(value))
        return value
    return None


def request_body(operation: Mapping[str, Any], doc: Mapping[str, Any]) -> tuple[str | None, Any]:
    """(media type, body) of an operation's happy-path request, or (None, None)."""
    body = deref(operation.get("requestBody"), doc)
    if not isinstance(body, Mapping):
        return None, None
    content = body.get("content") or {}
    if not isinstance(content, Mapping) or not content:
        return None, None
    media = next((m for m in content if "json" in m), next(iter(content)))
    entry = deref(content[media], doc)
    if not isinstance(entry, Mapping):
        return media, None
    if "example" in entry:
        return media, entry["example"]
    examples = entry.get("examples")
    if isinstance(examples, Mapping) and examples:
        first = deref(next(iter(examples.values())), doc)
        if isinstance(first, Mapping) and "value" in first:
            return media, first["value"]
    return media, from_schema(entry.get("schema", {}), doc)


def parameter_value(param: Any) -> str:
    """A path/query parameter value for the happy path (``rest.openapi.loader.Parameter``)."""
    if param.example is not None:
        return str(param.example)
    if param.schema_type in ("integer", "number"):
        return "1"
    return _FORMATS.get(param.schema_format, "example")
