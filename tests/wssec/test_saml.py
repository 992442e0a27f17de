"""wssec.saml: issue and verify, every refusal with a failing and a passing case."""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from wssec.errors import (
    Expired,
    InvalidSignature,
    KeyLoadError,
    MalformedMessage,
    PolicyViolation,
    ReplayDetected,
    UntrustedKey,
)
from wssec.replay import MemoryReplayCache
from wssec.safexml import parse_xml
from wssec.saml import Issuer, SamlTrust, verify, verify_all, verify_element
from wssec.saml.dsig import sign_enveloped

S2 = "urn:oasis:names:tc:SAML:2.0:assertion"
S1 = "urn:oasis:names:tc:SAML:1.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
SP = "urn:sp"


@pytest.fixture(scope="module")
def idp(pki) -> Issuer:
    return Issuer(key=pki.service.key, cert=pki.service.cert, issuer="https://idp.example")


def _v(data, pki, **kw):
    kw.setdefault("audience", SP)
    return verify(data, trust=kw.pop("trust", pki.ca.cert), **kw)


def _resign(root: etree._Element, target: etree._Element, pki, position: int = 1) -> bytes:
    old = target.find(f"{{{DS}}}Signature")
    if old is not None:
        target.remove(old)
    sign_enveloped(target, key=pki.service.key, cert=pki.service.cert, position=position)
    return etree.tostring(root)


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("version", ["2.0", "1.1"])
@pytest.mark.parametrize("confirmation", ["bearer", "sender-vouches", "holder-of-key"])
def test_round_trip(idp, pki, version, confirmation) -> None:
    hok = pki.client.cert if confirmation == "holder-of-key" else None
    data = idp.issue(
        "alice",
        audience=SP,
        confirmation=confirmation,
        confirmation_cert=hok,
        attributes=[("role", "admin"), ("role", "user"), ("mail", "a@example.com")],
        saml_version=version,
    )
    r = _v(data, pki)
    assert (r.subject, r.issuer, r.version, r.confirmation) == (
        "alice",
        "https://idp.example",
        version,
        confirmation,
    )
    assert r.attributes == {"role": ["admin", "user"], "mail": ["a@example.com"]}
    assert r.audiences == (SP,) and r.audience == SP
    assert r.confirmation_certificate == hok
    assert r.signer_certificate == pki.service.cert
    assert r.not_on_or_after - r.not_before == dt.timedelta(seconds=300)
    assert r.to_json()["not_on_or_after"].endswith("Z")


def test_ec_issuer_signs_ecdsa_sha256(pki) -> None:
    idp = Issuer(pki.ec_client.key, pki.ec_client.cert, "urn:ec-idp")
    data = idp.issue("bob", audience=SP)
    assert b"ecdsa-sha256" in data
    assert _v(data, pki).subject == "bob"


def test_issuer_refuses_mismatched_key(pki) -> None:
    with pytest.raises(KeyLoadError):
        Issuer(pki.service.key, pki.client.cert, "urn:x")


def test_holder_of_key_needs_a_certificate(idp) -> None:
    with pytest.raises(PolicyViolation):
        idp.issue("alice", confirmation="holder-of-key")


def test_response_round_trip_signed_both(idp, pki) -> None:
    data = idp.issue_response("alice", audience=SP, destination="https://sp/acs", in_response_to="req-1")
    r = _v(data, pki, recipient="https://sp/acs", in_response_to="req-1")
    assert r.signed_by == "both" and r.response_id and r.recipient == "https://sp/acs"
    with pytest.raises(PolicyViolation):
        _v(data, pki, in_response_to="req-2")
    unsolicited = idp.issue_response("alice", audience=SP, destination="https://sp/acs")
    with pytest.raises(PolicyViolation, match="InResponseTo"):
        _v(unsolicited, pki, in_response_to="req-1")
    assert _v(unsolicited, pki).in_response_to is None


def test_verify_element_keeps_node_identity(idp, pki) -> None:
    envelope = parse_xml(b"<Envelope><Header/></Envelope>")
    assertion = parse_xml(idp.issue("alice", audience=SP))
    envelope[0].append(assertion)
    r = verify_element(assertion, trust=pki.ca.cert, audience=SP)
    assert r.element is assertion and r.subject == "alice"
    with pytest.raises(MalformedMessage):
        verify_element(envelope, trust=pki.ca.cert, audience=SP)


# ------------------------------------------------------------------ trust


def test_pinned_self_signed_idp_is_a_trust_anchor(pki) -> None:
    rogue_idp = Issuer(pki.rogue.key, pki.rogue.cert, "urn:self-signed-idp")
    data = rogue_idp.issue("carol", audience=SP)
    assert _v(data, pki, trust=[pki.ca.cert, pki.rogue.cert]).subject == "carol"
    with pytest.raises(UntrustedKey):
        _v(data, pki)  # CA only


def test_pinned_leaf_of_another_ca(idp, pki) -> None:
    data = idp.issue("alice", audience=SP)
    assert _v(data, pki, trust=pki.service.cert_path).subject == "alice"
    with pytest.raises(UntrustedKey):
        _v(data, pki, trust=pki.client.cert)


@pytest.mark.parametrize("who", ["expired", "not_yet_valid"])
def test_signer_certificate_outside_validity(pki, who) -> None:
    ident = getattr(pki, who)
    data = Issuer(ident.key, ident.cert, "urn:idp").issue("alice", audience=SP)
    with pytest.raises(UntrustedKey):
        _v(data, pki)


def test_pinned_certificate_dates_checked_unless_metadata_profile(pki) -> None:
    data = Issuer(pki.expired.key, pki.expired.cert, "urn:idp").issue("alice", audience=SP)
    with pytest.raises(UntrustedKey, match="not valid at"):
        _v(data, pki, trust=pki.expired.cert)
    assert _v(data, pki, trust=pki.expired.cert, check_pinned_dates=False).subject == "alice"
    trust = SamlTrust([pki.expired.cert], check_pinned_dates=False)
    assert _v(data, pki, trust=trust).subject == "alice"


def test_keyinfo_without_certificate_uses_pinned_key(idp, pki) -> None:
    root = parse_xml(idp.issue("alice", audience=SP))
    sig = root.find(f"{{{DS}}}Signature")
    sig.remove(sig.find(f"{{{DS}}}KeyInfo"))  # KeyInfo is outside SignedInfo
    data = etree.tostring(root)
    assert _v(data, pki, trust=pki.service.cert).subject == "alice"
    with pytest.raises(InvalidSignature):
        _v(data, pki)  # the CA's own key did not sign it


def test_keyinfo_certificate_swapped_for_a_trusted_one(pki) -> None:
    """Signed by the rogue key, KeyInfo claiming the trusted service certificate:
    the trusted certificate's key must be the one that verifies (it does not)."""
    root = parse_xml(Issuer(pki.rogue.key, pki.rogue.cert, "urn:idp").issue("alice", audience=SP))
    cert_el = root.find(f"{{{DS}}}Signature/{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    cert_el.text = base64.b64encode(pki.service.cert.public_bytes(serialization.Encoding.DER)).decode()
    with pytest.raises(InvalidSignature, match="does not verify"):
        _v(etree.tostring(root), pki)


def test_keyinfo_retrieval_method_is_never_followed(idp, pki) -> None:
    """Only the certificate is used from KeyInfo; a RetrievalMethod pointing at a
    dead local port is ignored (no network, no failure)."""
    root = parse_xml(idp.issue("alice", audience=SP))
    ki = root.find(f"{{{DS}}}Signature/{{{DS}}}KeyInfo")
    etree.SubElement(ki, f"{{{DS}}}RetrievalMethod", URI="http://127.0.0.1:9/key")
    assert _v(etree.tostring(root), pki).subject == "alice"


def test_no_trust_anchors(idp) -> None:
    with pytest.raises(UntrustedKey):
        verify(idp.issue("alice"), trust=[], audience=None)


# ------------------------------------------------------------------ signature


def test_unsigned_assertion_refused(idp, pki) -> None:
    data = etree.tostring(idp.issue_element("alice", audience=SP, sign=False))
    with pytest.raises(InvalidSignature, match="not signed"):
        _v(data, pki)


@pytest.mark.parametrize(("old", "new"), [(b">alice<", b">admin<"), (b'Name="role"', b'Name="rolf"')])
def test_tampered_content_refused(idp, pki, old, new) -> None:
    data = idp.issue("alice", audience=SP, attributes={"role": "user"})
    assert old in data
    with pytest.raises(InvalidSignature, match="does not verify"):
        _v(data.replace(old, new), pki)


def test_reference_to_other_id_refused(idp, pki) -> None:
    root = parse_xml(idp.issue("alice", audience=SP))
    ref = root.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference")
    ref.set("URI", "#elsewhere")
    with pytest.raises(InvalidSignature, match="own ID"):
        _v(etree.tostring(root), pki)


def test_second_reference_refused(idp, pki) -> None:
    root = parse_xml(idp.issue("alice", audience=SP))
    si = root.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo")
    si.append(copy.deepcopy(si.find(f"{{{DS}}}Reference")))
    with pytest.raises(InvalidSignature, match="exactly one Reference"):
        _v(etree.tostring(root), pki)


def test_extra_transform_refused(idp, pki) -> None:
    root = parse_xml(idp.issue("alice", audience=SP))
    transforms = root.find(f"{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}Transforms")
    etree.SubElement(
        transforms, f"{{{DS}}}Transform", Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"
    )
    with pytest.raises(InvalidSignature, match="transforms"):
        _v(etree.tostring(root), pki)


def test_object_in_signature_refused(idp, pki) -> None:
    root = parse_xml(idp.issue("alice", audience=SP))
    etree.SubElement(root.find(f"{{{DS}}}Signature"), f"{{{DS}}}Object")
    with pytest.raises(InvalidSignature, match="Object"):
        _v(etree.tostring(root), pki)


def test_sha1_refused_unless_allowed(pki) -> None:
    a = Issuer(pki.service.key, pki.service.cert, "urn:idp").issue_element("alice", audience=SP, sign=False)
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
    data = etree.tostring(a)
    with pytest.raises(InvalidSignature, match="SHA-1"):
        _v(data, pki)
    assert _v(data, pki, allow_sha1=True).subject == "alice"


def test_duplicate_ids_refused(idp, pki) -> None:
    root = parse_xml(idp.issue("alice", audience=SP))
    etree.SubElement(root.find(f"{{{S2}}}Subject"), "{urn:x}Extra", ID=root.get("ID"))
    with pytest.raises(MalformedMessage, match="(?i)duplicate id"):
        _v(etree.tostring(root), pki)


# ------------------------------------------------------------------ content


def test_comment_split_text_is_joined(idp, pki) -> None:
    """CVE-2017-11427 class: comments do not change the signed (exc-c14n) bytes,
    so the value read must be the full text, not the text before the comment."""
    root = parse_xml(idp.issue("admin@example.com.evil.org", audience=SP, attributes={"role": "superuser"}))
    nameid = root.find(f"{{{S2}}}Subject/{{{S2}}}NameID")
    nameid.text = "admin@example.com"
    comment = etree.Comment(" injected ")
    comment.tail = ".evil.org"
    nameid.append(comment)
    value = root.find(f".//{{{S2}}}AttributeValue")
    value.text = "super"
    c2 = etree.Comment("x")
    c2.tail = "user"
    value.append(c2)
    r = _v(etree.tostring(root), pki)
    assert r.subject == "admin@example.com.evil.org"
    assert r.attributes["role"] == ["superuser"]


def test_element_inside_nameid_refused(idp, pki) -> None:
    root = idp.issue_element("alice", audience=SP, sign=False)
    etree.SubElement(root.find(f"{{{S2}}}Subject/{{{S2}}}NameID"), f"{{{S2}}}NameID").text = "x"
    with pytest.raises(MalformedMessage, match="text only"):
        _v(_resign(root, root, pki), pki)


def test_nested_assertion_refused(idp, pki) -> None:
    root = idp.issue_element("alice", audience=SP, sign=False)
    inner = idp.issue_element("admin", audience=SP)
    etree.SubElement(root, f"{{{S2}}}Advice").append(inner)
    with pytest.raises(InvalidSignature, match="nested"):
        _v(_resign(root, root, pki), pki)


def test_unknown_condition_refused(idp, pki) -> None:
    root = idp.issue_element("alice", audience=SP, sign=False)
    etree.SubElement(root.find(f"{{{S2}}}Conditions"), f"{{{S2}}}Condition")
    with pytest.raises(PolicyViolation, match="unsupported condition"):
        _v(_resign(root, root, pki), pki)


def test_no_expiry_refused(idp, pki) -> None:
    root = idp.issue_element("alice", audience=SP, sign=False, confirmation="sender-vouches")
    del root.find(f"{{{S2}}}Conditions").attrib["NotOnOrAfter"]
    with pytest.raises(PolicyViolation, match="no expiry"):
        _v(_resign(root, root, pki), pki)


# ------------------------------------------------------------------ conditions


def test_expired_and_not_yet_valid(idp, pki) -> None:
    now = dt.datetime.now(dt.UTC)
    data = idp.issue("alice", audience=SP, lifetime=600, now=now)
    assert _v(data, pki, at=now + dt.timedelta(seconds=599)).subject == "alice"
    assert _v(data, pki, at=now + dt.timedelta(seconds=630)).subject == "alice"  # within 60 s skew
    with pytest.raises(Expired):
        _v(data, pki, at=now + dt.timedelta(seconds=661))
    with pytest.raises(Expired):
        _v(data, pki, at=now - dt.timedelta(seconds=120))
    with pytest.raises(Expired):
        _v(data, pki, at=now + dt.timedelta(seconds=601), clock_skew=0)


@pytest.mark.parametrize("version", ["2.0", "1.1"])
def test_audience(idp, pki, version) -> None:
    data = idp.issue("alice", audience=[SP, "urn:other"], saml_version=version)
    assert _v(data, pki, audience="urn:other").audience == "urn:other"
    assert _v(data, pki, audience=["urn:x", SP]).audience == SP
    with pytest.raises(PolicyViolation, match="wrong audience"):
        _v(data, pki, audience="urn:evil")
    unrestricted = idp.issue("alice", saml_version=version)
    with pytest.raises(PolicyViolation, match="no AudienceRestriction"):
        _v(unrestricted, pki)
    assert _v(unrestricted, pki, audience=None).audience is None


def test_recipient(idp, pki) -> None:
    data = idp.issue("alice", audience=SP, recipient="https://sp/acs")
    assert _v(data, pki, recipient="https://sp/acs").recipient == "https://sp/acs"
    with pytest.raises(PolicyViolation, match="wrong recipient"):
        _v(data, pki, recipient="https://evil/acs")
    no_recipient = idp.issue("alice", audience=SP)
    with pytest.raises(PolicyViolation, match="wrong recipient"):
        _v(no_recipient, pki, recipient="https://sp/acs")
    with pytest.raises(PolicyViolation, match="1.1"):
        _v(idp.issue("alice", audience=SP, saml_version="1.1"), pki, recipient="https://sp/acs")


def test_multiple_assertions(idp, pki) -> None:
    root = parse_xml(idp.issue_response("alice", audience=SP, sign_response=False))
    root.append(idp.issue_element("bob", audience=SP))
    data = etree.tostring(root)
    with pytest.raises(PolicyViolation, match="exactly 1"):
        _v(data, pki)
    both = verify_all(data, trust=pki.ca.cert, audience=SP, allow_multiple=True)
    assert [r.subject for r in both] == ["alice", "bob"]


def test_unsigned_assertion_in_unsigned_response(idp, pki) -> None:
    data = idp.issue_response("alice", audience=SP, sign_response=False, sign_assertion=False)
    with pytest.raises(InvalidSignature, match="unsigned"):
        _v(data, pki)
    # signed Response covering an unsigned assertion is fine
    assert _v(idp.issue_response("alice", audience=SP, sign_assertion=False), pki).signed_by == "response"


def test_response_status_must_be_success(idp, pki) -> None:
    root = parse_xml(idp.issue_response("alice", audience=SP, sign_response=False))
    code = root.find(
        "{urn:oasis:names:tc:SAML:2.0:protocol}Status/{urn:oasis:names:tc:SAML:2.0:protocol}StatusCode"
    )
    code.set("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
    with pytest.raises(PolicyViolation, match="not Success"):
        _v(etree.tostring(root), pki)


def test_response_issuer_must_match(idp, pki) -> None:
    root = parse_xml(idp.issue_response("alice", audience=SP, sign_response=False))
    root.find(f"{{{S2}}}Issuer").text = "https://other-idp"
    with pytest.raises(PolicyViolation, match="differs"):
        _v(etree.tostring(root), pki)


def test_not_saml(pki) -> None:
    with pytest.raises(MalformedMessage):
        verify(b"<a/>", trust=pki.ca.cert, audience=None)
    with pytest.raises(MalformedMessage):
        verify(b"<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>", trust=pki.ca.cert, audience=None)


def test_saml11_subjects_must_agree(idp, pki) -> None:
    root = idp.issue_element("alice", audience=SP, attributes={"r": "x"}, saml_version="1.1", sign=False)
    nids = list(root.iter(f"{{{S1}}}NameIdentifier"))
    assert len(nids) == 2
    nids[1].text = "mallory"
    with pytest.raises(PolicyViolation, match="different"):
        _v(_resign(root, root, pki, position=len(root)), pki)


def _saml11_response(idp, pki, *, recipient: str | None, sign: bool) -> bytes:
    p1 = "urn:oasis:names:tc:SAML:1.0:protocol"
    resp = etree.Element(f"{{{p1}}}Response", nsmap={"samlp": p1})
    resp.set("ResponseID", "_r11")
    resp.set("MajorVersion", "1")
    resp.set("MinorVersion", "1")
    resp.set("IssueInstant", "2020-01-01T00:00:00Z")
    if recipient:
        resp.set("Recipient", recipient)
    etree.SubElement(etree.SubElement(resp, f"{{{p1}}}Status"), f"{{{p1}}}StatusCode").set(
        "Value", "samlp:Success"
    )
    resp.append(idp.issue_element("alice", audience=SP, saml_version="1.1"))
    if sign:
        sign_enveloped(resp, key=pki.service.key, cert=pki.service.cert, position=0)
    return etree.tostring(resp)


def test_saml11_response(idp, pki) -> None:
    signed = _saml11_response(idp, pki, recipient="https://sp/acs", sign=True)
    r = _v(signed, pki, recipient="https://sp/acs")
    assert (r.version, r.signed_by, r.response_id) == ("1.1", "both", "_r11")
    with pytest.raises(PolicyViolation, match="Destination"):
        _v(signed, pki, recipient="https://evil/acs")
    unsigned = _saml11_response(idp, pki, recipient="https://sp/acs", sign=False)
    assert _v(unsigned, pki).signed_by == "assertion"
    with pytest.raises(PolicyViolation, match="signed Response"):
        _v(unsigned, pki, recipient="https://sp/acs")


def test_replay_cache_one_time_use(idp, pki) -> None:
    cache = MemoryReplayCache()
    data = idp.issue_response("alice", audience=SP)
    with pytest.raises(InvalidSignature):  # a refused attempt does not consume the assertion
        _v(data.replace(b">alice<", b">admin<"), pki, replay_cache=cache)
    assert _v(data, pki, replay_cache=cache).subject == "alice"
    with pytest.raises(ReplayDetected):
        _v(data, pki, replay_cache=cache)
    assert _v(data, pki).subject == "alice"  # without a cache nothing is remembered
    assert _v(idp.issue_response("alice", audience=SP), pki, replay_cache=cache).subject == "alice"


def _metadata(cert, entity_id: str, use: str | None = "signing") -> bytes:
    b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    use_attr = f' use="{use}"' if use else ""
    return (
        f'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity_id}">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        f'<md:KeyDescriptor{use_attr}><ds:KeyInfo xmlns:ds="{DS}"><ds:X509Data>'
        f"<ds:X509Certificate>{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    ).encode()


def test_trust_from_metadata_binds_key_to_entity(pki) -> None:
    trust = SamlTrust.from_metadata(_metadata(pki.service.cert, "https://idp.example"))
    good = Issuer(pki.service.key, pki.service.cert, "https://idp.example").issue("alice", audience=SP)
    assert _v(good, pki, trust=trust).subject == "alice"
    other_entity = Issuer(pki.service.key, pki.service.cert, "https://evil-idp").issue("alice", audience=SP)
    with pytest.raises(UntrustedKey, match="metadata"):
        _v(other_entity, pki, trust=trust)
    with pytest.raises(UntrustedKey):  # a key the metadata does not name
        _v(
            Issuer(pki.client.key, pki.client.cert, "https://idp.example").issue("a", audience=SP),
            pki,
            trust=trust,
        )
    with pytest.raises(UntrustedKey, match="no IdP signing"):
        SamlTrust.from_metadata(_metadata(pki.service.cert, "https://idp.example", use="encryption"))
    assert SamlTrust.from_metadata(_metadata(pki.service.cert, "urn:x", use=None)).issuers == {"urn:x"}
    with pytest.raises(MalformedMessage):
        SamlTrust.from_metadata(b"<a/>")


def test_chain_in_keyinfo_to_root_ca(pki) -> None:
    """IdP certificate issued by an intermediate CA: KeyInfo carries leaf +
    intermediate (Issuer(chain=…)), trust holds only the root."""
    now = dt.datetime.now(dt.UTC)

    def cert(subject_key, cn, issuer_key, issuer_name, ca):
        b = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(issuer_name)
            .public_key(subject_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        )
        if ca:
            b = b.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        return b.sign(issuer_key, hashes.SHA256())

    inter_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    inter = cert(inter_key, "Intermediate CA", pki.ca.key, pki.ca.cert.subject, True)
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = cert(leaf_key, "idp", inter_key, inter.subject, False)
    with_chain = Issuer(leaf_key, leaf, "urn:idp", chain=[inter]).issue("alice", audience=SP)
    assert _v(with_chain, pki).signer_certificate == leaf
    without_chain = Issuer(leaf_key, leaf, "urn:idp").issue("alice", audience=SP)
    with pytest.raises(UntrustedKey):
        _v(without_chain, pki)
