"""The result of SAML verification: the assertion *as signed*.

Every field is read from the exact element the signature's Reference resolved
to (``element``), never from a look-alike elsewhere in the document, and text
is the full text of each node (text split by comments is joined, so
``support<!---->@evil.com`` reads as ``support@evil.com``: the
CVE-2017-11427 class).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from lxml import etree


@dataclass(frozen=True)
class VerifiedAssertion:
    """A SAML 1.1 or 2.0 assertion whose signature, issuer key and conditions verified."""

    subject: str
    """NameID (2.0) / NameIdentifier (1.1) text: the authenticated principal."""
    issuer: str
    """The assertion's Issuer (the IdP / STS entity id)."""
    audiences: tuple[str, ...]
    """Every Audience listed in the AudienceRestriction(s), in document order."""
    attributes: dict[str, list[str]]
    """Attribute name -> values (full text of each AttributeValue)."""
    confirmation: str
    """``bearer``, ``sender-vouches`` or ``holder-of-key`` (the confirmation that was satisfied)."""
    confirmation_certificate: x509.Certificate | None
    """For holder-of-key: the certificate of the key the presenter must prove; else None."""
    not_before: dt.datetime | None
    """Conditions/@NotBefore (UTC)."""
    not_on_or_after: dt.datetime | None
    """The earliest expiry of Conditions and the satisfied SubjectConfirmationData (UTC)."""
    assertion_id: str
    """ID (2.0) / AssertionID (1.1)."""
    version: str
    """``"2.0"`` or ``"1.1"``."""
    element: etree._Element = field(repr=False, compare=False)
    """The signed (or signed-Response-covered) assertion element, in the caller's tree."""
    signer_certificate: x509.Certificate = field(repr=False, compare=False)
    """Certificate whose key verified the signature that covers the assertion."""
    signed_by: str = "assertion"
    """``assertion``, ``response`` or ``both``: which signature(s) cover it."""
    subject_format: str | None = None
    """NameID Format, if given."""
    audience: str | None = None
    """The audience that matched the caller's requirement (else the first listed)."""
    issue_instant: dt.datetime | None = None
    authn_instant: dt.datetime | None = None
    authn_context: str | None = None
    """AuthnContextClassRef (2.0) / AuthenticationMethod (1.1)."""
    session_index: str | None = None
    recipient: str | None = None
    """SubjectConfirmationData/@Recipient of the satisfied confirmation (2.0)."""
    in_response_to: str | None = None
    response_id: str | None = None
    """ID of the enclosing samlp:Response, when one was given."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form the CLI prints (stable field names)."""

        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "valid": True,
            "subject": self.subject,
            "subject_format": self.subject_format,
            "issuer": self.issuer,
            "audience": self.audience,
            "audiences": list(self.audiences),
            "attributes": {k: list(v) for k, v in self.attributes.items()},
            "confirmation": self.confirmation,
            "confirmation_certificate": (
                self.confirmation_certificate.subject.rfc4514_string()
                if self.confirmation_certificate
                else None
            ),
            "not_before": iso(self.not_before),
            "not_on_or_after": iso(self.not_on_or_after),
            "assertion_id": self.assertion_id,
            "version": self.version,
            "signed_by": self.signed_by,
            "signer": self.signer_certificate.subject.rfc4514_string(),
            "issue_instant": iso(self.issue_instant),
            "authn_instant": iso(self.authn_instant),
            "authn_context": self.authn_context,
            "session_index": self.session_index,
            "recipient": self.recipient,
            "in_response_to": self.in_response_to,
            "response_id": self.response_id,
        }


__all__ = ["VerifiedAssertion"]
