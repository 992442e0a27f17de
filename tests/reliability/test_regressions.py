"""Inputs the fuzzers (hypothesis, atheris) found crashing a parser with an
undocumented exception; each is fixed at its root and stays here so it
cannot come back.  The invariant is the one of tests/reliability: only the
target's documented error type."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography import x509
from lxml import etree

from rest.errors import BadInput
from rest.openapi.loader import load_spec, parse_document
from wssec import Decryptor, Encryptor
from wssec.errors import DecryptionFailed, UntrustedKey
from wssec.safexml import parse_xml
from wssec.secure import secure

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def test_openapi_document_that_is_not_utf8_is_bad_input() -> None:
    # found by hypothesis: one flipped leading byte made parse_document raise UnicodeDecodeError
    with pytest.raises(BadInput, match="not UTF-8"):
        parse_document(b"\x80openapi: 3.0.3\n")


def test_openapi_mapping_whose_info_is_not_a_mapping_is_bad_input() -> None:
    # found by hypothesis: {"info": null} made load_spec raise AttributeError before validating
    with pytest.raises(BadInput):
        load_spec({"openapi": "3.0.3", "info": None, "paths": {}})
    with pytest.raises(BadInput):
        load_spec({"openapi": "3.0.3", "info": ["x"], "paths": {}})


def test_encrypted_key_naming_an_unreadable_token_is_refused_not_crashed(pki) -> None:
    # found by atheris (decryptor target): the EncryptedKey's SecurityTokenReference
    # points at a BinarySecurityToken whose text is not base64; the recipient check
    # leaked the internal CryptoFailure instead of refusing the message
    from apisec_samples.soap_service import request_xml

    msg = secure(request_xml(), encryptor=Encryptor(pki.service.cert, key_identifier="bst"))
    root = parse_xml(msg)
    bst = root.find(f".//{{{WSSE}}}BinarySecurityToken")
    assert bst is not None
    bst.text = "not*base64!"
    dec = Decryptor(pki.service.key, pki.service.cert)
    with pytest.raises(DecryptionFailed):
        dec.decrypt(etree.tostring(root))
    # and the untouched message still decrypts (the test can fail both ways)
    assert b"GetQuote" in dec.decrypt(msg)


CRASHES = Path(__file__).parent / "crashes"


@pytest.mark.parametrize("path", sorted(CRASHES.glob("saml-*.xml")), ids=lambda p: p.name)
def test_saml_response_with_a_malformed_certificate_is_untrusted_not_crashed(path: Path) -> None:
    # found by atheris (saml target, python3-saml vectors mutated): a KeyInfo
    # certificate whose subject or public key does not decode made
    # cryptography raise ValueError/KeyError out of chain validation
    from tests.reliability.fuzz_targets import saml_target

    with pytest.raises(UntrustedKey):
        saml_target().run(path.read_bytes())


def test_verifier_refuses_a_bst_certificate_with_an_unreadable_subject(pki) -> None:
    # the same root cause reached through WS-Security: TrustStore.validate is shared
    from wssec.trust import TrustStore

    data = (CRASHES / "saml-crash-7fa84294e26c.xml").read_bytes()
    certs = re.findall(rb"<ds:X509Certificate>([^<]+)</ds:X509Certificate>", data)
    assert certs
    bad = x509.load_der_x509_certificate(base64.b64decode(b"".join(certs[0].split())))
    with pytest.raises(UntrustedKey):
        TrustStore([pki.ca.cert]).validate(bad)


def test_verifier_refuses_an_x509data_certificate_whose_key_cannot_be_read(pki) -> None:
    # found by atheris (verifier target): a ds:X509Data certificate whose
    # SubjectPublicKeyInfo does not decode made Verifier.verify raise
    # cryptography's ValueError before authentication
    from wssec import Verifier

    data = (CRASHES / "verifier-x509data-bad-key.xml").read_bytes()
    with pytest.raises(UntrustedKey):
        Verifier(trust=[pki.ca.cert], replay_cache=None).verify(data)


def test_verifier_refuses_signed_content_that_cannot_be_canonicalised(pki) -> None:
    # found by atheris (verifier target): a relative namespace URI inside the
    # signed Body made libxml2's C14N raise lxml's C14NError out of verify()
    from tests.reliability.loadgen import signed_requests
    from wssec import Verifier
    from wssec.errors import MalformedMessage

    good = signed_requests(pki, 1, tag="c14n")[0]
    bad = good.replace(b"<q:Symbol>", b'<q:Symbol xmlns:rel="rel/ns">', 1)
    assert bad != good
    with pytest.raises(MalformedMessage):
        Verifier(trust=[pki.ca.cert], replay_cache=None).verify(bad)
    assert Verifier(trust=[pki.ca.cert], replay_cache=None).verify(good).signed_parts


def test_targets_file_with_an_unsplittable_url_is_a_config_error(tmp_path: Path) -> None:
    # found by atheris (targets target): base_url "https://ap[i.example.test/..."
    # made urlsplit raise "Invalid IPv6 URL" (ValueError) out of load_targets
    from compare.config import ConfigError, load_targets, targets_from_cli

    path = tmp_path / "apisec.toml"
    path.write_bytes((CRASHES / "targets-invalid-ipv6-url.toml").read_bytes())
    with pytest.raises(ConfigError, match="not a valid URL"):
        load_targets(path)
    with pytest.raises(ConfigError):
        targets_from_cli([], ["https://a[b/"])


def test_yaml_targets_file_with_non_string_keys_is_a_config_error(tmp_path: Path) -> None:
    # found by atheris (targets target): YAML keys that are numbers or null made
    # the "unknown key" message's join() raise TypeError out of load_targets
    from compare.config import ConfigError, load_targets

    for text in ("1: x\n", "~: x\n", "rest:\n  - base_url: https://a.example/\n    7: x\n"):
        path = tmp_path / "apisec.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError, match="unknown"):
            load_targets(path)
