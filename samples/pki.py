"""A throw-away PKI for tests and the demo, generated at start (never committed).

Used by the test suite (session fixture ``pki``) and by ``apisec demo`` and the
sample services, which need keys but must not ship private keys.  Shape
follows the project's test-PKI script: a CA, a client and a service key
pair signed by it, and a rogue self-signed signer nobody trusts; plus the
awkward cases verifiers must refuse (expired, not yet valid) and an EC key.
PEM files for Python and xmlsec1, PKCS#12 files for Java.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

P12_PASSWORD = b"changeit"


@dataclass(frozen=True)
class Identity:
    """One key pair with its certificate, as objects and as files."""

    name: str
    key: object
    cert: x509.Certificate
    key_path: Path
    cert_path: Path
    p12_path: Path


@dataclass(frozen=True)
class TestPKI:
    dir: Path
    ca: Identity
    client: Identity
    service: Identity
    rogue: Identity
    expired: Identity
    not_yet_valid: Identity
    ec_client: Identity

    @property
    def ca_path(self) -> Path:
        return self.ca.cert_path


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Compliance Lab"),
        ]
    )


def _write(dir: Path, name: str, key, cert: x509.Certificate, chain: list[x509.Certificate]) -> Identity:
    key_path = dir / f"{name}.key"
    cert_path = dir / f"{name}.pem"
    p12_path = dir / f"{name}.p12"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    p12_path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            name.encode(), key, cert, chain or None, serialization.BestAvailableEncryption(P12_PASSWORD)
        )
    )
    return Identity(name, key, cert, key_path, cert_path, p12_path)


def _issue(
    subject_key,
    cn: str,
    issuer_key,
    issuer_cert: x509.Certificate | None,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    ca: bool = False,
    serial: int | None = None,
) -> x509.Certificate:
    issuer_name = issuer_cert.subject if issuer_cert is not None else _name(cn)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_name)
        .public_key(subject_key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        b = b.add_extension(
            x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=False
        ).add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        if issuer_cert is not None:
            b = b.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
    return b.sign(issuer_key, hashes.SHA256())


def make_pki(dir: Path) -> TestPKI:
    """Generate the whole PKI into ``dir`` (about a second with RSA-2048)."""
    dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    day = dt.timedelta(days=1)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = _issue(
        ca_key, "Test CA", ca_key, None, not_before=now - day, not_after=now + 3650 * day, ca=True
    )
    ca = _write(dir, "ca", ca_key, ca_cert, [])

    def leaf(name: str, *, key=None, nb=now - day, na=now + 364 * day) -> Identity:
        k = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
        c = _issue(k, name, ca_key, ca_cert, not_before=nb, not_after=na)
        return _write(dir, name, k, c, [ca_cert])

    # 365 days in all: within the CA/Browser Forum's and Mozilla's 398/366-day caps, so
    # services using them pass tls.cert-lifetime.
    client = leaf("client")
    service = leaf("service")
    expired = leaf("expired", nb=now - 400 * day, na=now - 30 * day)
    not_yet = leaf("notyetvalid", nb=now + 30 * day, na=now + 400 * day)
    ec_client = leaf("ecclient", key=ec.generate_private_key(ec.SECP256R1()))
    rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rogue_cert = _issue(rogue_key, "rogue", rogue_key, None, not_before=now - day, not_after=now + 825 * day)
    rogue = _write(dir, "rogue", rogue_key, rogue_cert, [])
    return TestPKI(dir, ca, client, service, rogue, expired, not_yet, ec_client)
