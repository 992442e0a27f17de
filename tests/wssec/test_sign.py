"""wssec.Signer: the header layout strict peers expect, every key identifier
and algorithm, and clear refusals of bad arguments."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from wssec import KeyLoadError, MalformedMessage, Signer, Verifier, parse_xml
from wssec.dsig import c14n
from wssec.soap import DS_NS, EC14N_NS, WSSE_NS, WSU_NS
from wssec.usernametoken import password_digest

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
MSG = (
    f'<soap:Envelope xmlns:soap="{SOAP11}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    f'xmlns:t="urn:types"><soap:Header><wsa:MessageID xmlns:wsa="{WSA}">urn:uuid:1</wsa:MessageID>'
    '<app:Tenant xmlns:app="urn:app">acme</app:Tenant></soap:Header>'
    '<soap:Body><m:op xmlns:m="urn:m"><m:v xsi:type="t:Money">5</m:v></m:op></soap:Body></soap:Envelope>'
).encode()


def security(signed: bytes) -> etree._Element:
    return parse_xml(signed).find(f".//{{{WSSE_NS}}}Security")


def test_layout_timestamp_first_token_before_signature(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, username="u", password="p").sign(MSG)
    sec = security(signed)
    assert sec.get(f"{{{SOAP11}}}mustUnderstand") == "1"
    names = [etree.QName(c).localname for c in sec]
    assert names == ["Timestamp", "UsernameToken", "BinarySecurityToken", "Signature"]
    ts = sec.find(f"{{{WSU_NS}}}Timestamp")
    created = ts.findtext(f"{{{WSU_NS}}}Created")
    expires = ts.findtext(f"{{{WSU_NS}}}Expires")
    assert created.endswith("Z") and expires.endswith("Z")
    span = dt.datetime.fromisoformat(expires) - dt.datetime.fromisoformat(created)
    assert span == dt.timedelta(seconds=300)
    cm = sec.find(f".//{{{DS_NS}}}CanonicalizationMethod")
    assert cm.get("Algorithm") == "http://www.w3.org/2001/10/xml-exc-c14n#"


def test_soap12_mustunderstand_true(pki) -> None:
    msg = MSG.replace(SOAP11.encode(), SOAP12.encode())
    sec = security(Signer(pki.client.key_path, pki.client.cert_path).sign(msg))
    assert sec.get(f"{{{SOAP12}}}mustUnderstand") == "true"


def test_prefix_list_covers_qname_values(pki) -> None:
    """xsi:type="t:Money" uses a prefix bound on the Envelope: it goes into
    the InclusiveNamespaces PrefixList so rebinding t would break the digest."""
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    root = parse_xml(signed)
    body_id = root.find(f"{{{SOAP11}}}Body").get(f"{{{WSU_NS}}}Id")
    ref = root.find(f".//{{{DS_NS}}}Reference[@URI='#{body_id}']")
    inc = ref.find(f".//{{{EC14N_NS}}}InclusiveNamespaces")
    assert inc is not None and "t" in inc.get("PrefixList").split()
    rebound = signed.replace(b'xmlns:t="urn:types"', b'xmlns:t="urn:evil"')
    with pytest.raises(Exception, match="digest"):
        Verifier(trust=[pki.ca.cert_path]).verify(rebound)


def test_body_gets_wsu_prefixed_id(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    assert b"<soap:Body xmlns:wsu=" in signed and b"ns0:" not in signed


@pytest.mark.parametrize("kind", ["bst", "ski", "issuer-serial", "thumbprint"])
def test_key_identifiers(pki, kind: str) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, key_identifier=kind).sign(MSG)
    sec = security(signed)
    str_el = sec.find(f".//{{{DS_NS}}}KeyInfo/{{{WSSE_NS}}}SecurityTokenReference")
    cert = pki.client.cert
    der = cert.public_bytes(serialization.Encoding.DER)
    if kind == "bst":
        bst = sec.find(f"{{{WSSE_NS}}}BinarySecurityToken")
        assert base64.b64decode(bst.text) == der
        ref = str_el.find(f"{{{WSSE_NS}}}Reference")
        assert ref.get("URI") == "#" + bst.get(f"{{{WSU_NS}}}Id")
    else:
        assert sec.find(f"{{{WSSE_NS}}}BinarySecurityToken") is None
    if kind == "ski":
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        assert base64.b64decode(str_el.findtext(f"{{{WSSE_NS}}}KeyIdentifier")) == ski
    if kind == "thumbprint":
        assert base64.b64decode(str_el.findtext(f"{{{WSSE_NS}}}KeyIdentifier")) == hashlib.sha1(der).digest()
    if kind == "issuer-serial":
        assert str_el.findtext(f".//{{{DS_NS}}}X509SerialNumber") == str(cert.serial_number)
        assert str_el.findtext(f".//{{{DS_NS}}}X509IssuerName") == "O=Compliance Lab,CN=Test CA"
    v = Verifier(trust=[pki.ca.cert_path], certs=[pki.client.cert_path])
    assert v.verify(signed).signatures[0].key_reference == kind


@pytest.mark.parametrize(
    "alg,digest,who",
    [
        ("rsa-sha256", "sha256", "client"),
        ("rsa-sha384", "sha384", "client"),
        ("rsa-sha512", "sha512", "client"),
        ("ecdsa-sha256", "sha256", "ec_client"),
        ("ecdsa-sha512", "sha512", "ec_client"),
    ],
)
def test_algorithms_round_trip(pki, alg, digest, who) -> None:
    ident = getattr(pki, who)
    signed = Signer(ident.key_path, ident.cert_path, signature_algorithm=alg, digest_algorithm=digest).sign(
        MSG
    )
    assert Verifier(trust=[pki.ca.cert_path]).verify(signed).signatures[0].algorithm == alg


def test_sha1_only_when_asked(pki) -> None:
    signed = Signer(
        pki.client.key_path, pki.client.cert_path, signature_algorithm="rsa-sha1", digest_algorithm="sha1"
    ).sign(MSG)
    assert b"xmldsig#rsa-sha1" in signed and b"xmldsig#sha1" in signed
    with pytest.raises(Exception, match="SHA-1"):
        Verifier(trust=[pki.ca.cert_path]).verify(signed)
    assert Verifier(trust=[pki.ca.cert_path], allow_sha1=True).verify(signed)


def test_sign_any_header_by_qname_and_wsa_by_name(pki) -> None:
    signed = Signer(
        pki.client.key_path, pki.client.cert_path, sign=("Body", "Timestamp", "MessageID", "{urn:app}Tenant")
    ).sign(MSG)
    result = Verifier(trust=[pki.ca.cert_path], require=("Body", "MessageID", "{urn:app}Tenant")).verify(
        signed
    )
    assert f"{{{WSA}}}MessageID" in result.signed_parts and "{urn:app}Tenant" in result.signed_parts


def test_missing_part_is_an_error(pki) -> None:
    with pytest.raises(MalformedMessage, match="no header To"):
        Signer(pki.client.key_path, pki.client.cert_path, sign=("Body", "To")).sign(MSG)


def test_username_token_digest_is_correct(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path, username="alice", password="pw").sign(MSG)
    ut = security(signed).find(f"{{{WSSE_NS}}}UsernameToken")
    nonce = base64.b64decode(ut.findtext(f"{{{WSSE_NS}}}Nonce"))
    created = ut.findtext(f"{{{WSU_NS}}}Created")
    assert ut.findtext(f"{{{WSSE_NS}}}Password") == password_digest(nonce, created, "pw")
    assert len(nonce) == 16


def test_password_digest_public_vectors() -> None:
    # zeep tests/test_wsse_username.py and WSS4J UsernameTokenTest (see tests/vectors/wssec-signing/SOURCES.txt)
    assert (
        password_digest(b"mocked-random", "2016-05-08T12:00:00+00:00", "geheim")
        == "hVicspAQSg70JNhe67OHqD9gexc="
    )
    nonce = base64.b64decode("0x7bXAPZVn40AdCD0Xbt0g==")
    assert password_digest(nonce, "2010-06-28T15:16:37Z", "password") == "5eawvSIg7bt79oQixbEH9hSWS7Y="


def test_password_text(pki) -> None:
    signed = Signer(
        pki.client.key_path, pki.client.cert_path, username="a", password="pw", password_type="text"
    ).sign(MSG)
    assert security(signed).findtext(f".//{{{WSSE_NS}}}Password") == "pw"


def test_existing_security_header_is_reused(pki) -> None:
    once = Signer(pki.client.key_path, pki.client.cert_path, timestamp=0, sign=("Body",)).sign(MSG)
    twice = Signer(pki.service.key_path, pki.service.cert_path).sign(once)
    root = parse_xml(twice)
    assert len(root.findall(f".//{{{WSSE_NS}}}Security")) == 1
    assert len(root.findall(f".//{{{DS_NS}}}Signature")) == 2
    assert len(root.findall(f".//{{{WSU_NS}}}Timestamp")) == 1


def test_signed_info_digest_matches_c14n(pki) -> None:
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    root = parse_xml(signed)
    body = root.find(f"{{{SOAP11}}}Body")
    ref = root.find(f".//{{{DS_NS}}}Reference[@URI='#{body.get(f'{{{WSU_NS}}}Id')}']")
    prefixes = ref.find(f".//{{{EC14N_NS}}}InclusiveNamespaces").get("PrefixList").split()
    digest = hashlib.sha256(c14n(body, prefixes)).digest()
    assert base64.b64decode(ref.findtext(f"{{{DS_NS}}}DigestValue")) == digest


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(signature_algorithm="rsa-md5"), "unknown signature algorithm"),
        (dict(digest_algorithm="md5"), "unknown digest"),
        (dict(key_identifier="x509data"), "unknown key identifier"),
        (dict(signature_algorithm="ecdsa-sha256"), "needs an EC key"),
        (dict(password_type="plain", username="u", password="p"), "password_type"),
        (dict(username="u"), "go together"),
        (dict(timestamp=0), "Timestamp"),
    ],
)
def test_bad_arguments(pki, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        Signer(pki.client.key_path, pki.client.cert_path, **kwargs)


def test_key_certificate_mismatch(pki) -> None:
    with pytest.raises(ValueError, match="does not match"):
        Signer(pki.client.key_path, pki.service.cert_path)


def test_key_load_errors(pki, tmp_path) -> None:
    with pytest.raises(KeyLoadError, match="not found"):
        Signer(tmp_path / "nope.key", pki.client.cert_path)
    with pytest.raises(KeyLoadError, match="certificate, not a private key"):
        Signer(pki.client.cert_path, pki.client.cert_path)
    assert Signer(pki.client.p12_path, pki.client.cert_path, key_password="changeit")
    with pytest.raises(KeyLoadError):
        Signer(pki.client.p12_path, pki.client.cert_path, key_password="wrong")


def test_refuses_non_soap(pki) -> None:
    with pytest.raises(MalformedMessage, match="not a SOAP"):
        Signer(pki.client.key_path, pki.client.cert_path).sign(b"<a/>")
