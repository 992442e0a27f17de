"""WS-Security UsernameToken Profile 1.1: build and authenticate tokens.

PasswordDigest is ``Base64(SHA-1(nonce + created + password))``; it keeps the
password off the wire but only means something together with a fresh
``Created`` and a nonce that is never accepted twice, so authentication
checks both and records the nonce in the replay cache.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from wssec.errors import AuthenticationFailed, Expired, KeyLoadError, MalformedMessage, ReplayDetected
from wssec.replay import ReplayCache
from wssec.soap import BASE64_BINARY, PASSWORD_DIGEST, PASSWORD_TEXT, WSSE_NS, WSU_NS
from wssec.xsdtime import parse_datetime

PASSWORD_TYPES = {"digest": PASSWORD_DIGEST, "text": PASSWORD_TEXT}


def format_time(t: dt.datetime) -> str:
    """xsd:dateTime in UTC with milliseconds and ``Z`` (what WCF and WSS4J write)."""
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str | None, what: str) -> dt.datetime:
    """Parse an xsd:dateTime that must carry a time zone (:mod:`wssec.xsdtime`)."""
    return parse_datetime(text, what, require_zone=True)


def password_digest(nonce: bytes, created: str, password: str) -> str:
    raw = nonce + created.encode("utf-8") + password.encode("utf-8")
    return base64.b64encode(hashlib.sha1(raw).digest()).decode("ascii")  # noqa: S324 - the profile's formula


def make_username_token(
    username: str, password: str, password_type: str = "digest", now: dt.datetime | None = None
) -> etree._Element:
    """A wsse:UsernameToken element (digest: with Nonce and Created)."""
    if password_type not in PASSWORD_TYPES:
        raise ValueError(f"password_type must be 'digest' or 'text', not {password_type!r}")
    ut = etree.Element(f"{{{WSSE_NS}}}UsernameToken", nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    ut.set(f"{{{WSU_NS}}}Id", f"UsernameToken-{secrets.token_hex(8)}")
    etree.SubElement(ut, f"{{{WSSE_NS}}}Username").text = username
    pw = etree.SubElement(ut, f"{{{WSSE_NS}}}Password")
    pw.set("Type", PASSWORD_TYPES[password_type])
    nonce = os.urandom(16)
    created = format_time(now or dt.datetime.now(dt.UTC))
    if password_type == "digest":
        pw.text = password_digest(nonce, created, password)
    else:
        pw.text = password
    n = etree.SubElement(ut, f"{{{WSSE_NS}}}Nonce")
    n.set("EncodingType", BASE64_BINARY)
    n.text = base64.b64encode(nonce).decode("ascii")
    etree.SubElement(ut, f"{{{WSU_NS}}}Created").text = created
    return ut


def load_users(source: Mapping[str, str] | str | os.PathLike) -> dict[str, str]:
    """Users from a mapping or a ``user:password`` file (one per line, ``#`` comments)."""
    if isinstance(source, Mapping):
        return {str(k): str(v) for k, v in source.items()}
    path = Path(source)
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise KeyLoadError(f"cannot read users file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise KeyLoadError(f"users file {path} is not UTF-8") from None
    users: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if ":" not in line:
            raise KeyLoadError(f"users file {path} line {n}: expected user:password")
        user, pw = line.split(":", 1)
        users[user.strip()] = pw
    return users


@dataclass(frozen=True)
class UsernameTokenResult:
    username: str
    password_type: str
    created: dt.datetime | None
    element: etree._Element


def _child(ut: etree._Element, ns: str, local: str) -> etree._Element | None:
    found = ut.findall(f"{{{ns}}}{local}")
    if len(found) > 1:
        raise MalformedMessage(f"UsernameToken has more than one {local}")
    return found[0] if found else None


def authenticate(
    ut: etree._Element,
    users: Mapping[str, str] | None,
    *,
    now: dt.datetime,
    max_skew: float,
    max_age: float,
    replay_cache: ReplayCache | None,
) -> UsernameTokenResult:
    """Check a UsernameToken against ``users``; raise a typed error or return the result."""
    user_el = _child(ut, WSSE_NS, "Username")
    if user_el is None or not (user_el.text or "").strip():
        raise MalformedMessage("UsernameToken has no Username")
    username = user_el.text.strip()
    pw_el = _child(ut, WSSE_NS, "Password")
    nonce_el = _child(ut, WSSE_NS, "Nonce")
    created_el = _child(ut, WSU_NS, "Created")
    if pw_el is None:
        raise AuthenticationFailed(f"UsernameToken for {username!r} carries no password")
    ptype = pw_el.get("Type", PASSWORD_TEXT)
    if ptype not in (PASSWORD_TEXT, PASSWORD_DIGEST):
        raise MalformedMessage(f"UsernameToken password type {ptype} is not supported")
    created = None
    if created_el is not None:
        created = parse_time(created_el.text, "UsernameToken Created")
        if created - now > dt.timedelta(seconds=max_skew):
            raise Expired("UsernameToken Created is in the future")
        if now - created > dt.timedelta(seconds=max_age + max_skew):
            raise Expired(f"UsernameToken is older than {int(max_age)} s")
    nonce = None
    if nonce_el is not None:
        enc = nonce_el.get("EncodingType", BASE64_BINARY)
        if enc != BASE64_BINARY:
            raise MalformedMessage("UsernameToken Nonce must be Base64Binary")
        try:
            nonce = base64.b64decode("".join((nonce_el.text or "").split()), validate=True)
        except ValueError:
            raise MalformedMessage("UsernameToken Nonce is not valid base64") from None
        if not nonce:
            raise MalformedMessage("UsernameToken Nonce is empty")
    if ptype == PASSWORD_DIGEST and (nonce is None or created_el is None):
        raise MalformedMessage("UsernameToken PasswordDigest needs a Nonce and a Created")
    if users is None:
        raise AuthenticationFailed("message carries a UsernameToken but no users are configured to check it")
    expected = users.get(username)
    given = (pw_el.text or "").strip() if ptype == PASSWORD_DIGEST else (pw_el.text or "")
    if ptype == PASSWORD_DIGEST:
        candidate = password_digest(nonce or b"", created_el.text.strip(), expected or "")
    else:
        candidate = expected or ""
    ok = hmac.compare_digest(candidate.encode("utf-8"), given.encode("utf-8"))
    if expected is None or not ok:
        raise AuthenticationFailed(f"UsernameToken authentication failed for user {username!r}")
    if nonce is not None and replay_cache is not None:
        horizon = (created or now) + dt.timedelta(seconds=max_age + 2 * max_skew)
        if not replay_cache.check_and_store("nonce:" + base64.b64encode(nonce).decode(), horizon):
            raise ReplayDetected("UsernameToken nonce was already used (replayed message)")
    kind = "digest" if ptype == PASSWORD_DIGEST else "text"
    return UsernameTokenResult(username, kind, created, ut)


__all__ = [
    "PASSWORD_TYPES",
    "UsernameTokenResult",
    "authenticate",
    "format_time",
    "load_users",
    "make_username_token",
    "parse_time",
    "password_digest",
]
