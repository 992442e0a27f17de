"""The reverse direction: xml-crypto (the XML-DSig library node-soap signs
with) verifies what apisec's Signer produces, SOAP 1.1 and 1.2, for each
key identifier apisec can put in KeyInfo.

xml-crypto verifies with a key it is given (``publicCert``) or one its
``getCertFromKeyInfo`` callback finds.  Its built-in callback reads only a
``ds:X509Certificate`` inside KeyInfo, which WS-Security messages do not
carry; a callback that follows the SecurityTokenReference to the
BinarySecurityToken (tests/node/xmlcrypto_verify.js, "bst") resolves the
``bst`` identifier; ``ski``, ``issuer-serial`` and ``thumbprint`` name a
certificate the receiver must already hold, and xml-crypto has no
certificate store to look them up in: they verify only with the
certificate pinned.  The tests assert those limitations too, so they
notice if xml-crypto changes.
"""

from __future__ import annotations

import json

import pytest

from tests.interop.nodepeer import node_script
from wssec import Signer

pytestmark = pytest.mark.interop

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
KEY_IDENTIFIERS = ("bst", "ski", "issuer-serial", "thumbprint")
# which key identifiers each xml-crypto resolution can verify
RESOLVES = {
    "pinned": set(KEY_IDENTIFIERS),  # publicCert given out of band
    "bst": {"bst"},  # getCertFromKeyInfo following STR -> BinarySecurityToken
    "builtin": set(),  # SignedXml.getCertFromKeyInfo: ds:X509Certificate in KeyInfo only
}


def envelope(soap_ns: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}"><soap:Header>'
        f'<wsa:To xmlns:wsa="{WSA}">https://service.example/quote</wsa:To></soap:Header>'
        '<soap:Body><q:GetQuote xmlns:q="urn:apisec:samples:quote"><q:Symbol>ACME</q:Symbol></q:GetQuote>'
        "</soap:Body></soap:Envelope>"
    ).encode()


def xmlcrypto_verify(xml: bytes, resolve: str, cert) -> dict:
    spec = {"xml": xml.decode(), "resolve": resolve, "cert": str(cert)}
    return json.loads(node_script("xmlcrypto_verify.js", spec))


@pytest.fixture(scope="module")
def signed(pki) -> dict[tuple[str, str], bytes]:
    out = {}
    for soap_ns in (SOAP11, SOAP12):
        for kid in KEY_IDENTIFIERS:
            signer = Signer(
                pki.client.key_path,
                pki.client.cert_path,
                key_identifier=kid,
                sign=("Body", "Timestamp", "To"),
            )
            out[soap_ns, kid] = signer.sign(envelope(soap_ns))
    return out


@pytest.mark.parametrize("resolve", sorted(RESOLVES))
@pytest.mark.parametrize("kid", KEY_IDENTIFIERS)
@pytest.mark.parametrize("soap_ns", [SOAP11, SOAP12], ids=["soap11", "soap12"])
def test_xmlcrypto_verifies_apisec_signatures(pki, signed, soap_ns, kid, resolve) -> None:
    res = xmlcrypto_verify(signed[soap_ns, kid], resolve, pki.client.cert_path)
    if kid in RESOLVES[resolve]:
        assert res["valid"], res["error"]
        assert sorted(res["signed"]) == ["Body", "Timestamp", "To"]
    else:
        # the documented limitation: no key, so no verification
        assert not res["valid"] and not res["signed"]
        assert "KeyInfo or publicCert or privateKey is required" in res["error"], res["error"]


@pytest.mark.parametrize("resolve", ["pinned", "bst"])
def test_xmlcrypto_refuses_tampered_apisec_message(pki, signed, resolve) -> None:
    msg = signed[SOAP11, "bst"].replace(b">ACME<", b">EVIL<")
    res = xmlcrypto_verify(msg, resolve, pki.client.cert_path)
    assert not res["valid"] and not res["signed"]


def test_xmlcrypto_refuses_another_signer(pki, signed) -> None:
    res = xmlcrypto_verify(signed[SOAP11, "ski"], "pinned", pki.rogue.cert_path)
    assert not res["valid"] and not res["signed"]
