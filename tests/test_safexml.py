"""The hardened parser refuses every hostile-XML class, quickly, and parses
benign documents unchanged."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wssec.errors import MalformedMessage, UnsafeXml
from wssec.safexml import parse_xml

DATA = Path(__file__).parent / "vectors" / "defusedxml" / "xmltestdata"


@pytest.mark.parametrize(
    "name",
    [
        "xmlbomb.xml",
        "xmlbomb2.xml",
        "cyclic.xml",
        "quadratic.xml",
        "external.xml",
        "external_file.xml",
        "dtd.xml",
        "dtd_element.xml",
    ],
)
def test_defusedxml_attacks_are_refused(name: str) -> None:
    data = (DATA / name).read_bytes().replace(b"/PATH/TO/xmltestdata", str(DATA).encode())
    start = time.monotonic()
    with pytest.raises(UnsafeXml) as err:
        parse_xml(data)
    assert (
        time.monotonic() - start < 5.0
    )  # a bound on runaway work (an expanded bomb takes minutes), not a benchmark
    assert "\n" not in str(err.value)
    assert isinstance(err.value, MalformedMessage)


@pytest.mark.parametrize("name", ["simple.xml", "simple-ns.xml"])
def test_benign_documents_parse(name: str) -> None:
    root = parse_xml((DATA / name).read_bytes())
    assert root.tag


def test_parameter_entity_xxe_is_refused_in_utf16() -> None:
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>'
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        parse_xml(doc.encode("utf-16"))


def test_xinclude_is_refused() -> None:
    doc = b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" parse="text"/></r>'
    with pytest.raises(UnsafeXml, match="XInclude"):
        parse_xml(doc)


def test_deep_nesting_is_refused() -> None:
    depth = 5000
    doc = b"<a>" * depth + b"</a>" * depth
    with pytest.raises(UnsafeXml, match="nested"):
        parse_xml(doc)
    with pytest.raises(UnsafeXml, match="nested"):
        parse_xml(b"<a>" * 200 + b"</a>" * 200)


def test_size_limit() -> None:
    with pytest.raises(UnsafeXml, match="limit"):
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)


@pytest.mark.parametrize("junk", [b"", b"   ", b"not xml", b"<a><b></a>", b"\x00\x01\x02", b"<a/><b/>"])
def test_junk_is_refused_with_one_line(junk: bytes) -> None:
    with pytest.raises(UnsafeXml) as err:
        parse_xml(junk)
    assert "\n" not in str(err.value)
