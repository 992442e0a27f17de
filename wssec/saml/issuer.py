"""Issuing signed SAML 2.0 and 1.1 assertions (and SAML 2.0 Responses).

An :class:`Issuer` is built once with its key and certificate (loaded once,
reused for every assertion, as pyca/cryptography keys are meant to be) and
issues assertions for a subject: NameID, one SubjectConfirmation (bearer,
sender-vouches, or holder-of-key with the confirming key's certificate in
KeyInfo), Conditions with NotBefore/NotOnOrAfter and an AudienceRestriction,
an AuthnStatement and an AttributeStatement, signed with an enveloped
exc-c14n rsa-sha256 (or ecdsa-sha256) signature whose Reference is the
assertion's own ID.  The output verifies with ``xmlsec1 --verify``, pysaml2
and :func:`wssec.saml.verify`.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Iterable, Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from wssec.errors import KeyLoadError, PolicyViolation
from wssec.keys import (
    CertSource,
    KeySource,
    keys_match,
    load_certificate,
    load_certificates,
    load_private_key,
)
from wssec.saml import ns
from wssec.saml.dsig import sign_enveloped, signing_key
from wssec.saml.times import format_instant, utc

Attributes = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
VERSIONS = ("2.0", "1.1")


def new_id() -> str:
    """A fresh xs:ID (an NCName: must not start with a digit) with 128 random bits."""
    return "_" + secrets.token_hex(16)


def _group(attributes: Attributes | None) -> dict[str, list[str]]:
    """Name -> values, order kept; repeated names become one multi-valued Attribute."""
    out: dict[str, list[str]] = {}
    if not attributes:
        return out
    items = attributes.items() if isinstance(attributes, Mapping) else attributes
    for name, value in items:
        if not name:
            raise PolicyViolation("attribute name must not be empty")
        values = [value] if isinstance(value, str) else list(value)
        out.setdefault(name, []).extend(str(v) for v in values)
    return out


def _audiences(audience: str | Sequence[str] | None) -> list[str]:
    if audience is None:
        return []
    return [audience] if isinstance(audience, str) else list(audience)


def _x509_keyinfo(parent: etree._Element, cert: x509.Certificate) -> etree._Element:
    keyinfo = etree.SubElement(parent, ns.q(ns.DS_NS, "KeyInfo"), nsmap={"ds": ns.DS_NS})
    data = etree.SubElement(keyinfo, ns.q(ns.DS_NS, "X509Data"))
    c = etree.SubElement(data, ns.q(ns.DS_NS, "X509Certificate"))
    c.text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
    return keyinfo


class Issuer:
    """Issues signed assertions as one IdP/STS identity.

    ``key``/``cert`` are objects, paths or PEM/DER bytes (``wssec.keys``);
    ``chain`` adds intermediate certificates to KeyInfo.  The key must match
    the certificate (checked here, once).
    """

    def __init__(
        self,
        key: KeySource,
        cert: CertSource,
        issuer: str,
        *,
        chain: Sequence[CertSource] = (),
        key_password: str | bytes | None = None,
        saml_version: str = "2.0",
    ) -> None:
        if not issuer:
            raise PolicyViolation("issuer (entity id) must not be empty")
        if saml_version not in VERSIONS:
            raise PolicyViolation(f"SAML version {saml_version!r} not supported (2.0 or 1.1)")
        self.key = load_private_key(key, key_password)
        self.cert = load_certificate(cert)
        if not keys_match(self.key, self.cert):
            raise KeyLoadError("the private key does not match the certificate")
        self.chain = tuple(load_certificates(list(chain))) if chain else ()
        self.issuer = issuer
        self.saml_version = saml_version
        self._xmlsec_key = signing_key(self.key, self.cert)

    # ------------------------------------------------------------------ public

    def issue(self, subject: str, **kwargs: object) -> bytes:
        """A signed assertion as bytes; see :meth:`issue_element` for the options."""
        return etree.tostring(self.issue_element(subject, **kwargs))  # type: ignore[arg-type]

    def issue_element(
        self,
        subject: str,
        *,
        audience: str | Sequence[str] | None = None,
        confirmation: str = "bearer",
        confirmation_cert: CertSource | None = None,
        attributes: Attributes | None = None,
        lifetime: int = 300,
        now: dt.datetime | None = None,
        recipient: str | None = None,
        in_response_to: str | None = None,
        subject_format: str = ns.NAMEID_UNSPECIFIED,
        authn_context: str | None = None,
        session_index: str | None = None,
        saml_version: str | None = None,
        assertion_id: str | None = None,
        sign: bool = True,
    ) -> etree._Element:
        """Build (and sign) one assertion and return its element.

        ``confirmation`` is ``bearer``, ``sender-vouches`` or
        ``holder-of-key``; holder-of-key needs ``confirmation_cert`` (the
        certificate of the key the presenter will sign the message with).
        The assertion is valid from ``now`` for ``lifetime`` seconds; bearer
        confirmations carry the same NotOnOrAfter (and ``recipient`` /
        ``in_response_to`` when given).  ``sign=False`` exists only to build
        negative test material.
        """
        version = saml_version or self.saml_version
        if version not in VERSIONS:
            raise PolicyViolation(f"SAML version {version!r} not supported (2.0 or 1.1)")
        if not subject:
            raise PolicyViolation("subject must not be empty")
        if confirmation not in ns.CONFIRMATIONS:
            raise PolicyViolation(f"confirmation {confirmation!r} not one of {', '.join(ns.CONFIRMATIONS)}")
        if lifetime <= 0:
            raise PolicyViolation("lifetime must be a positive number of seconds")
        hok_cert = None
        if confirmation == "holder-of-key":
            if confirmation_cert is None:
                raise PolicyViolation(
                    "holder-of-key needs the confirming key's certificate (confirmation_cert)"
                )
            hok_cert = load_certificate(confirmation_cert)
        start = utc(now)
        end = start + dt.timedelta(seconds=lifetime)
        build = self._build2 if version == "2.0" else self._build1
        return build(
            subject=subject,
            audiences=_audiences(audience),
            confirmation=confirmation,
            hok_cert=hok_cert,
            attributes=_group(attributes),
            start=start,
            end=end,
            recipient=recipient,
            in_response_to=in_response_to,
            subject_format=subject_format,
            authn_context=authn_context,
            session_index=session_index,
            assertion_id=assertion_id or new_id(),
            sign=sign,
        )

    def issue_response(
        self,
        subject: str,
        *,
        destination: str | None = None,
        in_response_to: str | None = None,
        sign_response: bool = True,
        sign_assertion: bool = True,
        now: dt.datetime | None = None,
        response_id: str | None = None,
        **kwargs: object,
    ) -> bytes:
        """A SAML 2.0 samlp:Response carrying one assertion (Web SSO shape).

        Both the Response and the Assertion are signed by default; the
        assertion options are those of :meth:`issue_element`.
        """
        start = utc(now)
        assertion = self.issue_element(
            subject,
            now=start,
            recipient=kwargs.pop("recipient", destination),  # type: ignore[arg-type]
            in_response_to=in_response_to,
            saml_version="2.0",
            sign=sign_assertion,
            **kwargs,  # type: ignore[arg-type]
        )
        p = "samlp"
        resp = etree.Element(ns.q(ns.SAMLP2_NS, "Response"), nsmap={p: ns.SAMLP2_NS, "saml2": ns.SAML2_NS})
        resp.set("ID", response_id or new_id())
        resp.set("Version", "2.0")
        resp.set("IssueInstant", format_instant(start))
        if destination:
            resp.set("Destination", destination)
        if in_response_to:
            resp.set("InResponseTo", in_response_to)
        etree.SubElement(resp, ns.q(ns.SAML2_NS, "Issuer")).text = self.issuer
        status = etree.SubElement(resp, ns.q(ns.SAMLP2_NS, "Status"))
        etree.SubElement(status, ns.q(ns.SAMLP2_NS, "StatusCode")).set("Value", ns.STATUS_SUCCESS2)
        resp.append(assertion)
        if sign_response:
            sign_enveloped(
                resp, key=self.key, cert=self.cert, chain=self.chain, xmlsec_key=self._xmlsec_key, position=1
            )
        return etree.tostring(resp)

    # ---------------------------------------------------------------- SAML 2.0

    def _build2(
        self,
        *,
        subject: str,
        audiences: list[str],
        confirmation: str,
        hok_cert: x509.Certificate | None,
        attributes: dict[str, list[str]],
        start: dt.datetime,
        end: dt.datetime,
        recipient: str | None,
        in_response_to: str | None,
        subject_format: str,
        authn_context: str | None,
        session_index: str | None,
        assertion_id: str,
        sign: bool,
    ) -> etree._Element:
        S = ns.SAML2_NS  # noqa: N806 - reads like the prefix
        a = etree.Element(ns.q(S, "Assertion"), nsmap={"saml2": S})
        a.set("ID", assertion_id)
        a.set("IssueInstant", format_instant(start))
        a.set("Version", "2.0")
        etree.SubElement(a, ns.q(S, "Issuer")).text = self.issuer
        subj = etree.SubElement(a, ns.q(S, "Subject"))
        name_id = etree.SubElement(subj, ns.q(S, "NameID"))
        if subject_format:
            name_id.set("Format", subject_format)
        name_id.text = subject
        sc = etree.SubElement(subj, ns.q(S, "SubjectConfirmation"))
        sc.set("Method", ns.CONFIRMATION_METHODS2[confirmation])
        if confirmation == "holder-of-key":
            scd = etree.SubElement(sc, ns.q(S, "SubjectConfirmationData"), nsmap={"xsi": ns.XSI_NS})
            scd.set(ns.q(ns.XSI_NS, "type"), ns.KEYINFO_CONFIRMATION_TYPE)
            if recipient:
                scd.set("Recipient", recipient)
            _x509_keyinfo(scd, hok_cert)  # type: ignore[arg-type]
        elif confirmation == "bearer" or recipient or in_response_to:
            scd = etree.SubElement(sc, ns.q(S, "SubjectConfirmationData"))
            scd.set("NotOnOrAfter", format_instant(end))
            if recipient:
                scd.set("Recipient", recipient)
            if in_response_to:
                scd.set("InResponseTo", in_response_to)
        cond = etree.SubElement(a, ns.q(S, "Conditions"))
        cond.set("NotBefore", format_instant(start))
        cond.set("NotOnOrAfter", format_instant(end))
        if audiences:
            ar = etree.SubElement(cond, ns.q(S, "AudienceRestriction"))
            for aud in audiences:
                etree.SubElement(ar, ns.q(S, "Audience")).text = aud
        authn = etree.SubElement(a, ns.q(S, "AuthnStatement"))
        authn.set("AuthnInstant", format_instant(start))
        if session_index:
            authn.set("SessionIndex", session_index)
        ctx = etree.SubElement(
            etree.SubElement(authn, ns.q(S, "AuthnContext")), ns.q(S, "AuthnContextClassRef")
        )
        ctx.text = authn_context or ns.AUTHN_CONTEXT_UNSPECIFIED
        if attributes:
            st = etree.SubElement(a, ns.q(S, "AttributeStatement"))
            for name, values in attributes.items():
                attr = etree.SubElement(st, ns.q(S, "Attribute"))
                attr.set("Name", name)
                attr.set("NameFormat", ns.ATTRNAME_FORMAT_BASIC)
                for v in values:
                    etree.SubElement(attr, ns.q(S, "AttributeValue")).text = v
        if sign:
            # SAML 2.0 schema order: Issuer, Signature, Subject, ...
            sign_enveloped(
                a, key=self.key, cert=self.cert, chain=self.chain, xmlsec_key=self._xmlsec_key, position=1
            )
        return a

    # ---------------------------------------------------------------- SAML 1.1

    def _subject1(
        self, parent: etree._Element, subject: str, subject_format: str, method: str, hok_cert
    ) -> None:
        S = ns.SAML1_NS  # noqa: N806
        subj = etree.SubElement(parent, ns.q(S, "Subject"))
        nid = etree.SubElement(subj, ns.q(S, "NameIdentifier"))
        if subject_format:
            nid.set("Format", subject_format)
        nid.text = subject
        sc = etree.SubElement(subj, ns.q(S, "SubjectConfirmation"))
        etree.SubElement(sc, ns.q(S, "ConfirmationMethod")).text = ns.CONFIRMATION_METHODS1[method]
        if hok_cert is not None:
            _x509_keyinfo(sc, hok_cert)

    def _build1(
        self,
        *,
        subject: str,
        audiences: list[str],
        confirmation: str,
        hok_cert: x509.Certificate | None,
        attributes: dict[str, list[str]],
        start: dt.datetime,
        end: dt.datetime,
        recipient: str | None,
        in_response_to: str | None,
        subject_format: str,
        authn_context: str | None,
        session_index: str | None,
        assertion_id: str,
        sign: bool,
    ) -> etree._Element:
        if recipient or in_response_to:
            raise PolicyViolation("SAML 1.1 assertions carry no Recipient/InResponseTo (use SAML 2.0)")
        S = ns.SAML1_NS  # noqa: N806
        a = etree.Element(ns.q(S, "Assertion"), nsmap={"saml": S})
        a.set("MajorVersion", "1")
        a.set("MinorVersion", "1")
        a.set("AssertionID", assertion_id)
        a.set("Issuer", self.issuer)
        a.set("IssueInstant", format_instant(start))
        cond = etree.SubElement(a, ns.q(S, "Conditions"))
        cond.set("NotBefore", format_instant(start))
        cond.set("NotOnOrAfter", format_instant(end))
        if audiences:
            arc = etree.SubElement(cond, ns.q(S, "AudienceRestrictionCondition"))
            for aud in audiences:
                etree.SubElement(arc, ns.q(S, "Audience")).text = aud
        authn = etree.SubElement(a, ns.q(S, "AuthenticationStatement"))
        authn.set("AuthenticationMethod", authn_context or ns.AUTHN_METHOD1_UNSPECIFIED)
        authn.set("AuthenticationInstant", format_instant(start))
        self._subject1(authn, subject, subject_format, confirmation, hok_cert)
        if attributes:
            st = etree.SubElement(a, ns.q(S, "AttributeStatement"))
            self._subject1(st, subject, subject_format, confirmation, hok_cert)
            for name, values in attributes.items():
                attr = etree.SubElement(st, ns.q(S, "Attribute"))
                attr.set("AttributeName", name)
                attr.set("AttributeNamespace", ns.ATTRNAME_NAMESPACE1)
                for v in values:
                    etree.SubElement(attr, ns.q(S, "AttributeValue")).text = v
        if sign:
            # SAML 1.1 schema order: ... statements, then ds:Signature last.
            sign_enveloped(
                a,
                key=self.key,
                cert=self.cert,
                chain=self.chain,
                xmlsec_key=self._xmlsec_key,
                position=len(a),
            )
        return a


__all__ = ["VERSIONS", "Issuer", "new_id"]
