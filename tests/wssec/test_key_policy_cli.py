"""The key-policy flags (``--min-rsa-bits``, ``--allow-eku``) of
``apisec soap verify`` and ``apisec soap saml verify``, through the real
console script: each flag has a case the default refuses and the flag
accepts, a case the flag refuses that the default accepts, and a bad value
that is an input error (exit 2, one line)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.wssec.test_trust_policy import SP, _leaf, _saml_signed, _soap_signed
from wssec.trust import eku_purpose


@pytest.fixture(scope="module")
def rsa_keys():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return {bits: rsa.generate_private_key(public_exponent=65537, key_size=bits) for bits in (1024, 2048)}


def _pem(path, cert) -> str:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def _soap(tmp_path, monkeypatch, pki, key, cert) -> str:
    msg = tmp_path / "signed.xml"
    msg.write_bytes(_soap_signed(monkeypatch, key, cert))
    return str(msg)


def _one_error_line(res) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apisec: error: "), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_soap_verify_allow_eku(apisec, pki, rsa_keys, tmp_path, monkeypatch) -> None:
    cert = _leaf(pki, rsa_keys[2048], "cli-codesign", eku=[ExtendedKeyUsageOID.CODE_SIGNING])
    msg = _soap(tmp_path, monkeypatch, pki, rsa_keys[2048], cert)
    base = ("soap", "verify", msg, "--trust", str(pki.ca.cert_path))
    res = apisec(*base)
    assert res.exit_code == 1 and "codeSigning" in _one_error_line(res)
    res = apisec(*base, "--allow-eku", "codeSigning")
    assert res.exit_code == 0, res.stderr
    assert "valid: signed Body, Timestamp" in res.stdout
    # by dotted OID, among others (repeatable)
    res = apisec(*base, "--allow-eku", "timeStamping", "--allow-eku", "1.3.6.1.5.5.7.3.3")
    assert res.exit_code == 0, res.stderr
    # another purpose does not admit codeSigning
    res = apisec(*base, "--allow-eku", "timeStamping")
    assert res.exit_code == 1 and "codeSigning" in _one_error_line(res)


def test_soap_verify_min_rsa_bits(apisec, pki, rsa_keys, tmp_path, monkeypatch) -> None:
    legacy = _leaf(pki, rsa_keys[1024], "cli-rsa1024")
    msg = _soap(tmp_path, monkeypatch, pki, rsa_keys[1024], legacy)
    base = ("soap", "verify", msg, "--trust", str(pki.ca.cert_path))
    res = apisec(*base)
    assert res.exit_code == 1 and "1024 bits" in _one_error_line(res)
    res = apisec(*base, "--min-rsa-bits", "1024", "--format", "json")
    assert res.exit_code == 0, res.stderr
    # raising the bar refuses a 2048-bit signer the default accepts
    good = _leaf(pki, rsa_keys[2048], "cli-rsa2048")
    msg2 = tmp_path / "signed2048.xml"
    msg2.write_bytes(_soap_signed(monkeypatch, rsa_keys[2048], good))
    base2 = ("soap", "verify", str(msg2), "--trust", str(pki.ca.cert_path))
    assert apisec(*base2).exit_code == 0
    res = apisec(*base2, "--min-rsa-bits", "3072")
    assert res.exit_code == 1 and "2048 bits (need >= 3072)" in _one_error_line(res)


def test_soap_verify_bad_policy_values_are_input_errors(apisec, pki, rsa_keys, tmp_path, monkeypatch) -> None:
    cert = _leaf(pki, rsa_keys[2048], "cli-bad-values")
    msg = _soap(tmp_path, monkeypatch, pki, rsa_keys[2048], cert)
    base = ("soap", "verify", msg, "--trust", str(pki.ca.cert_path))
    res = apisec(*base, "--allow-eku", "sign-anything")
    assert res.exit_code == 2 and "--allow-eku" in _one_error_line(res)
    res = apisec(*base, "--min-rsa-bits", "512")
    assert res.exit_code == 2 and "Traceback" not in res.stderr


def test_saml_verify_key_policy_flags(apisec, pki, rsa_keys, tmp_path) -> None:
    legacy = _leaf(pki, rsa_keys[1024], "cli-saml-rsa1024")
    resp = tmp_path / "response.xml"
    resp.write_bytes(_saml_signed(pki, rsa_keys[1024], legacy))
    base = ("soap", "saml", "verify", str(resp), "--trust", str(pki.ca.cert_path), "--audience", SP)
    res = apisec(*base)
    assert res.exit_code == 1 and "1024 bits" in _one_error_line(res)
    assert apisec(*base, "--min-rsa-bits", "1024").exit_code == 0

    ocsp = _leaf(pki, rsa_keys[2048], "cli-saml-ocsp", eku=[ExtendedKeyUsageOID.OCSP_SIGNING])
    resp2 = tmp_path / "response2.xml"
    resp2.write_bytes(_saml_signed(pki, rsa_keys[2048], ocsp))
    base2 = ("soap", "saml", "verify", str(resp2), "--trust", str(pki.ca.cert_path), "--audience", SP)
    res = apisec(*base2)
    assert res.exit_code == 1 and "OCSPSigning" in _one_error_line(res)
    res = apisec(*base2, "--allow-eku", "ocspsigning")  # names are case-insensitive
    assert res.exit_code == 0, res.stderr
    res = apisec(*base2, "--allow-eku", "1.2")
    assert res.exit_code == 1  # a valid OID, but not the certificate's purpose


def test_eku_purpose_names() -> None:
    assert eku_purpose("codeSigning") == ExtendedKeyUsageOID.CODE_SIGNING
    assert eku_purpose("OCSPSIGNING") == ExtendedKeyUsageOID.OCSP_SIGNING
    assert eku_purpose("1.3.6.1.5.5.7.3.8") == ExtendedKeyUsageOID.TIME_STAMPING
    for bad in ("", "sign", "1", "1..2", "a.b", "codeSigning,timeStamping"):
        with pytest.raises(ValueError, match="unknown extendedKeyUsage purpose"):
            eku_purpose(bad)
