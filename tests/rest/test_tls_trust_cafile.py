"""A CA file is parsed once per version of the file: a bundle rotated in
place (edited, or atomically replaced) is read again, an unchanged one is
not."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rest.errors import BadInput
from rest.tls.trust import TrustConfig, anchors


def _ca(name: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM)


def _names(path) -> list[str]:
    return [c.subject.rfc4514_string() for c in anchors(TrustConfig(ca_file=path, ca_only=True))]


def test_a_rotated_ca_file_is_read_again(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_bytes(_ca("CA one"))
    first = anchors(TrustConfig(ca_file=path, ca_only=True))
    assert _names(path) == ["CN=CA one"]
    assert anchors(TrustConfig(ca_file=path, ca_only=True)) is first  # unchanged: not parsed again
    stamp = path.stat().st_mtime_ns

    # edited in place: same inode, a later modification time
    path.write_bytes(_ca("CA two"))
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
    assert _names(path) == ["CN=CA two"]

    # atomically replaced, even with the old size and time: another inode
    new = tmp_path / "ca.pem.new"
    new.write_bytes(_ca("CA six"))
    os.utime(new, ns=(stamp + 10**9, stamp + 10**9))
    keep = tmp_path / "keep.pem"
    os.link(path, keep)  # the old inode stays allocated, so the new file gets another number
    os.replace(new, path)
    assert _names(path) == ["CN=CA six"]

    # a bundle that grew: both CAs
    path.write_bytes(path.read_bytes() + _ca("CA ten"))
    assert _names(path) == ["CN=CA six", "CN=CA ten"]


def test_a_missing_or_empty_ca_file_is_an_input_error(tmp_path):
    with pytest.raises(BadInput, match="cannot read CA file"):
        anchors(TrustConfig(ca_file=tmp_path / "none.pem", ca_only=True))
    (tmp_path / "empty.pem").write_text("no certificate here\n")
    with pytest.raises(BadInput, match="holds no PEM certificate"):
        anchors(TrustConfig(ca_file=tmp_path / "empty.pem", ca_only=True))
