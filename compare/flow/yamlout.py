"""Write a flow (JSON data: dicts, lists, strings, numbers, booleans, null)
as block-style YAML people can read and edit.

Why not ``yaml.dump``: PyYAML's representer walks every node in Python and
dominated ``flow generate`` on large contracts (over half of the time for
a 5000-step flow).  A flow holds only JSON data, so this emitter is small:
a string is written plain only when it matches a conservative pattern that
YAML 1.1 and 1.2 both read back as that same string; multi-line strings
become literal blocks; everything else is a JSON string, which is a valid
YAML double-quoted scalar.  The tests load every emitted flow back with
``yaml.safe_load`` and compare it with the data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_PLAIN = re.compile(r"[A-Za-z/][A-Za-z0-9_./@+-]*(?::[A-Za-z0-9_./@+-]+)*(?: [A-Za-z0-9_./@+()'-]+)*")
"""Starts with a letter or '/', no ': ', no ' #', no trailing ':' or space,
no flow indicators, quotes or other YAML punctuation at the start."""
_RESERVED = frozenset(
    "y n yes no on off true false null ~ nan inf".split()
)  # read as booleans/null/numbers by some YAML 1.1 loaders


_UNSAFE_IN_BLOCK = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
"""Characters a literal block cannot carry as-is (controls, tabs, CR, and what YAML reads as line breaks)."""


_YAML_BREAKS = re.compile("[\x7f-\x9f\u2028\u2029\ufeff]")
"""Left raw by JSON, but line breaks (or invisible) to a YAML reader: escaped."""


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    quoted = json.dumps(text, ensure_ascii=False)  # JSON escapes the C0 controls, " and \
    return _YAML_BREAKS.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _literal(text: str, indent: str) -> str | None:
    """A literal block for a multi-line string, or None when a block cannot
    carry it exactly (leading spaces, tabs, carriage returns, blank end)."""
    if _UNSAFE_IN_BLOCK.search(text) or text[:1] in (" ", "\n") or not text.strip():
        return None
    chomp = (
        ""
        if text.endswith("\n") and not text.endswith("\n\n")
        else ("-" if not text.endswith("\n") else None)
    )
    if chomp is None:
        return None
    body = text[:-1] if text.endswith("\n") else text
    lines = [(indent + line) if line else "" for line in body.split("\n")]
    return f"|{chomp}\n" + "\n".join(lines)


def _value(value: Any, indent: str) -> str:
    """The text after ``key:`` or ``-`` for a scalar or empty collection; None for a block."""
    if isinstance(value, str) and "\n" in value:
        block = _literal(value, indent + "  ")
        if block is not None:
            return " " + block
    if isinstance(value, Mapping) and not value:
        return " {}"
    if isinstance(value, list) and not value:
        return " []"
    return " " + _scalar(value)


def _emit(data: Any, indent: str, out: list[str]) -> None:
    if isinstance(data, Mapping):
        for key, value in data.items():
            head = f"{indent}{_scalar(str(key))}:"
            if isinstance(value, (Mapping, list)) and value:
                out.append(head)
                _emit(value, indent + "  ", out) if isinstance(value, Mapping) else _emit(value, indent, out)
            else:
                out.append(head + _value(value, indent))
    else:
        for item in data:
            if isinstance(item, Mapping) and item:
                inner: list[str] = []
                _emit(item, indent + "  ", inner)
                out.append(indent + "- " + inner[0][len(indent) + 2 :])
                out.extend(inner[1:])
            elif isinstance(item, list) and item:
                inner = []
                _emit(item, indent + "  ", inner)
                out.append(indent + "- " + inner[0][len(indent) + 2 :])
                out.extend(inner[1:])
            else:
                out.append(indent + "-" + _value(item, indent))


def dump(data: Mapping[str, Any]) -> str:
    """``data`` as block YAML, keys in insertion order."""
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out) + "\n"
