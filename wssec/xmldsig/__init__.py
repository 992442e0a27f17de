"""apisec's one XML-Signature engine: the algorithm table, the ID map, KeyInfo
resolution and the trust/key policy hooks that WS-Security (``wssec.verifier``)
and SAML (``wssec.saml``) both use.

* :mod:`wssec.xmldsig.algorithms`: every XML-DSig/XML-Enc algorithm URI apisec
  names, once (signature, digest, c14n, transforms, ciphers, key transport).
* :mod:`wssec.xmldsig.ids`: the ID attributes and the duplicate-refusing ID map.
* :mod:`wssec.xmldsig.keyinfo`: from a ds:KeyInfo / SecurityTokenReference to
  a certificate and key.
* :mod:`wssec.xmldsig.enveloped`: enveloped signatures (SAML) verified with
  lxml exc-c14n + pyca/cryptography, the same primitives as WS-Security.

Importing this package loads no python-xmlsec (that stays an interop peer and
SAML's signing backend).
"""
