"""Verifier.verify raises only wssec.errors, for every input.

Certificates a peer can put in front of the SKI lookup (a public-key
algorithm cryptography does not know, a malformed SKI extension) and a
hypothesis property over mutated signed messages (every key-identifier
kind, UsernameToken, ECDSA, encryption).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.reliability.test_properties import byte_mutants, xml_mutants
from wssec import Signer, Verifier
from wssec.encryption import Encryptor
from wssec.errors import UntrustedKey, WssecError
from wssec.safexml import parse_xml

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b'<soap:Body><m:Ping xmlns:m="urn:t"><m:v>1</m:v></m:Ping></soap:Body></soap:Envelope>'
)
RSA_OID = bytes.fromhex("06092a864886f70d010101")  # rsaEncryption
UNKNOWN_OID = bytes.fromhex("06092a864886f70d01017f")  # 1.2.840.113549.1.1.127: no such key type
SKI_OID_EXT = bytes.fromhex("0603551d0e")  # id-ce-subjectKeyIdentifier


def _cert(*, ski: bool) -> x509.Certificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "odd")])
    b = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if ski:
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    return b.sign(key, hashes.SHA256())


@functools.cache
def unknown_algorithm_cert() -> x509.Certificate:
    der = _cert(ski=False).public_bytes(serialization.Encoding.DER)
    assert der.count(RSA_OID) == 1
    cert = x509.load_der_x509_certificate(der.replace(RSA_OID, UNKNOWN_OID))
    with pytest.raises(Exception):  # noqa: B017, PT011 - what cryptography raises is its business
        cert.public_key()
    return cert


@functools.cache
def malformed_ski_cert() -> x509.Certificate:
    der = bytearray(_cert(ski=True).public_bytes(serialization.Encoding.DER))
    at = der.index(SKI_OID_EXT) + len(SKI_OID_EXT)
    # extnValue OCTET STRING (04 LL) wrapping the SKI OCTET STRING (04 14 ...): break the inner tag
    assert der[at] == 0x04 and der[at + 2] == 0x04
    der[at + 2] = 0x05
    cert = x509.load_der_x509_certificate(bytes(der))
    with pytest.raises(ValueError):
        _ = cert.extensions
    return cert


@pytest.mark.parametrize("odd", [unknown_algorithm_cert, malformed_ski_cert], ids=["unknown-alg", "bad-ski"])
def test_odd_known_certificate_is_skipped_by_ski_lookup(pki, odd) -> None:
    msg = Signer(pki.client.key, pki.client.cert, key_identifier="ski").sign(ENVELOPE)
    verifier = Verifier(trust=[pki.ca.cert], certs=[odd(), pki.client.cert])
    assert verifier.verify(msg).signer_certificate == pki.client.cert


@pytest.mark.parametrize("odd", [unknown_algorithm_cert, malformed_ski_cert], ids=["unknown-alg", "bad-ski"])
def test_odd_token_certificate_in_the_message_is_a_clean_refusal(pki, odd) -> None:
    """The odd certificate arrives as a BinarySecurityToken: first candidate
    for the SKI lookup, or the signer's own token."""
    msg = Signer(pki.client.key, pki.client.cert, key_identifier="ski").sign(ENVELOPE)
    root = parse_xml(msg)
    sec = root.find(f".//{{{WSSE}}}Security")
    bst = etree.Element(f"{{{WSSE}}}BinarySecurityToken", ValueType=X509V3)
    bst.text = base64.b64encode(odd().public_bytes(serialization.Encoding.DER)).decode()
    sec.insert(0, bst)
    with pytest.raises(WssecError):  # unknown signer (the client cert is not passed)
        Verifier(trust=[pki.ca.cert]).verify(etree.tostring(root))
    signed_by_odd = Signer(pki.client.key, pki.client.cert).sign(ENVELOPE)
    swapped = signed_by_odd.replace(
        base64.b64encode(pki.client.cert.public_bytes(serialization.Encoding.DER)),
        base64.b64encode(odd().public_bytes(serialization.Encoding.DER)),
    )
    assert swapped != signed_by_odd
    with pytest.raises(WssecError) as info:
        Verifier(trust=[odd(), pki.ca.cert]).verify(swapped)
    if odd is unknown_algorithm_cert:
        assert isinstance(info.value, UntrustedKey)


# ------------------------------------------------------------------ property


@functools.cache
def _cases(pki) -> list[tuple[bytes, Verifier]]:
    """(accepted signed message, the Verifier that accepts it)."""
    verifier = Verifier(
        trust=[pki.ca.cert],
        certs=[pki.client.cert, unknown_algorithm_cert(), malformed_ski_cert()],
        decrypt_key=pki.service.key,
        replay_cache=None,
    )
    with_users = Verifier(trust=[pki.ca.cert], users={"alice": "pw"}, replay_cache=None)
    cases = [
        (Signer(pki.client.key, pki.client.cert, key_identifier=kind).sign(ENVELOPE), verifier)
        for kind in ("bst", "ski", "issuer-serial", "thumbprint")
    ]
    ut = Signer(
        pki.client.key,
        pki.client.cert,
        username="alice",
        password="pw",
        sign=("Body", "Timestamp", "UsernameToken"),
    )
    cases.append((ut.sign(ENVELOPE), with_users))
    ec_signer = Signer(pki.ec_client.key, pki.ec_client.cert, signature_algorithm="ecdsa-sha256")
    cases.append((ec_signer.sign(ENVELOPE), verifier))
    cases.append((Encryptor(pki.service.cert).encrypt(cases[0][0]), verifier))
    for seed, v in cases:
        v.verify(seed)  # the seeds verify: mutations start from accepted messages
    return cases


PROPERTY = settings(
    max_examples=60,
    deadline=dt.timedelta(seconds=5),
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@PROPERTY
@given(data=st.data())
def test_mutated_signed_messages_raise_only_wssec_errors(pki, data) -> None:
    seed, verifier = data.draw(st.sampled_from(_cases(pki)))
    mutant = data.draw(st.sampled_from([xml_mutants, byte_mutants]).flatmap(lambda m: m([seed])))
    try:
        verifier.verify(mutant)
    except WssecError:
        pass
