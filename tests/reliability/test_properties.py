"""Property-based tests (hypothesis) over every hostile-input parser.

The invariant for each target in :mod:`tests.reliability.fuzz_targets`:
whatever the input, the call returns or raises one of the target's
documented error types, within a bounded time (the hypothesis deadline is
a hang detector, generous enough for a loaded CI machine, not a
performance assertion).  Inputs are mutations of real seeds (test vectors
and freshly signed or encrypted messages), at three levels:

* bytes: flips, insertions, deletions, duplications and splices;
* XML structure: attribute values (huge numbers, out-of-range dates, ids),
  text, removed/duplicated/moved subtrees, sibling order, namespaces;
* data model: OpenAPI documents, targets files and JWT claims/headers
  generated as JSON values (nested, huge, wrongly typed), signed with the
  validator's key so they reach the rules behind the signature.

Where a target authenticates (SAML, JWT), an accepted mutation must be
semantically neutral, decided by what the caller reads: the
``VerifiedAssertion`` (subject, issuer, audiences, attributes, conditions,
id) equals the one the unmutated vector yields; an accepted JWT is the
very token that was signed (compact JWS has one canonical spelling).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json

import jwt as pyjwt
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.reliability.fuzz_targets import BUILDERS, Target
from wssec.safexml import parse_xml

BOUNDED = settings(
    max_examples=40,
    deadline=dt.timedelta(seconds=5),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


@functools.cache
def target(name: str) -> Target:
    return BUILDERS[name]()


def _run(t: Target, data: bytes) -> object | None:
    """Run ``t`` on ``data``: a documented error is fine (None), anything else fails the test."""
    try:
        return t.run(data)
    except t.errors:
        return None


# ------------------------------------------------------------------ strategies

INTERESTING = [
    "",
    "0",
    "-1",
    "1e400",
    "9" * 40,
    "-9" * 20,
    "9999-12-31T23:59:59Z",
    "99999-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "2024-02-30T25:61:61Z",
    "#",
    "#x",
    "http://www.w3.org/2000/09/xmldsig#sha1",
    "true",
    "NaN",
]
text_values = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=40),
)


@st.composite
def byte_mutants(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup", "splice", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "dup":
            n = draw(st.integers(1, 256))
            data[pos:pos] = data[pos : pos + n]
        elif op == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, max(0, len(other) - 1)))
            data[pos:] = other[start:]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [e for e in root.iter() if isinstance(e.tag, str)]


@st.composite
def xml_mutants(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with 1-3 structural edits, serialised again."""
    root = parse_xml(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        els = _elements(root)
        el = draw(st.sampled_from(els))
        op = draw(
            st.sampled_from(["attr", "drop-attr", "text", "remove", "duplicate", "move", "swap", "rename-ns"])
        )
        if op == "attr" and el.attrib:
            el.set(draw(st.sampled_from(sorted(el.attrib))), draw(text_values))
        elif op == "drop-attr" and el.attrib:
            del el.attrib[draw(st.sampled_from(sorted(el.attrib)))]
        elif op == "text":
            el.text = draw(text_values)
        elif op == "remove" and el.getparent() is not None:
            el.getparent().remove(el)
        elif op == "duplicate" and el.getparent() is not None:
            host = draw(st.sampled_from(els))
            host.insert(draw(st.integers(0, len(host))), copy.deepcopy(el))
        elif op == "move" and el.getparent() is not None:
            host = draw(st.sampled_from(els))
            if el not in host.iterancestors() and host is not el and el not in list(host.iterancestors()):
                if not any(a is el for a in host.iterancestors()):
                    host.append(el)
        elif op == "swap" and el.getparent() is not None and len(el.getparent()) > 1:
            parent = el.getparent()
            parent.insert(draw(st.integers(0, len(parent) - 1)), el)
        elif op == "rename-ns":
            local = etree.QName(el).localname
            el.tag = (
                f"{{{draw(st.sampled_from(['urn:x', 'http://www.w3.org/2000/09/xmldsig#', '']))}}}{local}"
            )
    return etree.tostring(root)


json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**400, -(10**400), 2**63, 2**64 + 1]),
    st.floats(allow_nan=False, allow_infinity=False),
    text_values,
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(INTERESTING + ["a", "b"]), inner, max_size=4),
    ),
    max_leaves=20,
)


@st.composite
def tree_mutants(draw: st.DrawFn, doc: object) -> object:
    """``doc`` (parsed JSON/YAML) with 1-4 nodes replaced, deleted or added."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 4))):
        node, path = doc, []
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node, key=str) if isinstance(node, dict) else range(len(node))))
            path.append((node, key))
            node = node[key]
        if not path:
            if isinstance(doc, dict):
                doc[draw(st.sampled_from(INTERESTING + ["x-new"]))] = draw(json_values)
            continue
        parent, key = path[-1]
        op = draw(st.sampled_from(["replace", "delete", "add"]))
        if op == "replace":
            parent[key] = draw(json_values)
        elif op == "delete":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(INTERESTING + ["x-new", "$ref"]))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return doc


# ------------------------------------------------------------------ XML parsers


@pytest.mark.parametrize("name", ["safexml", "decryptor", "wsdl", "policy", "saml"])
@BOUNDED
@given(data=st.data())
def test_byte_mutations_raise_only_documented_errors(name: str, data: st.DataObject) -> None:
    t = target(name)
    _run(t, data.draw(byte_mutants(t.seeds)))


def _xml_seeds(t: Target) -> list[bytes]:
    out = []
    for s in t.seeds:
        try:
            parse_xml(s)
            out.append(s)
        except Exception:  # noqa: BLE001 - seeds that are hostile themselves stay byte-level
            continue
    return out


@pytest.mark.parametrize("name", ["safexml", "decryptor", "wsdl", "policy"])
@BOUNDED
@given(data=st.data())
def test_xml_mutations_raise_only_documented_errors(name: str, data: st.DataObject) -> None:
    t = target(name)
    _run(t, data.draw(xml_mutants(_xml_seeds(t))))


@functools.cache
def _saml_accepted() -> dict[bytes, object]:
    """The vectors that verify, with what they yield unmutated."""
    t = target("saml")
    return {s: r for s in _xml_seeds(t) if (r := _run(t, s)) is not None}


@BOUNDED
@given(data=st.data())
def test_saml_mutations_are_refused_unless_neutral(data: st.DataObject) -> None:
    accepted = _saml_accepted()
    assert len(accepted) >= 5  # the property needs valid vectors to mutate
    seed = data.draw(st.sampled_from(sorted(accepted)))
    mutant = data.draw(xml_mutants([seed]))
    result = _run(target("saml"), mutant)
    if result is not None:
        assert result == accepted[seed], "a mutated assertion was accepted with different content"


# ------------------------------------------------------------------ JWT


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


KEY = b"fuzz-secret-key-of-32-bytes-long!"


@st.composite
def signed_tokens(draw: st.DrawFn) -> str:
    """Tokens whose MAC is right, so the header and claim rules are what is tested."""
    header = {"alg": "HS256", "typ": "JWT"}
    header.update(
        draw(st.dictionaries(st.sampled_from(["kid", "crit", "b64", "typ", "x5c", "jku", "n"]), json_values))
    )
    claims = draw(
        st.dictionaries(
            st.sampled_from(["exp", "nbf", "iat", "aud", "iss", "sub", "auth_time"]), json_values, max_size=6
        )
    )
    signing_input = (
        _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims, allow_nan=False).encode())
    )
    import hashlib
    import hmac

    return signing_input + "." + _b64(hmac.new(KEY, signing_input.encode(), hashlib.sha256).digest())


@BOUNDED
@given(token=signed_tokens())
def test_jwt_signed_hostile_claims_raise_only_token_rejected(token: str) -> None:
    _run(target("jwt"), token.encode())


@BOUNDED
@given(data=st.data())
def test_jwt_mutated_tokens_are_refused_unless_identical(data: st.DataObject) -> None:
    t = target("jwt")
    seeds = [s for s in t.seeds if not s.startswith(b"{")]
    good = pyjwt.encode({"sub": "a", "exp": 1_700_000_600, "aud": "api"}, KEY, "HS256").encode()
    mutant = data.draw(byte_mutants([good, *seeds]))
    if _run(t, mutant) is not None:  # accepted
        assert mutant == good


# ------------------------------------------------------------------ documents


@functools.cache
def _openapi_docs() -> list[object]:
    from rest.openapi.loader import parse_document

    return [parse_document(s) for s in target("openapi").seeds]


@settings(BOUNDED, max_examples=20)
@given(data=st.data())
def test_openapi_mutations_raise_only_bad_input(data: st.DataObject) -> None:
    doc = data.draw(tree_mutants(data.draw(st.sampled_from(_openapi_docs()))))
    as_json = data.draw(st.booleans())
    raw = json.dumps(doc).encode() if as_json else yaml.safe_dump(doc).encode()
    _run(target("openapi"), raw)


@settings(BOUNDED, max_examples=20)
@given(data=st.data())
def test_openapi_byte_mutations_raise_only_bad_input(data: st.DataObject) -> None:
    t = target("openapi")
    _run(t, data.draw(byte_mutants(t.seeds)))


@BOUNDED
@given(data=st.data())
def test_targets_file_mutations_raise_only_config_error(data: st.DataObject) -> None:
    t = target("targets")
    yaml_seed = next(s for s in t.seeds if s.startswith(b"Y"))
    doc = data.draw(tree_mutants(yaml.safe_load(yaml_seed[1:])))
    _run(t, b"Y" + yaml.safe_dump(doc).encode())
    _run(t, data.draw(byte_mutants(t.seeds)))
