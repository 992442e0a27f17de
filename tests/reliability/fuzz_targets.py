"""The hostile-input entry points of apisec, each with its documented errors.

One table, used twice: the hypothesis property tests in this folder and the
atheris harnesses in ``bench/fuzz/``.  A target is built once (keys, seed
messages), then called with arbitrary bytes; the invariant is that the call
returns or raises one of the target's documented error types (anything else
is a crash: a bug to fix at its root, then a regression test).

Signed seeds are produced with a PKI generated at start (``make_pki``) and
verified *as of* the moment they were made with replay caches off, so a
seed verifies on every run and a mutation is judged on its content only.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

VECTORS = Path(__file__).resolve().parent.parent / "vectors"
SAMPLES = Path(__file__).resolve().parent.parent.parent / "samples"

warnings.filterwarnings("ignore", message="Parsed a serial number", category=Warning)


@dataclass
class Target:
    """A fuzz target: ``run(data)`` may only raise one of ``errors``."""

    name: str
    run: Callable[[bytes], object]
    errors: tuple[type[BaseException], ...]
    seeds: list[bytes] = field(default_factory=list)


def _files(*patterns: str, under: Path = VECTORS) -> list[bytes]:
    out: list[bytes] = []
    for pat in patterns:
        for p in sorted(under.glob(pat)):
            if p.is_file() and p.stat().st_size < 256 * 1024:
                out.append(p.read_bytes())
    return out


_PKI = None


def _pki():
    """One test PKI per process (RSA key generation takes about a second)."""
    global _PKI
    if _PKI is None:
        from apisec_samples.pki import make_pki

        _PKI = make_pki(Path(tempfile.mkdtemp(prefix="apisec-fuzz-pki-")))
    return _PKI


# ------------------------------------------------------------------ XML / SOAP


def safexml_target() -> Target:
    from wssec.errors import MalformedMessage
    from wssec.safexml import parse_xml

    return Target(
        "safexml",
        lambda data: parse_xml(data),
        (MalformedMessage,),
        _files("defusedxml/xmltestdata/*", "wssec-signing/*.xml", "wss4j-policy/*/*"),
    )


def _signed_request(pki, *, encrypt: bool = False) -> bytes:
    from apisec_samples.soap_service import request_xml
    from wssec import Encryptor, Signer
    from wssec.secure import secure

    signer = Signer(pki.client.key, pki.client.cert)
    enc = Encryptor(pki.service.cert) if encrypt else None
    return secure(request_xml(), signer=signer, encryptor=enc)


def verifier_target() -> Target:
    from wssec import Verifier
    from wssec.errors import WssecError

    pki = _pki()
    seeds = [_signed_request(pki), _signed_request(pki, encrypt=True)]
    at = dt.datetime.now(dt.UTC)
    verifier = Verifier(
        trust=[pki.ca.cert],
        decrypt_key=pki.service.key,
        replay_cache=None,
    )
    return Target(
        "verifier",
        lambda data: verifier.verify(data, at=at),
        (WssecError,),
        seeds + _files("wssec-signing/*.xml", "wss4j-policy/messages/*.xml"),
    )


def decryptor_target() -> Target:
    from wssec import Decryptor, Encryptor
    from wssec.errors import WssecError
    from wssec.secure import secure

    pki = _pki()
    from apisec_samples.soap_service import request_xml

    seeds = [
        secure(request_xml(), encryptor=Encryptor(pki.service.cert)),
        secure(request_xml(), encryptor=Encryptor(pki.service.cert, cipher="aes128-cbc")),
        secure(request_xml(), encryptor=Encryptor(pki.service.cert, key_identifier="bst")),
        _signed_request(pki, encrypt=True),
    ]
    dec = Decryptor(pki.service.key, pki.service.cert)
    return Target("decryptor", dec.decrypt, (WssecError,), seeds)


def _saml_cert(settings: str) -> bytes:
    b64 = json.loads((VECTORS / "python3-saml" / "settings" / settings).read_text())["idp"]["x509cert"]
    return f"-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n".encode()


def saml_target() -> Target:
    from wssec.errors import WssecError
    from wssec.saml import verify
    from wssec.trust import KeyPolicy

    legacy = KeyPolicy(min_rsa_bits=1024)  # the public vectors are signed with RSA-1024 keys
    trust = [
        _saml_cert("settings1.json"),
        _saml_cert("settings2.json"),
        (VECTORS / "pysaml2" / "test.pem").read_bytes(),
    ]
    default_at = dt.datetime(2014, 3, 21, 13, 41, 9, tzinfo=dt.UTC)

    def run(data: bytes) -> object:
        m = re.search(rb'IssueInstant="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"', data)
        at = default_at
        if m:
            try:
                at = dt.datetime.fromisoformat(m.group(1).decode().replace("Z", "+00:00"))
            except ValueError:
                pass
        aud = re.search(rb"<(?:saml2?:)?Audience>([^<]{1,200})</", data)
        return verify(
            data,
            trust=trust,
            audience=aud.group(1).decode("utf-8", "replace") if aud else None,
            at=at,
            allow_sha1=True,
            check_pinned_dates=False,
            allow_multiple=b"\x00multi" in data,
            key_policy=legacy,
        )

    return Target(
        "saml",
        run,
        (WssecError,),
        _files("python3-saml/decoded/*.xml", "python3-saml/decoded/invalids/*.xml", "pysaml2/xsw/*.xml"),
    )


def wsdl_target() -> Target:
    from wssec.checks.static import check_wsdl_policy
    from wssec.errors import MalformedMessage
    from wssec.policy import parse_wsdl_policy

    def run(data: bytes) -> object:
        return check_wsdl_policy(parse_wsdl_policy(data), target="fuzz.wsdl")

    return Target(
        "wsdl",
        run,
        (MalformedMessage,),
        _files("wss4j-policy/wsdl/*") + _files("soap_service/*.wsdl", under=SAMPLES),
    )


def policy_target() -> Target:
    from wssec.errors import MalformedMessage
    from wssec.policy import parse_policy_alternatives

    def run(data: bytes) -> object:
        out = parse_policy_alternatives(data)
        for p in out:  # the derived views read every field
            p.weaknesses()
            p.to_dict()
            p.to_settings()
        return out

    return Target("policy", run, (MalformedMessage,), _files("wss4j-policy/policy/*"))


# ------------------------------------------------------------------ REST


def _jwt_seeds(hs_key: bytes) -> list[bytes]:
    import jwt

    now = 1_700_000_000
    tokens = [
        jwt.encode({"sub": "alice", "exp": now + 600, "iat": now, "aud": "api"}, hs_key, "HS256"),
        jwt.encode({"sub": "bob", "exp": now + 60, "nbf": now - 1}, hs_key, "HS256", headers={"kid": "k1"}),
    ]
    out = [t.encode() for t in tokens]

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and v.count(".") == 2 and len(v) > 20:
            out.append(v.encode())

    walk(json.loads((VECTORS / "jose" / "rfc7515_7517_7519_appendix.json").read_text()))
    return out


def jwt_target() -> Target:
    """rest.jwt.Validator.validate and the JWT inspector (``apisec rest jwt inspect``)."""
    from rest.errors import RestCheckError
    from rest.jwt.inspect import inspect_token
    from rest.jwt.jose import strict_json_object
    from rest.jwt.validator import Validator

    key = b"fuzz-secret-key-of-32-bytes-long!"
    validator = Validator(keys=key, algorithms=("HS256",), audience="api", leeway=5)
    now = 1_700_000_100

    claims_validator = Validator(keys=key, algorithms=("HS256",), audience="api", max_age=3600)

    def run(data: bytes) -> object:
        if data[:1] == b"{":  # a claims set: the rules behind the MAC, which a fuzzer rarely gets past
            return claims_validator.check_claims(strict_json_object(data, what="claims"), float(now))
        token = data.decode("utf-8", "replace")
        try:
            inspect_token(token, now=now)
        finally:
            validator.validate(token, at=now)
        return None

    claims = [
        b'{"sub":"a","exp":1700000600,"iat":1700000000,"aud":"api"}',
        b'{"exp":1700000600,"aud":["api","x"],"nbf":1700000000,"iat":1700000000}',
    ]
    return Target("jwt", run, (RestCheckError,), _jwt_seeds(key) + claims)


def openapi_target() -> Target:
    from rest.errors import BadInput
    from rest.openapi.audit import audit
    from rest.openapi.loader import load_spec, parse_document

    def run(data: bytes) -> object:
        parsed = parse_document(data)
        if not isinstance(parsed, dict):
            raise BadInput("not a mapping")
        doc = load_spec(parsed)
        return audit(doc)

    return Target(
        "openapi",
        run,
        (BadInput,),
        _files("../rest/data/*", under=VECTORS) + _files("rest_service/openapi.yaml", under=SAMPLES),
    )


def targets_file_target() -> Target:
    from compare.config import ConfigError, load_targets

    tmp = Path(tempfile.mkdtemp(prefix="apisec-fuzz-targets-"))

    def run(data: bytes) -> object:
        # the first byte picks the syntax, as the file suffix does
        path = tmp / ("apisec.yaml" if data[:1] == b"Y" else "apisec.toml")
        path.write_bytes(data[1:])
        return load_targets(path)

    return Target(
        "targets",
        run,
        (ConfigError,),
        [b"T" + d for d in _files("apisec.toml", under=SAMPLES)]
        + [b"Y" + d for d in _files("apisec.yaml", under=SAMPLES)],
    )


BUILDERS: dict[str, Callable[[], Target]] = {
    "verifier": verifier_target,
    "saml": saml_target,
    "decryptor": decryptor_target,
    "jwt": jwt_target,
    "safexml": safexml_target,
    "wsdl": wsdl_target,
    "policy": policy_target,
    "openapi": openapi_target,
    "targets": targets_file_target,
}
