"""wssec: WS-Security for SOAP 1.1/1.2 messages (sign, verify, encrypt,
decrypt, UsernameToken, X.509 and SAML tokens) and SOAP compliance checks."""

from wssec.encryption import Decryptor, EncryptedPart, Encryptor, decrypt, encrypt
from wssec.errors import (
    AuthenticationFailed,
    DecryptionFailed,
    Expired,
    InvalidSignature,
    KeyLoadError,
    MalformedMessage,
    PolicyViolation,
    ReplayDetected,
    UnsafeXml,
    UntrustedKey,
    WssecError,
)
from wssec.safexml import parse_xml
from wssec.secure import secure
from wssec.signer import Signer, sign
from wssec.verifier import VerifiedMessage, Verifier, verify

# python-xmlsec is not imported here: verification (WS-Security and SAML) runs on
# lxml + cryptography; SAML signing imports it (and checks its libxml2) on first use.

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
    "WssecError",
    "parse_xml",
    "Decryptor",
    "EncryptedPart",
    "Encryptor",
    "secure",
    "encrypt",
    "decrypt",
    "Signer",
    "VerifiedMessage",
    "Verifier",
    "sign",
    "verify",
]
