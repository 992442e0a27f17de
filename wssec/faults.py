"""SOAP 1.1/1.2 Faults for security refusals, with the WSS 1.1 fault codes.

A refusal tells the client *that* its message was refused and which WSS
category applies (OASIS WSS 1.1 §12), never *why in detail*: no exception
text, no stack trace, no library names.  Those go to the audit log, linked
by the opaque event id the fault carries.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from wssec import errors
from wssec.soap import SOAP11_NS, SOAP12_NS, WSSE_NS

APISEC_NS = "urn:apisec:fault"


@dataclass(frozen=True)
class FaultCode:
    """A WSS 1.1 §12 fault: the QName local part and its canonical reason."""

    local: str
    reason: str


UNSUPPORTED_TOKEN = FaultCode("UnsupportedSecurityToken", "An unsupported token was provided")
UNSUPPORTED_ALGORITHM = FaultCode(
    "UnsupportedAlgorithm", "An unsupported signature or encryption algorithm was used"
)
INVALID_SECURITY = FaultCode(
    "InvalidSecurity", "An error was discovered processing the <wsse:Security> header"
)
INVALID_TOKEN = FaultCode("InvalidSecurityToken", "An invalid security token was provided")
FAILED_AUTHENTICATION = FaultCode(
    "FailedAuthentication", "The security token could not be authenticated or authorized"
)
FAILED_CHECK = FaultCode("FailedCheck", "The signature or decryption was invalid")
TOKEN_UNAVAILABLE = FaultCode("SecurityTokenUnavailable", "Referenced security token could not be retrieved")
MESSAGE_EXPIRED = FaultCode("MessageExpired", "The message has expired")


def fault_code_for(exc: BaseException) -> FaultCode:
    """The WSS fault category of a wssec error (most specific class first)."""
    table: list[tuple[type[BaseException], FaultCode]] = [
        (errors.Expired, MESSAGE_EXPIRED),
        (errors.ReplayDetected, INVALID_SECURITY),
        (errors.InvalidSignature, FAILED_CHECK),
        (errors.DecryptionFailed, FAILED_CHECK),
        (errors.UntrustedKey, INVALID_TOKEN),
        (errors.AuthenticationFailed, FAILED_AUTHENTICATION),
        (errors.KeyLoadError, INVALID_TOKEN),
        (errors.PolicyViolation, INVALID_SECURITY),
        (errors.MalformedMessage, INVALID_SECURITY),
    ]
    for cls, code in table:
        if isinstance(exc, cls):
            return code
    return INVALID_SECURITY


def build_fault(
    soap_version: str,
    code: FaultCode | None,
    *,
    reason: str | None = None,
    sender: bool = True,
    event_id: str | None = None,
) -> bytes:
    """Serialise a SOAP Fault envelope.

    ``code`` None gives a plain Client/Sender (or Server/Receiver) fault with
    ``reason``; otherwise the WSS code is the faultcode (1.1) or the Subcode
    under ``env:Sender`` (1.2).  ``event_id`` goes in the detail so operators
    can find the audit line; nothing else does."""
    text = reason or (code.reason if code else "The request could not be processed")
    if soap_version == "1.2":
        env = SOAP12_NS
        nsmap = {"env": env}
        if code:
            nsmap["wsse"] = WSSE_NS
        root = etree.Element(f"{{{env}}}Envelope", nsmap=nsmap)
        body = etree.SubElement(root, f"{{{env}}}Body")
        fault = etree.SubElement(body, f"{{{env}}}Fault")
        c = etree.SubElement(fault, f"{{{env}}}Code")
        etree.SubElement(c, f"{{{env}}}Value").text = "env:Sender" if sender else "env:Receiver"
        if code:
            sc = etree.SubElement(c, f"{{{env}}}Subcode")
            etree.SubElement(sc, f"{{{env}}}Value").text = f"wsse:{code.local}"
        r = etree.SubElement(fault, f"{{{env}}}Reason")
        t = etree.SubElement(r, f"{{{env}}}Text")
        t.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        t.text = text
        if event_id:
            d = etree.SubElement(fault, f"{{{env}}}Detail")
            etree.SubElement(d, f"{{{APISEC_NS}}}EventId", nsmap={"apisec": APISEC_NS}).text = event_id
    else:
        env = SOAP11_NS
        nsmap = {"soap": env}
        if code:
            nsmap["wsse"] = WSSE_NS
        root = etree.Element(f"{{{env}}}Envelope", nsmap=nsmap)
        body = etree.SubElement(root, f"{{{env}}}Body")
        fault = etree.SubElement(body, f"{{{env}}}Fault")
        etree.SubElement(fault, "faultcode").text = (
            f"wsse:{code.local}" if code else ("soap:Client" if sender else "soap:Server")
        )
        etree.SubElement(fault, "faultstring").text = text
        if event_id:
            d = etree.SubElement(fault, "detail")
            etree.SubElement(d, f"{{{APISEC_NS}}}EventId", nsmap={"apisec": APISEC_NS}).text = event_id
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def content_type(soap_version: str) -> str:
    return "application/soap+xml; charset=utf-8" if soap_version == "1.2" else "text/xml; charset=utf-8"


def http_status(soap_version: str, sender: bool = True) -> str:
    """SOAP 1.1 HTTP binding: every fault is 500; SOAP 1.2: Sender → 400."""
    if soap_version == "1.2" and sender:
        return "400 Bad Request"
    return "500 Internal Server Error"


__all__ = [
    "FAILED_AUTHENTICATION",
    "FAILED_CHECK",
    "FaultCode",
    "INVALID_SECURITY",
    "INVALID_TOKEN",
    "MESSAGE_EXPIRED",
    "build_fault",
    "content_type",
    "fault_code_for",
    "http_status",
]
