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
from functools import lru_cache
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
    return _text(str(value))


@lru_cache(maxsize=8192)
def _text(text: str) -> str:
    """A string scalar; memoised: a flow repeats the same keys and values
    (``request:``, ``refused``, step names' parts) thousands of times."""
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


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None)})
_MAP, _LIST, _SCALAR = 1, 2, 0


def _kind(value: Any) -> int:
    """Mapping, list or scalar; exact types first (a flow is plain JSON data,
    and the ABC check ``isinstance(v, Mapping)`` was a third of the dump)."""
    t = type(value)
    if t is dict:
        return _MAP
    if t is list:
        return _LIST
    if t in _SCALAR_TYPES:
        return _SCALAR
    return _MAP if isinstance(value, Mapping) else _LIST if isinstance(value, list) else _SCALAR


def _value(value: Any, indent: str, kind: int) -> str:
    """The text after ``key:`` or ``-`` for a scalar or empty collection."""
    if kind == _MAP:
        return " {}"
    if kind == _LIST:
        return " []"
    if type(value) is str:
        if "\n" in value:
            block = _literal(value, indent + "  ")
            if block is not None:
                return " " + block
        return " " + _text(value)
    return " " + _scalar(value)


def _emit(data: Any, indent: str, out: list[str]) -> None:
    if _kind(data) == _MAP:
        for key, value in data.items():
            head = f"{indent}{_text(key) if type(key) is str else _scalar(str(key))}:"
            kind = _kind(value)
            if kind != _SCALAR and value:
                out.append(head)
                _emit(value, indent + "  " if kind == _MAP else indent, out)
            else:
                out.append(head + _value(value, indent, kind))
    else:
        for item in data:
            kind = _kind(item)
            if kind != _SCALAR and item:
                inner: list[str] = []
                _emit(item, indent + "  ", inner)
                out.append(indent + "- " + inner[0][len(indent) + 2 :])
                out.extend(inner[1:])
            else:
                out.append(indent + "-" + _value(item, indent, kind))


def dump(data: Mapping[str, Any]) -> str:
    """``data`` as block YAML, keys in insertion order."""
    out: list[str] = []
    _emit(data, "", out)
    return "\n".join(out) + "\n"
