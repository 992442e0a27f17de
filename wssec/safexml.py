"""The one hardened XML parser of apisec.

Every byte of XML that enters apisec (SOAP messages, SAML assertions, WSDL,
policies) goes through :func:`parse_xml`.  Signature wrapping and XML bombs
both start with the parser accepting more than it should, so it refuses:

* any DOCTYPE (so no DTD, no internal or external entities, no billion
  laughs, no quadratic blowup, no XXE through parameter entities);
* XInclude elements (lxml never processes them unless asked; we refuse them
  so a hostile include cannot reach a later, less careful consumer);
* network access and external resources of any kind;
* documents larger than ``max_bytes`` or deeper than ``max_depth``.

Never call ``lxml.etree.fromstring``/``parse`` anywhere else.
"""

from __future__ import annotations

import codecs
import re
import threading

from lxml import etree

from wssec.errors import UnsafeXml

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
"""16 MiB: far above any sane SOAP message, far below memory trouble."""
DEFAULT_MAX_DEPTH = 128
"""SOAP envelopes are shallow; deep nesting is an attack on recursive code."""

XINCLUDE_NAMESPACES = frozenset({"http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"})

_DOCTYPE = re.compile(rb"<!\s*DOCTYPE", re.I)
_ENTITY = re.compile(rb"<!\s*ENTITY", re.I)
_ASCII_BASED = frozenset({"UTF-8", "US-ASCII", "ASCII"})
_DTD_OR_ENTITY = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.I)
"""One scan of the message for either (each scan is a pass over every ``<``)."""


_LOCAL = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's hardened parser (an lxml parser must not be shared
    between threads; building one per document cost more than the checks)."""
    parser = getattr(_LOCAL, "parser", None)
    if parser is None:
        parser = _LOCAL.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        strip_cdata=False,
        collect_ids=False,  # ids are resolved explicitly by the verifier
    )


def _as_scannable(data: bytes) -> bytes:
    """Bytes in which an ASCII ``<!DOCTYPE`` would be visible, whatever the
    document's encoding (UTF-16/32 would otherwise hide it from a byte scan)."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(enc, errors="replace").encode("utf-8", errors="replace")
    if data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        enc = "utf-16-le" if data[0:1] == b"<" else "utf-16-be"
        return data.decode(enc, errors="replace").encode("utf-8", errors="replace")
    return data


def parse_xml(
    data: bytes | str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_depth: int = DEFAULT_MAX_DEPTH,
    what: str = "XML",
) -> etree._Element:
    """Parse untrusted XML safely and return its root element.

    Raises :class:`wssec.errors.UnsafeXml` (a ``MalformedMessage``) with a
    one-line reason for anything refused or unparsable.  ``what`` names the
    input in messages ("SOAP message", "WSDL").
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("parse_xml expects bytes or str")
    data = bytes(data)
    if not data.strip():
        raise UnsafeXml(f"{what} is empty")
    if len(data) > max_bytes:
        raise UnsafeXml(f"{what} is {len(data)} bytes, over the {max_bytes}-byte limit")
    scan = _as_scannable(data)
    if b"<!" in scan and _DTD_OR_ENTITY.search(scan):  # memchr-fast test first: most messages have no "<!"
        if _DOCTYPE.search(scan):
            raise UnsafeXml(f"{what} contains a DOCTYPE (DTDs and entities are refused)")
        raise UnsafeXml(f"{what} declares entities (refused)")
    try:
        root = etree.fromstring(data, _parser())  # noqa: S320 - this *is* the hardened parse
    except etree.XMLSyntaxError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else "syntax error"
        if "depth" in msg.lower():
            raise UnsafeXml(f"{what} is nested too deeply") from None
        raise UnsafeXml(f"{what} is not well-formed XML: {msg}") from None
    if root is None:
        raise UnsafeXml(f"{what} has no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml(f"{what} contains a DOCTYPE (DTDs and entities are refused)")
    # Nesting deeper than max_depth takes at least max_depth start tags (no
    # entity or XInclude can add elements here).  In a UTF-8/ASCII document
    # every start tag is a "<" byte not followed by "/", so with fewer of
    # those than max_depth the depth walk has nothing to find.
    starts = scan.count(b"<") - scan.count(b"</")
    depth = starts >= max_depth or (docinfo.encoding or "").upper() not in _ASCII_BASED
    _check_tree(root, max_depth=max_depth, what=what, depth=depth)
    return root


_XINCLUDE_TAGS = tuple(f"{{{ns}}}*" for ns in sorted(XINCLUDE_NAMESPACES))
_DEPTH_XPATHS: dict[int, etree.XPath] = {}


def _too_deep(max_depth: int) -> etree.XPath:
    """XPath true when any node sits deeper than ``max_depth`` (root = 1)."""
    xp = _DEPTH_XPATHS.get(max_depth)
    if xp is None:
        xp = _DEPTH_XPATHS[max_depth] = etree.XPath("boolean(" + "/*" * max_depth + "/node())")
    return xp


def _check_tree(root: etree._Element, *, max_depth: int, what: str, depth: bool = True) -> None:
    """Depth, XInclude and entity-reference checks, evaluated inside libxml2
    (XPath and C-level iteration): a Python walk over every node cost more
    than parsing itself and sat on the hot path of every signed message.
    ``depth=False``: the caller knows the document cannot be too deep."""
    if depth and _too_deep(max_depth)(root.getroottree()):
        raise UnsafeXml(f"{what} is nested deeper than {max_depth} levels")
    found = next(root.iter(etree.Entity, *_XINCLUDE_TAGS), None)  # one walk for both
    if found is not None:
        if isinstance(found, etree._Entity):
            raise UnsafeXml(f"{what} contains an entity reference (refused)")
        raise UnsafeXml(f"{what} contains an XInclude element (refused)")


def parse_xml_file(path: str, **kwargs: object) -> etree._Element:
    """Read a file (bounded) and parse it with :func:`parse_xml`."""
    max_bytes = int(kwargs.get("max_bytes", DEFAULT_MAX_BYTES))  # type: ignore[arg-type]
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    return parse_xml(data, **kwargs)  # type: ignore[arg-type]


def serialize(element: etree._Element) -> bytes:
    """Serialise without an XML declaration change or pretty-printing (which
    would break signatures)."""
    return etree.tostring(element)


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "parse_xml", "parse_xml_file", "serialize"]
