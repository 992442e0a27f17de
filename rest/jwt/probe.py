"""Live forged-token probes: send the forgeries of :mod:`rest.jwt.forge` to
an API and turn its answers into findings.

Method (the contract of ``apisec rest jwt probe``):

1. The valid token must be answered 2xx (the *baseline*), and the same
   request without a token must not be: otherwise nothing can be concluded
   and the probe stops with an input error.
2. Each forged variant is sent once.  A variant answered with the
   baseline's status is *accepted*: its check ``fail``s.  All variants
   refused: ``pass``.  A check that cannot apply (no public key given, not an
   HS token, no signing key) is ``skip``; transport failures are ``error``.
3. ``jwt.jku-injection`` serves the attacker JWKS on an ephemeral
   127.0.0.1 port for the duration of that one check; a fetch of it is
   reported even when the token is then refused (the API makes requests to
   attacker-chosen URLs: ``warn``).

Tokens never appear in findings: evidence names variants and HTTP statuses.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from http.cookiejar import DefaultCookiePolicy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from requests.adapters import HTTPAdapter

from compare.findings import Finding, Status, finding
from rest.errors import BadInput, TargetUnreachable
from rest.http.budget import current_budget, retry_delay, slow_down
from rest.http.probes import BODY_LIMIT
from rest.jwt import checks as _checks  # noqa: F401  (registers the ids)
from rest.jwt import forge
from rest.jwt.forge import Baseline, Forgery
from rest.jwt.wordlist import WORDS


@dataclass(frozen=True)
class Answer:
    variant: str
    status: int | None
    error: str | None = None


class _OneContext(HTTPAdapter):
    """Every connection of the sender's session uses one SSLContext, built
    (CA bundle read) once per probe run instead of once per connection."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__(pool_connections=1, pool_maxsize=1, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        # requests would point urllib3 at a CA file here, and urllib3 would load
        # it into the context on every new connection: the context already holds
        # the trust anchors and verifies (CERT_REQUIRED, hostname checked).
        conn.cert_reqs = "CERT_REQUIRED"


def _context(ca_file: str | None) -> ssl.SSLContext:
    import certifi

    try:
        return ssl.create_default_context(cafile=ca_file or certifi.where())
    except (OSError, ssl.SSLError) as exc:
        raise BadInput(f"CA file {ca_file} cannot be loaded ({exc.__class__.__name__})") from None


class _Sender:
    """Sends the baseline and every forgery over one pooled keep-alive
    connection (one TCP + TLS handshake per probe run, not one per token).

    Where a fresh connection is needed, and why: an answer that *accepts* a
    request (a forgery answered like the baseline, or the request without a
    token answered 2xx) is sent again on a new connection before it counts.
    A server or gateway that binds authentication to the connection (an
    NTLM/Negotiate-style front, a proxy caching the first Authorization of a
    keep-alive connection) would otherwise carry the valid token's
    acceptance over to the next request on the same connection and fake a
    verdict.  Refusals need no second look: a connection-bound cache can only
    make a forgery look accepted, never refused.
    """

    def __init__(self, url: str, header: str, method: str, ca_file: str | None, timeout: float) -> None:
        self.url, self.header, self.method = url, header, method.upper()
        self.timeout = timeout
        self.count = 0
        self.waited = 0.0
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy/netrc credentials from the environment
        # no cookie jar: a cookie set on the baseline's answer must not ride along with a forgery
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.session.headers.update({"Accept": "application/json, */*"})
        self.budget = current_budget()
        """The run's per-host budget (rate, pauses a host's 429s and RateLimit
        headers ask for), shared with the other targets' probes of the host;
        None outside an engine run (the sender then backs off on its own)."""
        if url.lower().startswith("https://"):
            self.session.mount("https://", _OneContext(_context(ca_file)))

    def close(self) -> None:
        self.session.close()

    def value(self, token: str) -> str:
        return f"Bearer {token}" if self.header.lower() == "authorization" else token

    # A 429 (or a 503 with Retry-After) is not a verdict: wait as the service
    # says (Retry-After, capped; inside a run through the host's shared budget)
    # and ask again, so a rate-limited API slows the probe down instead of
    # turning its checks into errors.  A 429 that outlasts the retries stays unclear.
    # The whole probe run waits at most ``wait_budget`` seconds in total, so a
    # service that always answers 429 ends in "unclear" quickly, never a hang.
    max_retries = 6
    max_wait = 10.0
    wait_budget = 60.0

    def send(self, token: str | None, *, fresh: bool = False) -> int:
        """The status ``token`` (None: no token) is answered with; ``fresh``
        sends it on a new connection (see the class docstring)."""
        if fresh:
            for adapter in self.session.adapters.values():
                adapter.poolmanager.clear()  # closes the pooled connection; the SSLContext stays
        for retries in range(self.max_retries):
            status, headers = self._send_once(token, retries)
            if not slow_down(status, headers) or self.waited >= self.wait_budget:
                return status
            if self.budget is None:
                pause = min(
                    retry_delay(headers.get("Retry-After", ""), retries, self.max_wait),
                    self.wait_budget - self.waited,
                )
                time.sleep(pause)
                self.waited += pause
            # with the run's budget, observe() has paused the host (for its other
            # targets too) and the next acquire() waits that pause out
        return self._send_once(token, self.max_retries)[0]

    def _send_once(self, token: str | None, retries: int = 0) -> tuple[int, Any]:
        headers = {self.header: self.value(token)} if token is not None else {}
        for attempt in (1, 2):
            self.count += 1
            if self.budget is not None:
                waited = self.budget.acquire(self.url)
                if retries:  # only a wait after our own 429 counts; the host's turn-taking does not
                    self.waited += waited
            answered = False
            try:
                resp = self.session.request(
                    self.method,
                    self.url,
                    headers=headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                    stream=True,
                )
                # only the status matters; a body read to its end (bounded) lets the connection be reused
                if len(resp.raw.read(BODY_LIMIT + 1, decode_content=False) or b"") <= BODY_LIMIT:
                    resp.raw.release_conn()
                else:
                    resp.close()  # oversized answer: drop the connection rather than read it all
                answered = True
            except requests.exceptions.SSLError as exc:
                raise TargetUnreachable(f"TLS to {self.url} failed: {_line(exc)}") from None
            except requests.exceptions.ConnectionError as exc:
                if attempt == 1 and "Connection aborted" in str(exc):
                    continue  # the server closed the kept-alive connection meanwhile: once more, on a new one
                raise TargetUnreachable(f"cannot reach {self.url}: {_line(exc)}") from None
            except requests.exceptions.RequestException as exc:
                raise TargetUnreachable(f"cannot reach {self.url}: {_line(exc)}") from None
            finally:
                if self.budget is not None and not answered:
                    self.budget.settle(self.url)  # acquired, never answered: no longer in flight
            if self.budget is not None:
                self.budget.observe(
                    self.url, resp.status_code, resp.headers, retries=retries, cap=self.max_wait
                )
            return resp.status_code, resp.headers
        raise AssertionError("unreachable")


def _line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


class JWKSHost:
    """A tiny real HTTP server on 127.0.0.1:<ephemeral> serving one JWKS (and
    optionally one PEM certificate for ``x5u``).

    Lives for one ``with`` block; counts fetches so the probe can tell an API
    that dereferences ``jku``/``x5u`` even when it then refuses the token."""

    def __init__(
        self, document: dict[str, Any], cert_pem: bytes | None = None, host: str = "127.0.0.1"
    ) -> None:
        bodies = {"/.well-known/jwks.json": (json.dumps(document).encode(), "application/json")}
        if cert_pem is not None:
            bodies["/x5u.pem"] = (cert_pem, "application/pem-certificate-chain")
        hits: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                hits.append(self.path)
                body, ctype = bodies.get(self.path, (b"not found", "text/plain"))
                self.send_response(200 if self.path in bodies else 404)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet
                return

        self.hits = hits
        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.url = f"http://{host}:{port}/.well-known/jwks.json"
        self.x5u_url = f"http://{host}:{port}/x5u.pem"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> JWKSHost:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _public_keys(value: Any) -> list[tuple[Any, bytes | None]]:
    """(key object, the file's exact bytes or None) for each key or certificate given."""
    if value is None:
        return []
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        raw = v.encode() if isinstance(v, str) else v if isinstance(v, bytes) else None
        out.append((_load_public(v), raw))
    return out


def _load_public(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        from rest.jwt.keys import key_from_pem

        return key_from_pem(value, where="--public-key").key
    return value


def _load_private(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        try:
            return serialization.load_pem_private_key(value, password=None)
        except (ValueError, TypeError):
            raise BadInput("--signing-key: not an unencrypted PEM private key") from None
    return value


def _unique(forgeries: list[Forgery]) -> list[Forgery]:
    """Each distinct token once (two files may share a spelling)."""
    seen: set[str] = set()
    return [f for f in forgeries if not (f.token in seen or seen.add(f.token))]


def _why_unclear(a: Answer) -> str | None:
    """Answers that neither accept nor refuse: transport errors, rate limits
    (429) and server errors (5xx).  Counting them as refusals would turn a
    throttled or crashing API into a false pass."""
    if a.error:
        return a.error
    if a.status == 429:
        return "HTTP 429 rate limited"
    if a.status is not None and a.status >= 500:
        return f"HTTP {a.status} server error"
    return None


def _judge(
    check_id: str, target: str, answers: Sequence[Answer], baseline: int, ms: float, note: str = ""
) -> Finding:
    accepted = [a for a in answers if a.status == baseline]
    unclear = [(a, why) for a in answers if a not in accepted and (why := _why_unclear(a))]
    unclear_ids = {id(a) for a, _ in unclear}
    refused = [a for a in answers if a not in accepted and id(a) not in unclear_ids]
    refused_txt = "; ".join(f"{a.variant} ({a.status})" for a in refused)
    unclear_txt = "; ".join(f"{a.variant} ({why})" for a, why in unclear)
    if accepted:
        ev = f"accepted like the baseline (HTTP {baseline}): " + "; ".join(a.variant for a in accepted)
        if refused:
            ev += f" | refused: {refused_txt}"
        if unclear:
            ev += f" | inconclusive: {unclear_txt}"
        return finding(check_id, Status.FAIL, target, ev + note, duration_ms=ms)
    if unclear:
        ev = f"inconclusive: {unclear_txt}" + (f" | refused: {refused_txt}" if refused else "")
        return finding(check_id, Status.ERROR, target, ev + note, duration_ms=ms)
    return finding(check_id, Status.PASS, target, f"all refused: {refused_txt}{note}", duration_ms=ms)


def probe(
    url: str,
    token: str,
    public_key: Any = None,
    signing_key: Any = None,
    header: str = "Authorization",
    method: str = "GET",
    ca_file: str | None = None,
    *,
    timeout: float = 10.0,
    wordlist: Iterable[str] | None = None,
    only: Sequence[str] | None = None,
) -> list[Finding]:
    """Probe ``url`` with forged variants of the valid ``token``.

    ``public_key``: the API's verification key(s) -- PEM bytes/str (a public
    key or certificate file's exact content, which jwt.key-confusion also
    tries verbatim), key objects, or a list of them.  ``signing_key``: PEM
    bytes/str or a key object (it makes the white-box claim checks
    possible: use it only on your own API).  Raises :class:`rest.errors.BadInput` when the baseline
    rules are not met and :class:`rest.errors.TargetUnreachable` when the
    API cannot be reached at all."""
    if not url.startswith(("http://", "https://")):
        raise BadInput(f"not an http(s) URL: {url}")
    base = Baseline.parse(token)
    pubs = _public_keys(public_key)
    priv = _load_private(signing_key)
    sender = _Sender(url, header, method, ca_file, timeout)
    try:
        target = url

        baseline = sender.send(token)
        if not 200 <= baseline < 300:
            raise BadInput(
                f"the valid token is answered HTTP {baseline}; probes need a token the API accepts (2xx)"
            )
        anonymous = sender.send(None)
        if 200 <= anonymous < 300:
            anonymous = sender.send(None, fresh=True)  # not an artefact of the baseline's connection
        if 200 <= anonymous < 300:
            raise BadInput(
                f"the request without a token is answered HTTP {anonymous}; the endpoint does not require a token"
            )

        def run(forgeries: Sequence[Forgery], fetches: list[str] | None = None) -> list[Answer]:
            """Each forgery's answer; ``fetches`` (a JWKSHost's hit list) loses
            the fetches a confirmation caused, so it counts one send per token."""
            out = []
            for f in forgeries:
                try:
                    status = sender.send(f.token)
                    if status == baseline:  # an acceptance counts only if a new connection confirms it
                        seen = len(fetches) if fetches is not None else 0
                        status = sender.send(f.token, fresh=True)
                        if fetches is not None:
                            del fetches[seen:]
                    out.append(Answer(f.variant, status))
                except TargetUnreachable as exc:
                    out.append(Answer(f.variant, None, str(exc)))
            return out

        findings: list[Finding] = []

        def simple(check_id: str, build: Callable[[], Sequence[Forgery]]) -> None:
            if only and check_id not in only:
                return
            t0 = time.perf_counter()
            answers = run(build())
            findings.append(_judge(check_id, target, answers, baseline, (time.perf_counter() - t0) * 1000))

        simple("jwt.none-alg", lambda: forge.none_alg(base))
        simple("jwt.unsigned", lambda: forge.unsigned(base))
        simple("jwt.tampered-payload", lambda: forge.tampered_payload(base))
        if pubs:
            simple(
                "jwt.key-confusion",
                lambda: _unique([f for k, raw in pubs for f in forge.key_confusion(base, k, raw)]),
            )
        elif not only or "jwt.key-confusion" in only:
            findings.append(
                finding(
                    "jwt.key-confusion",
                    Status.SKIP,
                    target,
                    "needs --public-key (the API's verification key)",
                )
            )
        simple("jwt.embedded-jwk", lambda: forge.embedded_jwk(base))

        if not only or "jwt.jku-injection" in only:
            t0 = time.perf_counter()
            with JWKSHost(forge.jku_document(base), forge.attacker_certificate_pem(base)) as host:
                answers = run(forge.jku_injection(base, host.url, x5u_url=host.x5u_url), host.hits)
                hits = len(host.hits)
            ms = (time.perf_counter() - t0) * 1000
            note = f" (the API fetched the attacker jku/x5u URL {hits}x)" if hits else ""
            f = _judge("jwt.jku-injection", target, answers, baseline, ms, note)
            if f.status is Status.PASS and hits:
                f = finding("jwt.jku-injection", Status.WARN, target,
                            f"token refused, but the API fetched the attacker-chosen jku/x5u URL {hits}x (SSRF)", duration_ms=ms)  # fmt: skip
            findings.append(f)

        simple("jwt.kid-injection", lambda: forge.kid_injection(base))

        if not only or "jwt.weak-secret" in only:
            t0 = time.perf_counter()
            if not base.alg.startswith("HS"):
                findings.append(
                    finding(
                        "jwt.weak-secret",
                        Status.SKIP,
                        target,
                        f"baseline is {base.alg or 'unsigned'}, not HMAC",
                    )
                )
            else:
                words = list(WORDS) + [w for w in (wordlist or ()) if w]
                hit = forge.crack_hmac(base, words)
                ms = (time.perf_counter() - t0) * 1000
                if hit:
                    idx, word = hit
                    findings.append(finding("jwt.weak-secret", Status.FAIL, target,
                        f"the {base.alg} secret is a wordlist entry (#{idx + 1}, {len(word)} characters); anyone can mint tokens",
                        duration_ms=ms))  # fmt: skip
                else:
                    findings.append(finding("jwt.weak-secret", Status.PASS, target,
                        f"secret not among {len(words)} known weak secrets", duration_ms=ms))  # fmt: skip

        simple("jwt.psychic-signature", lambda: forge.psychic_signature(base))

        wb_ids = [c for c in forge.WHITE_BOX if not only or c in only]
        if wb_ids:
            if priv is None:
                for c in wb_ids:
                    findings.append(
                        finding(
                            c, Status.SKIP, target, "white-box check: needs --signing-key (your own API only)"
                        )
                    )
            else:
                t0 = time.perf_counter()
                try:
                    control, variants = forge.white_box(base, priv)
                except BadInput as exc:
                    for c in wb_ids:
                        findings.append(finding(c, Status.ERROR, target, str(exc)))
                    variants = []
                    control = None
                if control is not None:
                    ctl = run([control])[0]
                    if ctl.status != baseline:
                        for c in wb_ids:
                            findings.append(finding(c, Status.ERROR, target,
                                f"a fresh token signed with --signing-key is answered {ctl.status or ctl.error}, "
                                f"not {baseline}: the key is not the API's"))  # fmt: skip
                    else:
                        for v in variants:
                            if v.check_id in wb_ids:
                                ans = run([v])
                                ms = (time.perf_counter() - t0) * 1000
                                findings.append(_judge(v.check_id, target, ans, baseline, ms))
                                t0 = time.perf_counter()
        return findings
    finally:
        sender.close()
