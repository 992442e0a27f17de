"""The sign -> encrypt -> decrypt -> verify workflow through the console
script (issue 16): the decrypted file verifies on its own (two-step) as the
encrypted one does with --decrypt-key (one-step), and errors name flags."""

from __future__ import annotations

import json

import pytest

from tests.wssec.test_encrypt_cli import MSG


@pytest.fixture
def encrypted(apisec, pki, tmp_path):
    src, signed, enc = tmp_path / "msg.xml", tmp_path / "signed.xml", tmp_path / "enc.xml"
    src.write_bytes(MSG)
    r = apisec(
        "soap", "sign", str(src), "-o", str(signed),
        "--key", str(pki.client.key_path), "--cert", str(pki.client.cert_path),
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = apisec("soap", "encrypt", str(signed), "-o", str(enc), "--recipient", str(pki.service.cert_path))
    assert r.exit_code == 0, r.stderr
    return enc


def test_decrypted_output_verifies_two_step(apisec, pki, tmp_path, encrypted) -> None:
    dec = tmp_path / "dec.xml"
    r = apisec("soap", "decrypt", str(encrypted), "-o", str(dec), "--key", str(pki.service.key_path))
    assert r.exit_code == 0, r.stderr
    data = dec.read_bytes()
    assert b"EncryptedKey" not in data and b"ReferenceList" not in data and b"TOPSECRET-4711" in data
    r = apisec("soap", "verify", str(dec), "--trust", str(pki.ca.cert_path))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.startswith("valid: signed Body, Timestamp")


def test_decrypted_output_still_detects_tampering(apisec, pki, tmp_path, encrypted) -> None:
    dec = tmp_path / "dec.xml"
    apisec("soap", "decrypt", str(encrypted), "-o", str(dec), "--key", str(pki.service.key_path))
    dec.write_bytes(dec.read_bytes().replace(b"TOPSECRET-4711", b"TOPSECRET-4712"))
    r = apisec("soap", "verify", str(dec), "--trust", str(pki.ca.cert_path))
    assert r.exit_code == 1
    assert r.stderr.startswith("apisec: error: ")


def test_one_step_verify_and_error_names_the_flag(apisec, pki, encrypted) -> None:
    r = apisec("soap", "verify", str(encrypted), "--trust", str(pki.ca.cert_path))
    assert r.exit_code == 1
    assert "--decrypt-key" in r.stderr and "decrypt_key" not in r.stderr
    r = apisec(
        "soap", "verify", str(encrypted), "--trust", str(pki.ca.cert_path), "--format", "json",
    )  # fmt: skip
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert doc["valid"] is False and doc["error"] == "PolicyViolation" and "--decrypt-key" in doc["reason"]
    r = apisec(
        "soap", "verify", str(encrypted), "--trust", str(pki.ca.cert_path),
        "--decrypt-key", str(pki.service.key_path),
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "decrypted 1 part(s)" in r.stdout
