"""The one HTTP client every live probe goes through.

Why a wrapper around :mod:`requests` instead of calling it from each check:

* **429 is not a verdict.**  A service that throttles a probe has said
  nothing about CORS or authentication; :meth:`Prober.send` backs off
  (honouring ``Retry-After``, bounded) and retries, and if the service keeps
  throttling it raises :class:`Throttled` so the check reports ``error``
  instead of guessing.  The waiting itself is the host's
  :class:`~rest.http.budget.HostBudget`: inside an engine run one budget is
  shared by every target of a host (its request rate, and pauses its 429s
  and RateLimit headers ask for); outside a run each Prober keeps its own.
* **Secrets stay out of reports.**  Every recorded exchange passes the
  :class:`Redactor`, which knows the exact credential values given on the
  command line (so a ``--header 'X-Api-Key: …'`` value is hidden even where
  the generic patterns of :func:`compare.findings.redact` would not see it).
* **Nothing is followed silently.**  Redirects are not followed unless a
  check asks, because ``302 → /login`` and ``301 → https://`` are verdicts.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import quote, quote_plus

import requests
from requests.structures import CaseInsensitiveDict

from compare.findings import redact
from rest.errors import TargetUnreachable
from rest.http.budget import HostBudget, current_budget, slow_down
from rest.http.budget import parse_retry_after as parse_retry_after  # re-exported (one back-off rule)
from rest.http.budget import retry_delay as retry_delay  # re-exported: rest.jwt.probe imports it here

USER_AGENT = "apisec-rest-check/1 (+https://github.com/apisec)"
BODY_LIMIT = 64 * 1024
"""Bytes of a response body kept for analysis (error pages are small)."""
RAW_BODY_LIMIT = 2048
"""Characters of a body kept in a recorded raw exchange."""

_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "apikey"}
)


class Throttled(Exception):
    """The service kept answering 429 after bounded back-off: no verdict possible."""


class Redactor:
    """Replaces known secret values (and their URL-encoded forms) with
    ``[REDACTED]``, then applies the generic patterns of
    :func:`compare.findings.redact`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        """Remember a secret; very short values are ignored (they would
        redact ordinary words) but still never printed by apisec itself."""
        if not secret or len(secret) < 4:
            return
        self._secrets.add(secret)
        for enc in (quote(secret, safe=""), quote_plus(secret)):
            self._secrets.add(enc)

    def add_credential(self, header_value: str) -> None:
        """Remember a credential header value, its token part and, for Basic,
        the decoded pair and password (a server may echo either)."""
        self.add(header_value)
        scheme, _, value = header_value.partition(" ")
        if not value:
            return
        self.add(value)
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return
            self.add(pair)
            self.add(pair.partition(":")[2])

    def __call__(self, text: str) -> str:
        if not text:
            return text
        for s in sorted(self._secrets, key=len, reverse=True):
            if s in text:
                text = text.replace(s, "[REDACTED]")
        return redact(text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers for a report: credential headers are masked whole."""
        out: dict[str, str] = {}
        for k, v in headers.items():
            if k.lower() in _CREDENTIAL_HEADERS:
                scheme = v.split(" ", 1)[0] if k.lower() in ("authorization", "proxy-authorization") else ""
                out[k] = f"{scheme} [REDACTED]".strip() if " " in v else "[REDACTED]"
            else:
                out[k] = self(v)
        return out


@dataclass(frozen=True)
class Exchange:
    """One request and the response it got (body truncated to :data:`BODY_LIMIT`)."""

    method: str
    url: str
    request_headers: Mapping[str, str]
    status: int
    headers: CaseInsensitiveDict
    body: bytes
    elapsed_ms: float
    retries: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        return self.status in (401, 403)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str:
        return str(self.headers.get(name, "") or "")

    def to_raw(self, redactor: Redactor) -> dict[str, Any]:
        """The redacted JSON form used for ``Finding.raw`` (``--show-raw``)."""
        body = self.text()
        if len(body) > RAW_BODY_LIMIT:
            body = body[:RAW_BODY_LIMIT] + f"… [{len(self.body)} bytes]"
        raw: dict[str, Any] = {
            "request": {
                "method": self.method,
                "url": redactor(self.url),
                "headers": redactor.headers(self.request_headers),
            },
            "response": {
                "status": self.status,
                "headers": redactor.headers(dict(self.headers)),
                "body": redactor(body),
            },
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
        if self.retries:
            raw["retries_after_429"] = self.retries
        if self.note:
            raw["note"] = self.note
        return raw


@dataclass
class Prober:
    """A :class:`requests.Session` with credentials, TLS trust, bounded 429
    back-off and an optional log of every exchange."""

    credentials: Mapping[str, str] = field(default_factory=dict)
    """Headers that authenticate (``Authorization: Bearer …``, ``X-Api-Key: …``)."""
    verify: bool | str = True
    """``requests`` ``verify``: True (system trust) or a CA bundle path."""
    timeout: float = 10.0
    """Seconds per connect/read."""
    max_retries: int = 3
    """Retries after a 429 (or a 503 with Retry-After) before giving up with :class:`Throttled`."""
    max_wait: float = 10.0
    """Cap on one back-off sleep, whatever Retry-After says."""
    record: bool = False
    """Keep every exchange in :attr:`log` (for ``--show-raw``)."""
    redactor: Redactor = field(default_factory=Redactor)
    log: list[Exchange] = field(default_factory=list)
    sent: int = 0
    """Requests actually put on the wire (retries included)."""
    budget: HostBudget | None = None
    """Whom to ask before each request: default the run's budget
    (:func:`rest.http.budget.current_budget`), else a private one that only
    honours the host's pauses."""

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = current_budget() or HostBudget()
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy/netrc credentials from the environment
        # No cookie jar: a session cookie set on an authenticated response would
        # otherwise ride along on the "no credentials" probes and fake a verdict.
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json, */*;q=0.5"})
        for v in self.credentials.values():
            self.redactor.add_credential(v)

    def close(self) -> None:
        self.session.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        credentials: bool | Mapping[str, str] = True,
        headers: Mapping[str, str] | None = None,
        data: bytes | str | None = None,
        follow_redirects: bool = False,
        backoff: bool = True,
        note: str = "",
        timeout: float | None = None,
    ) -> Exchange:
        """Send one request and return the exchange.

        ``credentials``: True sends the configured credentials, False none,
        a mapping sends exactly those headers instead.  A connection failure
        raises :class:`rest.errors.TargetUnreachable`; persistent 429s raise
        :class:`Throttled` (never a verdict).
        """
        hdrs: dict[str, str] = {}
        if credentials is True:
            hdrs.update(self.credentials)
        elif credentials:
            hdrs.update(credentials)
        if headers:
            hdrs.update(headers)
        retries = 0
        stale_retry = False
        budget = self.budget or HostBudget()
        while True:
            if backoff:
                # the host's budget: its rate, and any pause one of its answers
                # asked for (a burst that measures the limit does not wait)
                budget.acquire(url)
            start = time.perf_counter()
            answered = False
            try:
                resp = self.session.request(
                    method,
                    url,
                    headers=hdrs,
                    data=data,
                    timeout=self.timeout if timeout is None else timeout,
                    allow_redirects=follow_redirects,
                    verify=self.verify,
                    stream=True,
                )
                body = b""
                if resp.raw is not None:
                    body = resp.raw.read(BODY_LIMIT, decode_content=True) or b""
                    if len(body) < BODY_LIMIT or not resp.raw.read(1):
                        resp.raw.release_conn()  # fully read: keep the connection alive
                    else:
                        resp.close()  # oversized body: drop the connection
                answered = True
            except requests.exceptions.SSLError as exc:
                raise TargetUnreachable(
                    f"TLS handshake with {self.redactor(url)} failed: {_reason(exc)}"
                ) from None
            except requests.exceptions.ConnectionError as exc:
                if not stale_retry and "Connection aborted" in str(exc):
                    # a kept-alive connection the server had closed (e.g. after a 500):
                    # one retry on a fresh connection, as browsers do
                    stale_retry = True
                    continue
                raise TargetUnreachable(f"cannot reach {self.redactor(url)}: {_reason(exc)}") from None
            except requests.exceptions.RequestException as exc:
                raise TargetUnreachable(f"cannot reach {self.redactor(url)}: {_reason(exc)}") from None
            finally:
                self.sent += 1
                if backoff and not answered:
                    budget.settle(url)  # acquired, never answered: no longer in flight
            elapsed = (time.perf_counter() - start) * 1000
            # every answer teaches the host's budget (a burst's 429 too: it
            # pauses the host for the other targets on it)
            budget.observe(
                url, resp.status_code, resp.headers, retries=retries, cap=self.max_wait, acquired=backoff
            )
            throttled = slow_down(resp.status_code, resp.headers)
            if throttled and backoff and retries < self.max_retries:
                retries += 1  # the next acquire() waits out the pause just set
                continue
            exchange = Exchange(
                method=method,
                url=url,
                request_headers=dict(hdrs),
                status=resp.status_code,
                headers=CaseInsensitiveDict(resp.headers),
                body=body or b"",
                elapsed_ms=elapsed,
                retries=retries,
                note=note,
            )
            if self.record:
                self.log.append(exchange)
            if throttled and backoff:
                raise Throttled(
                    f"{method} {self.redactor(url)} still answered {resp.status_code} after {retries} back-offs; "
                    "no verdict (run again later or lower the load)"
                )
            return exchange


def _reason(exc: BaseException) -> str:
    """A one-line cause from a requests/urllib3 exception chain."""
    inner: BaseException | None = exc
    seen = 0
    while inner is not None and seen < 6:
        text = str(inner)
        for marker in (
            "CERTIFICATE_VERIFY_FAILED",
            "Connection refused",
            "Name or service not known",
            "timed out",
            "WRONG_VERSION_NUMBER",
            "RemoteDisconnected",
            "Connection reset",
        ):
            if marker in text:
                if marker == "RemoteDisconnected":
                    return "connection closed without an HTTP response"
                return marker.replace("_", " ").lower() if marker.isupper() else marker.lower()
        inner = (
            inner.__cause__
            or inner.__context__
            or (inner.args[0] if inner.args and isinstance(inner.args[0], BaseException) else None)
        )
        seen += 1
    return " ".join(str(exc).split())[:200]
