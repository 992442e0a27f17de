"""SAML tokens carried in WS-Security, end to end: wssec.Signer(saml=…) →
wssec.Verifier(saml_trust=…), which calls wssec.saml.verify_element."""

from __future__ import annotations

import copy
import json

import pytest
import xmlsec
from lxml import etree

from wssec.errors import InvalidSignature, PolicyViolation, UntrustedKey
from wssec.safexml import parse_xml
from wssec.saml import Issuer
from wssec.signer import Signer
from wssec.verifier import Verifier

SVC = "urn:service"
S2 = "urn:oasis:names:tc:SAML:2.0:assertion"
S1 = "urn:oasis:names:tc:SAML:1.0:assertion"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b'<soap:Body><m:Transfer xmlns:m="urn:bank"><m:amount>10</m:amount></m:Transfer></soap:Body></soap:Envelope>'
)


@pytest.fixture(scope="module")
def sts(pki) -> Issuer:
    return Issuer(pki.service.key, pki.service.cert, "https://sts.example")


@pytest.fixture(scope="module")
def verifier(pki) -> Verifier:
    return Verifier(trust=[pki.ca.cert], saml_trust=[pki.ca.cert], saml_audience=SVC)


def _assertion(sts, pki, confirmation: str, version: str = "2.0", subject: str = "alice") -> bytes:
    hok = pki.client.cert if confirmation == "holder-of-key" else None
    return sts.issue(
        subject,
        audience=SVC,
        confirmation=confirmation,
        confirmation_cert=hok,
        attributes={"role": "payer"},
        saml_version=version,
    )


@pytest.mark.parametrize("version", ["2.0", "1.1"])
@pytest.mark.parametrize("confirmation", ["bearer", "sender-vouches", "holder-of-key"])
def test_round_trip_reports_subject(sts, pki, verifier, confirmation, version) -> None:
    token = _assertion(sts, pki, confirmation, version)
    signer = Signer(pki.client.key, pki.client.cert, saml=token, sign=("Body", "Timestamp", "Assertion"))
    result = verifier.verify(signer.sign(ENVELOPE))
    assert result.subject == "alice"
    assert result.saml.subject == "alice" and result.saml.confirmation == confirmation
    assert result.saml.version == version
    assert result.saml.attributes == {"role": ["payer"]}
    # the assertion the SAML layer verified is the node in the message, and it is signed
    assert result.saml.element.getparent().tag == f"{{{WSSE}}}Security"
    assert any(el is result.saml.element for el in result.signed_elements)


def test_sender_vouches_requires_message_signature_over_assertion(sts, pki, verifier) -> None:
    token = _assertion(sts, pki, "sender-vouches")
    msg = Signer(pki.client.key, pki.client.cert, saml=token, sign=("Body", "Timestamp")).sign(ENVELOPE)
    with pytest.raises(PolicyViolation, match="sender-vouches"):
        verifier.verify(msg)


def test_holder_of_key_signature_uses_confirmation_key(sts, pki, verifier) -> None:
    token = _assertion(sts, pki, "holder-of-key")
    msg = Signer(pki.client.key, pki.client.cert, saml=token).sign(ENVELOPE)
    sec = parse_xml(msg).find(f".//{{{WSSE}}}Security")
    # KeyInfo names the assertion (SAML token profile KeyIdentifier), no BinarySecurityToken
    ki = sec.find("{http://www.w3.org/2000/09/xmldsig#}Signature/{http://www.w3.org/2000/09/xmldsig#}KeyInfo")
    key_id = ki.find(f".//{{{WSSE}}}KeyIdentifier")
    assert key_id is not None and key_id.get("ValueType").endswith("#SAMLID")
    assert key_id.text == parse_xml(token).get("ID")
    assert verifier.verify(msg).saml.confirmation_certificate == pki.client.cert


def test_holder_of_key_signed_with_another_key_refused(sts, pki, verifier) -> None:
    """The presenter holds the service key, not the client key the IdP confirmed."""
    token = _assertion(sts, pki, "holder-of-key")
    msg = Signer(pki.service.key, pki.service.cert, saml=token).sign(ENVELOPE)
    with pytest.raises((InvalidSignature, PolicyViolation)):
        verifier.verify(msg)


def test_assertion_from_untrusted_issuer_refused(pki, verifier) -> None:
    rogue = Issuer(pki.rogue.key, pki.rogue.cert, "https://rogue-sts")
    token = rogue.issue("alice", audience=SVC, confirmation="sender-vouches")
    msg = Signer(pki.client.key, pki.client.cert, saml=token, sign=("Body", "Timestamp", "Assertion")).sign(
        ENVELOPE
    )
    with pytest.raises(UntrustedKey):
        verifier.verify(msg)


def test_assertion_for_another_audience_refused(sts, pki, verifier) -> None:
    token = sts.issue("alice", audience="urn:other-service", confirmation="sender-vouches")
    msg = Signer(pki.client.key, pki.client.cert, saml=token, sign=("Body", "Timestamp", "Assertion")).sign(
        ENVELOPE
    )
    with pytest.raises(PolicyViolation, match="audience"):
        verifier.verify(msg)


def test_assertion_without_saml_trust_refused(sts, pki) -> None:
    token = _assertion(sts, pki, "bearer")
    msg = Signer(pki.client.key, pki.client.cert, saml=token).sign(ENVELOPE)
    with pytest.raises(PolicyViolation, match="saml_trust"):
        Verifier(trust=[pki.ca.cert]).verify(msg)


def test_tampered_assertion_in_header_refused(sts, pki, verifier) -> None:
    """The message signature does not cover a bearer assertion here, so only
    the IdP's own signature protects the subject: it must be checked."""
    token = _assertion(sts, pki, "bearer")
    msg = Signer(pki.client.key, pki.client.cert, saml=token).sign(ENVELOPE)
    assert verifier.verify(msg).subject == "alice"
    with pytest.raises(InvalidSignature):
        verifier.verify(msg.replace(b">alice<", b">admin<"))


def test_wrapped_assertion_in_header_refused(sts, pki, verifier) -> None:
    """XSW inside the Security header: an evil unsigned assertion wrapping the
    signed one (XSW4 shape) is refused by the SAML processor."""
    token = _assertion(sts, pki, "bearer")
    msg = parse_xml(Signer(pki.client.key, pki.client.cert, saml=token).sign(ENVELOPE))
    genuine = msg.find(f".//{{{WSSE}}}Security/{{{S2}}}Assertion")
    evil = copy.deepcopy(genuine)
    evil.remove(evil.find("{http://www.w3.org/2000/09/xmldsig#}Signature"))
    evil.set("ID", "_evil")
    evil.find(f"{{{S2}}}Subject/{{{S2}}}NameID").text = "admin"
    genuine.addprevious(evil)
    evil.append(genuine)
    with pytest.raises((InvalidSignature, PolicyViolation)):
        verifier.verify(etree.tostring(msg))


def test_cli_issue_sign_verify(apisec, pki, tmp_path) -> None:
    """``apisec soap saml issue`` → ``apisec soap sign --saml`` → ``apisec soap verify --saml-trust``."""
    token, env, signed = tmp_path / "token.xml", tmp_path / "env.xml", tmp_path / "signed.xml"
    env.write_bytes(ENVELOPE)
    res = apisec(
        "soap", "saml", "issue", "-o", str(token), "--key", str(pki.service.key_path),
        "--cert", str(pki.service.cert_path), "--issuer", "https://sts.example", "--subject", "alice",
        "--audience", SVC, "--confirmation", "sender-vouches",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    res = apisec(
        "soap", "sign", str(env), "-o", str(signed), "--key", str(pki.client.key_path),
        "--cert", str(pki.client.cert_path), "--saml", str(token), "--sign", "Body,Timestamp,Assertion",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    res = apisec(
        "soap", "verify", str(signed), "--trust", str(pki.ca.cert_path), "--saml-trust", str(pki.ca.cert_path),
        "--saml-audience", SVC, "--format", "json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["subject"] == "alice" and doc["saml"]["confirmation"] == "sender-vouches"
    res = apisec(
        "soap",
        "verify",
        str(signed),
        "--trust",
        str(pki.ca.cert_path),
        "--saml-trust",
        str(pki.rogue.cert_path),
    )
    assert res.exit_code == 1


def test_saml11_holder_of_key_key_identifier_value_type(sts, pki, verifier) -> None:
    """SAML token profile: a 1.1 assertion is named by ...-1.0#SAMLAssertionID
    (what WSS4J resolves), a 2.0 assertion by ...-1.1#SAMLID."""
    token = _assertion(sts, pki, "holder-of-key", "1.1")
    msg = Signer(pki.client.key, pki.client.cert, saml=token).sign(ENVELOPE)
    sec = parse_xml(msg).find(f".//{{{WSSE}}}Security")
    key_id = sec.find(
        f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{WSSE}}}SecurityTokenReference/{{{WSSE}}}KeyIdentifier"
    )
    assert key_id.get("ValueType") == (
        "http://docs.oasis-open.org/wss/oasis-wss-saml-token-profile-1.0#SAMLAssertionID"
    )
    assert key_id.text == parse_xml(token).get("AssertionID")
    assert verifier.verify(msg).saml.version == "1.1"


def test_sha1_assertion_follows_the_verifier_policy(pki) -> None:
    """An STS signing with rsa-sha1 (WSS4J 1.6's default): refused unless the
    Verifier was told allow_sha1, which then covers the assertion as well."""
    a = Issuer(pki.service.key, pki.service.cert, "https://sts.example").issue_element(
        "alice", audience=SVC, confirmation="sender-vouches", sign=False
    )
    c = xmlsec.constants
    sig = xmlsec.template.create(a, c.TransformExclC14N, c.TransformRsaSha1, ns="ds")
    a.insert(1, sig)
    ref = xmlsec.template.add_reference(sig, c.TransformSha1, uri="#" + a.get("ID"))
    xmlsec.template.add_transform(ref, c.TransformEnveloped)
    xmlsec.template.add_transform(ref, c.TransformExclC14N)
    xmlsec.template.x509_data_add_certificate(
        xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(sig))
    )
    ctx = xmlsec.SignatureContext()
    ctx.register_id(a, "ID")
    key = xmlsec.Key.from_file(str(pki.service.key_path), c.KeyDataFormatPem)
    key.load_cert_from_file(str(pki.service.cert_path), c.KeyDataFormatCertPem)
    ctx.key = key
    ctx.sign(sig)
    msg = Signer(
        pki.client.key, pki.client.cert, saml=etree.tostring(a), sign=("Body", "Timestamp", "Assertion")
    ).sign(ENVELOPE)
    with pytest.raises(InvalidSignature, match="SHA-1"):
        Verifier(trust=[pki.ca.cert], saml_trust=[pki.ca.cert], saml_audience=SVC).verify(msg)
    lenient = Verifier(trust=[pki.ca.cert], saml_trust=[pki.ca.cert], saml_audience=SVC, allow_sha1=True)
    assert lenient.verify(msg).subject == "alice"
