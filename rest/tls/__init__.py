"""TLS compliance of HTTPS endpoints, judged against named policy profiles.

The tiny API::

    from rest import tls
    findings = tls.check("api.example.com")                       # mozilla-intermediate
    findings = tls.check("10.0.0.5", 8443, hostname="api.internal",
                         profile="nist-800-52r2", ca_file="corp-ca.pem", ca_only=True)

``check`` scans with sslyze (no hand-written handshakes), then judges the
result with :mod:`rest.tls.checks`.  The full model is underneath for those
who need it: :func:`rest.tls.scan.scan_many` (many endpoints concurrently →
:class:`~rest.tls.scan.TlsScanResult`), :func:`rest.tls.checks.evaluate`
(result + :class:`~rest.tls.profiles.Profile` → findings) and
:func:`rest.tls.hsts.check_hsts`.

Security consequences worth reading before use:

* **Trust** — by default a chain must lead to the Mozilla NSS root store
  bundled with sslyze; ``ca_file`` *adds* roots, ``ca_only=True`` trusts
  ``ca_file`` *only* (a chain from a public CA then fails
  ``tls.cert-untrusted``).
* **Host name** — checked against ``hostname`` (default: ``host``), which is
  also sent as SNI; the certificate's subject CN is ignored, as browsers do.
* **Unreachable** — :class:`rest.errors.TargetUnreachable` (exit 2); a scan
  command that fails mid-scan becomes an ``error`` finding, never a ``pass``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from compare.findings import Finding, Status, finding
from rest.errors import BadInput, TargetUnreachable
from rest.tls.checks import ALL_CHECKS, evaluate
from rest.tls.hsts import check_hsts
from rest.tls.profiles import BUILTIN_PROFILES, DEFAULT_PROFILE, Profile, load_profile
from rest.tls.scan import ScanTarget, TlsScanResult, parse_target, scan_many
from rest.tls.trust import TrustConfig, anchors

__all__ = [
    "ALL_CHECKS",
    "BUILTIN_PROFILES",
    "DEFAULT_PROFILE",
    "Endpoint",
    "Profile",
    "ScanTarget",
    "TlsScanResult",
    "TrustConfig",
    "check",
    "check_hsts",
    "check_many",
    "load_profile",
    "parse_target",
]


@dataclass(frozen=True)
class Endpoint:
    """One thing to check: a scan target plus, optionally, an HTTPS URL for HSTS."""

    target: ScanTarget
    url: str | None = None
    """``https://…`` URL whose response must carry HSTS (``None``: skip ``tls.hsts``)."""


@dataclass(frozen=True)
class EndpointReport:
    """Findings of one endpoint, or why it could not be scanned."""

    endpoint: Endpoint
    findings: list[Finding]
    result: TlsScanResult | None = None
    error: TargetUnreachable | None = None


def check_many(
    endpoints: Sequence[Endpoint],
    *,
    profile: str | Profile = DEFAULT_PROFILE,
    ca_file: str | Path | None = None,
    ca_only: bool = False,
    side: str = "rest",
    now: dt.datetime | None = None,
    on_done: Callable[[EndpointReport], None] | None = None,
    concurrent_servers: int = 10,
) -> list[EndpointReport]:
    """Scan many endpoints concurrently (one sslyze Scanner) and judge each.

    Bad input (unknown profile, unreadable CA file, client key that does not
    load) raises :class:`rest.errors.BadInput` *before* any connection is made.
    An unreachable endpoint yields a report with ``error`` set and a
    ``tls.scan-error`` finding; the caller decides whether that is fatal.
    ``concurrent_servers`` bounds how many endpoints are scanned at once (each
    with at most 5 connections, sslyze's default)."""
    prof = load_profile(profile)
    trust = TrustConfig(Path(ca_file) if ca_file else None, ca_only)
    anchors(trust)  # fail fast on a bad --ca-file / --ca-only without --ca-file
    reports: list[EndpointReport | None] = [None] * len(endpoints)

    def done(i: int, item: TlsScanResult | TargetUnreachable) -> None:
        ep = endpoints[i]
        target = ep.target
        if isinstance(item, TargetUnreachable):
            f = finding("tls.scan-error", Status.ERROR, target.label, str(item), side=side)
            rep = EndpointReport(ep, [f], None, item)
        else:
            found = evaluate(item, prof, trust, side=side, now=now)
            if ep.url:
                try:
                    found.append(
                        check_hsts(
                            ep.url,
                            prof,
                            client_cert=target.client_cert,
                            client_key=target.client_key,
                            side=side,
                            target=target.label,
                        )
                    )
                except (TargetUnreachable, BadInput) as exc:  # never abandon the running scanner
                    found.append(finding("tls.hsts", Status.ERROR, target.label, str(exc), side=side))
            rep = EndpointReport(ep, found, item)
        reports[i] = rep
        if on_done:
            on_done(rep)

    scan_many([e.target for e in endpoints], on_result=done, concurrent_servers=concurrent_servers)
    return [r for r in reports if r is not None]


def check(
    host: str,
    port: int = 443,
    hostname: str | None = None,
    profile: str | Profile = DEFAULT_PROFILE,
    ca_file: str | Path | None = None,
    ca_only: bool = False,
    client_cert: str | Path | None = None,
    client_key: str | Path | None = None,
    side: str = "rest",
    *,
    url: str | None = None,
    now: dt.datetime | None = None,
) -> list[Finding]:
    """Scan one TLS endpoint and return its findings under ``profile``.

    ``host`` may also be an ``https://`` URL: its host and port are scanned and
    the URL's response is checked for HSTS (``tls.hsts``); ``url=`` does the
    same explicitly.  ``side="soap"`` lets the compare engine reuse the checks
    on SOAP endpoints.  Raises :class:`rest.errors.TargetUnreachable` (exit 2)
    when the endpoint cannot be reached, :class:`rest.errors.BadInput` for
    unusable options."""
    if "://" in host:
        host, port, url = parse_target(host)
    target = ScanTarget(
        host=host,
        port=port,
        hostname=hostname,
        client_cert=Path(client_cert) if client_cert else None,
        client_key=Path(client_key) if client_key else None,
    )
    (report,) = check_many(
        [Endpoint(target, url)], profile=profile, ca_file=ca_file, ca_only=ca_only, side=side, now=now
    )
    if report.error is not None:
        raise report.error
    return report.findings
