"""Every XML-DSig / XML-Enc algorithm URI apisec names, in one table.

The verifier, the signer, SAML, the WS-SecurityPolicy reader, the WS-I BSP
checks and XML Encryption all import their URIs from here, so an algorithm
is spelled (and allowed) once.  Only data: no cryptography is done here.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

# The XML-DSig and XML-Enc namespaces (also the prefixes of their algorithm
# URIs); wssec.soap re-exports them as DS_NS, DS11_NS, XENC_NS, XENC11_NS.
DS = "http://www.w3.org/2000/09/xmldsig#"
DS11 = "http://www.w3.org/2009/xmldsig11#"
DSMORE = "http://www.w3.org/2001/04/xmldsig-more#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"

# --- canonicalisation and transforms
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = EXC_C14N + "WithComments"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = DS + "enveloped-signature"
XPATH_FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
STR_TRANSFORM = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#STR-Transform"
)
ATT_CONTENT = "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Signature-Transform"
ATT_COMPLETE = (
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Complete-Signature-Transform"
)

# --- signatures
RSA_SHA1 = DS + "rsa-sha1"
RSA_SHA256 = DSMORE + "rsa-sha256"
RSA_SHA384 = DSMORE + "rsa-sha384"
RSA_SHA512 = DSMORE + "rsa-sha512"
ECDSA_SHA1 = DSMORE + "ecdsa-sha1"
ECDSA_SHA256 = DSMORE + "ecdsa-sha256"
ECDSA_SHA384 = DSMORE + "ecdsa-sha384"
ECDSA_SHA512 = DSMORE + "ecdsa-sha512"
HMAC_SHA1 = DS + "hmac-sha1"
HMAC_SHA256 = DSMORE + "hmac-sha256"

# --- digests
SHA1 = DS + "sha1"
SHA224 = DSMORE + "sha224"
SHA256 = XENC + "sha256"
SHA384 = DSMORE + "sha384"
SHA512 = XENC + "sha512"

# --- encryption
AES128_CBC = XENC + "aes128-cbc"
AES192_CBC = XENC + "aes192-cbc"
AES256_CBC = XENC + "aes256-cbc"
TRIPLEDES_CBC = XENC + "tripledes-cbc"
AES128_GCM = XENC11 + "aes128-gcm"
AES192_GCM = XENC11 + "aes192-gcm"
AES256_GCM = XENC11 + "aes256-gcm"
KW_AES128 = XENC + "kw-aes128"
KW_AES192 = XENC + "kw-aes192"
KW_AES256 = XENC + "kw-aes256"
KW_TRIPLEDES = XENC + "kw-tripledes"
RSA_OAEP_MGF1P = XENC + "rsa-oaep-mgf1p"
RSA_OAEP_11 = XENC11 + "rsa-oaep"
RSA_1_5 = XENC + "rsa-1_5"

#: name -> (URI, hash, key kind): the asymmetric signature methods apisec
#: verifies and makes (HMAC is refused by name: asymmetric signatures only).
SIGNATURE_ALGORITHMS: dict[str, tuple[str, type[hashes.HashAlgorithm], str]] = {
    "rsa-sha256": (RSA_SHA256, hashes.SHA256, "rsa"),
    "rsa-sha384": (RSA_SHA384, hashes.SHA384, "rsa"),
    "rsa-sha512": (RSA_SHA512, hashes.SHA512, "rsa"),
    "rsa-sha1": (RSA_SHA1, hashes.SHA1, "rsa"),
    "ecdsa-sha256": (ECDSA_SHA256, hashes.SHA256, "ec"),
    "ecdsa-sha384": (ECDSA_SHA384, hashes.SHA384, "ec"),
    "ecdsa-sha512": (ECDSA_SHA512, hashes.SHA512, "ec"),
    "ecdsa-sha1": (ECDSA_SHA1, hashes.SHA1, "ec"),
}
SIGNATURE_BY_URI = {uri: (name, h, kind) for name, (uri, h, kind) in SIGNATURE_ALGORITHMS.items()}

#: name -> (URI, hashlib name): the digest methods of a Reference.
DIGEST_ALGORITHMS: dict[str, tuple[str, str]] = {
    "sha256": (SHA256, "sha256"),
    "sha384": (SHA384, "sha384"),
    "sha512": (SHA512, "sha512"),
    "sha1": (SHA1, "sha1"),
}
DIGEST_BY_URI = {uri: (name, hl) for name, (uri, hl) in DIGEST_ALGORITHMS.items()}

#: Algorithms (by name) accepted only with allow_sha1.
WEAK = frozenset({"rsa-sha1", "ecdsa-sha1", "sha1"})
