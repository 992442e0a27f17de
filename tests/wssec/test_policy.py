"""WS-SecurityPolicy parsing (WSS4J's WS-SP examples) and policy → settings."""

from __future__ import annotations

import pytest

from tests.conftest import VECTORS
from wssec.policy import (
    RSA_1_5,
    SHA1,
    SHA256,
    PolicyError,
    algorithm_suite,
    parse_policy,
    parse_policy_alternatives,
    parse_wsdl_policy,
)

POL = VECTORS / "wss4j-policy" / "policy"
WSDL = VECTORS / "wss4j-policy" / "wsdl"

WSP = 'xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"'
SP12 = 'xmlns:sp="http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"'


def test_transport_binding_c11() -> None:
    p = parse_policy((POL / "transportBindingPolicyC11.xml").read_bytes())
    assert p.version == "1.2"
    assert p.binding == "transport"
    assert p.transport_token is not None and p.transport_token.kind == "Https"
    assert p.algorithm_suite_name == "Basic256" and p.algorithm_suite is not None
    assert p.layout == "Strict" and p.include_timestamp
    cats = {(st.category, st.token.kind) for st in p.supporting_tokens}
    assert cats == {("SignedSupportingTokens", "Username"), ("SignedEndorsingSupportingTokens", "X509")}
    assert p.wss11 == ("RequireSignatureConfirmation",)
    assert not p.message_security and p.has_security


def test_asymmetric_binding_c31() -> None:
    p = parse_policy((POL / "asymmetricBindingPolicyC31.xml").read_bytes())
    assert p.binding == "asymmetric" and p.message_security
    assert p.initiator_token is not None and p.initiator_token.kind == "X509"
    assert p.initiator_token.include == "Always"
    assert p.recipient_token is not None and p.recipient_token.kind == "X509"
    assert p.encrypt_before_signing and p.encrypt_signature and p.protect_tokens
    assert p.include_timestamp
    ut = [st for st in p.supporting_tokens if st.token.kind == "Username"]
    assert ut and ut[0].category == "SignedEncryptedSupportingTokens" and ut[0].token.include == "Once"
    assert p.other == ()  # every assertion understood
    assert p.to_settings().order == "encrypt-then-sign"


@pytest.mark.parametrize(
    "name,holder",
    [
        ("symmetricBindingPolicyC21a.xml", "protection_token"),
        ("symmetricBindingPolicyC21b.xml", "signature_token"),
    ],
)
def test_symmetric_binding_c21(name: str, holder: str) -> None:
    p = parse_policy((POL / name).read_bytes())
    assert p.binding == "symmetric"
    tok = getattr(p, holder)
    assert tok is not None and tok.kind == "Issued" and tok.include == "Once"
    if holder == "signature_token":
        assert p.encryption_token is not None and p.encryption_token.kind == "Issued"
    assert p.algorithm_suite_name == "Basic256"


def test_sp11_namespace_exactlyone_and_weak_suite() -> None:
    alts = parse_policy_alternatives((POL / "policy1.xml").read_bytes())
    assert len(alts) == 1
    p = alts[0]
    assert p.version == "1.1" and p.binding == "asymmetric"
    assert p.algorithm_suite_name == "TripleDesRsa15"
    suite = p.algorithm_suite
    assert suite is not None and suite.weak
    assert suite.asymmetric_key_wrap == RSA_1_5 and suite.digest == SHA1
    assert p.initiator_token is not None and p.initiator_token.include == "AlwaysToRecipient"
    assert p.initiator_token.options == ("WssX509V3Token10",)
    assert p.recipient_token is not None and p.recipient_token.include == "Never"
    assert p.only_sign_entire_headers_and_body and p.body_signed and not p.body_encrypted
    assert p.wss10 == ("MustSupportRefKeyIdentifier", "MustSupportRefIssuerSerial")
    s = p.to_settings()
    assert s.signer["signature_algorithm"] == "rsa-sha1" and s.verifier.get("allow_sha1") is True


def test_wsdl_policy_subjects_ws_policy_15() -> None:
    """StockQuote.wsdl uses the WS-Policy 1.5 namespace and attaches policies at
    the binding (endpoint) and at the operation's input/output (message)."""
    wp = parse_wsdl_policy((WSDL / "StockQuote.wsdl").read_bytes())
    assert len(wp.operations) == 1  # binding-only WSDL: still checked
    op = wp.operations[0]
    assert op.operation == "GetLastTradePrice" and op.soap_version == "1.2"
    p = op.input_policy
    assert p.binding == "asymmetric" and p.include_timestamp and p.only_sign_entire_headers_and_body
    assert p.body_signed and p.body_encrypted
    assert any("RMAssertion" in o for o in p.other)  # kept, not silently dropped


def test_wsdl_every_attachment_point() -> None:
    wp = parse_wsdl_policy((WSDL / "actionSpoofing.wsdl").read_bytes())
    by_name = {op.operation: op for op in wp.operations}
    good, empty = by_name["definitions"], by_name["emptyPolicyOperation"]
    assert good.soap_action == "goodPolicy" and good.address == "http://localhost:8080/WsdlService"
    assert good.input_policy.binding == "asymmetric" and good.input_policy.body_signed
    assert good.input_policy.algorithm_suite_name == "Basic256"
    assert not good.output_policy.has_security
    assert not empty.input_policy.has_security
    assert wp.addresses == ("http://localhost:8080/WsdlService",)


def test_wsdl_template_empty_policy() -> None:
    wp = parse_wsdl_policy((WSDL / "wsdl-template.wsdl").read_bytes())
    assert len(wp.operations) == 1 and not wp.operations[0].input_policy.has_security


def test_alternatives_optional_and_references() -> None:
    doc = f"""<wsp:Policy {WSP} {SP12}>
      <wsp:ExactlyOne>
        <wsp:All><sp:AsymmetricBinding><wsp:Policy><sp:AlgorithmSuite><wsp:Policy><sp:Basic256Sha256/></wsp:Policy></sp:AlgorithmSuite><sp:IncludeTimestamp/></wsp:Policy></sp:AsymmetricBinding></wsp:All>
        <wsp:All><sp:AsymmetricBinding><wsp:Policy><sp:AlgorithmSuite><wsp:Policy><sp:Basic128Rsa15/></wsp:Policy></sp:AlgorithmSuite></wsp:Policy></sp:AsymmetricBinding></wsp:All>
      </wsp:ExactlyOne>
      <sp:SignedParts wsp:Optional="true"><sp:Body/></sp:SignedParts>
    </wsp:Policy>"""
    alts = parse_policy_alternatives(doc.encode())
    assert len(alts) == 4  # 2 bindings x (signed parts or not)
    assert {a.algorithm_suite_name for a in alts} == {"Basic256Sha256", "Basic128Rsa15"}
    assert {a.body_signed for a in alts} == {True, False}
    weak = [a for a in alts if a.weaknesses()]
    assert weak and all("128-bit AES keys" in a.weaknesses() for a in weak)


def test_refuses_bad_policies() -> None:
    circular = f"""<wsp:Policy {WSP} xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" wsu:Id="a"><wsp:PolicyReference URI="#a"/></wsp:Policy>"""
    with pytest.raises(PolicyError, match="circular"):
        parse_policy(circular.encode())
    with pytest.raises(PolicyError, match="unresolved"):
        parse_policy(f'<wsp:Policy {WSP}><wsp:PolicyReference URI="#nope"/></wsp:Policy>'.encode())
    many = "".join(
        f"<wsp:ExactlyOne><sp:A{i}/><sp:B{i}/></wsp:ExactlyOne>" for i in range(8)
    )  # 2**8 alternatives
    with pytest.raises(PolicyError, match="alternatives"):
        parse_policy(f"<wsp:Policy {WSP} {SP12}>{many}</wsp:Policy>".encode())
    with pytest.raises(PolicyError, match="not a WS-Policy"):
        parse_policy(b"<x/>")
    from wssec.errors import UnsafeXml

    with pytest.raises(UnsafeXml):
        parse_policy(b'<!DOCTYPE p [<!ENTITY e "x">]><p>&e;</p>')


@pytest.mark.parametrize(
    "name,weak",
    [
        ("Basic256Sha256", False),
        ("Basic128Sha256", True),
        ("Basic256", True),
        ("TripleDes", True),
        ("Basic256Sha256Rsa15", True),
        ("Basic256GCM", True),
        ("Basic256GCMSha256", False),
    ],
)
def test_algorithm_suites(name: str, weak: bool) -> None:
    s = algorithm_suite(name)
    assert s.weak is weak
    if name.endswith("Sha256") or "Sha256" in name:
        assert s.digest == SHA256
    with pytest.raises(ValueError):
        algorithm_suite("Basic999")


def test_settings_drive_real_signer_encryptor_verifier(pki) -> None:
    """The settings of the sample's own WSDL build a real Signer/Encryptor and a
    Verifier that accepts exactly what they produce (and refuses less)."""
    from apisec_samples.soap_service import render_wsdl, request_xml
    from wssec import Signer, Verifier
    from wssec.encryption import Encryptor
    from wssec.errors import PolicyViolation
    from wssec.secure import secure

    wsdl = render_wsdl("secure", "https://127.0.0.1:1/quote", pki.service.cert)
    wp = parse_wsdl_policy(wsdl)
    assert wp.service_certificates and len(wp.service_certificates[0]) > 100
    s = wp.policy_for("GetQuote").to_settings()
    assert s.sign and s.encrypt and s.key_identifier == "bst" and s.order == "sign-then-encrypt"
    assert s.signer == {
        "signature_algorithm": "rsa-sha256",
        "digest_algorithm": "sha256",
        "sign": ["Body", "Timestamp"],
        "timestamp": 300,
        "key_identifier": "bst",
    }
    signer = Signer(pki.client.key, pki.client.cert, **s.signer)
    enc = Encryptor(pki.service.cert, **(s.encryptor or {}))
    verifier = Verifier(trust=[pki.ca.cert], decrypt_key=pki.service.key, **s.verifier)
    msg = secure(request_xml(), signer=signer, encryptor=enc, order=s.order)
    assert verifier.verify(msg).signed_parts == ("Body", "Timestamp")
    # the policy wants the Body encrypted: a signed-only request is refused
    with pytest.raises(PolicyViolation):
        verifier.verify(signer.sign(request_xml()))
    out = wp.operations[0].output_policy.to_settings()
    assert out.sign and not out.encrypt and out.verifier == {"require": ["Body", "Timestamp"]}


def test_cli_policy(apisec, pki, tmp_path) -> None:
    import json

    from apisec_samples.soap_service import render_wsdl

    w = tmp_path / "secure.wsdl"
    w.write_bytes(render_wsdl("secure", "https://127.0.0.1:1/quote", pki.service.cert))
    r = apisec("soap", "policy", str(w), "--operation", "GetQuote")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    (op,) = doc["operations"]
    assert op["soap_action"] == "urn:apisec:samples:quote/GetQuote" and doc["service_certificates"] == 1
    (inp,) = op["input"]
    assert inp["policy"]["algorithm_suite"] == "Basic256Sha256" and inp["weaknesses"] == []
    assert inp["settings"]["encryptor"] == {
        "encrypt": ["Body"],
        "cipher": "aes256-cbc",
        "key_transport": "rsa-oaep",
    }
    r = apisec("soap", "policy", str(POL / "policy1.xml"))
    assert r.exit_code == 0 and "RSA v1.5 key transport (rsa-1_5)" in r.stdout
    r = apisec("soap", "policy", str(POL / "policy1.xml"), "--operation", "x")
    assert r.exit_code == 2 and "applies to a WSDL" in r.stderr
    r = apisec("soap", "policy", str(tmp_path / "nope.xml"))
    assert r.exit_code == 2 and "not found" in r.stderr
