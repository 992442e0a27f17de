"""Strict JOSE compact-serialisation primitives: base64url and JSON without
the leniencies attackers use.

Why our own parsing before pyjwt sees a token: a verifier and an attacker must
agree on *which bytes* were signed and *which header* was meant.  Lenient
base64 (padding, whitespace, stray characters silently dropped, non-zero
unused bits) and lenient JSON (duplicate members where the last one wins in
one library and the first in another) are exactly the gaps forged tokens slip
through.  So apisec accepts one canonical spelling and refuses everything
else, before any cryptography runs.  The forging side (:mod:`rest.jwt.forge`)
uses the encoders here to build the malformed tokens on purpose.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any

from rest.errors import TokenRejected

MAX_TOKEN_BYTES = 64 * 1024
"""A bearer token larger than this is refused unread (bounded work)."""

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_UNUSED_BITS = {2: 0x0F, 3: 0x03}
"""Mask of the bits the last character carries beyond the data, by
``len % 4``: they must be zero in the one canonical spelling."""
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str, *, what: str = "segment") -> bytes:
    """Decode canonical unpadded base64url or raise :class:`TokenRejected`.

    Refuses padding, whitespace, characters outside the alphabet, impossible
    lengths, and non-canonical encodings (non-zero unused bits), so one byte
    string has exactly one accepted spelling.  (Every request through the
    guard decodes three segments: the canonical test reads the last
    character's unused bits instead of re-encoding the result.)"""
    if not _B64URL.fullmatch(segment):
        raise TokenRejected(f"{what} is not base64url (padding, spaces or foreign characters)")
    rem = len(segment) % 4
    if rem == 1:
        raise TokenRejected(f"{what} has an impossible base64url length")
    if rem and _VALUE[segment[-1]] & _UNUSED_BITS[rem]:
        raise TokenRejected(f"{what} is not canonical base64url (non-zero unused bits)")
    try:
        return binascii.a2b_base64((segment + "==="[: -rem % 4]).encode("ascii").translate(_TO_STANDARD))
    except (binascii.Error, ValueError):
        raise TokenRejected(f"{what} is not valid base64url") from None


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


_STRICT_JSON = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
"""Built once: ``json.loads`` with hooks builds a new decoder on every call."""


def strict_json_object(data: bytes, *, what: str) -> dict[str, Any]:
    """Parse UTF-8 JSON that must be an object with unique member names
    (RFC 7515 §5.2 lets a verifier reject duplicates; RFC 8725 §3.x says do)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenRejected(f"{what} is not UTF-8") from None
    try:
        obj = _STRICT_JSON.decode(text)
    except _Duplicate as dup:
        raise TokenRejected(f"{what} repeats the member {str(dup)!r}") from None
    except (ValueError, RecursionError):
        raise TokenRejected(f"{what} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise TokenRejected(f"{what} is not a JSON object")
    return obj


@dataclass(frozen=True)
class CompactJWS:
    """The three parts of a compact JWS, decoded but *not* verified."""

    header: dict[str, Any]
    payload: bytes
    signature: bytes
    signing_input: bytes
    """``BASE64URL(header) || '.' || BASE64URL(payload)``: the bytes signed."""


def split_compact(token: str | bytes) -> CompactJWS:
    """Split and strictly decode a compact JWS (three parts, no JWE, no JSON
    serialisation).  Raises :class:`TokenRejected` with a one-line reason."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise TokenRejected("token is not ASCII") from None
    if not isinstance(token, str):
        raise TokenRejected("token must be a string")
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenRejected(f"token is larger than {MAX_TOKEN_BYTES} bytes")
    if not token:
        raise TokenRejected("token is empty")
    if token.lstrip().startswith("{"):
        raise TokenRejected("JSON serialisation given where a compact JWS is required")
    parts = token.split(".")
    if len(parts) == 5:
        raise TokenRejected("token is a JWE (encrypted); only signed JWTs are accepted")
    if len(parts) != 3:
        raise TokenRejected(f"token has {len(parts)} parts; a compact JWS has exactly 3")
    h64, p64, s64 = parts
    if not h64:
        raise TokenRejected("token header is empty")
    header = strict_json_object(b64url_decode(h64, what="header"), what="header")
    payload = b64url_decode(p64, what="payload")
    signature = b64url_decode(s64, what="signature")
    return CompactJWS(header, payload, signature, f"{h64}.{p64}".encode("ascii"))


def encode_json(obj: Any) -> bytes:
    """Compact JSON as JOSE producers write it."""
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def assemble(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes, signature: bytes) -> str:
    """Build a compact token from parts (bytes are taken as already-serialised JSON)."""
    h = header if isinstance(header, bytes) else encode_json(header)
    p = payload if isinstance(payload, bytes) else encode_json(payload)
    return f"{b64url_encode(h)}.{b64url_encode(p)}.{b64url_encode(signature)}"


def signing_input(header: dict[str, Any] | bytes, payload: dict[str, Any] | bytes) -> bytes:
    h = header if isinstance(header, bytes) else encode_json(header)
    p = payload if isinstance(payload, bytes) else encode_json(payload)
    return f"{b64url_encode(h)}.{b64url_encode(p)}".encode("ascii")


class _NonFinite(ValueError):
    """A JSON number no IEEE double holds (1e309) or a NaN/Infinity literal."""


def _inspectable_json(data: bytes) -> Any:
    """JSON for inspection that refuses numbers beyond a float (1e309) and the
    non-standard NaN/Infinity: RFC 8259 §6 lets a reader limit the range, and a
    value no date arithmetic can hold makes the token unreadable, not a crash."""

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise _NonFinite(text)
        return value

    def constant(text: str) -> float:
        raise _NonFinite(text)

    return json.loads(data, parse_float=number, parse_constant=constant)


def unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any] | None, bytes]:
    """Lenient read for inspection only: header, claims (None when the payload
    is not a JSON object) and signature.  Never use the result for a decision."""
    parts = token.strip().split(".")
    if len(parts) < 2:
        raise TokenRejected("not a JWT: fewer than two dot-separated parts")

    def loose(seg: str) -> bytes:
        try:
            return base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4))
        except (binascii.Error, ValueError):
            raise TokenRejected("not a JWT: a part is not base64url") from None

    def out_of_range(what: str, exc: _NonFinite) -> TokenRejected:
        return TokenRejected(
            f"not a JWT: the {what} holds the number {str(exc)[:40]}, beyond what a float holds"
        )

    try:
        header = _inspectable_json(loose(parts[0]))
    except _NonFinite as exc:
        raise out_of_range("header", exc) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise TokenRejected("not a JWT: header is not JSON (or nested too deeply)") from None
    if not isinstance(header, dict):
        raise TokenRejected("not a JWT: header is not a JSON object")
    claims: dict[str, Any] | None
    try:
        loaded = _inspectable_json(loose(parts[1]))
        claims = loaded if isinstance(loaded, dict) else None
    except _NonFinite as exc:
        raise out_of_range("payload", exc) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        claims = None
    sig = loose(parts[2]) if len(parts) > 2 else b""
    return header, claims, sig
