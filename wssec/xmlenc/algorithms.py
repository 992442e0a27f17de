"""XML Encryption algorithms: names, URIs and the cryptography behind them.

Every algorithm is named, never guessed (as in pyca/cryptography): the short
names users type (``aes256-gcm``, ``rsa-oaep``) map to exactly one URI, and a
URI found in a message maps to exactly one implementation or is refused.

The primitives all come from :mod:`cryptography`; this module only frames
them the way XML Encryption 1.0/1.1 lays the bytes out:

* block ciphers in CBC mode: ``IV || ciphertext`` with the XML-Enc padding
  (last byte = pad length; the other pad bytes are arbitrary, so decryption
  must not check them — ISO 10126 style, which Santuario emits);
* AES-GCM (xmlenc11): ``IV(12) || ciphertext || tag(16)``, no AAD;
* RSA-OAEP key transport: ``xmlenc#rsa-oaep-mgf1p`` is MGF1 with SHA-1 and a
  digest from ``ds:DigestMethod`` (default SHA-1); ``xmlenc11#rsa-oaep``
  adds an ``xenc11:MGF`` (default MGF1/SHA-1); both take optional
  ``xenc:OAEPparams`` as the OAEP label;
* ``rsa-1_5`` key transport is implemented only to *read* legacy messages
  when explicitly allowed: PKCS#1 v1.5 decryption is Bleichenbacher's oracle;
* AES key wrap (RFC 3394) for symmetric key-encryption keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from wssec.xmldsig.algorithms import (  # the one URI table (XENC/DS prefixes re-exported)
    AES128_CBC,
    AES128_GCM,
    AES192_CBC,
    AES192_GCM,
    AES256_CBC,
    AES256_GCM,
    DS,
    DSMORE,
    KW_AES128,
    KW_AES192,
    KW_AES256,
    RSA_1_5,
    RSA_OAEP_11,
    RSA_OAEP_MGF1P,
    TRIPLEDES_CBC,
    XENC,
    XENC11,
)


class CryptoFailure(Exception):
    """Internal: a cryptographic operation failed.  Never shown to callers as
    is; the WS-Security layer turns every one into the single generic
    :class:`wssec.errors.DecryptionFailed` (no oracle)."""


class UnsupportedAlgorithm(Exception):
    """Internal: an algorithm URI we do not implement (or refuse)."""


@dataclass(frozen=True)
class BlockCipher:
    """One data-encryption algorithm."""

    name: str
    """The short name users type (``aes256-gcm``)."""
    uri: str
    """The XML Encryption algorithm URI."""
    key_size: int
    """Key length in bytes."""
    aead: bool
    """True for GCM (integrity-protected); False for CBC, which is malleable
    and the target of the Jager-Somorovsky attack on XML Encryption."""


BLOCK_CIPHERS: dict[str, BlockCipher] = {
    c.name: c
    for c in (
        BlockCipher("aes128-gcm", AES128_GCM, 16, True),
        BlockCipher("aes192-gcm", AES192_GCM, 24, True),
        BlockCipher("aes256-gcm", AES256_GCM, 32, True),
        BlockCipher("aes128-cbc", AES128_CBC, 16, False),
        BlockCipher("aes192-cbc", AES192_CBC, 24, False),
        BlockCipher("aes256-cbc", AES256_CBC, 32, False),
        BlockCipher("tripledes-cbc", TRIPLEDES_CBC, 24, False),
    )
}
CIPHERS_BY_URI: dict[str, BlockCipher] = {c.uri: c for c in BLOCK_CIPHERS.values()}

# What Encryptor offers (aes192 for WS-SecurityPolicy Basic192 suites).
ENCRYPTION_CIPHERS = (
    "aes256-gcm",
    "aes128-gcm",
    "aes256-cbc",
    "aes128-cbc",
    "tripledes-cbc",
    "aes192-gcm",
    "aes192-cbc",
)

KEY_TRANSPORTS = {"rsa-oaep": RSA_OAEP_MGF1P, "rsa-oaep-sha256": RSA_OAEP_11, "rsa-1_5": RSA_1_5}
KEY_WRAPS = {KW_AES128: 16, KW_AES192: 24, KW_AES256: 32}

DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    DS + "sha1": hashes.SHA1,
    DSMORE + "sha224": hashes.SHA224,
    XENC + "sha256": hashes.SHA256,
    DSMORE + "sha384": hashes.SHA384,
    XENC + "sha512": hashes.SHA512,
}
DIGEST_URIS = {cls.name: uri for uri, cls in DIGESTS.items()}
MGFS: dict[str, type[hashes.HashAlgorithm]] = {
    XENC11 + "mgf1sha1": hashes.SHA1,
    XENC11 + "mgf1sha224": hashes.SHA224,
    XENC11 + "mgf1sha256": hashes.SHA256,
    XENC11 + "mgf1sha384": hashes.SHA384,
    XENC11 + "mgf1sha512": hashes.SHA512,
}
MGF_URIS = {cls.name: uri for uri, cls in MGFS.items()}

_GCM_IV = 12
_GCM_TAG = 16


def cipher_by_name(name: str) -> BlockCipher:
    """The cipher for a user-facing name; ``ValueError`` lists the choices."""
    try:
        return BLOCK_CIPHERS[name]
    except KeyError:
        raise ValueError(f"unknown cipher {name!r}; choose one of {', '.join(ENCRYPTION_CIPHERS)}") from None


def cipher_by_uri(uri: str | None) -> BlockCipher:
    try:
        return CIPHERS_BY_URI[uri or ""]
    except KeyError:
        raise UnsupportedAlgorithm(f"unsupported data encryption algorithm {uri!r}") from None


def _block(cipher: BlockCipher, key: bytes):
    if cipher.name == "tripledes-cbc":
        return TripleDES(key), 8
    return algorithms.AES(key), 16


def encrypt(cipher: BlockCipher, key: bytes, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` and return the XML-Enc octets (IV first)."""
    if len(key) != cipher.key_size:
        raise ValueError(f"{cipher.name} needs a {cipher.key_size}-byte key")
    if cipher.aead:
        iv = os.urandom(_GCM_IV)
        return iv + AESGCM(key).encrypt(iv, plaintext, None)
    algo, block = _block(cipher, key)
    iv = os.urandom(block)
    pad = block - len(plaintext) % block
    # PKCS#7-shaped padding is one valid instance of XML-Enc's "arbitrary
    # bytes, last byte = length" rule, and every peer accepts it.
    padded = plaintext + bytes([pad]) * pad
    enc = Cipher(algo, modes.CBC(iv)).encryptor()
    return iv + enc.update(padded) + enc.finalize()


def decrypt(cipher: BlockCipher, key: bytes, data: bytes) -> bytes:
    """Decrypt XML-Enc octets; any failure is :class:`CryptoFailure`."""
    if len(key) != cipher.key_size:
        raise CryptoFailure(f"{cipher.name} key has {len(key)} bytes, expected {cipher.key_size}")
    if cipher.aead:
        if len(data) < _GCM_IV + _GCM_TAG:
            raise CryptoFailure("GCM ciphertext shorter than IV and tag")
        try:
            return AESGCM(key).decrypt(data[:_GCM_IV], data[_GCM_IV:], None)
        except InvalidTag:
            raise CryptoFailure("GCM authentication tag mismatch") from None
    algo, block = _block(cipher, key)
    if len(data) < 2 * block or len(data) % block:
        raise CryptoFailure("CBC ciphertext length is not a positive multiple of the block size")
    dec = Cipher(algo, modes.CBC(data[:block])).decryptor()
    padded = dec.update(data[block:]) + dec.finalize()
    pad = padded[-1]
    if pad < 1 or pad > block:
        raise CryptoFailure("bad CBC padding length")
    return padded[:-pad]


@dataclass(frozen=True)
class OaepParams:
    """How an RSA EncryptedKey was (or is to be) made (``uri`` may also be
    rsa-1_5, for which the other fields are unused)."""

    uri: str
    digest: type[hashes.HashAlgorithm] = hashes.SHA1
    mgf_digest: type[hashes.HashAlgorithm] = hashes.SHA1
    label: bytes | None = None

    def padding(self) -> padding.OAEP:
        return padding.OAEP(mgf=padding.MGF1(self.mgf_digest()), algorithm=self.digest(), label=self.label)


def oaep_for(key_transport: str) -> OaepParams:
    """Parameters apisec *emits* for a key-transport name.

    ``rsa-oaep``: xmlenc#rsa-oaep-mgf1p with SHA-1 (what WSS4J, .NET and
    Santuario default to; OAEP's security does not rest on SHA-1 collision
    resistance).  ``rsa-oaep-sha256``: xmlenc11#rsa-oaep with SHA-256 for
    both the digest and MGF1, stated explicitly so no reader has to guess.
    """
    if key_transport == "rsa-oaep":
        return OaepParams(RSA_OAEP_MGF1P)
    if key_transport == "rsa-oaep-sha256":
        return OaepParams(RSA_OAEP_11, hashes.SHA256, hashes.SHA256)
    if key_transport == "rsa-1_5":
        # Only for legacy receivers whose policy demands it (Basic*Rsa15
        # suites): PKCS#1 v1.5 is the *receiver's* Bleichenbacher oracle.
        return OaepParams(RSA_1_5)
    raise ValueError(
        f"unknown key transport {key_transport!r}; choose rsa-oaep, rsa-oaep-sha256 (or rsa-1_5 for legacy peers)"
    )


def rsa_wrap(public_key: rsa.RSAPublicKey, params: OaepParams, key: bytes) -> bytes:
    if params.uri == RSA_1_5:
        return public_key.encrypt(key, padding.PKCS1v15())
    return public_key.encrypt(key, params.padding())


def rsa_unwrap(private_key: rsa.RSAPrivateKey, uri: str, params: OaepParams | None, data: bytes) -> bytes:
    """RSA key transport decryption; failure is :class:`CryptoFailure`."""
    try:
        if uri == RSA_1_5:
            return private_key.decrypt(data, padding.PKCS1v15())
        assert params is not None
        return private_key.decrypt(data, params.padding())
    except ValueError:
        raise CryptoFailure("RSA key transport decryption failed") from None


def aes_unwrap(kek: bytes, data: bytes) -> bytes:
    try:
        return aes_key_unwrap(kek, data)
    except (InvalidUnwrap, ValueError):
        raise CryptoFailure("AES key unwrap failed (wrong key-encryption key or tampered)") from None


def aes_wrap(kek: bytes, key: bytes) -> bytes:
    return aes_key_wrap(kek, key)


__all__ = [
    "BLOCK_CIPHERS",
    "ENCRYPTION_CIPHERS",
    "KEY_TRANSPORTS",
    "RSA_1_5",
    "RSA_OAEP_11",
    "RSA_OAEP_MGF1P",
    "BlockCipher",
    "CryptoFailure",
    "OaepParams",
    "UnsupportedAlgorithm",
    "cipher_by_name",
    "cipher_by_uri",
    "decrypt",
    "encrypt",
    "oaep_for",
    "rsa_unwrap",
    "rsa_wrap",
]
