"""The handshake engine: run sslyze against endpoints and keep a plain result.

apisec writes no handshakes of its own.  sslyze (with nassl's legacy and
modern OpenSSL builds) probes every protocol from SSL 2.0 to TLS 1.3, every
cipher suite, the key-exchange groups, the certificate chains, and the
Heartbleed/ROBOT/CCS/renegotiation/compression/fallback/EMS tests.  This
module turns its rich result objects into :class:`TlsScanResult`, a frozen
record of *what the server offered*, so the checks (``checks.py``) judge
plain data and never touch sslyze, and a scan command that failed becomes an
entry in ``errors`` (an ``error`` finding later), never a crash of the scan.

Many endpoints are scanned by one :class:`sslyze.Scanner`, which runs
servers concurrently and limits connections per server, so ``apisec rest
tls a b c`` takes about as long as its slowest endpoint.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from rest.errors import BadInput, TargetUnreachable

# sslyze loads its bundled root stores, a few of whose roots predate RFC 5280's
# positive-serial rule; cryptography's deprecation note about them is noise
# on apisec's stderr (which carries one error line at most).
warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")

PROTOCOL_FIELDS = (
    ("SSLv2", "ssl_2_0_cipher_suites"),
    ("SSLv3", "ssl_3_0_cipher_suites"),
    ("TLSv1.0", "tls_1_0_cipher_suites"),
    ("TLSv1.1", "tls_1_1_cipher_suites"),
    ("TLSv1.2", "tls_1_2_cipher_suites"),
    ("TLSv1.3", "tls_1_3_cipher_suites"),
)
# X25519/X448 are reported by OpenSSL with their scalar size (253/446 bits);
# their security is that of a 256/448-bit group.
_CURVE_BITS = {"X25519": 256, "X448": 448}


@dataclass(frozen=True)
class ScanTarget:
    """One endpoint to scan, with what is needed to reach it."""

    host: str
    """Host name or IP address to connect to."""
    port: int = 443
    """TLS port."""
    hostname: str | None = None
    """Name sent as SNI and checked against the certificate (default: ``host``)."""
    client_cert: Path | None = None
    """PEM client certificate (chain) for servers that require mTLS."""
    client_key: Path | None = None
    """PEM private key of ``client_cert`` (unencrypted)."""

    @property
    def server_name(self) -> str:
        return self.hostname or self.host

    @property
    def label(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        suffix = f" ({self.hostname})" if self.hostname and self.hostname != self.host else ""
        return f"{host}:{self.port}{suffix}"


@dataclass(frozen=True)
class AcceptedCipher:
    """One cipher suite the server accepted, with the key exchange it used."""

    protocol: str
    name: str
    """IANA name (``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``)."""
    openssl_name: str
    key_size: int
    anonymous: bool
    kex: str | None = None
    """``ECDHE`` or ``DHE`` when the handshake used an ephemeral key, else ``None``."""
    kex_group: str | None = None
    """Curve name for ECDHE."""
    kex_bits: int | None = None
    """Size of the ephemeral group in bits (X25519 counts as 256)."""


@dataclass(frozen=True)
class TlsScanResult:
    """What one endpoint offered, as sslyze observed it."""

    target: ScanTarget
    ip_address: str
    protocols: dict[str, tuple[AcceptedCipher, ...]]
    """Accepted suites per protocol that was *tested*; an empty tuple means not offered."""
    curves: tuple[str, ...] | None
    """Key-exchange groups the server accepts (``None``: not tested)."""
    chains: tuple[tuple[x509.Certificate, ...], ...]
    """Certificate chains the server sent (leaf first), one per distinct deployment."""
    heartbleed: bool | None = None
    ccs_injection: bool | None = None
    robot: str | None = None
    """sslyze's ``RobotScanResultEnum`` name."""
    compression: bool | None = None
    secure_renegotiation: bool | None = None
    client_renegotiation_dos: bool | None = None
    fallback_scsv: bool | None = None
    extended_master_secret: bool | None = None
    client_auth: str = "DISABLED"
    """``DISABLED``, ``OPTIONAL`` or ``REQUIRED`` (sslyze's ClientAuthRequirementEnum)."""
    client_cert_sent: bool = False
    errors: dict[str, str] = field(default_factory=dict)
    """sslyze scan command → one-line reason it failed."""
    duration_s: float = 0.0

    @property
    def offered_protocols(self) -> list[str]:
        return [p for p, _ in PROTOCOL_FIELDS if self.protocols.get(p)]


def _scan_commands() -> set:
    from sslyze import ScanCommand

    # The Mozilla checker's set: everything a verdict needs, nothing slow that is not judged
    # (no session resumption, no early data, no HTTP headers).
    return {
        ScanCommand.SSL_2_0_CIPHER_SUITES,
        ScanCommand.SSL_3_0_CIPHER_SUITES,
        ScanCommand.TLS_1_0_CIPHER_SUITES,
        ScanCommand.TLS_1_1_CIPHER_SUITES,
        ScanCommand.TLS_1_2_CIPHER_SUITES,
        ScanCommand.TLS_1_3_CIPHER_SUITES,
        ScanCommand.CERTIFICATE_INFO,
        ScanCommand.ELLIPTIC_CURVES,
        ScanCommand.HEARTBLEED,
        ScanCommand.ROBOT,
        ScanCommand.OPENSSL_CCS_INJECTION,
        ScanCommand.SESSION_RENEGOTIATION,
        ScanCommand.TLS_COMPRESSION,
        ScanCommand.TLS_FALLBACK_SCSV,
        ScanCommand.TLS_EXTENDED_MASTER_SECRET,
    }


def _request(target: ScanTarget):
    from sslyze import (
        ClientAuthenticationCredentials,
        ServerHostnameCouldNotBeResolved,
        ServerNetworkConfiguration,
        ServerNetworkLocation,
        ServerScanRequest,
    )

    if not 0 < target.port < 65536:
        raise BadInput(f"port out of range: {target.port}")
    creds = None
    if target.client_cert or target.client_key:
        if not (target.client_cert and target.client_key):
            raise BadInput("--client-cert and --client-key go together")
        for p in (target.client_cert, target.client_key):
            if not Path(p).is_file():
                raise BadInput(f"file not found: {p}")
        try:
            creds = ClientAuthenticationCredentials(
                certificate_chain_path=Path(target.client_cert), key_path=Path(target.client_key)
            )
        except Exception as exc:  # nassl.OpenSSLError: the pair does not load
            raise BadInput(f"client certificate/key cannot be loaded: {_one_line(exc)}") from None
    try:
        location = ServerNetworkLocation(hostname=target.host, port=target.port)
    except ServerHostnameCouldNotBeResolved:
        raise TargetUnreachable(f"{target.label}: host name could not be resolved") from None
    config = ServerNetworkConfiguration(
        tls_server_name_indication=target.server_name, tls_client_auth_credentials=creds
    )
    return ServerScanRequest(
        server_location=location, network_configuration=config, scan_commands=_scan_commands()
    )


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _error_text(trace) -> str:
    """Last line of a captured traceback, without the module path or sslyze's
    ``host:port -> "…"`` wrapping (the caller prefixes the target itself)."""
    if trace is None:
        return "unknown error"
    line = "".join(trace.format_exception_only()).strip().splitlines()[-1]
    head, sep, tail = line.partition(": ")
    text = (tail if sep else head).strip() or head
    if " -> " in text:
        text = text.split(" -> ", 1)[1]
    return text.strip().rstrip(".").strip('"') or head


def _convert(target: ScanTarget, server_result, started: float) -> TlsScanResult:
    from nassl.ephemeral_key_info import DhEphemeralKeyInfo, EcDhEphemeralKeyInfo
    from sslyze import ScanCommandAttemptStatusEnum

    scan = server_result.scan_result
    errors: dict[str, str] = {}

    def result_of(name: str):
        attempt = getattr(scan, name)
        if attempt.status is ScanCommandAttemptStatusEnum.COMPLETED:
            return attempt.result
        if attempt.status is ScanCommandAttemptStatusEnum.ERROR:
            reason = attempt.error_reason.value if attempt.error_reason else "error"
            detail = _error_text(attempt.error_trace) if attempt.error_trace else ""
            errors[name] = f"{reason}{': ' + detail if detail else ''}"
        return None

    protocols: dict[str, tuple[AcceptedCipher, ...]] = {}
    for proto, field_name in PROTOCOL_FIELDS:
        res = result_of(field_name)
        if res is None:
            continue
        accepted = []
        for a in res.accepted_cipher_suites:
            key = a.ephemeral_key
            kex = group = bits = None
            if isinstance(key, EcDhEphemeralKeyInfo):
                kex, group = "ECDHE", key.curve_name
                bits = _CURVE_BITS.get(group, key.size)
            elif isinstance(key, DhEphemeralKeyInfo):
                kex, bits = "DHE", key.size
            cs = a.cipher_suite
            accepted.append(
                AcceptedCipher(
                    proto, cs.name, cs.openssl_name, cs.key_size, cs.is_anonymous, kex, group, bits
                )
            )
        protocols[proto] = tuple(accepted)

    curves_res = result_of("elliptic_curves")
    curves = tuple(c.name for c in (curves_res.supported_curves or ())) if curves_res is not None else None
    chains: list[tuple[x509.Certificate, ...]] = []
    cert_res = result_of("certificate_info")
    if cert_res is not None:
        for dep in cert_res.certificate_deployments:
            chains.append(tuple(dep.received_certificate_chain))

    def attr(name: str, field_name: str):
        res = result_of(name)
        return None if res is None else getattr(res, field_name)

    robot = attr("robot", "robot_result")
    reneg = result_of("session_renegotiation")
    conn = server_result.connectivity_result
    return TlsScanResult(
        target=target,
        ip_address=server_result.server_location.ip_address or "",
        protocols=protocols,
        curves=curves,
        chains=tuple(chains),
        heartbleed=attr("heartbleed", "is_vulnerable_to_heartbleed"),
        ccs_injection=attr("openssl_ccs_injection", "is_vulnerable_to_ccs_injection"),
        robot=robot.name if robot is not None else None,
        compression=attr("tls_compression", "supports_compression"),
        secure_renegotiation=reneg.supports_secure_renegotiation if reneg else None,
        client_renegotiation_dos=reneg.is_vulnerable_to_client_renegotiation_dos if reneg else None,
        fallback_scsv=attr("tls_fallback_scsv", "supports_fallback_scsv"),
        extended_master_secret=attr("tls_extended_master_secret", "supports_ems_extension"),
        client_auth=conn.client_auth_requirement.name if conn else "DISABLED",
        client_cert_sent=target.client_cert is not None,
        errors=errors,
        duration_s=time.monotonic() - started,
    )


def scan_many(
    targets: Sequence[ScanTarget],
    *,
    on_result: Callable[[int, TlsScanResult | TargetUnreachable], None] | None = None,
    per_server_connections: int = 5,
    concurrent_servers: int = 10,
) -> list[TlsScanResult | TargetUnreachable]:
    """Scan ``targets`` concurrently; returns one result per target, in order.

    ``on_result(index, result)`` is called (in the caller's thread) as each
    endpoint finishes, for progress reporting and early judging.

    An endpoint that cannot be resolved or reached yields a
    :class:`TargetUnreachable` in its slot (the caller decides whether that is
    fatal).  Bad client credentials raise :class:`BadInput` before any scan."""
    from sslyze import Scanner, ServerScanStatusEnum

    if not targets:
        return []
    started = time.monotonic()
    out: list[TlsScanResult | TargetUnreachable | None] = [None] * len(targets)
    requests = []
    index_of = {}
    for i, t in enumerate(targets):
        try:
            req = _request(t)
        except TargetUnreachable as exc:
            out[i] = exc
            if on_result:
                on_result(i, exc)
            continue
        requests.append(req)
        index_of[req.uuid] = i
    if requests:
        scanner = Scanner(
            per_server_concurrent_connections_limit=per_server_connections,
            concurrent_server_scans_limit=concurrent_servers,
        )
        scanner.queue_scans(requests)
        for server_result in scanner.get_results():
            i = index_of[server_result.uuid]
            t = targets[i]
            item: TlsScanResult | TargetUnreachable
            if server_result.scan_status is ServerScanStatusEnum.ERROR_NO_CONNECTIVITY:
                reason = _error_text(server_result.connectivity_error_trace)
                item = TargetUnreachable(f"{t.label}: {reason}")
            else:
                item = _convert(t, server_result, started)
            out[i] = item
            if on_result:
                on_result(i, item)
    return [r for r in out if r is not None]


def scan(target: ScanTarget) -> TlsScanResult:
    """Scan one endpoint; raises :class:`TargetUnreachable` when it cannot be reached."""
    (result,) = scan_many([target])
    if isinstance(result, TargetUnreachable):
        raise result
    return result


def parse_target(text: str, default_port: int = 443) -> tuple[str, int, str | None]:
    """``host``, ``host:port``, ``[v6]:port`` or ``https://host[:port]/path`` →
    (host, port, https URL or None).  Raises :class:`BadInput` for junk."""
    from urllib.parse import urlsplit

    raw = text.strip()
    url = None
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme.lower() != "https":
            raise BadInput(f"only https:// URLs can be TLS-scanned: {text!r}")
        try:
            host, port = parts.hostname, parts.port or default_port
        except ValueError:
            raise BadInput(f"bad port in {text!r}") from None
        if not host:
            raise BadInput(f"no host in {text!r}")
        return host, port, raw
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif raw.count(":") == 1:
        host, _, port_text = raw.partition(":")
    else:
        host, port_text = raw, ""
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        raise BadInput(f"not a host[:port]: {text!r}")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BadInput(f"bad port in {text!r}")
        return host, int(port_text), url
    return host, default_port, url


def iter_chains(result: TlsScanResult) -> Iterable[tuple[x509.Certificate, ...]]:
    return (c for c in result.chains if c)
