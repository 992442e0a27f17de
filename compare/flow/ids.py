"""Check ids of flow steps (``flow.<variation>``), read from the check catalogue.

A flow step tests the same control as an existing probe (the alg-none step
tests what ``jwt.none-alg`` tests), so each flow id has that check's side,
control, dimension, severity, references and remediation: the same control
keeps the same severity wherever it is tested.  All of it is declared once,
as data, in ``compare/catalogue.toml``: a ``flow.*`` entry names the check
it mirrors as its first reference (``"apisec jwt.none-alg"``) and its pass
wording is what the step shows when it passes (``tests/compare/
test_catalogue.py`` holds each entry to the check it names).  The happy
paths have their own entries (a happy path that is not accepted leaves the
flow without proof, reported as ``error``); the SOAP one is
``flow.soap-happy-path``.  This module only maps a step's variation to its
entry, so a new variation is one catalogue entry (and its generator).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from compare.catalogue import Entry, load

PREFIX = "flow."
_MIRRORS = "apisec "
"""How a flow entry's first reference names the check whose control it tests."""


@cache
def entries() -> Mapping[str, Entry]:
    """Variation → catalogue entry, for every ``flow.*`` check (``soap-happy-path`` included)."""
    return {e.check_id[len(PREFIX) :]: e for e in load().checks.values() if e.check_id.startswith(PREFIX)}


def check_id(variation: str, kind: str = "rest") -> str:
    """The check id a step of ``variation`` reports under (``KeyError`` for a
    variation the catalogue does not declare: the flow schema admits none)."""
    if variation == "happy-path" and kind == "soap":
        variation = "soap-happy-path"
    return entries()[variation].check_id


def mirrored_check(variation: str) -> str | None:
    """The check whose control ``variation`` tests (``jwt.none-alg`` for
    ``alg-none``), from its entry's first reference; ``None`` for the happy
    paths, which test the flow itself."""
    refs = entries()[variation].references
    if refs and refs[0].startswith(_MIRRORS):
        return refs[0][len(_MIRRORS) :]
    return None
