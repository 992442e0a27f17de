"""The W3C merlin-xmlenc-five interop vectors through apisec's XML-Enc core.

Each vector is decrypted with the keys its Readme names and compared with
the expected plaintext (``.data``) the xmlsec test-suite uses: byte-exact
for ``EncryptedData`` of no Type, canonical-XML-equal for documents.  See
tests/vectors/xmlenc/SOURCES.txt.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from wssec.safexml import parse_xml
from wssec.xmlenc import core
from wssec.xmlenc.algorithms import CryptoFailure, UnsupportedAlgorithm

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "xmlenc"
NAMED = {
    "bob": b"abcdefghijklmnopqrstuvwx",
    "job": b"abcdefghijklmnop",
    "jeb": b"abcdefghijklmnopqrstuvwx",
    "jed": b"abcdefghijklmnopqrstuvwxyz012345",
}
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?\]>\s*", re.S)

DOCUMENTS = [
    "encrypt-content-tripledes-cbc",
    "encrypt-content-aes256-cbc-prop",
    "encrypt-content-aes128-cbc-kw-aes192",
    "encrypt-element-tripledes-cbc-kw-aes128",
    "encrypt-element-aes256-cbc-retrieved-kw-aes256",
]
DATA = [
    "encrypt-data-aes128-cbc",
    "encrypt-data-aes192-cbc-kw-aes256",
    "encrypt-data-tripledes-cbc-rsa-oaep-mgf1p",
    "encrypt-data-tripledes-cbc-rsa-oaep-mgf1p-sha256",
]


@pytest.fixture(scope="module")
def rsa_key():
    return serialization.load_pem_private_key((VECTORS / "rsapriv.pem").read_bytes(), password=None)


def _load(name: str) -> etree._Element:
    return parse_xml(_DOCTYPE.sub(b"", (VECTORS / name).read_bytes()), what=name)


def _ids(root: etree._Element) -> dict[str, etree._Element]:
    return {el.get("Id"): el for el in root.iter(etree.Element) if el.get("Id")}


def _encrypted_data(root: etree._Element) -> list[etree._Element]:
    return [
        el
        for el in root.iter(core.ENCRYPTED_DATA)
        if not any(a.tag == core.ENCRYPTED_KEY for a in el.iterancestors())
    ]


def _decrypt_document(root: etree._Element, rsa_key, allow_rsa15: bool = False) -> None:
    eds = _encrypted_data(root)
    assert eds, "vector holds no EncryptedData"
    for ed in eds:
        key = core.resolve_key(
            ed, private_key=rsa_key, named_keys=NAMED, allow_rsa15=allow_rsa15, id_lookup=_ids(root)
        )
        core.replace_with_plaintext(ed, core.decrypt_bytes(ed, key))


def _c14n(root: etree._Element) -> bytes:
    return etree.tostring(root, method="c14n")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_vectors_decrypt_to_expected(name: str, rsa_key) -> None:
    root = _load(name + ".xml")
    _decrypt_document(root, rsa_key)
    assert not list(root.iter(core.ENCRYPTED_DATA))
    expected = _load(name + ".data")
    assert _c14n(root) == _c14n(expected)


@pytest.mark.parametrize("name", DATA)
def test_data_vectors_decrypt_to_expected_bytes(name: str, rsa_key) -> None:
    root = _load(name + ".xml")
    assert root.tag == core.ENCRYPTED_DATA and root.get("Type") is None
    key = core.resolve_key(root, private_key=rsa_key, named_keys=NAMED, id_lookup=_ids(root))
    assert core.decrypt_bytes(root, key) == (VECTORS / (name + ".data")).read_bytes()


def test_rsa15_vector_refused_by_default_and_decrypts_when_allowed(rsa_key) -> None:
    name = "encrypt-element-aes128-cbc-rsa-1_5"
    root = _load(name + ".xml")
    with pytest.raises(UnsupportedAlgorithm, match="rsa-1_5"):
        _decrypt_document(root, rsa_key)
    root = _load(name + ".xml")
    _decrypt_document(root, rsa_key, allow_rsa15=True)
    assert _c14n(root) == _c14n(_load(name + ".data"))


def test_bad_key_wrap_vector_fails() -> None:
    root = _load("bad-encrypt-content-aes128-cbc-kw-aes192.xml")
    (ed,) = _encrypted_data(root)
    with pytest.raises(CryptoFailure):
        core.resolve_key(ed, named_keys=NAMED, id_lookup=_ids(root))


def test_good_twin_of_bad_vector_passes() -> None:
    """The bad vector differs from its good twin in one CipherValue character;
    the good one unwraps, so the failure above is the integrity check."""
    root = _load("encrypt-content-aes128-cbc-kw-aes192.xml")
    (ed,) = _encrypted_data(root)
    assert len(core.resolve_key(ed, named_keys=NAMED, id_lookup=_ids(root))) == 16


def test_cipher_reference_vector_is_refused() -> None:
    root = _load("encrypt-element-aes192-cbc-ref.xml")
    (ed,) = _encrypted_data(root)
    key = core.resolve_key(ed, named_keys=NAMED, id_lookup=_ids(root))
    with pytest.raises(UnsupportedAlgorithm, match="CipherReference"):
        core.decrypt_bytes(ed, key)


def test_wrong_named_key_fails(rsa_key) -> None:
    root = _load("encrypt-content-tripledes-cbc.xml")
    (ed,) = _encrypted_data(root)
    wrong = bytes(reversed(NAMED["bob"]))
    with pytest.raises(CryptoFailure):
        data = core.decrypt_bytes(ed, wrong)
        core.replace_with_plaintext(ed, data)
