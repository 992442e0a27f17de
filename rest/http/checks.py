"""The live HTTP checks, one function per check id.

Each function takes the :class:`Context` (target, prober, baseline
exchange) and returns findings; none of them raises for a verdict.  The
order in which :mod:`rest.http.runner` calls them matters only for the
rate-limit burst (last) and for reuse of the unauthenticated exchange.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from compare.findings import Finding, Severity, Status, finding
from rest.errors import TargetUnreachable
from rest.http import registry as ids
from rest.http.probes import Exchange, Prober
from rest.openapi.loader import OpenAPIDocument, Operation


@dataclass
class Context:
    """What every check needs about one target."""

    url: str
    prober: Prober
    baseline: Exchange
    """The request with the given credentials (2xx unless no credentials were given)."""
    credentials: Mapping[str, str]
    spec: OpenAPIDocument | None = None
    unauthenticated: Exchange | None = None
    """Filled by the auth check, reused by the error-leak check."""
    error_exchanges: list[Exchange] = field(default_factory=list)
    plain_endpoint: Exchange | None = None
    """Filled by the plain-HTTP check when a cleartext listener answered."""

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials)

    @property
    def https(self) -> bool:
        return self.url.lower().startswith("https://")

    def label(self, ex: Exchange) -> str:
        return f"{ex.method} {self.prober.redactor(ex.url)} → {ex.status}"


def with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def child_url(url: str, segment: str) -> str:
    parts = urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit(parts._replace(path=urljoin(path, segment), query=""))


# ---------------------------------------------------------------- authentication


def _garbage_credentials(credentials: Mapping[str, str]) -> list[tuple[str, dict[str, str]]]:
    """Credential variants that must be refused: random, and a tampered
    signature when the credential is a JWT (catches 'decode without verify')."""
    variants: list[tuple[str, dict[str, str]]] = []
    junk = "apisec" + secrets.token_urlsafe(18)
    for name, value in credentials.items():
        scheme, sep, token = value.partition(" ")
        if name.lower() == "authorization" and sep:
            variants.append(("a random token", {name: f"{scheme} {junk}"}))
            if token.count(".") == 2 and token.startswith("eyJ"):
                head, body, sig = token.split(".")
                flipped = (
                    (sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")) if len(sig) > 4 else "AAAA"
                )
                variants.append(
                    ("the token with a tampered signature", {name: f"{scheme} {head}.{body}.{flipped}"})
                )
                variants.append(("the token with alg 'none'", {name: f"{scheme} {_alg_none(body)}"}))
        else:
            variants.append(("a random value", {name: junk}))
    return variants


def _alg_none(body: str) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{body}."


def check_auth(ctx: Context) -> list[Finding]:
    """``http.auth-not-enforced`` on the target URL."""
    noauth = ctx.prober.send(ctx.baseline.method, ctx.url, credentials=False, note="no credentials")
    ctx.unauthenticated = noauth
    if not noauth.ok:
        ctx.error_exchanges.append(noauth)
    op = operation_for(ctx.url, ctx.baseline.method, ctx.spec) if ctx.spec else None
    if op is not None and op.public and noauth.ok:
        return [
            finding(
                ids.AUTH_NOT_ENFORCED,
                Status.PASS,
                ctx.url,
                f"answers {noauth.status} without credentials, as the contract declares "
                f"({op.method.upper()} {op.path} is public)",
            )
        ]
    if not ctx.has_credentials:
        if noauth.refused:
            return [
                finding(
                    ids.AUTH_NOT_ENFORCED, Status.PASS, ctx.url, f"without credentials: {ctx.label(noauth)}"
                )
            ]
        if noauth.ok:
            return [
                finding(
                    ids.AUTH_NOT_ENFORCED,
                    Status.WARN,
                    ctx.url,
                    f"answered {noauth.status} without credentials; if it is not public, run again with "
                    "--token/--header to test enforcement",
                )
            ]
        return [
            finding(ids.AUTH_NOT_ENFORCED, Status.WARN, ctx.url, f"without credentials: {ctx.label(noauth)}")
        ]
    outcomes = [("no credentials", noauth)]
    for what, creds in _garbage_credentials(ctx.credentials):
        ex = ctx.prober.send(ctx.baseline.method, ctx.url, credentials=creds, note=what)
        outcomes.append((what, ex))
        if not ex.ok:
            ctx.error_exchanges.append(ex)
    accepted = [(w, ex) for w, ex in outcomes if ex.ok]
    unclear = [(w, ex) for w, ex in outcomes if not ex.ok and not ex.refused]
    summary = "; ".join(f"{w} → {ex.status}" for w, ex in outcomes)
    if accepted:
        return [
            finding(
                ids.AUTH_NOT_ENFORCED,
                Status.FAIL,
                ctx.url,
                "accepted " + ", ".join(w for w, _ in accepted) + f" ({summary})",
            )
        ]
    if unclear:
        return [
            finding(
                ids.AUTH_NOT_ENFORCED,
                Status.WARN,
                ctx.url,
                f"not accepted, but not refused with 401/403 either ({summary})",
            )
        ]
    return [finding(ids.AUTH_NOT_ENFORCED, Status.PASS, ctx.url, f"refused {summary}")]


def check_apikey_in_query(ctx: Context) -> list[Finding]:
    """``http.apikey-in-query``: the credential moved to the query string."""
    if not ctx.has_credentials:
        return [finding(ids.APIKEY_IN_QUERY, Status.SKIP, ctx.url, "no credentials given")]
    noauth = ctx.unauthenticated
    if noauth is None or not noauth.refused:
        return [
            finding(
                ids.APIKEY_IN_QUERY,
                Status.SKIP,
                ctx.url,
                "the URL is not refused without credentials, so query acceptance cannot be told apart",
            )
        ]
    candidates: list[tuple[str, str]] = []
    for name, value in ctx.credentials.items():
        scheme, sep, token = value.partition(" ")
        if name.lower() == "authorization":
            if sep and scheme.lower() == "bearer":
                candidates += [("access_token", token), ("token", token)]
            continue
        for param in dict.fromkeys((name, name.lower(), "api_key", "apikey", "key", "access_token")):
            candidates.append((param, value))
    if not candidates:
        return [
            finding(ids.APIKEY_IN_QUERY, Status.SKIP, ctx.url, "credential type cannot travel in a query")
        ]
    tried = []
    for param, value in candidates:
        ex = ctx.prober.send(
            ctx.baseline.method, with_query(ctx.url, {param: value}), credentials=False, note=f"?{param}="
        )
        tried.append(f"query parameter '{param}' → {ex.status}")
        if ex.ok:
            return [
                finding(
                    ids.APIKEY_IN_QUERY,
                    Status.FAIL,
                    ctx.url,
                    f"the credential is accepted as query parameter '{param}' ({ex.status}); it will be "
                    "logged with the URL",
                )
            ]
    return [finding(ids.APIKEY_IN_QUERY, Status.PASS, ctx.url, "refused: " + ", ".join(tried))]


# ---------------------------------------------------------------- CORS


EVIL_ORIGIN = "https://apisec-probe.invalid"


def _lookalike_origins(url: str) -> list[str]:
    """Origins that defeat sloppy allow-list checks for the API's own host:
    ``startswith("https://api.example.com")`` and ``endswith("example.com")``."""
    host = urlsplit(url).hostname or ""
    if not host or ":" in host:
        return []
    out = [f"https://{host}.apisec-probe.invalid"]
    if not host.replace(".", "").isdigit() and "." in host:
        out.append(f"https://apisec-probe-{host.split('.', 1)[1] if host.count('.') > 1 else host}")
    return out


def check_cors(ctx: Context) -> list[Finding]:
    """``http.cors``: reflection of foreign, look-alike and ``null`` origins."""
    results = []
    for origin in (EVIL_ORIGIN, "null", *_lookalike_origins(ctx.url)):
        ex = ctx.prober.send(
            ctx.baseline.method, ctx.url, headers={"Origin": origin}, note=f"Origin: {origin}"
        )
        results.append((origin, ex))
    pre = ctx.prober.send(
        "OPTIONS",
        ctx.url,
        credentials=False,
        headers={
            "Origin": EVIL_ORIGIN,
            "Access-Control-Request-Method": ctx.baseline.method,
            "Access-Control-Request-Headers": "authorization",
        },
        note="CORS preflight",
    )
    results.append((EVIL_ORIGIN + " (preflight)", pre))
    worst: tuple[Status, Severity | None, str] = (Status.PASS, None, "")
    notes = []
    for origin, ex in results:
        acao = ex.header("Access-Control-Allow-Origin").strip()
        acac = ex.header("Access-Control-Allow-Credentials").strip().lower() == "true"
        sent = origin.split(" ", 1)[0]
        if not acao:
            notes.append(f"{origin}: no Access-Control-Allow-Origin")
            continue
        if acao == sent and acac:
            worst = (
                Status.FAIL,
                None,
                f"Origin {origin} is reflected with Access-Control-Allow-Credentials: true",
            )
            break
        if acao == sent:
            cand = (Status.WARN, Severity.MEDIUM, f"Origin {origin} is reflected (without credentials)")
        elif acao == "*" and acac:
            cand = (
                Status.WARN,
                Severity.LOW,
                "'*' with Allow-Credentials: true (browsers refuse it; misconfigured)",
            )
        elif acao == "*":
            cand = (
                Status.WARN,
                Severity.INFO,
                "Access-Control-Allow-Origin: * without credentials (public data only)",
            )
        else:
            notes.append(f"{origin}: allow-listed origin {acao} only")
            continue
        if worst[0] is Status.PASS or (cand[1] and worst[1] and cand[1].rank > worst[1].rank):
            worst = cand
    status, sev, evidence = worst
    if status is Status.PASS:
        return [finding(ids.CORS, Status.PASS, ctx.url, "; ".join(notes))]
    return [finding(ids.CORS, status, ctx.url, evidence, severity=sev)]


# ---------------------------------------------------------------- headers


def check_security_headers(ctx: Context) -> list[Finding]:
    """``http.security-headers`` on the authenticated baseline response."""
    ex = ctx.baseline
    if not ex.ok:
        return [
            finding(
                ids.SECURITY_HEADERS,
                Status.SKIP,
                ctx.url,
                f"no authenticated response to inspect (answered {ex.status}); give --token/--header",
            )
        ]
    missing = []
    if ex.header("X-Content-Type-Options").strip().lower() != "nosniff":
        missing.append("X-Content-Type-Options: nosniff")
    cache = [d.strip().lower() for d in ex.header("Cache-Control").split(",")]
    if "no-store" not in cache:
        missing.append("Cache-Control: no-store")
    csp = ex.header("Content-Security-Policy")
    fa = re.search(r"(?:^|;)\s*frame-ancestors\s+([^;]*)", csp, re.I)
    xfo = ex.header("X-Frame-Options").strip().upper()
    if not ((fa and fa.group(1).strip().lower() in ("'none'", "'self'")) or xfo in ("DENY", "SAMEORIGIN")):
        missing.append("Content-Security-Policy: frame-ancestors 'none' (or X-Frame-Options: DENY)")
    if ctx.https:
        hsts = ex.header("Strict-Transport-Security")
        m = re.search(r"max-age\s*=\s*\"?(\d+)", hsts, re.I)
        if not m or int(m.group(1)) <= 0:
            missing.append("Strict-Transport-Security: max-age=…")
    if missing:
        return [finding(ids.SECURITY_HEADERS, Status.FAIL, ctx.url, "missing: " + "; ".join(missing))]
    return [
        finding(
            ids.SECURITY_HEADERS,
            Status.PASS,
            ctx.url,
            "nosniff, no-store, frame-ancestors/XFO" + (", HSTS" if ctx.https else ""),
        )
    ]


_VERSION = re.compile(r"\d+\.\d+|/\s*v?\d+\b")
BANNER_HEADERS = (
    "Server",
    "X-Powered-By",
    "X-AspNet-Version",
    "X-AspNetMvc-Version",
    "X-Generator",
    "X-Runtime-Version",
)


def check_server_banner(ctx: Context) -> list[Finding]:
    """``http.server-banner`` (warn): product versions in response headers."""
    leaks: dict[str, str] = {}
    seen: dict[str, str] = {}
    for ex in [ctx.baseline, *ctx.error_exchanges]:
        for h in BANNER_HEADERS:
            v = ex.header(h)
            if v:
                seen[h] = v
                if _VERSION.search(v):
                    leaks[h] = v
    if leaks:
        return [
            finding(
                ids.SERVER_BANNER,
                Status.WARN,
                ctx.url,
                "; ".join(f"{k}: {v}" for k, v in leaks.items()),
            )
        ]
    shown = "; ".join(f"{k}: {v}" for k, v in seen.items()) or "no Server/X-Powered-By headers"
    return [finding(ids.SERVER_BANNER, Status.PASS, ctx.url, f"no versions disclosed ({shown})")]


# ---------------------------------------------------------------- error leaks

_LEAKS: tuple[tuple[str, Severity, re.Pattern[str]], ...] = (
    (
        "stack trace",
        Severity.HIGH,
        re.compile(
            r"Traceback \(most recent call last\)|^\s*File \"[^\"]+\", line \d+|"
            r"^\s+at [\w$.<>]+\([\w$]+\.(?:java|kt|scala|groovy):\d+\)|Exception in thread \"|"
            r"^\s+at [\w.<>`]+\(.*\) in .+:line \d+|goroutine \d+ \[running\]|"
            r"\bon line \d+\b.*\.php|^\s+from [^\s]+\.rb:\d+:in|at .+ \(/[^)]+\.js:\d+:\d+\)",
            re.M,
        ),
    ),
    (
        "SQL error",
        Severity.HIGH,
        re.compile(
            r"SQLSTATE\[|You have an error in your SQL syntax|syntax error at or near|\bORA-\d{5}\b|"
            r"sqlite3?\.\w*Error|psycopg2?\.\w*Error|PG::\w+Error|java\.sql\.SQLException|"
            r"Unclosed quotation mark after the character string|Microsoft OLE DB Provider|"
            r"ODBC (?:SQL Server )?Driver|org\.hibernate\.|SequelizeDatabaseError|SQLAlchemy",
            re.I,
        ),
    ),
    (
        "file path",
        Severity.MEDIUM,
        re.compile(
            r"(?<![\w/.:])/(?:home|usr|var|opt|srv|app|etc|root|tmp|work|Users)/[\w.\-/]+"
            r"\.(?:py|pyc|java|class|jar|php|rb|js|ts|go|cs|dll|conf|xml|ya?ml|ini|properties)\b|"
            r"\b[A-Z]:\\(?:[\w .-]+\\)+[\w .-]+\.\w{1,8}\b"
        ),
    ),
    (
        "framework version",
        Severity.MEDIUM,
        re.compile(
            r"\b(?:Werkzeug|Django(?: Version:)?|Flask|Express|Apache Tomcat|Jetty|nginx|Apache|PHP|ASP\.NET|"
            r"Kestrel|Spring Boot|Starlette|FastAPI|uvicorn|gunicorn|Python|Ruby|Rails|Node\.js|Microsoft-IIS|"
            r"JBoss|WildFly|WebLogic|GlassFish|Laravel|Symfony)[/ ]v?\d+(?:\.\d+)+",
            re.I,
        ),
    ),
    (
        "debug page",
        Severity.MEDIUM,
        re.compile(
            r"Whitelabel Error Page|DEBUG\s*=\s*True|<title>[^<]*(?:Exception|Error) at /|Xdebug|Werkzeug Debugger"
        ),
    ),
)


def _leaks_in(text: str) -> list[tuple[str, Severity, str]]:
    found = []
    for name, sev, pattern in _LEAKS:
        m = pattern.search(text)
        if m:
            found.append((name, sev, " ".join(m.group(0).split())[:80]))
    return found


def check_error_leak(ctx: Context) -> list[Finding]:
    """``http.error-leak``: provoke errors and read what they disclose."""
    probes = [
        ("unknown path", "GET", child_url(ctx.url, f"apisec-{secrets.token_hex(4)}"), None, {}),
        (
            "malformed JSON",
            "POST",
            ctx.url,
            b'{"apisec": [1, 2,',
            {"Content-Type": "application/json"},
        ),
        ("odd query value", "GET", with_query(ctx.url, {"id": "'\"<%{{1}}>"}), None, {}),
    ]
    exchanges = list(ctx.error_exchanges)
    for what, method, url, body, headers in probes:
        ex = ctx.prober.send(method, url, data=body, headers=headers, note=what)
        exchanges.append(ex)
        if not ex.ok:
            ctx.error_exchanges.append(ex)
    leaks = []
    for ex in exchanges:
        if ex.ok:
            continue
        for name, sev, sample in _leaks_in(ex.text()):
            leaks.append((name, sev, f"{ex.method} → {ex.status}: {name} ({sample})"))
    if leaks:
        sev = max((s for _, s, _ in leaks), key=lambda s: s.rank)
        return [
            finding(
                ids.ERROR_LEAK,
                Status.FAIL,
                ctx.url,
                "; ".join(dict.fromkeys(e for _, _, e in leaks)),
                severity=sev,
            )
        ]
    # say exactly what was looked at: the count and the codes describe the same responses
    errors = [ex for ex in exchanges if not ex.ok]
    tally = {}
    for ex in errors:
        tally[ex.status] = tally.get(ex.status, 0) + 1
    codes = ", ".join(f"{n}×{code}" if n > 1 else str(code) for code, n in sorted(tally.items()))
    return [
        finding(
            ids.ERROR_LEAK,
            Status.PASS,
            ctx.url,
            f"{len(errors)} error response(s) ({codes}) disclose nothing"
            + (
                f" ({len(exchanges) - len(errors)} non-error response(s) also checked)"
                if len(errors) < len(exchanges)
                else ""
            ),
        )
    ]


# ---------------------------------------------------------------- methods & transport


def check_dangerous_methods(ctx: Context) -> list[Finding]:
    """``http.dangerous-methods``: TRACE/TRACK must not be served."""
    marker = f"apisec-{secrets.token_hex(6)}"
    enabled = []
    notes = []
    for method in ("TRACE", "TRACK"):
        ex = ctx.prober.send(
            method, ctx.url, credentials=False, headers={"X-Apisec-Trace": marker}, note=method
        )
        if ex.refused and ctx.has_credentials:
            ex = ctx.prober.send(
                method, ctx.url, headers={"X-Apisec-Trace": marker}, note=method + " (authenticated)"
            )
        notes.append(f"{method} → {ex.status}")
        if ex.ok:
            echoed = marker in ex.text()
            enabled.append(
                f"{method} answered {ex.status}" + (" and echoes the request headers" if echoed else "")
            )
    if enabled:
        return [finding(ids.DANGEROUS_METHODS, Status.FAIL, ctx.url, "; ".join(enabled))]
    return [finding(ids.DANGEROUS_METHODS, Status.PASS, ctx.url, ", ".join(notes))]


def _plain_sibling(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown = f"[{host}]" if ":" in host else host
    port = parts.port
    netloc = shown if port in (None, 443) else f"{shown}:{port}"
    return urlunsplit(parts._replace(scheme="http", netloc=netloc))


def check_plain_http(ctx: Context) -> list[Finding]:
    """``http.plain-http``: a cleartext listener that serves instead of redirecting."""
    if not ctx.https:
        ex = ctx.baseline
        ctx.plain_endpoint = ex
        loc = ex.header("Location")
        if ex.status in (301, 302, 303, 307, 308) and loc.lower().startswith("https://"):
            return [finding(ids.PLAIN_HTTP, Status.PASS, ctx.url, f"redirects to {loc}")]
        return [
            finding(
                ids.PLAIN_HTTP,
                Status.FAIL,
                ctx.url,
                f"served over plain HTTP ({ex.status}) without a redirect to HTTPS",
            )
        ]
    sibling = _plain_sibling(ctx.url)
    try:
        # short timeout: a firewalled port 80 drops packets, and silence is a pass
        ex = ctx.prober.send(
            ctx.baseline.method,
            sibling,
            credentials=False,
            note="plain-HTTP sibling",
            timeout=min(3.0, ctx.prober.timeout),
        )
    except TargetUnreachable as exc:
        return [finding(ids.PLAIN_HTTP, Status.PASS, ctx.url, f"no plain-HTTP listener at {sibling} ({exc})")]
    loc = ex.header("Location")
    if ex.status in (301, 302, 303, 307, 308) and loc.lower().startswith("https://"):
        return [finding(ids.PLAIN_HTTP, Status.PASS, ctx.url, f"{sibling} redirects to {loc}")]
    if ex.ok or ex.refused:
        ctx.plain_endpoint = ex
        return [
            finding(
                ids.PLAIN_HTTP,
                Status.FAIL,
                ctx.url,
                f"{sibling} serves requests in cleartext ({ex.status}) instead of redirecting to HTTPS",
            )
        ]
    return [finding(ids.PLAIN_HTTP, Status.PASS, ctx.url, f"{sibling} does not serve the API ({ex.status})")]


def check_basic_over_http(ctx: Context) -> list[Finding]:
    """``http.basic-over-http``: Basic accepted or requested on a cleartext listener."""
    plain = ctx.plain_endpoint
    if plain is None:
        return [finding(ids.BASIC_OVER_HTTP, Status.PASS, ctx.url, "no plain-HTTP endpoint serves the API")]
    target = plain.url
    auth = ctx.credentials.get("Authorization") or next(
        (v for k, v in ctx.credentials.items() if k.lower() == "authorization"), ""
    )
    if auth.lower().startswith("basic ") and target == ctx.url and ctx.baseline.ok:
        return [
            finding(
                ids.BASIC_OVER_HTTP,
                Status.FAIL,
                ctx.url,
                f"Basic credentials accepted over cleartext ({ctx.baseline.status})",
            )
        ]
    probe = (
        plain
        if not plain.ok
        else ctx.prober.send(plain.method, target, credentials=False, note="plain, no credentials")
    )
    challenge = probe.header("WWW-Authenticate")
    if re.search(r"(?:^|,)\s*basic\b", challenge, re.I):
        return [
            finding(
                ids.BASIC_OVER_HTTP,
                Status.FAIL,
                ctx.url,
                f"{ctx.prober.redactor(target)} challenges for Basic credentials over cleartext (WWW-Authenticate: {challenge})",
            )
        ]
    return [
        finding(ids.BASIC_OVER_HTTP, Status.PASS, ctx.url, "no Basic challenge or acceptance over cleartext")
    ]


# ---------------------------------------------------------------- per-operation enforcement


def _fill(path: str, op: Operation) -> str:
    for p in op.parameters:
        if p.location != "path":
            continue
        value = p.example
        if value is None:
            if p.schema_format == "uuid":
                value = "00000000-0000-4000-8000-000000000001"
            else:
                value = 1 if p.schema_type in ("integer", "number", "") else "apisec"
        path = path.replace("{" + p.name + "}", str(value))
    return re.sub(r"\{[^}/]+\}", "1", path)


def _server_path(spec: OpenAPIDocument) -> str:
    return urlsplit(spec.servers[0]).path.rstrip("/") if spec.servers else ""


def _match_template(url: str, spec: OpenAPIDocument) -> tuple[str, str] | None:
    """``(base, template)`` when the URL's path ends with one of the spec's
    paths (longest first), else ``None``."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    server_path = _server_path(spec)
    for tpl in sorted({op.path for op in spec.operations}, key=len, reverse=True):
        pattern = re.escape(server_path + tpl).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{[^}/]+\}", r"[^/]+", pattern)
        m = re.search(f"({pattern})/?$", parts.path)
        if m:
            return origin + parts.path[: m.start()] + server_path, tpl
    return None


def operation_base(url: str, spec: OpenAPIDocument) -> str:
    """Where the spec's paths live on the checked host.

    The server URL's path (``/v1``) is appended to the checked URL's origin;
    if the checked URL ends with one of the spec's paths, whatever precedes
    it (a gateway or mount prefix) is kept too.
    """
    matched = _match_template(url, spec)
    if matched:
        return matched[0]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" + _server_path(spec)


def operation_for(url: str, method: str, spec: OpenAPIDocument) -> Operation | None:
    """The contract's operation the checked URL is an instance of, if any."""
    matched = _match_template(url, spec)
    if not matched:
        return None
    return next((op for op in spec.operations if op.path == matched[1] and op.method == method.lower()), None)


def check_operations(ctx: Context) -> list[Finding]:
    """``http.auth-not-enforced`` for every operation the spec declares protected.

    Only unauthenticated requests are sent (state-changing ones with an empty
    JSON body), so a correctly protected API never executes any of them."""
    spec = ctx.spec
    assert spec is not None
    base = operation_base(ctx.url, spec)
    out = []
    for op in spec.operations:
        if op.public or op.method in ("options", "trace", "head"):
            continue
        url = base + _fill(op.path, op)
        body = b"{}" if op.state_changing else None
        headers = {"Content-Type": "application/json"} if body else {}
        ex = ctx.prober.send(
            op.method.upper(), url, credentials=False, data=body, headers=headers, note=op.operation_id
        )
        target = f"{op.method.upper()} {base}{op.path}"
        if ex.ok:
            status, ev = Status.FAIL, f"declared protected, answered {ex.status} without credentials"
        elif ex.refused:
            status, ev = Status.PASS, f"refused without credentials ({ex.status})"
        else:
            status, ev = Status.WARN, f"answered {ex.status} without credentials (expected 401/403)"
        out.append(finding(ids.AUTH_NOT_ENFORCED, status, target, ev))
    return out
