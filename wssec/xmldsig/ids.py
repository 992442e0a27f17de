"""One ID map for every XML-DSig reference apisec resolves (WS-Security and
SAML alike), refusing duplicates.

All ID-like attributes count together: a same-document reference ``#x``
must name exactly one element whichever attribute a (possibly lax) resolver
reads — WSS4J reads wsu:Id/Id/ID, SAML processors ID/AssertionID/ResponseID,
xml-crypto also ``id``.  A duplicate is how signature-wrapping variants make
the verifier and the application look at different elements, so it is
refused for the whole document.
"""

from __future__ import annotations

from lxml import etree

from wssec.errors import MalformedMessage

WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

#: Every attribute that can carry an XML id a Reference may point at.
ID_ATTRIBUTES: tuple[str, ...] = (
    f"{{{WSU_NS}}}Id",
    "Id",
    "ID",
    "id",
    "AssertionID",
    "ResponseID",
    "RequestID",
)

_ID_XPATH = etree.XPath(
    "|".join(f"//@{a}" for a in ID_ATTRIBUTES if not a.startswith("{")) + "|//@wsu:Id",
    namespaces={"wsu": WSU_NS},
)


def id_map(root: etree._Element) -> dict[str, etree._Element]:
    """Map every id in the document to its element, refusing duplicates
    (MalformedMessage).  Two id attributes with one value on *one* element
    name one element and are fine.  (One XPath inside libxml2 finds the
    attributes: this runs on every verified message.)"""
    ids: dict[str, etree._Element] = {}
    for value in _ID_XPATH(root):
        el = value.getparent()
        key = str(value)
        prev = ids.get(key)
        if prev is not None:
            if prev is el:
                continue
            raise MalformedMessage(f"duplicate id {key!r} in the document (signature wrapping refused)")
        ids[key] = el
    return ids


__all__ = ["ID_ATTRIBUTES", "id_map"]
