"""signxml as a peer of apisec's XML-Signature engine (SAML enveloped
signatures): what signxml signs, apisec verifies, and what apisec issues,
signxml verifies; tampering is refused on both sides.  Also: importing
wssec (verification included) does not load python-xmlsec."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml import SignatureConfiguration, XMLSigner, XMLVerifier, methods
from signxml.exceptions import InvalidSignature as SignxmlInvalid

from wssec.errors import InvalidSignature
from wssec.safexml import parse_xml
from wssec.saml import Issuer, verify

SP = "urn:sp"
S2 = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"


def _pem(pki, name: str) -> tuple[bytes, bytes]:
    ident = getattr(pki, name)
    key = ident.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key, ident.cert.public_bytes(serialization.Encoding.PEM)


def _signxml_signed_assertion(pki, name: str = "service", algorithm: str = "rsa-sha256") -> bytes:
    """An apisec-shaped assertion, its signature removed and made by signxml."""
    idp = Issuer(pki.service.key, pki.service.cert, "https://idp.example")
    assertion = parse_xml(idp.issue("alice", audience=SP))
    assertion.remove(assertion.find(f"{{{DS}}}Signature"))
    key, cert = _pem(pki, name)
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=algorithm,
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )
    signed = signer.sign(assertion, key=key, cert=cert, reference_uri=assertion.get("ID"))
    # SAML's schema wants the Signature right after the Issuer
    sig = signed.find(f"{{{DS}}}Signature")
    signed.remove(sig)
    signed.find(f"{{{S2}}}Issuer").addnext(sig)
    return etree.tostring(signed)


@pytest.mark.parametrize(("name", "algorithm"), [("service", "rsa-sha256"), ("ec_client", "ecdsa-sha256")])
def test_apisec_verifies_signxml_signatures(pki, name, algorithm) -> None:
    data = _signxml_signed_assertion(pki, name, algorithm)
    result = verify(data, trust=pki.ca.cert, audience=SP)
    assert result.subject == "alice"
    assert result.signer_certificate == getattr(pki, name).cert


def test_apisec_refuses_tampered_signxml_signature(pki) -> None:
    data = _signxml_signed_assertion(pki).replace(b">alice<", b">mallory<")
    with pytest.raises(InvalidSignature):
        verify(data, trust=pki.ca.cert, audience=SP)


def test_signxml_verifies_apisec_signatures(pki) -> None:
    idp = Issuer(pki.service.key, pki.service.cert, "https://idp.example")
    data = idp.issue("alice", audience=SP)
    _key, cert = _pem(pki, "service")
    config = SignatureConfiguration(expect_references=1)
    result = XMLVerifier().verify(data, x509_cert=cert, expect_config=config)
    assert result.signed_xml.get("ID") == parse_xml(data).get("ID")
    with pytest.raises(SignxmlInvalid):
        XMLVerifier().verify(data.replace(b">alice<", b">mallory<"), x509_cert=cert, expect_config=config)


def test_import_wssec_does_not_load_python_xmlsec() -> None:
    code = (
        "import sys, wssec, wssec.saml, wssec.wsgi, wssec.verifier\n"
        "assert 'xmlsec' not in sys.modules, 'python-xmlsec was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
