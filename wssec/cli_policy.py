"""The key-policy flags of every command that verifies a signature
(``apisec soap verify``, ``apisec soap saml verify``): one spelling, one
meaning, turned into one :class:`wssec.trust.KeyPolicy`.

Defaults are the library's (RSA >= 2048 bits, EC on P-256/P-384/P-521,
signing certificates with an extendedKeyUsage must allow one of
:data:`wssec.trust.DEFAULT_SIGNING_EKUS`); the flags only say what a
deployment accepts beyond that.  See docs/wssec-signing.md "Trust policy".
"""

from __future__ import annotations

import dataclasses

import typer

from compare.cliutil import InputError
from wssec.trust import DEFAULT_KEY_POLICY, KeyPolicy, eku_purpose

MIN_RSA_BITS_OPTION = typer.Option(
    DEFAULT_KEY_POLICY.min_rsa_bits,
    "--min-rsa-bits",
    min=1024,
    help="Smallest RSA signer key accepted, bits (1024 only for legacy peers).",
)
ALLOW_EKU_OPTION = typer.Option(
    [],
    "--allow-eku",
    metavar="PURPOSE",
    help="Also accept signing certificates whose extendedKeyUsage allows only this purpose "
    "(codeSigning, timeStamping, … or a dotted OID); repeatable.",
)


def key_policy(min_rsa_bits: int, allow_eku: list[str]) -> KeyPolicy:
    """The KeyPolicy the flags ask for (an unknown purpose is an input error)."""
    try:
        extra = frozenset(eku_purpose(p) for p in allow_eku)
    except ValueError as exc:
        raise InputError(f"--allow-eku: {exc}") from None
    ekus = DEFAULT_KEY_POLICY.signing_ekus
    return dataclasses.replace(
        DEFAULT_KEY_POLICY,
        min_rsa_bits=min_rsa_bits,
        signing_ekus=ekus | extra if ekus is not None else None,
    )
