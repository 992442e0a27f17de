"""Decrypting a message whose signature covers its EncryptedKey (as WSS4J
does with a signed EncryptedKey token): ``Decryptor.decrypt`` /
``apisec soap decrypt`` keep the signed EncryptedKey so the signature keeps
its target, and the decrypted message must still verify, with or without a
decryption key (it has nothing left to decrypt).  Negative controls: a
policy that requires encryption refuses it, an altered kept EncryptedKey
breaks the signature, and a key whose data is only partly gone still fails.
"""

from __future__ import annotations

import copy
import hashlib

import pytest
from lxml import etree

from wssec import Signer, Verifier, dsig
from wssec.encryption import Decryptor, Encryptor
from wssec.errors import DecryptionFailed, InvalidSignature, PolicyViolation
from wssec.safexml import parse_xml

DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
MSG = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b'<soap:Body><m:Order xmlns:m="urn:t"><m:card>TOPSECRET-4711</m:card></m:Order></soap:Body>'
    b"</soap:Envelope>"
)


@pytest.fixture(scope="module")
def signed_ek_message(pki) -> bytes:
    """Sign (Body, Timestamp), encrypt the Body for the service, then add a
    Reference to the EncryptedKey and re-sign SignedInfo with the client key."""
    signed = Signer(pki.client.key_path, pki.client.cert_path).sign(MSG)
    root = parse_xml(Encryptor(pki.service.cert_path).encrypt(signed))
    ek = root.find(f".//{{{XENC}}}EncryptedKey")
    si = root.find(f".//{{{DS}}}SignedInfo")
    ref = copy.deepcopy(si.find(f"{{{DS}}}Reference"))
    ref.set("URI", "#" + ek.get("Id"))
    ref.find(f"{{{DS}}}DigestValue").text = dsig.b64(hashlib.sha256(dsig.c14n(ek)).digest())
    si.append(ref)
    root.find(f".//{{{DS}}}SignatureValue").text = dsig.b64(
        dsig.sign_bytes(pki.client.key, "rsa-sha256", dsig.c14n(si))
    )
    return etree.tostring(root)


def test_one_step_verify(pki, signed_ek_message) -> None:
    result = Verifier(trust=[pki.ca.cert], decrypt_key=pki.service.key).verify(signed_ek_message)
    assert result.signed_parts == ("Body", "Timestamp") and len(result.encrypted) == 1


def test_decrypted_message_keeps_the_signed_key_and_verifies(pki, signed_ek_message) -> None:
    decrypted = Decryptor(pki.service.key_path).decrypt(signed_ek_message)
    assert b"EncryptedKey" in decrypted and b"TOPSECRET-4711" in decrypted  # kept: it is signed
    for kwargs in ({}, {"decrypt_key": pki.service.key}):
        result = Verifier(trust=[pki.ca.cert], **kwargs).verify(decrypted)
        assert result.signed_parts == ("Body", "Timestamp")
        assert result.encrypted == []  # nothing was decrypted here
    with pytest.raises(PolicyViolation, match="encrypted"):
        Verifier(trust=[pki.ca.cert], require_encrypted=("Body",)).verify(decrypted)


def test_decrypt_cli_output_verifies(apisec, pki, signed_ek_message, tmp_path) -> None:
    enc, dec = tmp_path / "enc.xml", tmp_path / "dec.xml"
    enc.write_bytes(signed_ek_message)
    r = apisec("soap", "decrypt", str(enc), "-o", str(dec), "--key", str(pki.service.key_path))
    assert r.exit_code == 0, r.stderr
    r = apisec("soap", "verify", str(dec), "--trust", str(pki.ca.cert_path))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("valid: signed Body, Timestamp")


def test_altered_kept_key_breaks_the_signature(pki, signed_ek_message) -> None:
    root = parse_xml(Decryptor(pki.service.key_path).decrypt(signed_ek_message))
    cipher = root.find(f".//{{{XENC}}}EncryptedKey/{{{XENC}}}CipherData/{{{XENC}}}CipherValue")
    cipher.text = "A" + cipher.text[1:] if cipher.text[0] != "A" else "B" + cipher.text[1:]
    with pytest.raises(InvalidSignature, match="digest of EncryptedKey"):
        Verifier(trust=[pki.ca.cert]).verify(etree.tostring(root))


def test_key_with_data_partly_present_still_fails(pki, signed_ek_message) -> None:
    """Only a key whose data is *all* gone counts as decrypted already."""
    root = parse_xml(signed_ek_message)
    rl = root.find(f".//{{{XENC}}}EncryptedKey/{{{XENC}}}ReferenceList")
    etree.SubElement(rl, f"{{{XENC}}}DataReference", URI="#gone-already")
    with pytest.raises((DecryptionFailed, PolicyViolation, InvalidSignature)):
        Verifier(trust=[pki.ca.cert], decrypt_key=pki.service.key).verify(etree.tostring(root))
    with pytest.raises(PolicyViolation, match="decrypt_key"):
        Verifier(trust=[pki.ca.cert]).verify(etree.tostring(root))


def test_unsigned_key_naming_nothing_is_refused_as_before(pki, signed_ek_message) -> None:
    """Only a *signed* key may name data that is gone: the same decrypted
    message with the key's Reference removed from SignedInfo (and SignedInfo
    re-signed) is refused exactly as a key naming nothing always was."""
    root = parse_xml(Decryptor(pki.service.key_path).decrypt(signed_ek_message))
    ek = root.find(f".//{{{XENC}}}EncryptedKey")
    si = root.find(f".//{{{DS}}}SignedInfo")
    si.remove(next(r for r in si.iterfind(f"{{{DS}}}Reference") if r.get("URI") == "#" + ek.get("Id")))
    root.find(f".//{{{DS}}}SignatureValue").text = dsig.b64(
        dsig.sign_bytes(pki.client.key, "rsa-sha256", dsig.c14n(si))
    )
    data = etree.tostring(root)
    with pytest.raises(PolicyViolation, match="decrypt_key"):
        Verifier(trust=[pki.ca.cert]).verify(data)
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        Verifier(trust=[pki.ca.cert], decrypt_key=pki.service.key).verify(data)
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        Decryptor(pki.service.key_path).decrypt(signed_ek_message.replace(b'URI="#ED-', b'URI="#XX-'))
