"""The flow YAML writer: everything it writes reads back (yaml.safe_load)
as exactly the data it was given — YAML look-alike words, numbers, colons,
comments, indicators, multi-line envelopes, control and line-break
characters — and multi-line envelopes stay readable literal blocks."""

from __future__ import annotations

import random
import string

import yaml

from compare.flow.samples import rest_flow, soap_flow
from compare.flow.yamlout import dump

TRICKY = [
    "", " a", "a ", "yes", "No", "null", "~", "1.1", "0x1", "1e3", "-a", "a: b", "a #b", "#x", "@x", "'q'", '"q"',
    "a\nb", "a\nb\n", "a\nb\n\n", "\na", " a\nb", "a\tb", "a\r\nb", "é ü", "{x}", "[x]", "key:", "http://x:1/a?b=c&d",
    "env:ALICE_TOKEN", "file:../x y.pem", "!tag", "%x", "*a", "&a", "|", ">", "-", "- a", "? a", "a,b", "true",
    "False", "2024-01-01", "12:30", "a  b", "line1\n  indented\nend", "a\u2028b\nc", "x\x85y\nz", "\ufeffbom",
]  # fmt: skip


def test_tricky_strings_and_shapes_round_trip() -> None:
    doc = {
        "s": TRICKY,
        "m": {t or "empty": t for t in TRICKY},
        "nested": [[1, 2], [], {}, [{"a": [1, {"b": None}]}]],
        "n": [1, 2.5, True, False, None, -3],
    }
    assert yaml.safe_load(dump(doc)) == doc


def test_random_strings_round_trip() -> None:
    rnd = random.Random(17)
    alphabet = string.printable + "é\u2028\u2029\x85\ufeff"
    for _ in range(5000):
        t = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        doc = {"k": t, t or "e": [t, {"x": t}]}
        assert yaml.safe_load(dump(doc)) == doc, repr(t)


def test_sample_flows_round_trip_and_envelopes_are_literal_blocks() -> None:
    for flow in (rest_flow(), soap_flow("secure"), soap_flow("legacy")):
        assert yaml.safe_load(dump(flow)) == flow
    text = dump(soap_flow("secure"))
    assert "      body: |\n        <?xml version=" in text
    assert "base_url: https://127.0.0.1:8443/quote" in text  # plain where plain is safe
