"""wssec.Encryptor / Decryptor: round trips, message layout, and the refusals
(wrong key, tampering, GCM tag, wrapping, duplication, rsa-1_5, references
outside the envelope) with one generic error and no oracle."""

from __future__ import annotations

import base64
import logging

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

import wssec
from wssec.encryption import Decryptor, EncryptedPart, Encryptor
from wssec.errors import DecryptionFailed, KeyLoadError, MalformedMessage, PolicyViolation
from wssec.safexml import parse_xml
from wssec.soap import SOAP12_NS, WSSE11_NS, WSSE_NS, WSU_NS, XENC_NS

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SECRET = b"TOPSECRET-4711"
MSG = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:r="urn:example:route">'
    b'<soap:Header><r:Route soap:mustUnderstand="1" soap:actor="urn:next">secret route</r:Route></soap:Header>'
    b'<soap:Body><m:GetBalance xmlns:m="urn:example:bank"><m:Account>TOPSECRET-4711</m:Account>'
    b"<m:Note>a &amp; b &lt; c</m:Note></m:GetBalance></soap:Body></soap:Envelope>"
)
MSG12 = (
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header>'
    b'<r:Route xmlns:r="urn:example:route" env:role="urn:next" env:relay="true">secret route</r:Route>'
    b'</env:Header><env:Body><m:Ping xmlns:m="urn:example:bank">TOPSECRET-4711</m:Ping></env:Body></env:Envelope>'
)
XENC = f"{{{XENC_NS}}}"


@pytest.fixture(scope="module")
def svc(pki):
    return pki.service


@pytest.fixture(scope="module")
def dec(svc):
    return Decryptor(key=svc.key_path, cert=svc.cert_path)


def _c14n_body(data: bytes) -> bytes:
    root = parse_xml(data)
    return etree.tostring(root[-1], method="c14n", exclusive=True)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize(
    "cipher",
    ["aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc", "tripledes-cbc", "aes192-gcm", "aes192-cbc"],
)
@pytest.mark.parametrize("key_transport", ["rsa-oaep", "rsa-oaep-sha256"])
def test_round_trip_every_cipher_and_transport(svc, dec, cipher, key_transport) -> None:
    enc = Encryptor(
        svc.cert_path,
        encrypt=("Body", "{urn:example:route}Route"),
        cipher=cipher,
        key_transport=key_transport,
    )
    out = enc.encrypt(MSG)
    assert SECRET not in out and b"secret route" not in out and b"a &amp; b" not in out
    root = parse_xml(out)
    parts = dec.decrypt_tree(root)
    assert [(p.name, p.kind) for p in parts] == [("Body", "content"), ("{urn:example:route}Route", "header")]
    assert all(p.algorithm.endswith("#" + cipher) for p in parts)
    assert etree.tostring(root[-1], method="c14n", exclusive=True) == _c14n_body(MSG)
    route = root[0][1]
    assert route.tag == "{urn:example:route}Route" and route.text == "secret route"
    assert route.get(f"{{{SOAP11}}}mustUnderstand") == "1"


@pytest.mark.parametrize("key_identifier", ["issuer-serial", "ski", "bst", "thumbprint"])
def test_key_identifiers_resolve_to_the_recipient(svc, dec, key_identifier) -> None:
    out = Encryptor(svc.cert_path, key_identifier=key_identifier).encrypt(MSG)
    root = parse_xml(out)
    ek = root.find(f".//{XENC}EncryptedKey")
    ref = ek.find(f"{{http://www.w3.org/2000/09/xmldsig#}}KeyInfo/{{{WSSE_NS}}}SecurityTokenReference")
    assert ref is not None
    if key_identifier == "bst":
        bst = ek.getprevious()
        assert bst.tag == f"{{{WSSE_NS}}}BinarySecurityToken"
        assert ref[0].get("URI") == "#" + bst.get(f"{{{WSU_NS}}}Id")
    assert SECRET in dec.decrypt(out)


@pytest.mark.parametrize("key_identifier", ["issuer-serial", "ski", "bst", "thumbprint"])
def test_key_for_another_recipient_is_not_tried(pki, caplog, key_identifier) -> None:
    """With cert=, an EncryptedKey addressed to someone else fails (generically)
    before any RSA operation."""
    out = Encryptor(pki.client.cert_path, key_identifier=key_identifier).encrypt(MSG)
    with caplog.at_level(logging.DEBUG, logger="wssec.encryption"):
        with pytest.raises(DecryptionFailed, match="^decryption failed$"):
            Decryptor(key=pki.service.key_path, cert=pki.service.cert_path).decrypt(out)
    assert any("another certificate" in r.getMessage() for r in caplog.records)


def test_decrypted_part_is_the_envelopes_own_body(svc, dec) -> None:
    root = parse_xml(Encryptor(svc.cert_path).encrypt(MSG))
    (part,) = dec.decrypt_tree(root)
    assert isinstance(part, EncryptedPart)
    assert part.element is root[-1] and part.kind == "content" and part.name == "Body"
    assert part.data_id.startswith("ED-") and part.key_transport.endswith("rsa-oaep-mgf1p")
    with pytest.raises(AttributeError):
        part.name = "x"  # frozen


def test_element_encryption_by_prefixed_qname(svc, dec) -> None:
    msg = MSG.replace(b"<m:Account>", b'<m:Account wsu:Id="acct" xmlns:wsu="%s">' % WSU_NS.encode())
    out = Encryptor(svc.cert_path, encrypt=["m:Account"]).encrypt(msg)
    assert SECRET not in out and b"a &amp; b &lt; c" in out  # only the Account is hidden
    root = parse_xml(out)
    ed = root.find(f".//{XENC}EncryptedData")
    assert ed.get("Type") == XENC_NS + "Element" and ed.getparent().tag == "{urn:example:bank}GetBalance"
    (part,) = dec.decrypt_tree(root)
    assert part.kind == "element" and part.name == "{urn:example:bank}Account"
    assert part.element.get(f"{{{WSU_NS}}}Id") == "acct" and part.element.text == "TOPSECRET-4711"


def test_wss4j_style_content_modifier(svc, dec) -> None:
    out = Encryptor(svc.cert_path, encrypt=["{Content}{urn:example:bank}GetBalance"]).encrypt(MSG)
    root = parse_xml(out)
    assert root.find(".//{urn:example:bank}GetBalance") is not None and SECRET not in out
    (part,) = dec.decrypt_tree(root)
    assert part.kind == "content" and part.name == "{urn:example:bank}GetBalance"


def test_soap12_header_attributes_copied_to_encrypted_header(svc, dec) -> None:
    out = Encryptor(svc.cert_path, encrypt=("Body", "{urn:example:route}Route")).encrypt(MSG12)
    root = parse_xml(out)
    eh = root.find(f".//{{{WSSE11_NS}}}EncryptedHeader")
    assert eh.get(f"{{{SOAP12_NS}}}role") == "urn:next" and eh.get(f"{{{SOAP12_NS}}}relay") == "true"
    assert eh.get(f"{{{WSU_NS}}}Id")
    sec = root.find(f".//{{{WSSE_NS}}}Security")
    assert sec.get(f"{{{SOAP12_NS}}}mustUnderstand") == "true"
    parts = dec.decrypt_tree(root)
    assert [p.kind for p in parts] == ["content", "header"]
    assert parts[1].element.get(f"{{{SOAP12_NS}}}role") == "urn:next"


def test_encrypt_does_not_modify_an_element_input(svc) -> None:
    root = parse_xml(MSG)
    before = etree.tostring(root)
    Encryptor(svc.cert_path).encrypt(root)
    assert etree.tostring(root) == before


def test_fresh_session_key_and_iv_per_message(svc) -> None:
    enc = Encryptor(svc.cert_path)
    a, b = parse_xml(enc.encrypt(MSG)), parse_xml(enc.encrypt(MSG))
    cv = f"{XENC}CipherData/{XENC}CipherValue"
    assert a.find(f".//{XENC}EncryptedKey/{cv}").text != b.find(f".//{XENC}EncryptedKey/{cv}").text
    assert a.find(f".//{XENC}EncryptedData/{cv}").text != b.find(f".//{XENC}EncryptedData/{cv}").text


# ---------------------------------------------------------------- layout


def test_encrypted_key_before_signature_and_data_after_timestamp(pki, svc, dec) -> None:
    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    out = wssec.secure(MSG, signer=signer, encryptor=Encryptor(svc.cert_path), order="sign-then-encrypt")
    sec = parse_xml(out).find(f".//{{{WSSE_NS}}}Security")
    tags = [etree.QName(c).localname for c in sec]
    assert tags.index("Timestamp") == 0
    assert tags.index("EncryptedKey") < tags.index("Signature")
    ek = sec.find(f"{XENC}EncryptedKey")
    refs = [r.get("URI") for r in ek.find(f"{XENC}ReferenceList")]
    ed = parse_xml(out).find(f".//{XENC}EncryptedData")
    assert refs == ["#" + ed.get("Id")]


def test_encrypt_then_sign_puts_signature_first(pki, svc) -> None:
    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    out = wssec.secure(MSG, signer=signer, encryptor=Encryptor(svc.cert_path), order="encrypt-then-sign")
    tags = [etree.QName(c).localname for c in parse_xml(out).find(f".//{{{WSSE_NS}}}Security")]
    assert tags.index("Signature") < tags.index("EncryptedKey")


# ---------------------------------------------------------------- with the Verifier


@pytest.mark.parametrize("order", ["sign-then-encrypt", "encrypt-then-sign"])
def test_verifier_decrypts_and_verifies_both_orders(pki, svc, order) -> None:
    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    enc = Encryptor(svc.cert_path, encrypt=("Body", "{urn:example:route}Route"))
    out = wssec.secure(MSG, signer=signer, encryptor=enc, order=order)
    v = wssec.Verifier(trust=[pki.ca.cert_path], decrypt_key=svc.key_path, require_encrypted=("Body",))
    result = v.verify(out)
    assert "Body" in result.signed_parts
    assert [p.name for p in result.encrypted] == ["Body", "{urn:example:route}Route"]
    assert result.encrypted[0].element is result.body
    assert result.body[0][0].text == "TOPSECRET-4711"


def test_verifier_require_encrypted_refuses_plain_body(pki) -> None:
    signed = wssec.Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    v = wssec.Verifier(
        trust=[pki.ca.cert_path], decrypt_key=pki.service.key_path, require_encrypted=("Body",)
    )
    with pytest.raises(PolicyViolation, match="encrypted"):
        v.verify(signed)


def test_verifier_refuses_tampered_ciphertext_of_encrypt_then_sign(pki, svc) -> None:
    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    out = wssec.secure(MSG, signer=signer, encryptor=Encryptor(svc.cert_path), order="encrypt-then-sign")
    tampered = _flip_cipher_value(out, "EncryptedData", 40)
    v = wssec.Verifier(trust=[pki.ca.cert_path], decrypt_key=svc.key_path)
    with pytest.raises(wssec.InvalidSignature):
        v.verify(tampered)


def test_secure_rejects_unknown_order(svc) -> None:
    with pytest.raises(ValueError, match="order"):
        wssec.secure(MSG, encryptor=Encryptor(svc.cert_path), order="sideways")  # type: ignore[arg-type]


# ---------------------------------------------------------------- refusals


def _flip_cipher_value(data: bytes, where: str, offset: int) -> bytes:
    root = parse_xml(data)
    cv = root.find(f".//{XENC}{where}/{XENC}CipherData/{XENC}CipherValue")
    raw = bytearray(base64.b64decode(cv.text))
    raw[offset % len(raw)] ^= 0x01
    cv.text = base64.b64encode(bytes(raw)).decode()
    return etree.tostring(root)


def test_wrong_key_gives_the_generic_error(pki, svc) -> None:
    out = Encryptor(svc.cert_path).encrypt(MSG)
    with pytest.raises(DecryptionFailed) as exc:
        Decryptor(key=pki.client.key_path).decrypt(out)
    assert str(exc.value) == "decryption failed"


@pytest.mark.parametrize("cipher", ["aes256-cbc", "aes128-gcm"])
@pytest.mark.parametrize("offset", [0, 20, -1])
def test_tampered_cipher_value_gives_the_generic_error(svc, dec, cipher, offset) -> None:
    """Offset 0 flips the IV, -1 the last block/GCM tag: all the same error."""
    out = Encryptor(svc.cert_path, cipher=cipher).encrypt(MSG)
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        dec.decrypt(_flip_cipher_value(out, "EncryptedData", offset))


def test_gcm_tag_altered(svc, dec) -> None:
    out = Encryptor(svc.cert_path, cipher="aes256-gcm").encrypt(MSG)
    root = parse_xml(out)
    cv = root.find(f".//{XENC}EncryptedData/{XENC}CipherData/{XENC}CipherValue")
    raw = base64.b64decode(cv.text)
    cv.text = base64.b64encode(raw[:-16] + bytes(16)).decode()
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        dec.decrypt(etree.tostring(root))
    assert SECRET in dec.decrypt(out)  # the untouched message is fine


def test_tampered_encrypted_key_fails_like_tampered_data(svc, dec) -> None:
    out = Encryptor(svc.cert_path).encrypt(MSG)
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        dec.decrypt(_flip_cipher_value(out, "EncryptedKey", 7))


def test_failure_detail_only_in_debug_log(svc, dec, caplog) -> None:
    out = Encryptor(svc.cert_path, cipher="aes128-gcm").encrypt(MSG)
    with caplog.at_level(logging.DEBUG, logger="wssec.encryption"):
        with pytest.raises(DecryptionFailed) as exc:
            dec.decrypt(_flip_cipher_value(out, "EncryptedData", -1))
    assert "tag" not in str(exc.value)
    assert any("GCM authentication tag" in r.getMessage() for r in caplog.records)


def test_wrapped_encrypted_data_is_refused(svc, dec) -> None:
    """The Body's EncryptedData moved into a wrapper header, attacker content
    in the Body: refused, never decrypted into the wrapper."""
    root = parse_xml(Encryptor(svc.cert_path).encrypt(MSG))
    header, body = root[0], root[1]
    ed = body[0]
    wrapper = etree.SubElement(header, "{urn:evil}Wrapper")
    wrapper.append(ed)
    etree.SubElement(body, "{urn:example:bank}Transfer").text = "all the money"
    with pytest.raises(MalformedMessage, match="wrapp"):
        dec.decrypt(etree.tostring(root))


def test_encrypted_data_beside_other_body_content_is_refused(svc, dec) -> None:
    root = parse_xml(Encryptor(svc.cert_path).encrypt(MSG))
    etree.SubElement(root[1], "{urn:example:bank}Transfer").text = "all the money"
    with pytest.raises(MalformedMessage, match="only content"):
        dec.decrypt(etree.tostring(root))


def test_duplicated_encrypted_data_is_refused(svc, dec) -> None:
    root = parse_xml(Encryptor(svc.cert_path).encrypt(MSG))
    body = root[1]
    copy = etree.fromstring(etree.tostring(body[0]))
    etree.SubElement(root[0], "{urn:evil}Wrapper").append(copy)
    with pytest.raises(MalformedMessage, match="duplicate id"):
        dec.decrypt(etree.tostring(root))


def test_data_reference_listed_twice_is_refused(svc, dec) -> None:
    root = parse_xml(Encryptor(svc.cert_path).encrypt(MSG))
    rl = root.find(f".//{XENC}ReferenceList")
    rl.append(etree.fromstring(etree.tostring(rl[0])))
    with pytest.raises(DecryptionFailed):
        dec.decrypt(etree.tostring(root))


@pytest.mark.parametrize("uri", ["cid:part1@example.org", "http://attacker.example/data.xml", "#"])
def test_references_outside_the_envelope_are_refused(svc, dec, uri) -> None:
    root = parse_xml(Encryptor(svc.cert_path).encrypt(MSG))
    root.find(f".//{XENC}DataReference").set("URI", uri)
    with pytest.raises(MalformedMessage, match="same-document"):
        dec.decrypt(etree.tostring(root))


def test_unknown_reference_gives_the_generic_error(svc, dec) -> None:
    root = parse_xml(Encryptor(svc.cert_path).encrypt(MSG))
    root.find(f".//{XENC}DataReference").set("URI", "#nope")
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        dec.decrypt(etree.tostring(root))


def _as_rsa15(data: bytes, svc) -> bytes:
    """Re-wrap the session key with PKCS#1 v1.5, as a legacy sender would."""
    root = parse_xml(data)
    ek = root.find(f".//{XENC}EncryptedKey")
    cv = ek.find(f"{XENC}CipherData/{XENC}CipherValue")
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
    session = svc.key.decrypt(base64.b64decode(cv.text), oaep)
    cv.text = base64.b64encode(svc.cert.public_key().encrypt(session, padding.PKCS1v15())).decode()
    ek.find(f"{XENC}EncryptionMethod").set("Algorithm", XENC_NS + "rsa-1_5")
    return etree.tostring(root)


def test_rsa15_refused_by_default_with_the_reason(svc, dec) -> None:
    legacy = _as_rsa15(Encryptor(svc.cert_path).encrypt(MSG), svc)
    with pytest.raises(PolicyViolation, match="Bleichenbacher"):
        dec.decrypt(legacy)
    assert SECRET in Decryptor(key=svc.key_path, allow_rsa15=True).decrypt(legacy)


def test_rsa15_sender_for_legacy_receivers(svc, dec) -> None:
    """Encryptor can write rsa-1_5 when asked (a legacy policy demands it);
    apisec's own Decryptor still refuses it unless allowed."""
    legacy = Encryptor(svc.cert_path, key_transport="rsa-1_5", cipher="aes128-cbc").encrypt(MSG)
    assert b"xmlenc#rsa-1_5" in legacy and SECRET not in legacy
    with pytest.raises(PolicyViolation, match="Bleichenbacher"):
        dec.decrypt(legacy)
    assert SECRET in Decryptor(key=svc.key_path, allow_rsa15=True).decrypt(legacy)


def test_nothing_to_decrypt(svc, dec) -> None:
    with pytest.raises(MalformedMessage, match="nothing to decrypt"):
        dec.decrypt(MSG)


def test_cipher_allow_list(svc) -> None:
    out = Encryptor(svc.cert_path, cipher="aes128-cbc").encrypt(MSG)
    with pytest.raises(PolicyViolation, match="not accepted"):
        Decryptor(key=svc.key_path, ciphers=("aes256-gcm", "aes128-gcm")).decrypt(out)


def test_decrypted_plaintext_with_doctype_is_refused_generically(svc, dec) -> None:
    """A sender (or a CBC-malleating attacker) cannot smuggle a DOCTYPE in."""
    from wssec.xmlenc import algorithms as alg

    root = parse_xml(Encryptor(svc.cert_path, cipher="aes128-gcm").encrypt(MSG))
    ek = root.find(f".//{XENC}EncryptedKey")
    session = svc.key.decrypt(
        base64.b64decode(ek.find(f"{XENC}CipherData/{XENC}CipherValue").text),
        alg.oaep_for("rsa-oaep").padding(),
    )
    ed = root.find(f".//{XENC}EncryptedData")
    evil = b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    ed.find(f"{XENC}CipherData/{XENC}CipherValue").text = base64.b64encode(
        alg.encrypt(alg.cipher_by_name("aes128-gcm"), session, evil)
    ).decode()
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        dec.decrypt(etree.tostring(root))


# ---------------------------------------------------------------- configuration errors


def test_encryptor_configuration_errors(pki, svc) -> None:
    with pytest.raises(ValueError, match="cipher"):
        Encryptor(svc.cert_path, cipher="rc4")
    with pytest.raises(ValueError, match="key transport"):
        Encryptor(svc.cert_path, key_transport="rsa-pkcs1")
    with pytest.raises(ValueError, match="key identifier"):
        Encryptor(svc.cert_path, key_identifier="name")
    with pytest.raises(ValueError, match="bad part"):
        Encryptor(svc.cert_path, encrypt=["Route"])
    with pytest.raises(KeyLoadError, match="RSA"):
        Encryptor(pki.ec_client.cert_path)
    with pytest.raises(KeyLoadError, match="does not match"):
        Decryptor(key=svc.key_path, cert=pki.client.cert_path)


def test_encryptor_message_errors(svc) -> None:
    with pytest.raises(MalformedMessage, match="not in the message"):
        Encryptor(svc.cert_path, encrypt=["{urn:x}Missing"]).encrypt(MSG)
    with pytest.raises(ValueError, match="overlap"):
        Encryptor(svc.cert_path, encrypt=["Body", "{urn:example:bank}Account"]).encrypt(MSG)
    with pytest.raises(ValueError, match="SOAP structure"):
        Encryptor(svc.cert_path, encrypt=[f"{{{SOAP11}}}Header"]).encrypt(MSG)
    with pytest.raises(ValueError, match="not declared"):
        Encryptor(svc.cert_path, encrypt=["zz:Account"]).encrypt(MSG)


def test_require_encrypted_body_means_all_of_the_body(pki, svc) -> None:
    """Encrypting one child of a two-child Body does not make "the Body" encrypted;
    encrypting every child (as elements) or the content does."""
    two = MSG.replace(b"</soap:Body>", b'<m:Extra xmlns:m="urn:example:bank">plain</m:Extra></soap:Body>')
    v = wssec.Verifier(
        trust=[pki.ca.cert_path], decrypt_key=svc.key_path, require=(), require_encrypted=("Body",)
    )
    one = Encryptor(svc.cert_path, encrypt=["{urn:example:bank}GetBalance"]).encrypt(two)
    with pytest.raises(PolicyViolation, match="Body is required to be encrypted"):
        v.verify(one)
    both = Encryptor(
        svc.cert_path, encrypt=["{urn:example:bank}GetBalance", "{urn:example:bank}Extra"]
    ).encrypt(two)
    assert [p.kind for p in v.verify(both).encrypted] == ["element", "element"]
    assert v.verify(Encryptor(svc.cert_path).encrypt(two)).encrypted[0].name == "Body"


def _standalone_reference_list(data: bytes, embed: bool) -> bytes:
    """Rewrite a message into the other WSS layout: the ReferenceList as its
    own Security-header child, the key found through each EncryptedData's
    KeyInfo (an STR to the EncryptedKey, or the EncryptedKey embedded)."""
    root = parse_xml(data)
    sec = root.find(f".//{{{WSSE_NS}}}Security")
    ek = sec.find(f"{XENC}EncryptedKey")
    rl = ek.find(f"{XENC}ReferenceList")
    ek.remove(rl)
    ek.addnext(rl)
    if embed:
        ed = root.find(f".//{XENC}EncryptedData")
        ki = ed.find("{http://www.w3.org/2000/09/xmldsig#}KeyInfo")
        for child in list(ki):
            ki.remove(child)
        sec.remove(ek)
        ki.append(ek)
    return etree.tostring(root)


@pytest.mark.parametrize("embed", [False, True])
def test_standalone_reference_list(pki, svc, dec, embed) -> None:
    data = _standalone_reference_list(Encryptor(svc.cert_path).encrypt(MSG), embed)
    root = parse_xml(data)
    parts = dec.decrypt_tree(root)
    assert [(p.name, p.kind) for p in parts] == [("Body", "content")]
    assert root[-1][0][0].text == "TOPSECRET-4711"
    signed = wssec.Signer(pki.client.key_path, pki.client.cert_path).sign(data)
    v = wssec.Verifier(trust=[pki.ca.cert_path], decrypt_key=svc.key_path, require_encrypted=("Body",))
    assert v.verify(signed).encrypted[0].element is not None


def test_standalone_reference_list_with_wrong_key(pki, svc) -> None:
    data = _standalone_reference_list(Encryptor(svc.cert_path).encrypt(MSG), embed=False)
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        Decryptor(key=pki.client.key_path).decrypt(data)


def test_header_content_encryption_refused(svc) -> None:
    with pytest.raises(ValueError, match="encrypted whole"):
        Encryptor(svc.cert_path, encrypt=["{Content}{urn:example:route}Route"]).encrypt(MSG)


def test_nested_header_element_and_security_header_not_encryptable(svc) -> None:
    nested = MSG.replace(b"secret route</r:Route>", b"<r:Hop>secret route</r:Hop></r:Route>")
    with pytest.raises(ValueError, match="inside a SOAP header"):
        Encryptor(svc.cert_path, encrypt=["{urn:example:route}Hop"]).encrypt(nested)
    secured = Encryptor(svc.cert_path).encrypt(MSG)
    with pytest.raises(ValueError, match="cannot be encrypted"):
        Encryptor(svc.cert_path, encrypt=[f"{{{WSSE_NS}}}Security"]).encrypt(secured)


@pytest.mark.parametrize(
    ("kw", "warned"),
    [
        ({"cipher": "aes256-cbc"}, set()),
        ({"cipher": "aes128-cbc", "key_identifier": "bst"}, set()),
        ({}, {"wssec.bsp-r5620"}),  # AES-GCM: stronger, but outside BSP 1.1
        ({"key_transport": "rsa-oaep-sha256", "cipher": "aes256-cbc"}, {"wssec.bsp-r5621"}),
    ],
)
def test_output_conforms_to_ws_i_bsp(pki, svc, kw, warned) -> None:
    """Sign-then-encrypt output passes the project's WS-I BSP 1.1 message
    checks; the XML-Enc 1.1 algorithms only draw their "outside BSP" warning."""
    from wssec.checks.bsp import check_message

    signer = wssec.Signer(pki.client.key_path, pki.client.cert_path)
    enc = Encryptor(svc.cert_path, encrypt=("Body", "{urn:example:route}Route"), **kw)
    findings = check_message(wssec.secure(MSG, signer=signer, encryptor=enc))
    assert not [f for f in findings if f.status.value in ("fail", "error")]
    assert {f.check_id for f in findings if f.status.value == "warn"} == warned


def test_one_shot_functions(svc) -> None:
    out = wssec.encrypt(MSG, svc.cert_path, cipher="aes128-gcm")
    assert SECRET not in out and b"aes128-gcm" in out
    assert SECRET in wssec.decrypt(out, svc.key_path, cert=svc.cert_path)


@pytest.mark.parametrize("value", ["", "not base64 !!", "AAAA", base64.b64encode(bytes(17)).decode()])
@pytest.mark.parametrize("cipher", ["aes128-gcm", "aes128-cbc"])
def test_malformed_cipher_values_give_the_generic_error(svc, dec, value, cipher) -> None:
    root = parse_xml(Encryptor(svc.cert_path, cipher=cipher).encrypt(MSG))
    root.find(f".//{XENC}EncryptedData/{XENC}CipherData/{XENC}CipherValue").text = value
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        dec.decrypt(etree.tostring(root))
