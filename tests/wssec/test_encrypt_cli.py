"""``apisec soap encrypt`` / ``apisec soap decrypt`` through the real console
script: exit codes 0/1/2, one-line errors, no partial output, --debug detail."""

from __future__ import annotations

import json

import pytest

SECRET = b"TOPSECRET-4711"
MSG = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>'
    b'<r:Route xmlns:r="urn:example:route">secret route</r:Route></soap:Header><soap:Body>'
    b'<m:GetBalance xmlns:m="urn:example:bank"><m:Account>TOPSECRET-4711</m:Account></m:GetBalance>'
    b"</soap:Body></soap:Envelope>"
)


@pytest.fixture
def msg(tmp_path):
    p = tmp_path / "msg.xml"
    p.write_bytes(MSG)
    return p


def test_encrypt_then_decrypt(apisec, pki, tmp_path, msg) -> None:
    enc, dec = tmp_path / "enc.xml", tmp_path / "dec.xml"
    r = apisec(
        "soap", "encrypt", str(msg), "-o", str(enc), "--recipient", str(pki.service.cert_path),
        "--encrypt", "Body,r:Route", "--cipher", "aes128-cbc", "--key-identifier", "thumbprint",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    data = enc.read_bytes()
    assert SECRET not in data and b"secret route" not in data and b"EncryptedHeader" in data
    assert b"ThumbprintSHA1" in data and b"aes128-cbc" in data
    r = apisec(
        "soap", "decrypt", str(enc), "-o", str(dec), "--key", str(pki.service.key_path),
        "--cert", str(pki.service.cert_path), "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert SECRET in dec.read_bytes() and b"secret route" in dec.read_bytes()
    names = [p["name"] for p in json.loads(r.stdout)["decrypted"]]
    assert names == ["Body", "{urn:example:route}Route"]


def test_decrypt_with_wrong_key_is_generic_and_writes_nothing(apisec, pki, tmp_path, msg) -> None:
    enc, dec = tmp_path / "enc.xml", tmp_path / "dec.xml"
    assert (
        apisec(
            "soap", "encrypt", str(msg), "-o", str(enc), "--recipient", str(pki.service.cert_path)
        ).exit_code
        == 0
    )
    r = apisec("soap", "decrypt", str(enc), "-o", str(dec), "--key", str(pki.client.key_path))
    assert r.exit_code == 1
    assert r.stderr.strip() == "apisec: error: decryption failed"
    assert {p.name for p in tmp_path.iterdir()} == {"msg.xml", "enc.xml"}  # no partial or temp file


def test_debug_shows_the_detail_locally(apisec, pki, tmp_path, msg) -> None:
    enc = tmp_path / "enc.xml"
    apisec("soap", "encrypt", str(msg), "-o", str(enc), "--recipient", str(pki.service.cert_path))
    r = apisec(
        "--debug",
        "soap",
        "decrypt",
        str(enc),
        "-o",
        str(tmp_path / "d.xml"),
        "--key",
        str(pki.client.key_path),
    )
    assert r.exit_code == 1
    assert "GCM authentication tag mismatch" in r.stderr
    assert "apisec: error: decryption failed" in r.stderr


def test_input_errors_exit_2(apisec, pki, tmp_path, msg) -> None:
    out = tmp_path / "o.xml"
    r = apisec("soap", "encrypt", str(msg), "-o", str(out), "--recipient", str(tmp_path / "none.pem"))
    assert r.exit_code == 2 and r.stderr.startswith("apisec: error:") and "not found" in r.stderr
    r = apisec(
        "soap",
        "encrypt",
        str(msg),
        "-o",
        str(out),
        "--recipient",
        str(pki.service.cert_path),
        "--cipher",
        "rc4",
    )
    assert r.exit_code == 2 and "rc4" in r.stderr
    r = apisec(
        "soap", "encrypt", str(msg), "-o", str(out), "--recipient", str(pki.service.cert_path),
        "--encrypt", "{urn:x}Missing",
    )  # fmt: skip
    assert r.exit_code == 2 and "not in the message" in r.stderr and len(r.stderr.splitlines()) == 1
    r = apisec("soap", "decrypt", str(msg), "-o", str(out), "--key", str(pki.service.key_path))
    assert r.exit_code == 2 and "nothing to decrypt" in r.stderr
    assert not out.exists()
    assert "Traceback" not in r.stderr


def test_verify_decrypts_then_verifies(apisec, pki, tmp_path, msg) -> None:
    signed, enc = tmp_path / "signed.xml", tmp_path / "enc.xml"
    r = apisec(
        "soap", "sign", str(msg), "-o", str(signed), "--key", str(pki.client.key_path),
        "--cert", str(pki.client.cert_path),
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = apisec("soap", "encrypt", str(signed), "-o", str(enc), "--recipient", str(pki.service.cert_path))
    assert r.exit_code == 0, r.stderr
    r = apisec(
        "soap",
        "verify",
        str(enc),
        "--trust",
        str(pki.ca.cert_path),
        "--decrypt-key",
        str(pki.service.key_path),
    )
    assert r.exit_code == 0, r.stderr + r.stdout
    r = apisec(
        "soap",
        "verify",
        str(enc),
        "--trust",
        str(pki.ca.cert_path),
        "--decrypt-key",
        str(pki.client.key_path),
    )
    assert r.exit_code == 1 and "decryption failed" in r.stderr
