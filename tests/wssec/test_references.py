"""One Reference/Transforms checker (wssec.xmldsig.references) for
WS-Security and SAML, SAML's key trust before any digest, and one key
comparison (wssec.keys.key_id).

Each hostile Reference shape is refused on both paths, each with the
error type its callers expect (WS-Security: PolicyViolation or
MalformedMessage; SAML: InvalidSignature); the untouched messages verify
(positive controls).  The signatures are real: the hostile shapes are
edited into signed messages, so what refuses them is the shape check, not
a broken signature (which would be InvalidSignature later).
"""

from __future__ import annotations

import copy

import pytest
from lxml import etree

import wssec.xmldsig.references as references
from wssec import Signer, Verifier
from wssec.errors import InvalidSignature, MalformedMessage, PolicyViolation, UntrustedKey
from wssec.keys import key_id, keys_match, same_key
from wssec.safexml import parse_xml
from wssec.saml import Issuer, verify

DS = "http://www.w3.org/2000/09/xmldsig#"
SP = "urn:sp"
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b'<soap:Body><m:Ping xmlns:m="urn:t"><m:v>1</m:v></m:Ping></soap:Body></soap:Envelope>'
)
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
STR = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#STR-Transform"


def _swap_digest_children(ref: etree._Element) -> None:
    dm, dv = ref.find(f"{{{DS}}}DigestMethod"), ref.find(f"{{{DS}}}DigestValue")
    ref.remove(dm)
    dv.addnext(dm)


def _extra_child(ref: etree._Element) -> None:
    etree.SubElement(ref, f"{{{DS}}}Object")


def _second_transforms(ref: etree._Element) -> None:
    ref.find(f"{{{DS}}}Transforms").addnext(copy.deepcopy(ref.find(f"{{{DS}}}Transforms")))


def _set_last_transform(alg: str):
    def edit(ref: etree._Element) -> None:
        ref.find(f"{{{DS}}}Transforms")[-1].set("Algorithm", alg)

    return edit


def _digest(alg: str):
    def edit(ref: etree._Element) -> None:
        ref.find(f"{{{DS}}}DigestMethod").set("Algorithm", alg)

    return edit


def _enveloped_with_params(ref: etree._Element) -> None:
    tr = ref.find(f"{{{DS}}}Transforms")
    env = etree.Element(f"{{{DS}}}Transform", Algorithm=DS + "enveloped-signature")
    if tr[0].get("Algorithm") == DS + "enveloped-signature":
        tr.remove(tr[0])
    tr.insert(0, env)
    etree.SubElement(env, f"{{{DS}}}XPath").text = "1"


def _foreign_in_transforms(ref: etree._Element) -> None:
    etree.SubElement(ref.find(f"{{{DS}}}Transforms"), "{urn:x}Other")


def _bad_digest_value(ref: etree._Element) -> None:
    ref.find(f"{{{DS}}}DigestValue").text = "not base64 !"


# case: (edit, WS-Security error, SAML error)
CASES = {
    "digest-value-before-method": (_swap_digest_children, MalformedMessage, InvalidSignature),
    "extra-child-in-reference": (_extra_child, MalformedMessage, InvalidSignature),
    "two-transforms-elements": (_second_transforms, MalformedMessage, InvalidSignature),
    "xpath-transform": (_set_last_transform(XPATH), PolicyViolation, InvalidSignature),
    "str-transform": (_set_last_transform(STR), PolicyViolation, InvalidSignature),
    "enveloped-with-parameters": (_enveloped_with_params, PolicyViolation, InvalidSignature),
    "foreign-element-in-transforms": (_foreign_in_transforms, MalformedMessage, InvalidSignature),
    "unknown-digest": (_digest("urn:digest:md5"), PolicyViolation, InvalidSignature),
    "sha1-digest": (_digest(DS + "sha1"), PolicyViolation, InvalidSignature),
    "digest-value-not-base64": (_bad_digest_value, MalformedMessage, InvalidSignature),
}


@pytest.fixture(scope="module")
def soap_signed(pki) -> bytes:
    return Signer(pki.client.key_path, pki.client.cert_path).sign(ENVELOPE)


@pytest.fixture(scope="module")
def saml_signed(pki) -> bytes:
    return Issuer(pki.service.key, pki.service.cert, "https://idp.example").issue("alice", audience=SP)


def _edited(data: bytes, edit) -> bytes:
    root = parse_xml(data)
    ref = root.find(f".//{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference")
    edit(ref)
    return etree.tostring(root)


def test_positive_controls(pki, soap_signed, saml_signed) -> None:
    assert "Body" in Verifier(trust=[pki.ca.cert]).verify(soap_signed).signed_parts
    assert verify(saml_signed, trust=pki.ca.cert, audience=SP).subject == "alice"


@pytest.mark.parametrize("case", CASES)
def test_one_reference_checker_on_both_paths(case, pki, soap_signed, saml_signed) -> None:
    edit, wss_error, saml_error = CASES[case]
    with pytest.raises(wss_error) as wss:
        Verifier(trust=[pki.ca.cert]).verify(_edited(soap_signed, edit))
    assert not isinstance(wss.value, InvalidSignature) or wss_error is InvalidSignature
    with pytest.raises(saml_error):
        verify(_edited(saml_signed, edit), trust=pki.ca.cert, audience=SP)


def test_sha1_digest_accepted_only_when_allowed() -> None:
    ref = etree.fromstring(
        f'<ds:Reference xmlns:ds="{DS}" URI="#x"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        f'<ds:DigestMethod Algorithm="{DS}sha1"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>'
    )
    with pytest.raises(PolicyViolation, match="SHA-1"):
        references.check_reference(ref, references.WSS_RULES, allow_sha1=False)
    checked = references.check_reference(ref, references.WSS_RULES, allow_sha1=True)
    assert checked.hashlib_name == "sha1" and checked.exclusive and not checked.enveloped
    # the same Reference is not SAML's shape (no enveloped-signature transform)
    with pytest.raises(InvalidSignature, match="transforms"):
        references.check_reference(ref, references.SAML_RULES, allow_sha1=True)


def test_saml_untrusted_signer_costs_no_digest(pki, saml_signed, monkeypatch) -> None:
    """The signer's trust is decided before the document is canonicalised:
    an untrusted signer is refused without any digest of the target."""
    calls: list[int] = []
    real = references.reference_digest

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("wssec.saml.dsig.reference_digest", counting)
    with pytest.raises(UntrustedKey):
        verify(saml_signed, trust=pki.rogue.cert, audience=SP)
    assert calls == []
    assert verify(saml_signed, trust=pki.ca.cert, audience=SP).subject == "alice"
    assert calls  # the positive control digests


def test_one_key_comparison(pki) -> None:
    client_pub = pki.client.cert.public_key()
    assert key_id(pki.client.key) == key_id(client_pub) == key_id(pki.client.cert.public_key())
    assert same_key(pki.client.key, client_pub) and keys_match(pki.client.key, pki.client.cert)
    assert not same_key(pki.client.key, pki.service.cert.public_key())
    assert not keys_match(pki.client.key, pki.service.cert)
    assert not same_key(client_pub, None) and not same_key("not a key", client_pub)
