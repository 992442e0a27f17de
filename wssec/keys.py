"""Loading private keys and certificates: once, from a path or bytes, PEM or DER.

Keys are loaded once when a Signer/Verifier is built and reused (parsing and
checking an RSA key costs more than signing with it).  Every failure becomes
:class:`wssec.errors.KeyLoadError` with a one-line reason; the key material
and passwords never appear in the message.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from wssec.errors import KeyLoadError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
KeySource = str | os.PathLike | bytes | bytearray | PrivateKey
CertSource = str | os.PathLike | bytes | bytearray | x509.Certificate

_MAX_FILE = 1024 * 1024


def _read(source: str | os.PathLike | bytes | bytearray, what: str) -> tuple[bytes, str]:
    """Bytes and a name for messages; a ``str`` is a path unless it is PEM text."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), what
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode("ascii", "replace"), what
    path = Path(source)
    try:
        with path.open("rb") as fh:
            data = fh.read(_MAX_FILE + 1)
    except FileNotFoundError:
        raise KeyLoadError(f"{what} file not found: {path}") from None
    except IsADirectoryError:
        raise KeyLoadError(f"{what} is a directory: {path}") from None
    except OSError as exc:
        raise KeyLoadError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > _MAX_FILE:
        raise KeyLoadError(f"{what} {path} is larger than {_MAX_FILE} bytes")
    return data, f"{what} {path}"


def _password(password: str | bytes | None) -> bytes | None:
    if password is None:
        return None
    return password.encode("utf-8") if isinstance(password, str) else bytes(password)


def _check_private(key: object, name: str) -> PrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise KeyLoadError(f"{name}: RSA key of {key.key_size} bits is too small (need >= 2048)")
        return key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        from wssec.trust import ALLOWED_CURVES  # the key policy's curve list (lazy: trust imports keys)

        if key.curve.name not in ALLOWED_CURVES:
            raise KeyLoadError(
                f"{name}: EC key on curve {key.curve.name} is not allowed (P-256, P-384, P-521 only)"
            )
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyLoadError(f"{name}: Ed25519 keys are not supported by WS-Security signatures")
    raise KeyLoadError(f"{name}: unsupported key type {type(key).__name__} (need RSA or EC)")


def load_private_key(source: KeySource, password: str | bytes | None = None) -> PrivateKey:
    """Load an RSA or EC private key from a path, PEM/DER bytes, or PKCS#12.

    An already loaded key object is returned as is (after a type check), so
    callers may pass either.
    """
    if isinstance(source, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return _check_private(source, "private key")
    data, name = _read(source, "private key")
    pw = _password(password)
    errors: list[str] = []
    loaders = (
        (serialization.load_pem_private_key, b"-----BEGIN" in data),
        (serialization.load_der_private_key, b"-----BEGIN" not in data),
    )
    for loader, applies in loaders:
        if not applies:
            continue
        try:
            return _check_private(loader(data, password=pw), name)
        except TypeError as exc:
            msg = str(exc).lower()
            if "password was not given" in msg or "encrypted" in msg:
                raise KeyLoadError(f"{name} is encrypted; a password is required") from None
            if "not encrypted" in msg:
                raise KeyLoadError(f"{name} is not encrypted but a password was given") from None
            errors.append(str(exc))
        except ValueError as exc:
            if "bad decrypt" in str(exc).lower() or "incorrect password" in str(exc).lower():
                raise KeyLoadError(f"{name}: wrong password") from None
            errors.append(str(exc))
        except KeyLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parser failure is one clean reason
            errors.append(type(exc).__name__)
    if b"-----BEGIN" not in data:
        try:
            key, _cert, _chain = pkcs12.load_key_and_certificates(data, pw)
        except ValueError:
            raise KeyLoadError(
                f"{name} is not a PEM, DER or PKCS#12 private key (or wrong password)"
            ) from None
        if key is None:
            raise KeyLoadError(f"{name}: the PKCS#12 file holds no private key")
        return _check_private(key, name)
    if b"CERTIFICATE" in data and b"PRIVATE KEY" not in data:
        raise KeyLoadError(f"{name} holds a certificate, not a private key")
    raise KeyLoadError(f"{name} is not a readable PEM or DER private key")


def load_certificates(sources: CertSource | Iterable[CertSource]) -> list[x509.Certificate]:
    """Every certificate from one or more paths/bytes (a PEM bundle gives several)."""
    if isinstance(sources, (str, os.PathLike, bytes, bytearray, x509.Certificate)):
        sources = [sources]
    out: list[x509.Certificate] = []
    for src in sources:
        if isinstance(src, x509.Certificate):
            out.append(src)
            continue
        data, name = _read(src, "certificate")
        if b"-----BEGIN" in data:
            if b"-----BEGIN CERTIFICATE-----" not in data:
                raise KeyLoadError(f"{name} holds no PEM CERTIFICATE block")
            try:
                certs = x509.load_pem_x509_certificates(data)
            except ValueError:
                raise KeyLoadError(f"{name} is not a readable PEM certificate") from None
        else:
            try:
                certs = [x509.load_der_x509_certificate(data)]
            except ValueError:
                raise KeyLoadError(f"{name} is not a readable PEM or DER certificate") from None
        out.extend(certs)
    return out


def load_certificate(source: CertSource) -> x509.Certificate:
    """The first certificate of a path/bytes (the leaf of a bundle)."""
    certs = load_certificates(source)
    if not certs:
        raise KeyLoadError("no certificate found")
    return certs[0]


_KEY_IDS: dict[int, tuple[object, bytes]] = {}


def key_id(key: object) -> bytes:
    """SHA-256 of the SubjectPublicKeyInfo (DER) of a public key, or of a
    private key's public half: the one way apisec tells whether two keys are
    the same key (``keys_match``, ``same_key``, the replay identity).
    Cached per public-key object (by identity; the entry holds the object so
    its id stays its own: the per-certificate key cache makes this a hit).
    AttributeError for something that is not a key."""
    hit = _KEY_IDS.get(id(key))
    if hit is not None and hit[0] is key:
        return hit[1]
    if hasattr(key, "private_bytes"):  # a private key: compare its public half, cache nothing
        key = key.public_key()  # type: ignore[attr-defined]
        cache = False
    else:
        cache = True
    der = key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = hashlib.sha256(der).digest()
    if cache:
        if len(_KEY_IDS) >= 256:
            _KEY_IDS.clear()
        _KEY_IDS[id(key)] = (key, kid)
    return kid


def same_key(a: object, b: object) -> bool:
    """True when ``a`` and ``b`` (public or private keys) are one key pair's
    halves; False when either is not a key."""
    try:
        return key_id(a) == key_id(b)
    except AttributeError:
        return False


def keys_match(private_key: PrivateKey, cert: x509.Certificate) -> bool:
    """True when ``cert`` certifies ``private_key``'s public half."""
    return same_key(private_key, cert.public_key())


__all__ = [
    "CertSource",
    "KeySource",
    "PrivateKey",
    "PublicKey",
    "key_id",
    "keys_match",
    "load_certificate",
    "load_certificates",
    "load_private_key",
    "same_key",
]
