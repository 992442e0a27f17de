"""Typed errors of wssec, one per failure kind (as pyca/cryptography does).

Callers catch the kind they care about; the CLI maps ``exit_code`` to the
process exit status: 2 for input that could not be processed at all, 1 for a
message that was processed and refused.
"""

from __future__ import annotations


class WssecError(Exception):
    """Base of every wssec error.  ``str(err)`` is a one-line reason safe to show."""

    exit_code = 1


class MalformedMessage(WssecError):
    """The input is not a processable SOAP message (bad XML, DTD, bombs, wrong
    structure: duplicate ids, several Bodies or Security headers)."""

    exit_code = 2


class UnsafeXml(MalformedMessage):
    """The XML was refused by the hardened parser (DOCTYPE, entities, XInclude,
    size or depth limits)."""


class KeyLoadError(WssecError):
    """A key or certificate could not be loaded (wrong format, wrong password)."""

    exit_code = 2


class InvalidSignature(WssecError):
    """A signature or digest does not verify, or required parts are not covered."""


class UntrustedKey(WssecError):
    """The signing certificate does not chain to a trust anchor, is expired or
    not yet valid, or could not be resolved."""


class Expired(WssecError):
    """A Timestamp (or SAML condition) is outside its validity window."""


class ReplayDetected(WssecError):
    """A message or UsernameToken nonce was seen before within its window."""


class PolicyViolation(WssecError):
    """The message is cryptographically fine but breaks the required policy
    (a part not signed/encrypted, a disallowed algorithm, missing token)."""


class WeakKey(PolicyViolation, UntrustedKey):
    """A signer's (or recipient's) key is refused by the key policy: RSA below
    the minimum size, an EC curve other than P-256/P-384/P-521, or an
    unsupported key algorithm (catchable as PolicyViolation or UntrustedKey)."""


class AuthenticationFailed(WssecError):
    """A UsernameToken (or SAML subject) did not authenticate."""


class DecryptionFailed(WssecError):
    """Decryption failed.  Deliberately generic: wrong key, bad padding and a
    bad GCM tag all look the same to the caller (no padding oracle); so does
    every failure after a CBC decryption in ``Verifier.verify``.  Its message
    is always :data:`DECRYPTION_FAILED`."""


DECRYPTION_FAILED = "decryption failed"


__all__ = [
    "AuthenticationFailed",
    "DecryptionFailed",
    "Expired",
    "InvalidSignature",
    "KeyLoadError",
    "MalformedMessage",
    "PolicyViolation",
    "ReplayDetected",
    "UnsafeXml",
    "UntrustedKey",
    "WeakKey",
    "WssecError",
]
