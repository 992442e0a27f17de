"""Outbound WS-Security: Timestamp, UsernameToken, X.509 token and an
XML-DSig signature over the parts you name.

The layout is the one strict peers accept (WCF's Strict layout, WS-I BSP
1.1): one Timestamp first, tokens before the Signature that references them
(R5205), exclusive c14n for SignedInfo and every Reference (with an
InclusiveNamespaces PrefixList when the signed content uses QName values
bound by an ancestor), UTC timestamps with ``Z``.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from wssec import dsig
from wssec.errors import MalformedMessage
from wssec.keys import CertSource, KeySource, keys_match, load_certificates, load_private_key
from wssec.safexml import parse_xml
from wssec.soap import (
    BASE64_BINARY,
    DS_NS,
    EC14N_NS,
    SAML1_NS,
    SAML2_NS,
    SOAP_NAMESPACES,
    THUMBPRINT_SHA1,
    WSA_NS,
    WSSE11_NS,
    WSSE_NS,
    WSU_NS,
    X509SKI,
    X509V3,
    element_id,
    envelope_parts,
    security_header,
)
from wssec.tokens import (
    KEY_IDENTIFIERS,
    cert_der,
    issuer_name,
    own_ski,
    thumbprint_sha1,
)
from wssec.usernametoken import PASSWORD_TYPES, format_time, make_username_token

WSA_NAMESPACES = (WSA_NS, "http://schemas.xmlsoap.org/ws/2004/08/addressing")
SAML_TOKEN_PROFILE = "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.1"
SAML_VALUE_TYPES = {
    SAML2_NS: SAML_TOKEN_PROFILE + "#SAMLID",
    # H3 (issue 5): SAML 1.1 assertions keep the token profile 1.0 ValueType (spec, WSS4J).
    SAML1_NS: "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID",
}
SAML_TOKEN_TYPES = {SAML2_NS: SAML_TOKEN_PROFILE + "#SAMLV2.0", SAML1_NS: SAML_TOKEN_PROFILE + "#SAMLV1.1"}
_HOK = ("urn:oasis:names:tc:SAML:2.0:cm:holder-of-key", "urn:oasis:names:tc:SAML:1.0:cm:holder-of-key")


_WSU_ID = f"{{{WSU_NS}}}Id"
_FAST_PARTS = frozenset({"Body", "Timestamp", "BinarySecurityToken"})


def _new_id(prefix: str) -> str:
    return f"{prefix}-{os.urandom(8).hex()}"


@dataclass(frozen=True)
class _Part:
    name: str
    element: etree._Element
    own: bool = False
    """A token this Signer just built (no QName content to scan)."""


# lxml declares a namespace an attribute needs but that is not in scope on
# the element itself, with the prefix registered for it ("ns0" otherwise):
# registered, ``wsu:Id`` set on a Body gets ``xmlns:wsu`` right there, with
# no rebuild of the element (which re-walked its whole subtree).
etree.register_namespace("wsu", WSU_NS)


def _with_wsu_id(el: etree._Element, prefix: str) -> tuple[etree._Element, str]:
    """Give ``el`` an id: ``wsu:Id``, declaring the wsu namespace on ``el``
    when it is not in scope (when the prefix ``wsu`` is taken by another
    namespace there, lxml picks a fresh one)."""
    existing = element_id(el)
    if existing is not None:
        return el, existing
    value = _new_id(prefix)
    el.set(_WSU_ID, value)
    return el, value


_QNAME_START = re.compile(rb'(?:="|>)[ \t\r\n]*([A-Za-z_][A-Za-z0-9_.\-]*):')


_SAFE_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,255}$")
_FRAGMENT_NS = f'xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}" xmlns:ds="{DS_NS}" xmlns:wsse11="{WSSE11_NS}"'


def _parse_fragment(xml: str) -> list[etree._Element]:
    """Parse elements written by this module (prefixes wsse/wsu/ds bound by
    a wrapper that is dropped); moved into the message, lxml removes the
    declarations the message already has in scope."""
    wrapper = parse_xml(f"<w {_FRAGMENT_NS}>{xml}</w>".encode(), what="WS-Security header")
    return list(wrapper)


def _key_reference_xml(cert: x509.Certificate, kind: str) -> str:
    """The inside of a SecurityTokenReference naming ``cert`` by SKI,
    thumbprint or issuer/serial (computed once per Signer)."""
    if kind in ("ski", "thumbprint"):
        value_type = X509SKI if kind == "ski" else THUMBPRINT_SHA1
        value = own_ski(cert) if kind == "ski" else thumbprint_sha1(cert)
        return (
            f'<wsse:KeyIdentifier EncodingType="{BASE64_BINARY}" ValueType="{value_type}">'
            f"{dsig.b64(value)}</wsse:KeyIdentifier>"
        )
    if kind == "issuer-serial":
        return (
            f"<ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>{escape(issuer_name(cert))}"
            f"</ds:X509IssuerName><ds:X509SerialNumber>{cert.serial_number}</ds:X509SerialNumber>"
            "</ds:X509IssuerSerial></ds:X509Data>"
        )
    raise ValueError(f"unknown key identifier {kind!r} (known: {', '.join(KEY_IDENTIFIERS)})")


def _digest_input(el: etree._Element, own: bool) -> tuple[bytes, list[str]]:
    """Canonical bytes of ``el`` and the PrefixList they need.

    A prefix bound by an ancestor and used only inside QName-valued content
    (``xsi:type="tns:Order"``) is dropped by exc-c14n; listing it in the
    InclusiveNamespaces PrefixList keeps its binding covered.  The common
    case (no such value) costs one c14n and a regex over its output.
    """
    data = dsig.c14n(el)
    if own:  # a token this Signer just built holds no QName values
        return data, []
    parent = el.getparent()
    outer = parent.nsmap if parent is not None else {}
    # Only prefixes bound outside and not re-declared in the output can be
    # lost; most messages have none, and then there is nothing to scan.
    candidates = [
        p.encode("ascii", "replace") for p in outer if p and ("xmlns:" + p + "=").encode() not in data
    ]
    if not candidates:
        return data, []
    needed = sorted({p.decode("ascii") for p in _QNAME_START.findall(data) if p in candidates})
    if not needed:
        return data, []
    return dsig.c14n(el, needed), needed


class Signer:
    """Adds a WS-Security header and signs a SOAP 1.1/1.2 envelope.

    Build one per key and reuse it: the key and certificate are loaded and
    checked once.  ``sign()`` returns the signed message as bytes; when
    given an lxml element it signs that tree in place (elements without an
    id may be replaced by an equivalent element carrying ``wsu:Id``).
    """

    def __init__(
        self,
        key: KeySource,
        cert: CertSource | None = None,
        *,
        timestamp: int | None = 300,
        username: str | None = None,
        password: str | None = None,
        password_type: str = "digest",
        key_identifier: str = "bst",
        sign: Sequence[str] = ("Body", "Timestamp"),
        signature_algorithm: str = "rsa-sha256",
        digest_algorithm: str = "sha256",
        saml: bytes | str | etree._Element | None = None,
        key_password: str | bytes | None = None,
        actor: str | None = None,
    ) -> None:
        """
        key: signing private key (path, PEM/DER/PKCS#12 bytes or key object).
        cert: the certificate of ``key`` (path/bytes/object; a bundle's first
            certificate is the leaf).  Optional only for SAML holder-of-key,
            where the assertion identifies the key.
        timestamp: lifetime in seconds of the wsu:Timestamp (None/0: none).
        username/password/password_type: add a UsernameToken ("digest" or "text").
        key_identifier: how the Signature's KeyInfo names the certificate:
            "bst" (BinarySecurityToken + Reference), "ski", "issuer-serial",
            "thumbprint" (the receiver must already know the certificate).
        sign: parts to sign: "Body", "Timestamp", "UsernameToken",
            "BinarySecurityToken", "Assertion", a WS-Addressing header by
            local name ("To", "Action", "MessageID" …) or any header as
            "{namespace}Local".  A listed part that is absent is an error.
        signature_algorithm: rsa-sha256 (default), rsa-sha384, rsa-sha512,
            ecdsa-sha256/384/512; rsa-sha1/ecdsa-sha1 only when asked.
        digest_algorithm: sha256 (default), sha384, sha512; sha1 only when asked.
        saml: a SAML 1.1/2.0 assertion (already signed by its issuer) to carry.
        """
        self.key = load_private_key(key, key_password)
        self.certs: list[x509.Certificate] = load_certificates(cert) if cert is not None else []
        self.cert = self.certs[0] if self.certs else None
        self.sig_uri, _h, kind = dsig.signature_algorithm(signature_algorithm)
        self.signature_algorithm = signature_algorithm
        if kind == "rsa" and not isinstance(self.key, rsa.RSAPrivateKey):
            raise ValueError(f"{signature_algorithm} needs an RSA key; this is an EC key (use ecdsa-sha256)")
        if kind == "ec" and not isinstance(self.key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{signature_algorithm} needs an EC key; this is an RSA key (use rsa-sha256)")
        self.digest_uri, self.digest_hash = dsig.digest_algorithm(digest_algorithm)
        if key_identifier not in KEY_IDENTIFIERS:
            raise ValueError(
                f"unknown key identifier {key_identifier!r} (known: {', '.join(KEY_IDENTIFIERS)})"
            )
        self.key_identifier = key_identifier
        if password_type not in PASSWORD_TYPES:
            raise ValueError("password_type must be 'digest' or 'text'")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self.username, self.password, self.password_type = username, password, password_type
        self.timestamp = int(timestamp) if timestamp else 0
        self.parts = tuple(sign)
        if "Timestamp" in self.parts and not self.timestamp:
            raise ValueError("cannot sign the Timestamp with timestamp=0")
        if "UsernameToken" in self.parts and username is None:
            raise ValueError("cannot sign a UsernameToken without username/password")
        self.actor = actor
        self.saml: etree._Element | None = None
        self.saml_hok = False
        if saml is not None:
            self.saml = saml if isinstance(saml, etree._Element) else parse_xml(saml, what="SAML assertion")
            qn = etree.QName(self.saml)
            if qn.localname != "Assertion" or qn.namespace not in (SAML1_NS, SAML2_NS):
                raise ValueError("saml must be a SAML 1.1 or 2.0 Assertion element")
            methods = {
                (m.get("Method") or (m.text or "")).strip()
                for m in self.saml.iter(
                    f"{{{SAML2_NS}}}SubjectConfirmation", f"{{{SAML1_NS}}}ConfirmationMethod"
                )
            }
            self.saml_hok = bool(methods & set(_HOK))
        if "Assertion" in self.parts and self.saml is None:
            raise ValueError("cannot sign an Assertion without saml=")
        if self.cert is None and not self.saml_hok:
            raise ValueError("a certificate (cert=) is required to sign")
        if self.cert is not None and not keys_match(self.key, self.cert):
            raise ValueError("the private key does not match the certificate")
        self._cert_b64 = dsig.b64(cert_der(self.cert)) if self.cert is not None else ""
        self._key_ref_inner = ""
        if self.cert is not None and key_identifier != "bst":
            self._key_ref_inner = _key_reference_xml(self.cert, key_identifier)
        self._ts_template, self._bst_template = _parse_fragment(
            "<wsu:Timestamp><wsu:Created/><wsu:Expires/></wsu:Timestamp>"
            f'<wsse:BinarySecurityToken EncodingType="{BASE64_BINARY}" ValueType="{X509V3}">'
            f"{self._cert_b64}</wsse:BinarySecurityToken>"
        )
        self._sig_templates: dict[tuple[tuple[bool, ...], bool], etree._Element] = {}
        # The common shape (a message without a Security header for our actor,
        # no UsernameToken or SAML, Body/Timestamp/BST signed) is built as
        # text: see _sign_text.
        self._text_path = (
            self.username is None
            and self.saml is None
            and self.cert is not None
            and set(self.parts) <= _FAST_PARTS
            and ("BinarySecurityToken" not in self.parts or key_identifier == "bst")
        )
        self._bst_attrs = f'EncodingType="{BASE64_BINARY}" ValueType="{X509V3}"'
        self._c14n_method = f'<ds:CanonicalizationMethod Algorithm="{dsig.EXC_C14N}"'
        self._sig_method = f'<ds:SignatureMethod Algorithm="{self.sig_uri}"'
        self._digest_method = f'<ds:DigestMethod Algorithm="{self.digest_uri}"'
        self._transform = f'<ds:Transform Algorithm="{dsig.EXC_C14N}"'
        # a Reference after its URI, up to the DigestValue (text, c14n form)
        self._ref_rest = f"</ds:Transforms>{self._digest_method}/><ds:DigestValue>"
        self._ref_rest_c14n = f"</ds:Transforms>{self._digest_method}></ds:DigestMethod><ds:DigestValue>"
        self._ref_open = f"<ds:Transforms>{self._transform}/>{self._ref_rest}"
        self._ref_open_c14n = f"<ds:Transforms>{self._transform}></ds:Transform>{self._ref_rest_c14n}"
        self._actor_attr = (
            None
            if actor is None
            else escape(actor, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})
        )

    # -- building --------------------------------------------------------------

    def sign(self, envelope: bytes | str | etree._Element) -> bytes:
        """Secure ``envelope`` and return the signed message bytes."""
        if isinstance(envelope, etree._Element):
            self.sign_tree(envelope)
            return etree.tostring(envelope)
        root = parse_xml(envelope, what="SOAP message")
        if self._text_path:
            signed = self._sign_text(root)
            if signed is not None:
                return signed
        self.sign_tree(root)
        return etree.tostring(root)

    def _sign_text(self, root: etree._Element) -> bytes | None:
        """:meth:`sign_tree` for the common shape, with the new header
        elements written as text (None: not that shape, use the tree).

        Only the Body id goes into the tree; a processing instruction with a
        random name holds the place of the Security header's children and is
        replaced in the serialised message.  The canonical forms of the
        Timestamp, BST and SignedInfo are written directly too: the text
        declares every prefix it uses, so their exclusive c14n does not
        depend on the message around them.  Same output as the tree path.
        """
        env = envelope_parts(root)
        if security_header(root, self.actor, parts=env) is not None:
            return None
        version, header, body = env
        body_id = element_id(body)
        if body_id is not None and not _SAFE_ID.match(body_id):
            return None
        now = dt.datetime.now(dt.UTC)
        base = os.urandom(8).hex()
        marker = etree.ProcessingInstruction(f"apisec-{base}")
        soap_prefix = root.prefix
        in_scope = header.nsmap if header is not None and soap_prefix else None
        if in_scope is not None and in_scope.get(soap_prefix) == SOAP_NAMESPACES[version]:
            # The Security element itself is text too (the Envelope's prefix
            # names the mustUnderstand/actor attributes).
            header.insert(0, marker)
            must, role = ("1", "actor") if version == "1.1" else ("true", "role")
            actor = "" if self._actor_attr is None else f' {soap_prefix}:{role}="{self._actor_attr}"'
            sec_ns = ("" if in_scope.get("wsse") == WSSE_NS else f' xmlns:wsse="{WSSE_NS}"') + (
                "" if in_scope.get("wsu") == WSU_NS else f' xmlns:wsu="{WSU_NS}"'
            )
            sec_open = f'<wsse:Security{sec_ns} {soap_prefix}:mustUnderstand="{must}"{actor}>'
            sec_close = "</wsse:Security>"
            wsse_ns = wsu_ns = ""
        else:
            sec = security_header(root, self.actor, create=True, parts=env)
            sec.append(marker)
            in_scope = sec.nsmap
            sec_open = sec_close = ""
            wsse_ns = "" if in_scope.get("wsse") == WSSE_NS else f' xmlns:wsse="{WSSE_NS}"'
            wsu_ns = "" if in_scope.get("wsu") == WSU_NS else f' xmlns:wsu="{WSU_NS}"'
        ds_ns = "" if in_scope.get("ds") == DS_NS else f' xmlns:ds="{DS_NS}"'
        if body_id is None:
            body_id = _new_id("id")
            body.set(_WSU_ID, body_id)
        digests: dict[str, tuple[str, list[str], bytes]] = {}
        out: list[str] = [sec_open]
        if self.timestamp:
            ts_id = f"TS-{base}"
            inner = (
                f"<wsu:Created>{format_time(now)}</wsu:Created>"
                f"<wsu:Expires>{format_time(now + dt.timedelta(seconds=self.timestamp))}</wsu:Expires>"
                "</wsu:Timestamp>"
            )
            out.append(f'<wsu:Timestamp{wsu_ns} wsu:Id="{ts_id}">{inner}')
            if "Timestamp" in self.parts:
                c14n = f'<wsu:Timestamp xmlns:wsu="{WSU_NS}" wsu:Id="{ts_id}">{inner}'
                digests["Timestamp"] = (ts_id, [], c14n.encode())
        bst_id = f"X509-{base}"
        if self.key_identifier == "bst":
            bst_tail = f'wsu:Id="{bst_id}">{self._cert_b64}</wsse:BinarySecurityToken>'
            out.append(f"<wsse:BinarySecurityToken{wsse_ns}{wsu_ns} {self._bst_attrs} {bst_tail}")
            if "BinarySecurityToken" in self.parts:
                c14n = f'<wsse:BinarySecurityToken xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}" '
                digests["BinarySecurityToken"] = (bst_id, [], f"{c14n}{self._bst_attrs} {bst_tail}".encode())
        if "Body" in self.parts:
            data, prefixes = _digest_input(body, False)
            digests["Body"] = (body_id, prefixes, data)
        refs_text: list[str] = []
        refs_c14n: list[str] = []
        for name in self.parts:
            ref_id, prefixes, data = digests[name]
            value = dsig.b64(dsig.digest(data, self.digest_hash))
            tail = f"{value}</ds:DigestValue></ds:Reference>"
            if prefixes:
                inc = f'<ec:InclusiveNamespaces xmlns:ec="{EC14N_NS}" PrefixList="{" ".join(prefixes)}"'
                head = f'<ds:Reference URI="#{ref_id}"><ds:Transforms>{self._transform}>{inc}'
                refs_text.append(f"{head}/></ds:Transform>{self._ref_rest}{tail}")
                refs_c14n.append(
                    f"{head}></ec:InclusiveNamespaces></ds:Transform>{self._ref_rest_c14n}{tail}"
                )
            else:
                refs_text.append(f'<ds:Reference URI="#{ref_id}">{self._ref_open}{tail}')
                refs_c14n.append(f'<ds:Reference URI="#{ref_id}">{self._ref_open_c14n}{tail}')
        signed_info_c14n = (
            f'<ds:SignedInfo xmlns:ds="{DS_NS}">{self._c14n_method}></ds:CanonicalizationMethod>'
            f"{self._sig_method}></ds:SignatureMethod>{''.join(refs_c14n)}</ds:SignedInfo>"
        ).encode()
        value = dsig.b64(dsig.sign_bytes(self.key, self.signature_algorithm, signed_info_c14n))
        if self.key_identifier == "bst":
            key_ref = f'<wsse:Reference URI="#{bst_id}" ValueType="{X509V3}"/>'
        else:
            key_ref = self._key_ref_inner
        out.append(
            f'<ds:Signature{ds_ns} Id="SIG-{base}"><ds:SignedInfo>{self._c14n_method}/>'
            f"{self._sig_method}/>{''.join(refs_text)}</ds:SignedInfo>"
            f'<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo Id="KI-{base}">'
            f'<wsse:SecurityTokenReference{wsse_ns}{wsu_ns} wsu:Id="STR-{base}">{key_ref}'
            "</wsse:SecurityTokenReference></ds:KeyInfo></ds:Signature>"
        )
        out.append(sec_close)
        serialised = etree.tostring(root)
        placeholder = f"<?apisec-{base} ?>".encode()
        at = serialised.find(placeholder)
        if at < 0 or serialised.find(placeholder, at + 1) >= 0:  # pragma: no cover - 2**-64
            raise MalformedMessage("the message already holds apisec's placeholder")
        fragment = "".join(out).encode("ascii", "xmlcharrefreplace")
        return b"".join((serialised[:at], fragment, serialised[at + len(placeholder) :]))

    def sign_tree(self, root: etree._Element, now: dt.datetime | None = None) -> etree._Element:
        """Secure the lxml tree in place and return the ds:Signature element.

        The new header elements come from templates parsed once per Signer
        (and per signature shape) and copied per message: building ~30
        elements node by node, or parsing them each time, cost more than
        everything but the RSA operation.  Digests are computed from the
        elements in their final place.
        """
        now = now or dt.datetime.now(dt.UTC)
        env = envelope_parts(root)
        sec = security_header(root, self.actor, create=True, parts=env)
        base = os.urandom(8).hex()
        pos = 0
        ts = None
        if self.timestamp:
            ts = sec.find(f"{{{WSU_NS}}}Timestamp")
            if ts is None:
                ts = self._ts_template.__copy__()
                ts.set(f"{{{WSU_NS}}}Id", f"TS-{base}")
                ts[0].text = format_time(now)
                ts[1].text = format_time(now + dt.timedelta(seconds=self.timestamp))
                sec.insert(pos, ts)
                pos += 1
        ut = None
        if self.username is not None:
            ut = make_username_token(self.username, self.password or "", self.password_type, now=now)
            sec.insert(pos, ut)
            pos += 1
        bst = bst_id = None
        if self.cert is not None and self.key_identifier == "bst" and not self.saml_hok:
            bst_id = f"X509-{base}"
            bst = self._bst_template.__copy__()
            bst.set(f"{{{WSU_NS}}}Id", bst_id)
            sec.insert(pos, bst)
            pos += 1
        assertion = None
        if self.saml is not None:
            assertion = copy.deepcopy(self.saml)
            sec.insert(pos, assertion)
            pos += 1

        parts = self._resolve_parts(root, sec, ts, ut, bst, assertion)
        refs: list[tuple[str, list[str], str]] = []
        for part in parts:
            el, ref_id = _with_wsu_id(part.element, "id")
            data, prefixes = _digest_input(el, part.own)
            refs.append((ref_id, prefixes, dsig.b64(dsig.digest(data, self.digest_hash))))
        hok = self.saml_hok and assertion is not None
        signature = self._signature_template(tuple(bool(p) for _i, p, _v in refs), hok).__copy__()
        signature.set("Id", f"SIG-{base}")
        signed_info = signature[0]
        for ref, (ref_id, prefixes, value) in zip(signed_info[2:], refs, strict=True):
            ref.set("URI", f"#{ref_id}")
            ref[2].text = value
            if prefixes:
                ref[0][0][0].set("PrefixList", " ".join("#default" if p is None else p for p in prefixes))
        key_info = signature[2]
        key_info.set("Id", f"KI-{base}")
        if hok:
            key_info.append(self._saml_str(assertion))  # type: ignore[arg-type]
        else:
            key_info[0].set(f"{{{WSU_NS}}}Id", f"STR-{base}")
            if bst_id is not None:
                key_info[0][0].set("URI", f"#{bst_id}")
        sec.insert(pos, signature)
        signature[1].text = dsig.b64(
            dsig.sign_bytes(self.key, self.signature_algorithm, dsig.c14n(signed_info))
        )
        return signature

    def _signature_template(self, shape: tuple[bool, ...], hok: bool) -> etree._Element:
        """A parsed ds:Signature with one Reference per entry of ``shape``
        (True: with an InclusiveNamespaces PrefixList), values left blank."""
        key = (shape, hok)
        template = self._sig_templates.get(key)
        if template is not None:
            return template
        refs = "".join(
            "<ds:Reference><ds:Transforms>"
            f'<ds:Transform Algorithm="{dsig.EXC_C14N}">'
            + (f'<ec:InclusiveNamespaces xmlns:ec="{EC14N_NS}" PrefixList=""/>' if with_prefixes else "")
            + "</ds:Transform></ds:Transforms>"
            f'<ds:DigestMethod Algorithm="{self.digest_uri}"/><ds:DigestValue/></ds:Reference>'
            for with_prefixes in shape
        )
        key_ref = "" if hok else self._str_xml()
        (template,) = _parse_fragment(
            f"<ds:Signature><ds:SignedInfo>"
            f'<ds:CanonicalizationMethod Algorithm="{dsig.EXC_C14N}"/>'
            f'<ds:SignatureMethod Algorithm="{self.sig_uri}"/>{refs}</ds:SignedInfo>'
            f"<ds:SignatureValue/><ds:KeyInfo>{key_ref}</ds:KeyInfo></ds:Signature>"
        )
        if len(self._sig_templates) > 64:
            self._sig_templates.clear()
        self._sig_templates[key] = template
        return template

    def _str_xml(self) -> str:
        """The SecurityTokenReference naming our certificate, as text."""
        if self.key_identifier == "bst":
            inner = f'<wsse:Reference URI="" ValueType="{X509V3}"/>'
        else:
            inner = self._key_ref_inner
        return f"<wsse:SecurityTokenReference>{inner}</wsse:SecurityTokenReference>"

    def _saml_str(self, assertion: etree._Element) -> etree._Element:
        ns = etree.QName(assertion).namespace
        aid = assertion.get("ID") if ns == SAML2_NS else assertion.get("AssertionID")
        if not aid:
            raise ValueError("the SAML assertion has no ID")
        ref = etree.Element(
            f"{{{WSSE_NS}}}SecurityTokenReference",
            nsmap={"wsse": WSSE_NS, "wsse11": WSSE11_NS, "wsu": WSU_NS},
        )
        ref.set(f"{{{WSSE11_NS}}}TokenType", SAML_TOKEN_TYPES[ns])
        ref.set(f"{{{WSU_NS}}}Id", _new_id("STR"))
        ki = etree.SubElement(ref, f"{{{WSSE_NS}}}KeyIdentifier")
        ki.set("ValueType", SAML_VALUE_TYPES[ns])
        ki.text = aid
        return ref

    def _resolve_parts(
        self,
        root: etree._Element,
        sec: etree._Element,
        ts: etree._Element | None,
        ut: etree._Element | None,
        bst: etree._Element | None,
        assertion: etree._Element | None,
    ) -> list[_Part]:
        version, header, body = envelope_parts(root)
        out: list[_Part] = []
        for name in self.parts:
            if name == "Body":
                out.append(_Part(name, body))
            elif name == "Timestamp":
                if ts is None:
                    raise MalformedMessage("no Timestamp to sign")
                out.append(_Part(name, ts, own=True))
            elif name == "UsernameToken":
                out.append(_Part(name, ut, own=True))  # type: ignore[arg-type]
            elif name == "BinarySecurityToken":
                if bst is None:
                    raise ValueError("no BinarySecurityToken to sign (key_identifier is not 'bst')")
                out.append(_Part(name, bst, own=True))
            elif name == "Assertion":
                out.append(_Part(name, assertion))  # type: ignore[arg-type]
            else:
                found = self._headers(header, name, sec)
                if not found:
                    raise MalformedMessage(f"no header {name} in the message to sign")
                out.extend(_Part(name, h) for h in found)
        return out

    @staticmethod
    def _headers(header: etree._Element | None, name: str, sec: etree._Element) -> list[etree._Element]:
        if header is None:
            return []
        if name.startswith("{"):
            return [h for h in header if h.tag == name]
        wsa = [h for h in header if isinstance(h.tag, str) and etree.QName(h).namespace in WSA_NAMESPACES]
        found = [h for h in wsa if etree.QName(h).localname == name]
        if found:
            return found
        return [
            h for h in header if h is not sec and isinstance(h.tag, str) and etree.QName(h).localname == name
        ]


def sign(envelope: bytes | str | etree._Element, **kwargs: object) -> bytes:
    """One-shot ``Signer(**kwargs).sign(envelope)``; build a Signer to sign many."""
    return Signer(**kwargs).sign(envelope)  # type: ignore[arg-type]


__all__ = ["SOAP_NAMESPACES", "Signer", "sign"]
