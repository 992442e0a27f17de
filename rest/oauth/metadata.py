"""Authorization-server metadata discovery (RFC 8414, OIDC Discovery fallback).

RFC 8414 §3.1 *inserts* the well-known segment between host and issuer path:
issuer ``https://as.example/tenant1`` publishes at
``https://as.example/.well-known/oauth-authorization-server/tenant1``.  OpenID
Connect Discovery instead *appends* ``/.well-known/openid-configuration`` to
the issuer; RFC 8414 §5 notes servers in the wild also use the inserted form
for it.  apisec tries the three in that order and records every attempt, so a
report can show where the document was (or was not) found.
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import requests

from rest.errors import BadInput, TargetUnreachable

MAX_METADATA_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Metadata:
    """A fetched metadata document and where it came from."""

    issuer_url: str
    """The issuer identifier the user asked about."""
    url: str
    """Where the document was found."""
    kind: str
    """``rfc8414`` or ``openid-configuration``."""
    doc: dict[str, Any]
    attempts: tuple[tuple[str, str], ...] = field(default=())
    """(url, outcome) of every location tried before this one."""

    def get(self, name: str, default: Any = None) -> Any:
        return self.doc.get(name, default)


def validate_issuer_url(issuer: str) -> str:
    """RFC 8414 §2: an issuer is an https URL without query or fragment."""
    u = urlsplit(issuer)
    if u.scheme not in ("https", "http") or not u.hostname:
        raise BadInput(f"issuer must be an https URL, got {issuer!r}")
    if u.query or u.fragment:
        raise BadInput("issuer must not contain a query or fragment (RFC 8414 §2)")
    return issuer


def well_known_urls(issuer: str) -> list[tuple[str, str]]:
    """The discovery locations for ``issuer``, in the order they are tried."""
    u = urlsplit(issuer)
    origin = f"{u.scheme}://{u.netloc}"
    path = u.path.rstrip("/")
    urls = [
        ("rfc8414", f"{origin}/.well-known/oauth-authorization-server{path}"),
        ("openid-configuration", f"{origin}{path}/.well-known/openid-configuration"),
    ]
    if path:
        urls.append(("openid-configuration", f"{origin}/.well-known/openid-configuration{path}"))
    return urls


def bounded_request(
    method: str,
    url: str,
    *,
    max_bytes: int = MAX_METADATA_BYTES,
    session: requests.Session | None = None,
    **kwargs: Any,
) -> requests.Response:
    """``requests.request`` whose body is read at most ``max_bytes`` (the
    server under test chooses how much it sends).  The response's
    ``.content``/``.text``/``.json()`` hold the bounded body; a longer body is
    :class:`rest.errors.BadInput` (a check then ends in ``error``, never a
    verdict on half a document).  Transport errors propagate as requests'."""
    return read_bounded((session or requests).request(method, url, stream=True, **kwargs), max_bytes)


def read_bounded(resp: requests.Response, max_bytes: int) -> requests.Response:
    """Read a streamed (``stream=True``) response's body, at most ``max_bytes``
    (decompressed), and close it; a longer body is :class:`rest.errors.BadInput`.
    For requests another library sends (Authlib's client authentication)."""
    with resp:
        body = resp.raw.read(max_bytes + 1, decode_content=True) or b""
    if len(body) > max_bytes:
        raise BadInput(f"{resp.url} returned more than {max_bytes} bytes")
    resp._content = body  # what .content/.text/.json() read (requests' own attribute)
    resp._content_consumed = True
    return resp


def get_json(
    url: str,
    *,
    ca_file: str | None,
    timeout: float | tuple[float, float],
    max_bytes: int = MAX_METADATA_BYTES,
    session: requests.Session | None = None,
) -> tuple[int, Any, requests.structures.CaseInsensitiveDict]:
    """GET a JSON document with TLS verification (custom CA allowed), no
    redirects, and a size cap.  Returns (status, parsed-or-None, headers).
    ``session`` carries a caller's transport (e.g. a TLS-profile context)."""
    try:
        resp = bounded_request(
            "GET",
            url,
            max_bytes=max_bytes,
            session=session,
            timeout=timeout,
            verify=ca_file or True,
            allow_redirects=False,
            headers={"Accept": "application/json"},
        )
    except requests.exceptions.SSLError as exc:
        raise TargetUnreachable(f"TLS verification failed for {url} ({_line(exc)})") from None
    except requests.exceptions.RequestException as exc:
        raise TargetUnreachable(f"cannot reach {url} ({_line(exc)})") from None
    status, headers = resp.status_code, requests.structures.CaseInsensitiveDict(resp.headers)
    try:
        parsed = json.loads(resp.content) if status == 200 else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    return status, parsed, headers


def _line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


class MetadataCache:
    """Metadata documents fetched during one run, one per (issuer, CA bundle).

    Why: an inventory often names one authorization server for hundreds of
    APIs; the document is the issuer's, not the API's, so one fetch serves
    every target naming it.  The owner decides the lifetime (the compare
    engine makes one per run), so a later run sees a changed document.  Only
    successes are kept: a failed fetch is tried again by the next caller.
    Concurrent callers of one issuer wait for the first fetch instead of
    repeating it.  Each caller gets its own copy of the document."""

    def __init__(self) -> None:
        self._docs: dict[tuple[str, str | None], Metadata] = {}
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, str | None], threading.Lock] = {}
        self.fetches = 0
        """Documents actually fetched (for tests and benches)."""

    def get(self, issuer: str, *, ca_file: str | None, timeout: float | tuple[float, float]) -> Metadata:
        key = (issuer, str(ca_file) if ca_file else None)
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                hit = self._docs.get(key)
            if hit is None:
                self.fetches += 1
                hit = _fetch(issuer, ca_file=ca_file, timeout=timeout)
                with self._lock:
                    self._docs[key] = hit
        return replace(hit, doc=copy.deepcopy(hit.doc))


def fetch_metadata(
    issuer: str,
    *,
    ca_file: str | None = None,
    timeout: float | tuple[float, float] = (5.0, 10.0),
    cache: MetadataCache | None = None,
) -> Metadata:
    """Find and fetch the metadata document of ``issuer`` (through ``cache``
    when given: once per issuer and CA bundle for the cache's lifetime).

    Raises :class:`TargetUnreachable` when the host cannot be reached (or TLS
    fails) and when no location serves a JSON object."""
    validate_issuer_url(issuer)
    if cache is not None:
        return cache.get(issuer, ca_file=ca_file, timeout=timeout)
    return _fetch(issuer, ca_file=ca_file, timeout=timeout)


def _fetch(issuer: str, *, ca_file: str | None, timeout: float | tuple[float, float]) -> Metadata:
    attempts: list[tuple[str, str]] = []
    for kind, url in well_known_urls(issuer):
        status, doc, _ = get_json(url, ca_file=ca_file, timeout=timeout)
        if status == 200 and isinstance(doc, dict):
            return Metadata(issuer, url, kind, doc, tuple(attempts))
        attempts.append((url, f"HTTP {status}" if status != 200 else "not a JSON object"))
    tried = "; ".join(f"{u} ({o})" for u, o in attempts)
    raise TargetUnreachable(f"no authorization-server metadata for {issuer}: tried {tried}")
