"""The quote service's business logic as a plain WSGI application.

It knows nothing about WS-Security: in the ``secure`` configuration
:class:`wssec.wsgi.SecurityMiddleware` sits in front and hands it the
verified Body (``environ["wssec.body"]``); in ``legacy`` it parses the raw
request itself.  ``GET ?wsdl`` returns the WSDL it was built with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from lxml import etree

from wssec.errors import MalformedMessage
from wssec.faults import build_fault, content_type, http_status
from wssec.safexml import parse_xml
from wssec.soap import SOAP_NAMESPACES, envelope_parts

QUOTE_NS = "urn:apisec:samples:quote"
PRICES: dict[str, Decimal] = {
    "ACME": Decimal("123.45"),
    "INITECH": Decimal("42.00"),
    "GLOBEX": Decimal("7.77"),
    "EVIL": Decimal("0.01"),
}
MAX_REQUEST_BYTES = 1024 * 1024


def quote_body(body: etree._Element) -> tuple[str, Decimal]:
    """The symbol asked for and its price; ``KeyError`` for an unknown symbol."""
    req = body.find(f"{{{QUOTE_NS}}}GetQuote")
    if req is None:
        raise MalformedMessage("no GetQuote request in the Body")
    symbol = (req.findtext(f"{{{QUOTE_NS}}}Symbol") or "").strip().upper()
    return symbol, PRICES[symbol]


def response_envelope(version: str, symbol: str, price: Decimal) -> bytes:
    env = SOAP_NAMESPACES[version]
    root = etree.Element(f"{{{env}}}Envelope", nsmap={"soap": env, "q": QUOTE_NS})
    etree.SubElement(root, f"{{{env}}}Header")
    body = etree.SubElement(root, f"{{{env}}}Body")
    resp = etree.SubElement(body, f"{{{QUOTE_NS}}}GetQuoteResponse")
    etree.SubElement(resp, f"{{{QUOTE_NS}}}Symbol").text = symbol
    etree.SubElement(resp, f"{{{QUOTE_NS}}}Price").text = str(price)
    etree.SubElement(resp, f"{{{QUOTE_NS}}}Currency").text = "EUR"
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def make_quote_app(wsdl: Callable[[dict[str, Any]], bytes]) -> Callable[..., Iterable[bytes]]:
    """The WSGI app; ``wsdl(environ)`` renders the WSDL for ``GET ?wsdl``."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if method == "GET":
            if "wsdl" in environ.get("QUERY_STRING", "").lower():
                doc = wsdl(environ)
                start_response(
                    "200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(doc)))]
                )
                return [doc]
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"POST SOAP requests here; GET ?wsdl for the contract\n"]
        if method != "POST":
            start_response("405 Method Not Allowed", [("Allow", "GET, POST")])
            return [b""]
        version = "1.2" if "soap+xml" in environ.get("CONTENT_TYPE", "") else "1.1"
        try:
            body = environ.get("wssec.body")
            if body is None:
                length = min(int(environ.get("CONTENT_LENGTH") or 0), MAX_REQUEST_BYTES)
                root = parse_xml(environ["wsgi.input"].read(length), what="SOAP message")
                version, _, body = envelope_parts(root)
            symbol, price = quote_body(body)
        except KeyError:
            return _fault(start_response, version, "Unknown symbol")
        except (MalformedMessage, ValueError):
            return _fault(start_response, version, "The request could not be processed")
        out = response_envelope(version, symbol, price)
        start_response("200 OK", [("Content-Type", content_type(version)), ("Content-Length", str(len(out)))])
        return [out]

    return app


def _fault(start_response: Callable[..., Any], version: str, reason: str) -> Iterable[bytes]:
    out = build_fault(version, None, reason=reason, sender=True)
    start_response(
        http_status(version), [("Content-Type", content_type(version)), ("Content-Length", str(len(out)))]
    )
    return [out]
