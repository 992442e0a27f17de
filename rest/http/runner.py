"""``check()``: run every live HTTP probe against one URL.

Order: baseline → authentication → credential-in-query → CORS → headers →
error leaks → banner → TRACE → plain HTTP/Basic → per-operation enforcement
(with a spec) → roles matrix (with a matrix) → rate-limit burst (last).
An exception inside one check becomes an ``error`` finding for that check
(sslyze's habit), except an unreachable host at the baseline, which is an
input error (exit 2).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from compare.findings import Finding, Status, finding
from rest.errors import BadInput, RestCheckError
from rest.http import checks
from rest.http import registry as ids
from rest.http.authz import RolesMatrix, load_roles, run_matrix
from rest.http.probes import Prober, Redactor, Throttled
from rest.http.ratelimit import check_rate_limit
from rest.openapi.loader import OpenAPIDocument, load_spec

DEFAULT_BURST = 50


def parse_header(text: str) -> tuple[str, str]:
    """``'Name: value'`` → ``("Name", "value")``; raises BadInput otherwise."""
    name, sep, value = text.partition(":")
    name = name.strip()
    if not sep or not name or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
        raise BadInput("--header must look like 'Name: value'")
    return name, value.strip()


def build_credentials(headers: Mapping[str, str] | None, token: str | None) -> dict[str, str]:
    creds = dict(headers or {})
    if token:
        if any(k.lower() == "authorization" for k in creds):
            raise BadInput("give either --token or an Authorization --header, not both")
        creds["Authorization"] = f"Bearer {token}"
    return creds


def _validate_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"not an http(s) URL: {url!r}")
    if parts.username or parts.password:
        raise BadInput("put credentials in --token/--header, not in the URL")
    return url


def check(
    url: str,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    openapi: str | Path | Mapping[str, Any] | OpenAPIDocument | None = None,
    roles: str | Path | Mapping[str, Any] | RolesMatrix | None = None,
    rate_limit_probe: int = DEFAULT_BURST,
    ca_file: str | Path | None = None,
    *,
    record_raw: bool = False,
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> list[Finding]:
    """Probe the HTTP-level controls of ``url`` and return ``http.*``/``authz.*`` findings.

    ``headers`` / ``token`` are the credentials (``token`` becomes
    ``Authorization: Bearer``); with credentials the URL must answer 2xx
    (the baseline) or :class:`rest.errors.BadInput` is raised.  ``openapi``
    adds an unauthenticated probe per declared-protected operation;
    ``roles`` (a matrix file or mapping, ``${VAR}`` from ``env``) adds
    ``authz.bola``/``authz.bfla``.  ``rate_limit_probe`` bounds the final
    burst (0 disables it).  ``record_raw`` attaches redacted request/response
    pairs to each finding.  TLS is verified (``ca_file`` adds a CA bundle);
    an unreachable host raises :class:`rest.errors.TargetUnreachable`.

    Safety: the burst goes only to ``url``; operations from the spec are only
    ever sent *without* credentials, so a protected API executes none of them.
    """
    url = _validate_url(url)
    credentials = build_credentials(headers, token)
    if rate_limit_probe < 0:
        raise BadInput("--rate-limit-probe must be 0 or more")
    if ca_file is not None and not Path(ca_file).is_file():
        raise BadInput(f"CA file not found: {ca_file}")
    spec = openapi if isinstance(openapi, OpenAPIDocument) or openapi is None else load_spec(openapi)
    matrix = roles if isinstance(roles, RolesMatrix) or roles is None else load_roles(roles, env)
    redactor = Redactor()
    prober = Prober(
        credentials=credentials,
        verify=str(ca_file) if ca_file else True,
        timeout=timeout,
        record=record_raw,
        redactor=redactor,
    )
    try:
        baseline = prober.send("GET", url, note="baseline")
        upgraded: list[Finding] = []
        if url.lower().startswith("http://") and baseline.status in (301, 302, 307, 308):
            location = baseline.header("Location")
            if location.lower().startswith("https://"):
                # The cleartext URL only redirects: that is the pass of http.plain-http;
                # every other probe belongs to the HTTPS URL it points to.
                upgraded.append(
                    finding(ids.PLAIN_HTTP, Status.PASS, url, f"{baseline.status} redirect to {location}")
                )
                url = _validate_url(location)
                baseline = prober.send("GET", url, note="baseline (after redirect)")
        if credentials and not baseline.ok:
            raise BadInput(
                f"baseline GET {redactor(url)} with the given credentials answered {baseline.status}, not 2xx; "
                "check the URL and credentials"
            )
        ctx = checks.Context(url=url, prober=prober, baseline=baseline, credentials=credentials, spec=spec)
        steps: list[tuple[str, Callable[[], list[Finding]]]] = [
            (ids.AUTH_NOT_ENFORCED, lambda: checks.check_auth(ctx)),
            (ids.APIKEY_IN_QUERY, lambda: checks.check_apikey_in_query(ctx)),
            (ids.CORS, lambda: checks.check_cors(ctx)),
            (ids.SECURITY_HEADERS, lambda: checks.check_security_headers(ctx)),
            (ids.ERROR_LEAK, lambda: checks.check_error_leak(ctx)),
            (ids.SERVER_BANNER, lambda: checks.check_server_banner(ctx)),
            (ids.DANGEROUS_METHODS, lambda: checks.check_dangerous_methods(ctx)),
            (ids.PLAIN_HTTP, lambda: checks.check_plain_http(ctx)),
            (ids.BASIC_OVER_HTTP, lambda: checks.check_basic_over_http(ctx)),
        ]
        if spec is not None:
            steps.append((ids.AUTH_NOT_ENFORCED, lambda: checks.check_operations(ctx)))
        if matrix is not None:
            steps.append((ids.BOLA, lambda: run_matrix(matrix, url, prober)))
        steps.append((ids.RATE_LIMIT, lambda: check_rate_limit(ctx, rate_limit_probe)))
        findings: list[Finding] = list(upgraded)
        for i, (check_id, step) in enumerate(steps):
            # the baseline exchange is part of the first check's story
            findings.extend(_run_step(check_id, step, ctx, record_raw, from_start=i == 0))
        return findings
    finally:
        prober.close()


def _run_step(
    check_id: str,
    step: Callable[[], list[Finding]],
    ctx: checks.Context,
    record_raw: bool,
    from_start: bool = False,
) -> list[Finding]:
    prober = ctx.prober
    mark = 0 if from_start else len(prober.log)
    start = time.perf_counter()
    try:
        results = step()
    except Throttled as exc:
        results = [finding(check_id, Status.ERROR, ctx.url, str(exc))]
    except RestCheckError as exc:
        results = [finding(check_id, Status.ERROR, ctx.url, str(exc))]
    except Exception as exc:  # noqa: BLE001 - one broken check must not end the scan
        results = [finding(check_id, Status.ERROR, ctx.url, f"check crashed: {type(exc).__name__}: {exc}")]
    elapsed = (time.perf_counter() - start) * 1000
    raw: tuple[dict[str, Any], ...] = ()
    if record_raw:
        raw = tuple(ex.to_raw(prober.redactor) for ex in prober.log[mark:])
    out = []
    for f in results:
        f = dataclasses.replace(
            f,
            evidence=prober.redactor(f.evidence),
            target=prober.redactor(f.target),
            duration_ms=elapsed if f.duration_ms is None else f.duration_ms,
            raw=raw if record_raw else f.raw,
        )
        out.append(f)
    return out
