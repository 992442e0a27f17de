"""``tls.hsts``: does an HTTPS URL's response carry a strong HSTS header?

HSTS (RFC 6797) is what keeps a browser from ever trying plain HTTP again,
so for an HTTPS API it is part of the transport story.  The URL's own path
is fetched once (no redirects followed: the header must be on the response
the client gets).  The request does not verify the certificate — trust is
judged by ``tls.cert-untrusted`` — so a private-CA or broken deployment
still gets its HSTS verdict; it does send the client certificate when one is
given, so mTLS-only endpoints can be checked too.
"""

from __future__ import annotations

import http.client
import re
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from compare.findings import Finding, Status, finding
from rest.errors import BadInput, TargetUnreachable
from rest.tls import checks as _checks  # noqa: F401  (registers tls.hsts)
from rest.tls.profiles import DEFAULT_PROFILE, Profile, load_profile

_MAX_AGE = re.compile(r'(?i)(?:^|;)\s*max-age\s*=\s*"?(\d+)"?\s*(?:;|$)')
#: RFC 6797 says nothing about a floor; the HSTS preload list requires one year.
PRELOAD_MIN_AGE = 31536000


def parse_max_age(value: str) -> int | None:
    """``max-age`` of a Strict-Transport-Security value (``None`` if missing/invalid)."""
    m = _MAX_AGE.search(value)
    return int(m.group(1)) if m else None


def fetch_hsts(
    url: str,
    *,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    timeout: float = 10.0,
) -> str | None:
    """GET ``url`` once and return its Strict-Transport-Security header (``None`` if absent)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise BadInput(f"HSTS needs an https:// URL: {url!r}")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # trust is tls.cert-untrusted's job
    # Reading a header must work on the weakest server the scan judged, too.
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    if client_cert and client_key:
        try:
            ctx.load_cert_chain(str(client_cert), str(client_key))
        except (OSError, ssl.SSLError) as exc:
            raise BadInput(f"client certificate/key cannot be loaded: {exc}") from None
    conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout, context=ctx)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn.request("GET", path, headers={"Host": parts.netloc, "User-Agent": "apisec-tls"})
        resp = conn.getresponse()
        value = resp.getheader("Strict-Transport-Security")
        resp.read(65536)
        return value
    except (TimeoutError, OSError, http.client.HTTPException, ssl.SSLError) as exc:
        raise TargetUnreachable(f"{url}: HTTPS request failed: {exc}") from None
    finally:
        conn.close()


def check_hsts(
    url: str,
    profile: str | Profile = DEFAULT_PROFILE,
    *,
    client_cert: Path | None = None,
    client_key: Path | None = None,
    side: str = "rest",
    target: str | None = None,
) -> Finding:
    """The ``tls.hsts`` finding for ``url``.

    fail: no header, no/zero ``max-age``, or ``max-age`` under one year;
    warn: at least a year but under the profile's minimum (Mozilla asks for two);
    pass: at least the profile's minimum."""
    prof = load_profile(profile)
    value = fetch_hsts(url, client_cert=client_cert, client_key=client_key)
    label = target or url
    if value is None:
        return finding(
            "tls.hsts", Status.FAIL, label, f"GET {url}: no Strict-Transport-Security header", side=side
        )
    age = parse_max_age(value)
    shown = f"Strict-Transport-Security: {value}"
    if age is None or age == 0:
        return finding("tls.hsts", Status.FAIL, label, f"{shown} (no usable max-age)", side=side)
    floor = min(PRELOAD_MIN_AGE, prof.hsts_min_age)
    if age < floor:
        return finding("tls.hsts", Status.FAIL, label, f"{shown} (max-age {age} s < {floor} s)", side=side)
    if age < prof.hsts_min_age:
        return finding(
            "tls.hsts",
            Status.WARN,
            label,
            f"{shown} (max-age {age} s < {prof.hsts_min_age} s asked by {prof.name})",
            side=side,
        )
    return finding("tls.hsts", Status.PASS, label, shown, side=side)
