"""Verification keys bound to the algorithms they may verify.

RFC 8725 §3.1/§3.2: the *key* decides the algorithm family, never the token
header.  An RSA key verifies RS*/PS* only, a P-256 key ES256 only, an
HMAC secret HS* only, so an attacker who flips ``alg`` to HS256 cannot make
the verifier use an RSA public key as an HMAC secret (key confusion).  Keys
below the RFC 7518 / NIST minimums are refused when loaded, so a weak key is
an input error and never a silent acceptance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt import get_algorithm_by_name
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm
from jwt.exceptions import InvalidKeyError

from rest.errors import BadInput

SUPPORTED_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
    "HS256",
    "HS384",
    "HS512",
)
"""Algorithms a :class:`~rest.jwt.Validator` may be configured with; ``none``
is not one of them and cannot be added."""

MIN_RSA_BITS = 2048
_HMAC_MIN = {"HS256": 32, "HS384": 48, "HS512": 64}
_EC_CURVE_FOR_ALG = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_JWK_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth")

# ROCA (CVE-2017-15361): moduli from the vulnerable Infineon generator are
# congruent to a power of 65537 modulo each of these small primes.
_ROCA_PRIMES = (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
                101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167)  # fmt: skip


def _roca_residues() -> dict[int, frozenset[int]]:
    out = {}
    for p in _ROCA_PRIMES:
        seen, x = set(), 1
        while x not in seen:
            seen.add(x)
            x = (x * 65537) % p
        out[p] = frozenset(seen)
    return out


_ROCA = _roca_residues()


def roca_vulnerable(n: int) -> bool:
    """True when the RSA modulus carries the ROCA fingerprint (such keys are
    factorable; Wycheproof ``rejectsKeyWithRocaVulnerability``)."""
    return all((n % p) in residues for p, residues in _ROCA.items())


@dataclass(frozen=True)
class VerificationKey:
    """One public key (or HMAC secret) and the algorithms it may verify."""

    key: Any
    """``RSAPublicKey``, ``EllipticCurvePublicKey``, ``Ed25519PublicKey``,
    ``Ed448PublicKey`` or ``bytes`` (HMAC secret)."""
    kid: str | None = None
    """The JWK ``kid``; used only to pick a key, never trusted for anything else."""
    alg: str | None = None
    """The JWK ``alg``: when set, the key verifies this algorithm only."""
    _algs: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _verifiers: dict[str, tuple[Any, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The key never changes, so what it may verify and its pyjwt form are
        # worked out once, not on every token (the guard verifies per request).
        object.__setattr__(self, "_algs", self.algorithms())
        object.__setattr__(self, "_verifiers", {})

    @property
    def kind(self) -> str:
        if isinstance(self.key, bytes):
            return "oct"
        if isinstance(self.key, rsa.RSAPublicKey):
            return "RSA"
        if isinstance(self.key, ec.EllipticCurvePublicKey):
            return f"EC {self.key.curve.name}"
        return "OKP"

    def algorithms(self) -> tuple[str, ...]:
        """The algorithms this key can verify (before the caller's allow-list)."""
        if isinstance(self.key, bytes):
            fam: tuple[str, ...] = tuple(a for a, n in _HMAC_MIN.items() if len(self.key) >= n)
        elif isinstance(self.key, rsa.RSAPublicKey):
            fam = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
        elif isinstance(self.key, ec.EllipticCurvePublicKey):
            fam = tuple(a for a, c in _EC_CURVE_FOR_ALG.items() if c == self.key.curve.name)
        else:
            fam = ("EdDSA",)
        if self.alg is not None:
            fam = tuple(a for a in fam if a == self.alg)
        return fam

    def accepts(self, alg: str) -> bool:
        return alg in self._algs

    def verifier(self, alg: str) -> tuple[Any, Any]:
        """pyjwt's algorithm object for ``alg`` and this key prepared for it,
        made on first use and kept (raises what ``prepare_key`` raises, e.g.
        :class:`jwt.exceptions.InvalidKeyError`; a failure is not kept)."""
        hit = self._verifiers.get(alg)
        if hit is None:
            alg_obj = get_algorithm_by_name(alg)
            hit = (alg_obj, alg_obj.prepare_key(self.key))
            self._verifiers[alg] = hit
        return hit


def _check_public(key: Any, *, where: str) -> Any:
    if isinstance(key, rsa.RSAPublicKey):
        nums = key.public_numbers()
        if key.key_size < MIN_RSA_BITS:
            raise BadInput(f"{where}: RSA key of {key.key_size} bits is below the {MIN_RSA_BITS}-bit minimum")
        if nums.e < 3 or nums.e % 2 == 0:
            raise BadInput(f"{where}: RSA public exponent {nums.e} is unsafe")
        if roca_vulnerable(nums.n):
            raise BadInput(f"{where}: RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
        return key
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in _EC_CURVE_FOR_ALG.values():
            raise BadInput(f"{where}: EC curve {key.curve.name} is not a JOSE signing curve")
        return key
    if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return key
    raise BadInput(f"{where}: unsupported key type {type(key).__name__}")


def _public_of(key: Any) -> Any:
    if isinstance(
        key,
        (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey),
    ):
        return key.public_key()
    return key


def key_from_pem(data: bytes, *, where: str = "key") -> VerificationKey:
    """A PEM public key, certificate or private key (its public half is used)."""
    try:
        if b"CERTIFICATE-----" in data:
            pub = x509.load_pem_x509_certificate(data).public_key()
        elif b"PRIVATE KEY-----" in data:
            pub = _public_of(serialization.load_pem_private_key(data, password=None))
        else:
            pub = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"{where}: not a usable PEM key or certificate ({str(exc).splitlines()[0]})") from None
    return VerificationKey(_check_public(pub, where=where))


def key_from_jwk(
    jwk: Mapping[str, Any], *, where: str = "JWK", allow_private: bool = True
) -> VerificationKey:
    """A JWK (RFC 7517).  ``use`` must be ``sig`` when present and ``key_ops``
    must include ``verify``; private members are refused when
    ``allow_private`` is false (a JWKS fetched from the network must never
    carry them)."""
    if not isinstance(jwk, Mapping):
        raise BadInput(f"{where}: a JWK must be a JSON object")
    kty = jwk.get("kty")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise BadInput(f"{where}: kid must be a string")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise BadInput(f"{where}: key use is {use!r}, not 'sig'")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise BadInput(f"{where}: key_ops {ops!r} does not allow 'verify'")
    alg = jwk.get("alg")
    if alg is not None and alg not in SUPPORTED_ALGORITHMS:
        raise BadInput(f"{where}: JWK alg {alg!r} is not a supported signing algorithm")
    has_private = any(m in jwk for m in _JWK_PRIVATE_MEMBERS)
    if kty == "oct":
        if not allow_private:
            raise BadInput(f"{where}: a symmetric (oct) key must not be published")
        try:
            secret = HMACAlgorithm.from_jwk(dict(jwk))
        except (InvalidKeyError, ValueError, TypeError):
            raise BadInput(f"{where}: malformed oct JWK") from None
        if not secret:
            raise BadInput(f"{where}: empty HMAC key")
        vk = VerificationKey(secret, kid, alg)
        if not vk.algorithms():
            raise BadInput(f"{where}: HMAC key of {len(secret)} bytes is shorter than the hash it keys")
        return vk
    if has_private and not allow_private:
        raise BadInput(f"{where}: a published key contains private members")
    loader = {"RSA": RSAAlgorithm, "EC": ECAlgorithm, "OKP": OKPAlgorithm}.get(str(kty))
    if loader is None:
        raise BadInput(f"{where}: unsupported kty {kty!r}")
    try:
        key = loader.from_jwk(dict(jwk))
    except (InvalidKeyError, ValueError, TypeError, KeyError) as exc:
        raise BadInput(
            f"{where}: malformed {kty} JWK ({str(exc).splitlines()[0] if str(exc) else 'bad value'})"
        ) from None
    vk = VerificationKey(_check_public(_public_of(key), where=where), kid, alg)
    if alg is not None and not vk.algorithms():
        raise BadInput(f"{where}: JWK alg {alg!r} does not match a {vk.kind} key")
    return vk


def _signing_jwk(jwk: Mapping[str, Any]) -> bool:
    use, ops = jwk.get("use"), jwk.get("key_ops")
    if use is not None and use != "sig":
        return False
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return False
    if jwk.get("alg") is not None and jwk.get("alg") not in SUPPORTED_ALGORITHMS:
        return False  # an encryption / key-wrap key (e.g. A128KW, RSA-OAEP)
    return jwk.get("kty") in ("RSA", "EC", "OKP", "oct")


class KeySet:
    """An immutable set of verification keys (a local key, or one JWKS fetch)."""

    def __init__(self, keys: Iterable[VerificationKey]) -> None:
        self.keys: tuple[VerificationKey, ...] = tuple(keys)
        self._kids = frozenset(k.kid for k in self.keys if k.kid is not None)
        self._found: dict[tuple[str, str | None], list[VerificationKey]] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def kids(self) -> set[str]:
        return set(self._kids)

    def candidates(self, alg: str, kid: str | None) -> list[VerificationKey]:
        """Keys that may verify ``alg``; with a ``kid`` only keys carrying it
        (or kid-less keys when the set has no kids at all).

        Answers that name keys are remembered (the set is immutable); the
        memo is bounded because only a kid the set holds (or ``None``) can
        name one, and a miss, which an attacker's random kid gives, is not
        kept.  A copy is returned so a caller cannot edit the memo."""
        if kid is not None and not self._kids:
            kid = None  # a set without kids: the kid cannot select
        found = self._found.get((alg, kid))
        if found is None:
            usable = [k for k in self.keys if k.accepts(alg)]
            found = usable if kid is None else [k for k in usable if k.kid == kid]
            if found:
                self._found[(alg, kid)] = found
        return list(found)

    @classmethod
    def from_jwks(
        cls, doc: Mapping[str, Any] | str | bytes, *, trusted: bool = False, where: str = "JWKS"
    ) -> KeySet:
        """Parse a JWKS document.  ``trusted`` (a local file the user owns)
        allows private and symmetric members; a fetched JWKS never does.
        Duplicate kids are refused: a verifier could pick either key."""
        if isinstance(doc, (str, bytes)):
            try:
                doc = json.loads(doc)
            except (ValueError, UnicodeDecodeError):
                raise BadInput(f"{where}: not JSON") from None
        if not isinstance(doc, Mapping):
            raise BadInput(f"{where}: not a JSON object")
        raw = doc["keys"] if "keys" in doc else [doc] if "kty" in doc else None
        if not isinstance(raw, list) or not raw:
            raise BadInput(f"{where}: no 'keys' array")
        kinds = {("private" if any(m in k for m in _JWK_PRIVATE_MEMBERS) else "public")
                 for k in raw if isinstance(k, Mapping) and k.get("kty") != "oct"}  # fmt: skip
        if len(kinds) > 1:
            raise BadInput(f"{where}: mixes public and private keys")
        if any(isinstance(k, Mapping) and k.get("kty") == "oct" for k in raw) and len(raw) > 1 and kinds:
            raise BadInput(f"{where}: mixes symmetric and asymmetric keys")
        if not trusted:
            for i, item in enumerate(raw):
                if isinstance(item, Mapping) and any(m in item for m in _JWK_PRIVATE_MEMBERS):
                    raise BadInput(f"{where} key #{i}: a published key contains private members")
        seen: set[str] = set()
        keys = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise BadInput(f"{where} key #{i}: not a JSON object")
            if not _signing_jwk(item):
                continue  # RFC 7517 §5: skip keys for other uses or unknown kty
            vk = key_from_jwk(item, where=f"{where} key #{i}", allow_private=trusted)
            if vk.kid is not None:
                if vk.kid in seen:
                    raise BadInput(f"{where}: duplicate kid {vk.kid!r}")
                seen.add(vk.kid)
            keys.append(vk)
        if not keys:
            raise BadInput(f"{where}: no signature-verification keys (all are for other uses)")
        return cls(keys)


def _load_key_file(path: Path) -> KeySet:
    """``keys=<path>``: a PEM key/certificate, or a JWK/JWKS JSON file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"keys: file not found: {path} (pass an HMAC secret as bytes)") from None
    except OSError as exc:
        raise BadInput(f"keys: cannot read {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN" in data:
        return KeySet([key_from_pem(data, where=str(path))])
    if data.lstrip().startswith(b"{"):
        return KeySet.from_jwks(data, trusted=True, where=str(path))
    raise BadInput(f"keys: {path} holds no PEM key or JWK(S) (pass an HMAC secret as bytes)")


def load_keys(spec: Any) -> KeySet:
    """Turn what a caller passes as ``keys=`` into a :class:`KeySet`.

    Accepted: a :class:`KeySet` or :class:`VerificationKey`; a cryptography
    public/private key; PEM bytes/str (public key, certificate, private key);
    a JWK or JWKS as dict or JSON text; a file path (``str`` or
    :class:`os.PathLike`) to a PEM, JWK or JWKS file; ``bytes`` that are none
    of these are an HMAC secret; or a list of any of these.

    A ``str`` is never an HMAC secret: ``keys="client.pub"`` means the file
    (as ``wssec.Signer(key="client.key")`` does), and a secret is passed as
    ``bytes`` so a typo in a path cannot become a weak key."""
    if isinstance(spec, KeySet):
        return spec
    if isinstance(spec, VerificationKey):
        return KeySet([spec])
    if isinstance(spec, (list, tuple)):
        out: list[VerificationKey] = []
        for item in spec:
            out.extend(load_keys(item).keys)
        return KeySet(out)
    if isinstance(spec, Mapping):
        return KeySet.from_jwks(spec, trusted=True, where="keys")
    if isinstance(spec, os.PathLike) or (
        isinstance(spec, str) and not spec.lstrip().startswith(("{", "-----BEGIN"))
    ):
        return _load_key_file(Path(spec))
    if isinstance(spec, str):
        spec_b = spec.encode("utf-8")
        if spec.lstrip().startswith("{"):
            return KeySet.from_jwks(spec_b, trusted=True, where="keys")
        spec = spec_b
    if isinstance(spec, bytes):
        if b"-----BEGIN" in spec:
            return KeySet([key_from_pem(spec)])
        if not spec:
            raise BadInput("keys: empty HMAC secret")
        vk = VerificationKey(spec)
        if not vk.algorithms():
            raise BadInput(f"keys: HMAC secret of {len(spec)} bytes is shorter than 32 bytes (RFC 7518 §3.2)")
        return KeySet([vk])
    try:
        return KeySet([VerificationKey(_check_public(_public_of(spec), where="keys"))])
    except BadInput:
        raise
    except Exception:  # noqa: BLE001 - anything else is simply not a key
        raise BadInput(f"keys: unsupported key object {type(spec).__name__}") from None
