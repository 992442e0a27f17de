"""No decryption oracle after CBC: with sign-then-encrypt under CBC, altered
ciphertext that decrypts to well-formed (but different) plaintext and
ciphertext that decrypts to garbage fail the same way (library and CLI)."""

from __future__ import annotations

import base64
import subprocess

import pytest
from lxml import etree

from wssec import Signer, Verifier
from wssec.encryption import Encryptor
from wssec.errors import DecryptionFailed, InvalidSignature, ReplayDetected
from wssec.safexml import parse_xml

XENC = "http://www.w3.org/2001/04/xmlenc#"
# The Body content starts with 16 spaces: the first CBC block is text, so a
# flipped IV bit changes it predictably (Jager-Somorovsky's starting point).
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b"<soap:Body>"
    + b" " * 16
    + b'<m:Pay xmlns:m="urn:t"><m:to>bob</m:to></m:Pay></soap:Body></soap:Envelope>'
)


def _flip_iv(message: bytes, mask: int) -> bytes:
    """XOR the first plaintext byte of the Body's EncryptedData with ``mask``."""
    root = parse_xml(message)
    cv = root.find(f".//{{http://schemas.xmlsoap.org/soap/envelope/}}Body//{{{XENC}}}CipherValue")
    raw = bytearray(base64.b64decode("".join(cv.text.split())))
    raw[0] ^= mask
    cv.text = base64.b64encode(bytes(raw)).decode()
    return etree.tostring(root)


@pytest.fixture(scope="module")
def messages(pki) -> dict[str, bytes]:
    def make(cipher: str) -> bytes:
        signed = Signer(pki.client.key, pki.client.cert).sign(ENVELOPE)
        return Encryptor(pki.service.cert, cipher=cipher).encrypt(signed)

    cbc = make("aes256-cbc")
    return {
        "cbc": cbc,
        "well-formed-altered": _flip_iv(cbc, 0x20 ^ 0x21),  # " " -> "!": text, parses, digest differs
        "malformed": _flip_iv(cbc, 0x20 ^ 0x3C),  # " " -> "<": plaintext does not parse
        "gcm": make("aes256-gcm"),
    }


def _verifier(pki) -> Verifier:
    return Verifier(trust=[pki.ca.cert], decrypt_key=pki.service.key)


def test_unaltered_cbc_message_verifies(pki, messages) -> None:
    assert "Body" in _verifier(pki).verify(messages["cbc"]).signed_parts


@pytest.mark.parametrize("case", ["well-formed-altered", "malformed"])
def test_every_failure_after_cbc_looks_the_same(pki, messages, case) -> None:
    with pytest.raises(DecryptionFailed) as info:
        _verifier(pki).verify(messages[case])
    assert str(info.value) == "decryption failed"
    assert type(info.value) is DecryptionFailed


def test_policy_failures_after_cbc_look_the_same_too(pki, messages) -> None:
    verifier = _verifier(pki)
    verifier.verify(messages["cbc"])
    with pytest.raises(DecryptionFailed, match="^decryption failed$"):
        verifier.verify(messages["cbc"])  # a replay, after a CBC decryption


def test_gcm_keeps_its_precise_reasons(pki, messages) -> None:
    """GCM authenticates the ciphertext: a replay is reported as such."""
    verifier = _verifier(pki)
    verifier.verify(messages["gcm"])
    with pytest.raises(ReplayDetected):
        verifier.verify(messages["gcm"])
    assert not issubclass(DecryptionFailed, InvalidSignature)


def test_cli_prints_one_line_for_both(pki, messages, tmp_path) -> None:
    outputs = []
    for case in ("well-formed-altered", "malformed"):
        path = tmp_path / f"{case}.xml"
        path.write_bytes(messages[case])
        proc = subprocess.run(
            [
                "apisec",
                "soap",
                "verify",
                str(path),
                "--trust",
                str(pki.ca_path),
                "--decrypt-key",
                str(pki.service.key_path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        outputs.append((proc.returncode, proc.stdout, proc.stderr))
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == 1 and outputs[0][2].startswith("apisec: error:")
