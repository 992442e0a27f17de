"""Bounded HTTP fetching for checks (WSDL downloads, probe responses).

A WSDL URL is input like any other: the download is capped in size and
time, redirects are limited, and the bytes go through the hardened parser
afterwards.  Only http(s) URLs are fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from wssec.errors import MalformedMessage

MAX_WSDL_BYTES = 4 * 1024 * 1024
"""4 MiB: large enterprise WSDLs with inline schemas stay far below."""
DEFAULT_TIMEOUT = 10.0


class FetchError(MalformedMessage):
    """The document could not be downloaded (exit 2: input problem)."""


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed_ms: float


def is_url(value: str) -> bool:
    return urlsplit(str(value)).scheme in ("http", "https")


def fetch(
    url: str,
    *,
    max_bytes: int = MAX_WSDL_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    verify: bool | str = True,
    what: str = "document",
) -> bytes:
    """GET ``url`` and return at most ``max_bytes`` bytes, or raise :class:`FetchError`."""
    if not is_url(url):
        raise FetchError(f"{what} URL must be http(s): {url}")
    try:
        with requests.Session() as s:
            s.max_redirects = 3
            with s.get(url, stream=True, timeout=timeout, verify=verify) as resp:
                if resp.status_code != 200:
                    raise FetchError(f"{what} download failed: HTTP {resp.status_code} from {url}")
                declared = resp.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(f"{what} at {url} is larger than {max_bytes} bytes")
                chunks: list[bytes] = []
                size = 0
                for chunk in resp.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise FetchError(f"{what} at {url} is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
    except requests.RequestException as exc:
        raise FetchError(f"cannot fetch {what} from {url}: {type(exc).__name__}") from None


def post_soap(
    url: str,
    body: bytes,
    *,
    soap_version: str = "1.1",
    soap_action: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    verify: bool | str = True,
    max_bytes: int = MAX_WSDL_BYTES,
    session: requests.Session | None = None,
) -> HttpReply:
    """POST one SOAP message and return the (bounded) reply.

    Raises ``requests.RequestException`` on transport errors: callers turn
    those into ``error`` findings."""
    if soap_version == "1.2":
        ctype = "application/soap+xml; charset=utf-8"
        if soap_action:
            ctype += f'; action="{soap_action}"'
        headers = {"Content-Type": ctype}
    else:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{soap_action or ""}"'}
    s = session or requests.Session()
    try:
        resp = s.post(
            url,
            data=body,
            headers=headers,
            timeout=timeout,
            verify=verify,
            stream=True,
            allow_redirects=False,
        )
        with resp:
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    break
                chunks.append(chunk)
            return HttpReply(
                status=resp.status_code,
                headers={k: v for k, v in resp.headers.items()},
                body=b"".join(chunks),
                elapsed_ms=resp.elapsed.total_seconds() * 1000.0,
            )
    finally:
        if session is None:
            s.close()
