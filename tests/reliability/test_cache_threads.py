"""The verifier's certificate caches under threads: the chain cache of
TrustStore, the public-key cache and the BinarySecurityToken cache are hit
and filled from many threads at once (gunicorn's gthread workers do exactly
that); every answer must belong to the certificate asked about.  A cache
that mixed up entries between threads (a shared "last result", a key
computed from mutable state) fails here."""

from __future__ import annotations

import base64
import sys
import threading

from cryptography.hazmat.primitives import serialization
from lxml import etree

from wssec import trust as trust_mod
from wssec import verifier as verifier_mod
from wssec.trust import TrustStore
from wssec.xmldsig import keyinfo as keyinfo_mod

BST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"


def _bst(cert) -> etree._Element:
    el = etree.Element(f"{{{BST}}}BinarySecurityToken", ValueType=X509V3)
    el.text = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return el


def _race(work, threads: int = 12) -> list[str]:
    problems: list[str] = []
    start = threading.Barrier(threads)

    def run(n: int) -> None:
        start.wait()
        try:
            work(n, problems)
        except Exception as exc:  # noqa: BLE001 - any exception is a finding of this test
            problems.append(f"{type(exc).__name__}: {exc}")

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        ts = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    finally:
        sys.setswitchinterval(old)
    return problems


def test_chain_public_key_and_token_caches_answer_for_the_right_certificate(pki) -> None:
    leaves = [pki.client, pki.service, pki.ec_client, pki.rogue]
    store = TrustStore([pki.ca.cert])
    bsts = {id_.name: _bst(id_.cert) for id_ in leaves}

    def work(n: int, problems: list[str]) -> None:
        for i in range(60):
            ident = leaves[(n + i) % len(leaves)]
            if ident is pki.rogue:  # not under the CA: must never come back trusted from a cache
                try:
                    store.validate(ident.cert)
                    problems.append("rogue certificate validated")
                except Exception:  # noqa: BLE001 - UntrustedKey expected
                    pass
            else:
                chain = store.validate(ident.cert)
                if chain[0] != ident.cert or chain[-1] != pki.ca.cert:
                    problems.append(f"chain of {ident.name} starts with {chain[0].subject}")
            key = trust_mod.cert_public_key(ident.cert)
            if key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ) != ident.cert.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ):
                problems.append(f"public key of {ident.name} mixed up")
            certs = verifier_mod.parse_bst_cached(bsts[ident.name])
            if certs[0] != ident.cert:
                problems.append(f"token of {ident.name} parsed as {certs[0].subject}")
            if i % 20 == 0:  # the caches are bounded: clear them under the others' feet
                trust_mod._FACTS_BY_ID.clear()  # the one certificate cache lives in wssec.trust
                trust_mod._FACTS_BY_DER.clear()  # (shared with SAML)
                keyinfo_mod._BST_CACHE.clear()  # the token cache moved with KeyInfo resolution

    assert _race(work) == []
