"""Planning: which check *jobs* a set of targets needs.

A :class:`Job` is one check function against one target, with the locks
the runner honours (``exclusive`` for aggressive scans, ``burst`` for the
rate-limit flood).  :func:`plan` turns :class:`compare.config.Targets` into
jobs plus ``compare.check-not-configured`` skip results for what cannot run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from compare.config import RestTarget, SoapTarget, Target, Targets, TlsTarget
from compare.findings import (
    Dimension,
    Finding,
    Side,
    Status,
    check_info,
    finding,
)
from compare.model import Result, TargetInfo

NOT_CONFIGURED = check_info("compare.check-not-configured").check_id


@dataclass(frozen=True)
class Job:
    """One check function against one target."""

    name: str
    """Short id of the job kind, e.g. ``soap.wsdl``, ``rest.tls``."""
    target: str
    """Name of the configured target."""
    side: Side
    dimension: Dimension
    """Where an ``error`` of this job lands in the matrix."""
    func: str
    """``module:function`` of the agreed check entry point."""
    call: Callable[[Callable[..., Any]], Any]
    """Calls the resolved function with the target's material (resolving
    secrets only now, inside the worker)."""
    locus: str
    """What the job looks at (URL, file, host:port) — the target of error findings."""
    exclusive: str | None = None
    """Jobs sharing this key never run at the same time (aggressive scans)."""
    host: str | None = None
    """``host:port`` the job talks to (live jobs only)."""
    burst: bool = False
    """The job floods ``host`` on purpose (rate-limit probe): it runs after
    every other job on that host, so their requests are not throttled."""
    shared: str | None = None
    """Jobs with the same key compute the same thing (one TLS scan of a
    host:port:SNI for every target on it): within one run the first
    successful output is reused by the others instead of scanning again.
    A failure is not shared: each job then tries for itself."""


# ---------------------------------------------------------------- planning


def _is_url(s: str | None) -> bool:
    return bool(s) and urlsplit(s).scheme in ("http", "https")


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _hp(url: str) -> str:
    host, port = _host_port(url)
    return f"{host}:{port}"


def _read(path: Path | str) -> bytes:
    """A sample message, read bounded (the XML parser refuses what is over its limit)."""
    from wssec.safexml import DEFAULT_MAX_BYTES

    with Path(path).open("rb") as fh:
        return fh.read(DEFAULT_MAX_BYTES + 1)


def _load_document(loc: str, ca_file: Path | None) -> Any:
    """An OpenAPI document at a URL as a mapping (JSON or YAML), fetched with
    the target's CA bundle; a local file goes to the checks as a path."""
    import requests

    from rest.openapi.loader import MAX_SPEC_BYTES, parse_document

    with requests.get(
        loc, timeout=15, verify=str(ca_file) if ca_file else True, stream=True, allow_redirects=False
    ) as resp:
        resp.raise_for_status()
        data = resp.raw.read(MAX_SPEC_BYTES + 1, decode_content=True)
    # the rest side's bounded parser: size cap and YAML alias-bomb refusal
    return parse_document(data, name=loc)


def wsdl_soap_address(wsdl: str) -> str | None:
    """The endpoint a WSDL names: a local file's soap:address/soap12:address,
    or for ``https://host/svc?wsdl`` the conventional ``https://host/svc``
    (the WSDL is not downloaded twice; its soap:address is checked by
    ``wssec.http-endpoint``)."""
    if _is_url(wsdl):
        parts = urlsplit(wsdl)
        if parts.query.lower() in ("wsdl", "singlewsdl"):
            return parts._replace(query="", fragment="").geturl()
        return None
    from wssec.safexml import parse_xml_file

    try:
        root = parse_xml_file(wsdl)
    except Exception:  # noqa: BLE001 - the WSDL check itself reports a bad WSDL
        return None
    for ns in ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/"):
        for el in root.iter(f"{{{ns}}}address"):
            loc = el.get("location")
            if loc:
                return loc
    return None


def _tls_job(target: str, side: Side, host: str, port: int, *, hostname: str | None, profile: str,
             ca_file: Path | None, client_cert: Path | None = None, client_key: Path | None = None,
             name: str = "tls") -> Job:  # fmt: skip
    def call(fn: Callable[..., Any]) -> Any:
        return fn(
            host,
            port,
            hostname=hostname,
            profile=profile,
            ca_file=str(ca_file) if ca_file else None,
            client_cert=str(client_cert) if client_cert else None,
            client_key=str(client_key) if client_key else None,
            side=side.value,
        )

    return Job(
        name=f"{side.value}.{name}",
        target=target,
        side=side,
        dimension=Dimension.PROTOCOLS,
        func="rest.tls:check",
        call=call,
        locus=f"{host}:{port}",
        exclusive=f"tls:{host}:{port}",
        host=f"{host}:{port}",
        # everything the scan's result depends on (the target name and side do not:
        # _normalise puts the findings on each job's side)
        shared="rest.tls:check\0"
        + "\0".join(str(v) for v in (host, port, hostname, profile, ca_file, client_cert, client_key, name)),
    )


def _not_configured(target: str, side: Side, dimension: Dimension, locus: str, what: str) -> Finding:
    return finding(NOT_CONFIGURED, Status.SKIP, locus, what, side=side, dimension=dimension)


def plan_soap(t: SoapTarget, *, show_raw: bool) -> tuple[list[Job], list[Finding]]:
    """The jobs one SOAP target needs, and skip findings for what cannot run."""
    jobs: list[Job] = []
    skipped: list[Finding] = []
    side = Side.SOAP
    if t.wsdl:
        wsdl = t.wsdl
        jobs.append(
            Job(
                "soap.wsdl",
                t.name,
                side,
                Dimension.ENCRYPTION,
                "wssec.checks:check_wsdl",
                lambda fn: fn(wsdl, verify=str(t.ca_file)) if t.ca_file and _is_url(wsdl) else fn(wsdl),
                wsdl,
            )
        )
    if t.sample_request:
        sample_path = t.sample_request
        jobs.append(
            Job(
                "soap.message",
                t.name,
                side,
                Dimension.ENCRYPTION,
                "wssec.checks:check_message",
                # with signing material the sample is the template the probes sign
                lambda fn: fn(
                    _read(sample_path),
                    target=str(sample_path),
                    require_security=not (t.signing_key and t.signing_cert),
                ),
                str(sample_path),
            )
        )
    endpoint = t.endpoint or (wsdl_soap_address(t.wsdl) if t.wsdl else None)
    if endpoint and t.profile.live:
        if t.sample_request and t.signing_key and t.signing_cert:
            key, cert, trust, sample_path = (
                t.signing_key,
                t.signing_cert,
                t.trust or t.ca_file,
                t.sample_request,
            )
            ep = endpoint

            def probe(fn: Callable[..., Any]) -> Any:
                from wssec.checks.live import ProbeOptions

                # the same options object 'apisec soap check --url' builds; the
                # password is read here, so a missing one is this job's error
                options = ProbeOptions(
                    trust=str(trust) if trust else None,
                    record_raw=show_raw,
                    encrypt_cert=str(t.encrypt_cert) if t.encrypt_cert else None,
                    soap_action=t.soap_action,
                    username=t.username,
                    password=t.password.resolve() if t.password else None,
                )
                return fn(ep, _read(sample_path), str(key), str(cert), options=options)

            jobs.append(
                Job(
                    "soap.probe",
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    "wssec.checks:probe_service",
                    probe,
                    ep,
                    host=_hp(ep),
                )
            )
        else:
            missing = [n for n, v in (("sample_request", t.sample_request), ("signing_key", t.signing_key),
                                      ("signing_cert", t.signing_cert)) if not v]  # fmt: skip
            skipped.append(
                _not_configured(
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    endpoint,
                    f"live WS-Security probe not run: target has no {', '.join(missing)}",
                )
            )
        if urlsplit(endpoint).scheme == "https":
            host, port = _host_port(endpoint)
            jobs.append(
                _tls_job(
                    t.name, side, host, port, hostname=None, profile=t.profile.tls_profile, ca_file=t.ca_file
                )
            )
    return jobs, skipped


def plan_rest(
    t: RestTarget, *, show_raw: bool, metadata_cache: Any = None
) -> tuple[list[Job], list[Finding]]:
    """The jobs one REST target needs, and skip findings for what cannot run."""
    jobs: list[Job] = []
    skipped: list[Finding] = []
    side = Side.REST
    ca = str(t.ca_file) if t.ca_file else None
    if t.openapi:
        spec_loc = t.openapi
        jobs.append(
            Job(
                "rest.openapi",
                t.name,
                side,
                Dimension.ACCESS_CONTROL,
                "rest.openapi:audit",
                lambda fn: fn(_load_document(spec_loc, t.ca_file) if _is_url(spec_loc) else spec_loc),
                spec_loc,
            )
        )
    live = t.profile.live
    if t.base_url and live:
        base = t.base_url

        def http(fn: Callable[..., Any]) -> Any:
            headers = {k: v.resolve() for k, v in t.headers.items()} or None
            token = t.token.resolve() if t.token else None
            spec: Any = None
            if t.openapi:
                spec = _load_document(t.openapi, t.ca_file) if _is_url(t.openapi) else t.openapi
            extra: dict[str, Any] = {"env": {**os.environ, **t.env}} if t.env else {}
            return fn(
                base,
                headers=headers,
                token=token,
                openapi=spec,
                roles=str(t.roles) if t.roles else None,
                rate_limit_probe=t.profile.rate_limit_probe,
                ca_file=ca,
                record_raw=show_raw,
                **extra,
            )

        host, port = _host_port(base)
        jobs.append(
            Job(
                "rest.http",
                t.name,
                side,
                Dimension.ACCESS_CONTROL,
                "rest.http:check",
                http,
                base,
                host=f"{host}:{port}",
                burst=t.profile.rate_limit_probe > 0,
            )
        )
        if t.token:
            probe_url = urljoin(base.rstrip("/") + "/", t.probe_path.lstrip("/")) if t.probe_path else base

            def jwt(fn: Callable[..., Any]) -> Any:
                pub = t.public_key.read_bytes() if t.public_key else None
                return fn(probe_url, t.token.resolve(), public_key=pub, ca_file=ca)

            jobs.append(
                Job(
                    "rest.jwt",
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    "rest.jwt:probe",
                    jwt,
                    probe_url,
                    host=_hp(probe_url),
                )
            )
        else:
            skipped.append(
                _not_configured(
                    t.name,
                    side,
                    Dimension.TOKEN_AUTH,
                    base,
                    "JWT probes not run: target has no token reference",
                )
            )
    if t.oauth_issuer and live:
        issuer = t.oauth_issuer
        # the audit depends on the issuer and the client, not on the API naming it: run once
        # per run (exclusive, so that the others wait for the first and reuse its output)
        audit = "rest.oauth:check\0" + "\0".join(str(v) for v in (issuer, ca, t.client_id, t.client_secret))

        def oauth(fn: Callable[..., Any]) -> Any:
            secret = t.client_secret.resolve() if t.client_secret else None
            if metadata_cache is not None:  # one metadata fetch per issuer for the whole run
                return fn(
                    issuer,
                    ca_file=ca,
                    client_id=t.client_id,
                    client_secret=secret,
                    metadata_cache=metadata_cache,
                )
            return fn(issuer, ca_file=ca, client_id=t.client_id, client_secret=secret)

        jobs.append(
            Job(
                "rest.oauth",
                t.name,
                side,
                Dimension.TOKEN_AUTH,
                "rest.oauth:check",
                oauth,
                issuer,
                host=_hp(issuer),
                exclusive=audit,
                shared=audit,
            )
        )
    if live:
        seen: set[tuple[str, int]] = set()
        for url in (t.base_url, t.oauth_issuer):
            if url and urlsplit(url).scheme == "https":
                host, port = _host_port(url)
                if (host, port) in seen:
                    continue
                seen.add((host, port))
                jobs.append(
                    _tls_job(
                        t.name,
                        side,
                        host,
                        port,
                        hostname=None,
                        profile=t.profile.tls_profile,
                        ca_file=t.ca_file,
                        name="tls" if url == t.base_url else "tls-issuer",
                    )
                )
    return jobs, skipped


def plan_tls(t: TlsTarget) -> list[Job]:
    return [
        _tls_job(
            t.name,
            t.side,
            t.host,
            t.port,
            hostname=t.hostname,
            profile=t.profile.tls_profile,
            ca_file=t.ca_file,
            client_cert=t.client_cert,
            client_key=t.client_key,
        )
    ]


def target_info(t: Target) -> TargetInfo:
    if isinstance(t, SoapTarget):
        docs = tuple(
            d for d in (t.wsdl, str(t.sample_request) if t.sample_request else None) if d and not _is_url(d)
        )
        return TargetInfo(t.name, Side.SOAP, t.group, "soap", t.location, docs)
    if isinstance(t, RestTarget):
        docs = tuple(d for d in (t.openapi,) if d and not _is_url(d))
        return TargetInfo(t.name, Side.REST, t.group, "rest", t.location, docs)
    return TargetInfo(t.name, t.side, t.group, "tls", t.location, ())


def plan(targets: Targets) -> tuple[list[Job], list[Result]]:
    """Every job of an assessment, plus skip results for checks that cannot run."""
    jobs: list[Job] = []
    skipped: list[Result] = []
    show_raw = targets.settings.show_raw
    from rest.oauth.metadata import MetadataCache

    metadata_cache = MetadataCache()  # this run's authorization-server metadata
    for t in targets.soap:
        j, s = plan_soap(t, show_raw=show_raw)
        jobs += j
        skipped += [Result(f, t.name, "plan") for f in s]
    for t in targets.rest:
        j, s = plan_rest(t, show_raw=show_raw, metadata_cache=metadata_cache)
        jobs += j
        skipped += [Result(f, t.name, "plan") for f in s]
    for t in targets.tls:
        jobs += plan_tls(t)
    return jobs, skipped


__all__ = [
    "Job",
    "NOT_CONFIGURED",
    "plan",
    "plan_rest",
    "plan_soap",
    "plan_tls",
    "target_info",
    "wsdl_soap_address",
]
