"""One trust and key policy for every signature (wssec.trust.KeyPolicy).

CA-issued certificates with the wrong keyUsage/extendedKeyUsage, RSA-1024
and P-192 signers are refused on the SOAP (WS-Security) path, the SAML path
(Response/Assertion, pinned and metadata certificates) and for
holder-of-key keys; the same certificates with a signing purpose and a
strong key verify (positive controls).  Certificates are made at test time.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from lxml import etree

import wssec.signer
from wssec import Signer, Verifier
from wssec.encryption import Encryptor
from wssec.errors import KeyLoadError, PolicyViolation, UntrustedKey, WeakKey
from wssec.safexml import parse_xml
from wssec.saml import Issuer, SamlTrust, verify
from wssec.saml.dsig import sign_enveloped
from wssec.trust import DEFAULT_SIGNING_EKUS, KeyPolicy

ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b'<soap:Body><m:Ping xmlns:m="urn:t"><m:v>1</m:v></m:Ping></soap:Body></soap:Envelope>'
)
SP = "urn:sp"
DS = "http://www.w3.org/2000/09/xmldsig#"

# keyUsage(digital_signature, content_commitment, key_encipherment, data_encipherment,
#          key_agreement, key_cert_sign, crl_sign, encipher_only, decipher_only)
KU_SIGN = (True, False, False, False, False, False, False, False, False)
KU_NONREP = (False, True, False, False, False, False, False, False, False)
KU_ENCRYPT_ONLY = (False, False, True, True, False, False, False, False, False)


def _leaf(pki, key, cn: str, *, ku=KU_SIGN, eku=None, issuer=True) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(pki.ca.cert.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(pki.ca.key.public_key()), critical=False
        )
    if ku is not None:
        b = b.add_extension(x509.KeyUsage(*ku), critical=True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return b.sign(pki.ca.key if issuer else key, hashes.SHA256())


@pytest.fixture(scope="module")
def keys():
    return {
        "rsa2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "rsa1024": rsa.generate_private_key(public_exponent=65537, key_size=1024),
        "p256": ec.generate_private_key(ec.SECP256R1()),
        "p192": ec.generate_private_key(ec.SECP192R1()),
    }


# Each case: (key name, keyUsage, EKU, expected error or None)
CASES = {
    "good-rsa": ("rsa2048", KU_SIGN, None, None),
    "good-nonrepudiation": ("rsa2048", KU_NONREP, None, None),
    "good-clientauth-eku": ("rsa2048", KU_SIGN, [ExtendedKeyUsageOID.CLIENT_AUTH], None),
    "good-p256": ("p256", KU_SIGN, None, None),
    "ku-encryption-only": ("rsa2048", KU_ENCRYPT_ONLY, None, "keyUsage"),
    "eku-ocsp-only": ("rsa2048", KU_SIGN, [ExtendedKeyUsageOID.OCSP_SIGNING], "extendedKeyUsage"),
    "eku-timestamping-only": ("rsa2048", KU_SIGN, [ExtendedKeyUsageOID.TIME_STAMPING], "extendedKeyUsage"),
    "rsa-1024": ("rsa1024", KU_SIGN, None, "1024 bits"),
    "ec-p192": ("p192", KU_SIGN, None, "secp192r1"),
}


def _soap_signed(monkeypatch, key, cert, **kw) -> bytes:
    # The Signer itself refuses weak keys (wssec.keys); a hostile peer is not so polite.
    monkeypatch.setattr(wssec.signer, "load_private_key", lambda k, p=None: k)
    alg = "ecdsa-sha256" if isinstance(key, ec.EllipticCurvePrivateKey) else "rsa-sha256"
    return Signer(key, cert, signature_algorithm=alg, **kw).sign(ENVELOPE)


@pytest.mark.parametrize("case", CASES)
def test_soap_signer_purpose_and_strength(case, pki, keys, monkeypatch) -> None:
    key_name, ku, eku, error = CASES[case]
    cert = _leaf(pki, keys[key_name], f"soap-{case}", ku=ku, eku=eku)
    msg = _soap_signed(monkeypatch, keys[key_name], cert)
    verifier = Verifier(trust=[pki.ca.cert])
    if error is None:
        assert verifier.verify(msg).signer_certificate == cert
    else:
        with pytest.raises(UntrustedKey, match=error):
            verifier.verify(msg)


@pytest.mark.parametrize("case", ["rsa-1024", "ec-p192", "ku-encryption-only"])
def test_soap_pinned_signer_held_to_the_same_policy(case, pki, keys, monkeypatch) -> None:
    key_name, ku, eku, error = CASES[case]
    cert = _leaf(pki, keys[key_name], f"pinned-{case}", ku=ku, eku=eku, issuer=False)
    msg = _soap_signed(monkeypatch, keys[key_name], cert)
    with pytest.raises(UntrustedKey, match=error):
        Verifier(trust=[cert]).verify(msg)


def _saml_signed(pki, key, cert) -> bytes:
    """A Response whose assertion is signed by ``key``/``cert`` (CA-issued)."""
    idp = Issuer(pki.service.key, pki.service.cert, "https://idp.example")
    root = parse_xml(idp.issue_response("alice", audience=SP, sign_response=False))
    target = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    old = target.find(f"{{{DS}}}Signature")
    position = target.index(old)
    target.remove(old)
    sign_enveloped(target, key=key, cert=cert, position=position)
    return etree.tostring(root)


@pytest.mark.parametrize("case", CASES)
def test_saml_signer_purpose_and_strength(case, pki, keys) -> None:
    key_name, ku, eku, error = CASES[case]
    cert = _leaf(pki, keys[key_name], f"saml-{case}", ku=ku, eku=eku)
    data = _saml_signed(pki, keys[key_name], cert)
    if error is None:
        assert verify(data, trust=pki.ca.cert, audience=SP).signer_certificate == cert
    else:
        with pytest.raises(UntrustedKey, match=error):
            verify(data, trust=pki.ca.cert, audience=SP)


@pytest.mark.parametrize("case", ["good-rsa", "rsa-1024", "ec-p192", "eku-ocsp-only"])
def test_saml_pinned_and_metadata_signer_held_to_the_same_policy(case, pki, keys) -> None:
    key_name, ku, eku, error = CASES[case]
    cert = _leaf(pki, keys[key_name], f"md-{case}", ku=ku, eku=eku, issuer=False)
    data = _saml_signed(pki, keys[key_name], cert)
    b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    metadata = (
        '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
        'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example">'
        '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
        f"{b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"
        "</md:IDPSSODescriptor></md:EntityDescriptor>"
    )
    for trust in (cert, SamlTrust.from_metadata(metadata)):
        if error is None:
            assert verify(data, trust=trust, audience=SP).signer_certificate == cert
        else:
            with pytest.raises(UntrustedKey, match=error):
                verify(data, trust=trust, audience=SP)


@pytest.mark.parametrize("case", ["good-rsa", "rsa-1024", "ku-encryption-only"])
def test_holder_of_key_confirmation_key_held_to_the_policy(case, pki, keys, monkeypatch) -> None:
    key_name, ku, eku, error = CASES[case]
    cert = _leaf(pki, keys[key_name], f"hok-{case}", ku=ku, eku=eku)
    sts = Issuer(pki.service.key, pki.service.cert, "https://sts.example")
    token = sts.issue("alice", audience=SP, confirmation="holder-of-key", confirmation_cert=cert)
    msg = _soap_signed(monkeypatch, keys[key_name], cert, saml=token)
    verifier = Verifier(trust=[pki.ca.cert], saml_trust=[pki.ca.cert], saml_audience=SP)
    if error is None:
        assert verifier.verify(msg).saml.confirmation == "holder-of-key"
    else:
        with pytest.raises(UntrustedKey, match=error):
            verifier.verify(msg)


def test_weak_key_error_is_both_policy_and_trust_error() -> None:
    assert issubclass(WeakKey, PolicyViolation) and issubclass(WeakKey, UntrustedKey)


def test_eku_set_is_configurable(pki, keys, monkeypatch) -> None:
    """A deployment whose signers carry only codeSigning can accept it by name."""
    cert = _leaf(pki, keys["rsa2048"], "codesign", eku=[ExtendedKeyUsageOID.CODE_SIGNING])
    msg = _soap_signed(monkeypatch, keys["rsa2048"], cert)
    with pytest.raises(UntrustedKey, match="codeSigning"):
        Verifier(trust=[pki.ca.cert]).verify(msg)
    policy = KeyPolicy(signing_ekus=DEFAULT_SIGNING_EKUS | {ExtendedKeyUsageOID.CODE_SIGNING})
    assert Verifier(trust=[pki.ca.cert], key_policy=policy).verify(msg).signer_certificate == cert
    data = _saml_signed(pki, keys["rsa2048"], cert)
    with pytest.raises(UntrustedKey, match="codeSigning"):
        verify(data, trust=pki.ca.cert, audience=SP)
    assert verify(data, trust=pki.ca.cert, audience=SP, key_policy=policy).signer_certificate == cert


def test_legacy_rsa_size_is_configurable(pki, keys, monkeypatch) -> None:
    cert = _leaf(pki, keys["rsa1024"], "legacy1024")
    msg = _soap_signed(monkeypatch, keys["rsa1024"], cert)
    assert Verifier(trust=[pki.ca.cert], min_rsa_bits=1024).verify(msg).signer_certificate == cert


def test_key_transport_recipient_needs_key_encipherment(pki, keys) -> None:
    sign_only = _leaf(pki, keys["rsa2048"], "recipient-sign-only", ku=KU_SIGN)
    with pytest.raises(KeyLoadError, match="keyEncipherment"):
        Encryptor(sign_only)
    ok = _leaf(pki, keys["rsa2048"], "recipient-ok", ku=KU_ENCRYPT_ONLY)
    assert Encryptor(ok).cert == ok
    weak = _leaf(pki, keys["rsa1024"], "recipient-weak", ku=KU_ENCRYPT_ONLY)
    with pytest.raises(KeyLoadError, match="1024"):
        Encryptor(weak)


def test_signer_refuses_weak_curve_keys() -> None:
    with pytest.raises(KeyLoadError, match="secp192r1"):
        Signer(ec.generate_private_key(ec.SECP192R1()), None)
