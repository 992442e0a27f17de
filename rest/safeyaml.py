"""Safe, bounded YAML reading into the JSON data model, in one place.

Contracts (OpenAPI), roles matrices and flow files are YAML that people
write and that apisec then treats as JSON data.  Every one of them is read
here so the same rules hold everywhere:

* **safe loading only**: PyYAML's safe constructor (no Python objects);
* **libyaml when PyYAML has it** (``yaml.CSafeLoader``): the C parser reads a
  500-operation contract several times faster than the pure-Python one;
  the pure-Python ``SafeLoader`` is the fallback, with the same results;
* **a cap on aliases** (a "billion laughs" document is refused before
  anything expands it): counted on the composed node graph, where every
  reference to a node beyond the first is one alias, so the C and the
  Python parser are bounded alike;
* **timestamps stay strings** (``version: 2024-01-01`` is a string in JSON
  terms, as openapi-spec-validator's own reader reads it).
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_ALIASES = 256

_BASE: type = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
"""libyaml's parser with the safe constructor when PyYAML was built with it."""


def _make_loader(base: type) -> type:
    """A loader class on ``base`` (``CSafeLoader`` or ``SafeLoader``) with
    the timestamp resolver removed and the alias cap applied."""

    class Loader(base):  # type: ignore[misc, valid-type]
        yaml_implicit_resolvers = {
            first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

        def __init__(self, stream: str | bytes) -> None:
            super().__init__(stream)
            self.may_alias = (b"*" if isinstance(stream, bytes) else "*") in stream

        def get_single_data(self) -> Any:  # PyYAML hook: compose, check, then construct
            node = self.get_single_node()
            if node is None:
                return None
            if self.may_alias:  # an alias is written '*name': without a '*' there is none to count
                _check_aliases(node)
            return self.construct_document(node)

    return Loader


_Loader = _make_loader(_BASE)


def _check_aliases(root: yaml.Node) -> None:
    """Refuse a node graph with more than :data:`MAX_YAML_ALIASES` aliases
    (each node is walked once, so a bomb costs no more than its text)."""
    seen: set[int] = set()
    stack: list[Any] = [root]
    aliases = 0
    while stack:
        node = stack.pop()
        if id(node) in seen:
            aliases += 1
            if aliases > MAX_YAML_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_YAML_ALIASES} YAML aliases (alias bomb?)")
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def load(text: str | bytes) -> Any:
    """One YAML document → Python data (dicts, lists, str, int, float, bool,
    None); raises ``yaml.YAMLError`` for bad or hostile YAML."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def using_libyaml() -> bool:
    """Whether :func:`load` runs libyaml's C parser (for benchmarks and tests)."""
    return _BASE is not yaml.SafeLoader
