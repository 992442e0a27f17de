"""node-soap (npm ``soap``) interop: what its security modes send verifies in
apisec, and altered messages are refused.

node-soap's ``WSSecurityCert`` signs through xml-crypto with
``[enveloped-signature, exc-c14n]`` on every Reference and an unqualified
``Id`` on the Body; apisec's Verifier accepts the enveloped transform where
it is a no-op (or applies it, where the target holds the Signature), refuses
it with ``strict_transforms=True``, and ``apisec soap check --message``
reports it as ``wssec.strict-transforms`` (warn).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from lxml import etree

from tests.interop.nodepeer import node_script
from wssec import InvalidSignature, PolicyViolation, Verifier, parse_xml
from wssec.checks import check_message
from wssec.soap import DS_NS, WSSE_NS, WSU_NS

pytestmark = pytest.mark.interop

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
B64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"


def envelope(soap_ns: str = SOAP11, symbol: str = "ACME") -> str:
    # node-soap inserts its Security header before "</soap:Header>", as its
    # client writes the envelope.
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}"><soap:Header></soap:Header>'
        f'<soap:Body><q:getQuote xmlns:q="urn:quotes"><q:symbol>{symbol}</q:symbol></q:getQuote>'
        "</soap:Body></soap:Envelope>"
    )


def node_soap_sign(pki, mode: str = "cert", xml: str | None = None, **spec) -> bytes:
    spec = {
        "mode": mode,
        "xml": xml or envelope(),
        "key": str(pki.client.key_path),
        "cert": str(pki.client.cert_path),
        **spec,
    }
    return node_script("wssec_sign.js", spec)


def verifier(pki, **kw) -> Verifier:
    return Verifier(trust=[pki.ca.cert_path], replay_cache=None, **kw)


def transforms_of(msg: bytes) -> list[list[str]]:
    root = parse_xml(msg)
    return [
        [t.get("Algorithm") for t in ref.iter(f"{{{DS_NS}}}Transform")]
        for ref in root.iter(f"{{{DS_NS}}}Reference")
    ]


# ------------------------------------------------------------------ step 1: the enveloped transform


def test_node_soap_default_message_verifies(pki) -> None:
    msg = node_soap_sign(pki)
    # What node-soap sends, so the test notices if a new version changes it:
    assert transforms_of(msg) == [[ENVELOPED, EXC], [ENVELOPED, EXC]]
    root = parse_xml(msg)
    assert root.find(f"{{{SOAP11}}}Body").get("Id")  # unqualified Id, no wsu:Id
    result = verifier(pki).verify(msg)
    assert result.is_signed(result.body)
    assert set(result.signed_parts) == {"Body", "Timestamp"}
    assert [s.key_reference for s in result.signatures] == ["bst"]
    assert result.signer_certificate == pki.client.cert


def test_strict_transforms_refuses_node_soap(pki) -> None:
    with pytest.raises(PolicyViolation, match="strict_transforms"):
        verifier(pki, strict_transforms=True).verify(node_soap_sign(pki))


def test_check_message_reports_the_strict_profile(pki, tmp_path, apisec) -> None:
    msg = node_soap_sign(pki)
    fs = {f.check_id: f for f in check_message(msg)}
    strict = fs["wssec.strict-transforms"]
    assert strict.status.value == "warn" and "no-op" in strict.evidence
    assert fs["wssec.bsp-r5423"].status.value == "pass"  # BSP allows the enveloped transform
    # apisec's own signatures are the strict profile: pass
    from wssec import Signer

    own = Signer(pki.client.key_path, pki.client.cert_path).sign(envelope().encode())
    assert {f.check_id: f for f in check_message(own)}["wssec.strict-transforms"].status.value == "pass"
    # and the CLI shows it
    path = tmp_path / "node-soap.xml"
    path.write_bytes(msg)
    res = apisec("soap", "check", "--message", str(path), "--format", "json")
    doc = json.loads(res.stdout)
    got = {f["check_id"]: f["status"] for f in doc["findings"]}
    assert got["wssec.strict-transforms"] == "warn", res.stderr


@pytest.mark.parametrize("where", ["body", "timestamp", "signed-info"])
def test_tampered_node_soap_message_refused(pki, where) -> None:
    root = parse_xml(node_soap_sign(pki))
    if where == "body":
        root.find(".//{urn:quotes}symbol").text = "EVIL"
    elif where == "timestamp":
        ts = root.find(f".//{{{WSU_NS}}}Timestamp/{{{WSU_NS}}}Expires")
        ts.text = "2099-01-01T00:00:00Z"
    else:
        root.find(f".//{{{DS_NS}}}Reference/{{{DS_NS}}}DigestValue").text = "A" * 43 + "="
    with pytest.raises(InvalidSignature):
        verifier(pki).verify(etree.tostring(root))


def test_node_soap_body_id_wrapping_refused(pki) -> None:
    """The classic XSW on node-soap's message: the signed Body (Id="_0") moved
    into the header, an evil Body in its place carrying the same Id."""
    root = parse_xml(node_soap_sign(pki))
    body = root.find(f"{{{SOAP11}}}Body")
    header = root.find(f"{{{SOAP11}}}Header")
    wrapper = etree.SubElement(header, "{urn:evil}wrapper")
    evil = etree.fromstring(etree.tostring(body).replace(b"ACME", b"EVIL"))  # noqa: S320 - own bytes
    root.replace(body, evil)
    wrapper.append(body)
    with pytest.raises(Exception, match="duplicate id"):
        verifier(pki).verify(etree.tostring(root))
    del evil.attrib["Id"]  # no id on the evil Body: the signature covers a node nobody reads
    with pytest.raises(InvalidSignature, match="Body is not covered"):
        verifier(pki).verify(etree.tostring(root))


def _security_with_bst(pki, soap_ns: str = SOAP11, text_inside: str = "\n  ") -> str:
    der = pki.client.cert_path.read_text()
    b64 = "".join(
        der.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "").split()
    )
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<soap:Envelope xmlns:soap="{soap_ns}"><soap:Header>'
        f'<wsse:Security xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}">{text_inside}'
        f'<wsse:BinarySecurityToken wsu:Id="x509" EncodingType="{B64}" ValueType="{X509V3}">{b64}'
        f"</wsse:BinarySecurityToken>{text_inside}"
        f'<wsu:Timestamp wsu:Id="ts"><wsu:Created>{now}</wsu:Created></wsu:Timestamp>{text_inside}'
        "</wsse:Security></soap:Header>"
        '<soap:Body><q:getQuote xmlns:q="urn:quotes"><q:symbol>ACME</q:symbol></q:getQuote></soap:Body>'
        "</soap:Envelope>"
    )


@pytest.mark.parametrize("action", ["append", "prepend"])
@pytest.mark.parametrize("soap_ns", [SOAP11, SOAP12], ids=["soap11", "soap12"])
def test_enveloped_transform_applied_where_target_holds_the_signature(pki, action, soap_ns) -> None:
    """xml-crypto signs the Security header that holds the Signature, with the
    enveloped-signature transform: apisec computes the same digest (the
    Signature removed, the text around it kept) and refuses any change to
    the rest of the header."""
    msg = node_soap_sign(pki, "xmlcrypto-enveloping", xml=_security_with_bst(pki, soap_ns), action=action)
    sec_tag = f"{{{WSSE_NS}}}Security"
    result = verifier(pki, require=("Body",)).verify(msg)
    assert result.is_signed(result.body)
    assert any(e.tag == sec_tag for e in result.signed_elements)
    # the Timestamp is inside a signed element but not itself referenced:
    # node identity says it is not "signed" (require Timestamp refuses)
    with pytest.raises(PolicyViolation, match="Timestamp is not covered"):
        verifier(pki).verify(msg)
    root = parse_xml(msg)
    root.find(f".//{{{WSU_NS}}}Created").text = "2000-01-01T00:00:00Z"
    with pytest.raises(InvalidSignature, match="Security"):
        verifier(pki, require=("Body",), max_age=10**10).verify(etree.tostring(root))
    with pytest.raises(PolicyViolation, match="strict_transforms"):
        verifier(pki, strict_transforms=True, require=("Body",)).verify(msg)
