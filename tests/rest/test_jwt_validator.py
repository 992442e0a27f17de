"""The Validator refuses every forged token the probes send, plus the
classic parser traps; claims, typ and key binding follow RFC 8725/9068."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from rest.errors import BadInput, TokenRejected
from rest.jwt import Validator, forge
from rest.jwt.forge import Baseline
from rest.jwt.jose import b64url_encode

AUD, ISS = "https://api.test", "https://issuer.test"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def _claims(**kw):
    now = int(time.time())
    return {"iss": ISS, "aud": AUD, "sub": "alice", "iat": now, "exp": now + 300, **kw}


def _validator(key, algs=("RS256",), **kw):
    kw.setdefault("audience", AUD)
    kw.setdefault("issuer", ISS)
    return Validator(keys=key.public_key() if hasattr(key, "public_key") else key, algorithms=algs, **kw)


def test_valid_token_accepted(rsa_key, ec_key):
    tok = pyjwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"typ": "at+jwt"})
    assert _validator(rsa_key, typ="at+jwt").validate(tok)["sub"] == "alice"
    tok = pyjwt.encode(_claims(), ec_key, algorithm="ES256")
    assert _validator(ec_key, ("ES256",)).validate(tok)["sub"] == "alice"


def _forgeries(token, public_key):
    b = Baseline.parse(token)
    out = (
        forge.none_alg(b) + forge.unsigned(b) + forge.tampered_payload(b) + forge.key_confusion(b, public_key)
        + forge.embedded_jwk(b) + forge.jku_injection(b, "https://127.0.0.1:1/jwks.json", x5u_url="https://127.0.0.1:1/x5u.pem") + forge.kid_injection(b)
        + forge.psychic_signature(b)
    )  # fmt: skip
    return [pytest.param(f.token, id=f"{f.check_id}:{f.variant}") for f in out]


def test_every_probe_forgery_refused(rsa_key):
    token = pyjwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    v = _validator(rsa_key)
    assert v.validate(token)
    forged = _forgeries(token, rsa_key.public_key())
    assert len(forged) >= 20
    for p in forged:
        with pytest.raises(TokenRejected):
            v.validate(p.values[0])


def test_every_probe_forgery_refused_es256(ec_key):
    token = pyjwt.encode(_claims(), ec_key, algorithm="ES256")
    v = _validator(ec_key, ("ES256",))
    for p in _forgeries(token, ec_key.public_key()):
        with pytest.raises(TokenRejected):
            v.validate(p.values[0])


def test_hs_key_confusion_refused_even_when_hs256_allowed(rsa_key):
    """A validator allowing HS256 with an RSA key set cannot be built; with a
    PEM given as the HMAC secret it cannot either."""
    pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(BadInput):
        Validator(keys=rsa_key.public_key(), algorithms=("HS256",))
    with pytest.raises(BadInput):
        Validator(keys=pem, algorithms=("HS256",))
    with pytest.raises(BadInput, match="mix"):
        Validator(keys=rsa_key.public_key(), algorithms=("RS256", "HS256"))


def test_white_box_forgeries_refused(rsa_key):
    token = pyjwt.encode(_claims(), rsa_key, algorithm="RS256")
    control, variants = forge.white_box(Baseline.parse(token), rsa_key)
    v = _validator(rsa_key)
    assert v.validate(control.token)
    reasons = {}
    for f in variants:
        with pytest.raises(TokenRejected) as err:
            v.validate(f.token)
        reasons[f.check_id] = str(err.value)
    assert "expired" in reasons["jwt.expired"]
    assert "nbf" in reasons["jwt.not-yet-valid"]
    assert "audience" in reasons["jwt.wrong-audience"]
    assert "issuer" in reasons["jwt.wrong-issuer"]
    assert "exp" in reasons["jwt.missing-exp"]


def test_duplicate_header_members_refused(rsa_key):
    token = pyjwt.encode(_claims(), rsa_key, algorithm="RS256")
    with pytest.raises(TokenRejected, match="repeats the member 'alg'"):
        _validator(rsa_key).validate(forge.duplicate_member_header(Baseline.parse(token), "RS256"))


def test_duplicate_claims_refused(rsa_key):
    h = {"alg": "RS256"}
    raw = (
        b'{"sub":"alice","sub":"admin","exp":9999999999,"aud":"https://api.test","iss":"https://issuer.test"}'
    )
    tok = forge.sign_token(h, {}, rsa_key)  # sign a placeholder, then re-sign raw bytes below
    h64 = tok.split(".")[0]
    p64 = b64url_encode(raw)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    sig = rsa_key.sign(f"{h64}.{p64}".encode(), padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(TokenRejected, match="claims repeats the member 'sub'"):
        _validator(rsa_key).validate(f"{h64}.{p64}.{b64url_encode(sig)}")


@pytest.mark.parametrize(
    "mangle",
    [
        forge.padded_b64,
        lambda t: t.replace(".", ". ", 1),
        lambda t: t[:10] + "+" + t[11:],
        lambda t: t + ".",
        lambda t: t.rsplit(".", 1)[0],
        lambda t: "{" + t + "}",
    ],
    ids=["padding", "space", "std-base64-char", "four-parts", "two-parts", "json-wrapped"],
)
def test_bad_base64_and_structure_refused(rsa_key, mangle):
    token = pyjwt.encode(_claims(), rsa_key, algorithm="RS256")
    with pytest.raises(TokenRejected):
        _validator(rsa_key).validate(mangle(token))


def test_der_encoded_es256_refused(ec_key):
    token = pyjwt.encode(_claims(), ec_key, algorithm="ES256")
    v = _validator(ec_key, ("ES256",))
    assert v.validate(token)
    with pytest.raises(TokenRejected, match="signature"):
        v.validate(forge.der_ecdsa(token))


def test_crit_refused(rsa_key):
    token = pyjwt.encode(_claims(), rsa_key, algorithm="RS256")
    with pytest.raises(TokenRejected, match="critical"):
        _validator(rsa_key).validate(forge.with_crit(Baseline.parse(token), rsa_key))


def test_typ_enforced(rsa_key):
    v = _validator(rsa_key, typ="at+jwt")
    assert v.validate(
        pyjwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"typ": "application/at+jwt"})
    )
    with pytest.raises(TokenRejected, match="typ"):
        v.validate(pyjwt.encode(_claims(), rsa_key, algorithm="RS256", headers={"typ": "JWT"}))


def test_claim_rules(rsa_key):
    now = int(time.time())
    v = _validator(rsa_key, leeway=30, max_age=600)
    enc = lambda **kw: pyjwt.encode(_claims(**kw), rsa_key, algorithm="RS256")  # noqa: E731
    assert v.validate(enc(exp=now - 10))  # inside leeway
    with pytest.raises(TokenRejected, match="expired"):
        v.validate(enc(exp=now - 31))
    with pytest.raises(TokenRejected, match="future"):
        v.validate(enc(iat=now + 120))
    with pytest.raises(TokenRejected, match="max_age"):
        v.validate(enc(iat=now - 700))
    with pytest.raises(TokenRejected, match="NumericDate"):
        v.validate(enc(exp="tomorrow"))
    with pytest.raises(TokenRejected, match="audience"):
        _validator(rsa_key, audience=None).validate(enc())
    assert v.validate(enc(aud=["other", AUD]))
    with pytest.raises(TokenRejected, match="issuer"):
        v.validate(enc(iss=ISS + "/"))
    # pinned instant
    token = enc()
    with pytest.raises(TokenRejected, match="expired"):
        v.validate(token, at=now + 3600)


def test_weak_keys_refused_at_configuration():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(BadInput, match="2048"):
        Validator(keys=small.public_key())
    with pytest.raises(BadInput, match="32 bytes"):
        Validator(keys=b"short", algorithms=("HS256",))
    with pytest.raises(BadInput, match="none"):
        Validator(keys=b"x" * 32, algorithms=("none",))
    with pytest.raises(BadInput, match="curve"):
        Validator(keys=ec.generate_private_key(ec.SECP256K1()).public_key(), algorithms=("ES256",))


def test_ec_curve_bound_to_alg():
    p384 = ec.generate_private_key(ec.SECP384R1())
    token = pyjwt.encode(_claims(), p384, algorithm="ES384", headers={"alg": "ES384"})
    v = Validator(keys=p384.public_key(), algorithms=("ES256", "ES384"), audience=AUD, issuer=ISS)
    assert v.validate(token)
    b = Baseline.parse(token)
    relabelled = f"{forge._h({**b.header, 'alg': 'ES256'})}.{b.p64}.{b.s64}"
    with pytest.raises(TokenRejected, match="no configured key"):
        v.validate(relabelled)


def test_header_key_sources_never_used(rsa_key):
    attacker = forge.attacker_key("RSA")
    b = Baseline.parse(pyjwt.encode(_claims(), rsa_key, algorithm="RS256"))
    tok = forge.sign_token({"alg": "RS256", "jwk": forge.public_jwk(attacker),
                            "x5c": ["AAAA"], "jku": "https://evil.test/jwks"}, b.claims, attacker)  # fmt: skip
    with pytest.raises(TokenRejected, match="signature"):
        _validator(rsa_key).validate(tok)


def test_keys_str_is_a_path_never_a_secret(rsa_key, tmp_path) -> None:
    """keys="client.pub" reads the file (as wssec.Signer(key=...) does); a str is
    never taken as an HMAC secret, so a mistyped path cannot become a weak key."""
    pub = tmp_path / "client.pub"
    pub.write_bytes(
        rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    token = pyjwt.encode(_claims(), rsa_key, algorithm="RS256")
    for keys in (str(pub), pub):
        v = Validator(keys=keys, algorithms=("RS256",), audience=AUD, issuer=ISS)
        assert v.validate(token)["sub"] == "alice"
    with pytest.raises(BadInput, match="file not found: nope.pub"):
        Validator(keys="nope.pub", algorithms=("HS256",))
    (tmp_path / "secret.txt").write_bytes(b"x" * 40)
    with pytest.raises(BadInput, match="no PEM key or JWK"):
        Validator(keys=str(tmp_path / "secret.txt"), algorithms=("HS256",))
    assert Validator(keys=b"x" * 40, algorithms=("HS256",))  # a secret is bytes
