"""``wssec.secure``: sign and encrypt a message in one call, in a stated order.

The order is a security decision, so it is a required-by-name choice:

* ``"sign-then-encrypt"`` (default, what WSS4J and most policies do): the
  signature covers the plaintext (the receiver knows *what* was signed), and
  the EncryptedKey is placed before the Signature so a receiver walking the
  Security header decrypts first.  The Body's DigestValue stays visible; it
  does not reveal the Body, but lets someone confirm a guessed Body.
* ``"encrypt-then-sign"``: the signature covers the ciphertext, so a
  tampered CipherValue is refused before any decryption is attempted (no
  decryption oracle even for CBC), but the signature says nothing about the
  plaintext's author beyond "sent this ciphertext".  The signer must sign the
  parts as they are after encryption (the Body still is the Body; an
  encrypted header is a wsse11:EncryptedHeader).
"""

from __future__ import annotations

from typing import Literal, Protocol

from lxml import etree

ORDERS = ("sign-then-encrypt", "encrypt-then-sign")


class _Signs(Protocol):
    def sign(self, envelope: bytes | str | etree._Element) -> bytes: ...


class _Encrypts(Protocol):
    def encrypt(self, envelope: bytes | str | etree._Element) -> bytes: ...


def secure(
    envelope: bytes | str | etree._Element,
    *,
    signer: _Signs | None = None,
    encryptor: _Encrypts | None = None,
    order: Literal["sign-then-encrypt", "encrypt-then-sign"] = "sign-then-encrypt",
) -> bytes:
    """Apply ``signer`` (a :class:`wssec.Signer`) and ``encryptor`` (a
    :class:`wssec.Encryptor`) to ``envelope`` in ``order``; returns bytes.

    Either may be None (then this is just sign or just encrypt).  The input
    is not modified.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
    if signer is None and encryptor is None:
        raise ValueError("secure() needs a signer, an encryptor or both")
    steps = [signer.sign if signer else None, encryptor.encrypt if encryptor else None]
    if order == "encrypt-then-sign":
        steps.reverse()
    data: bytes | str | etree._Element = envelope
    for step in steps:
        if step is not None:
            data = step(data)
    assert isinstance(data, bytes)
    return data


__all__ = ["ORDERS", "secure"]
