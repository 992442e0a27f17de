"""The one-command demo, library side: start the sample services, assess them
side by side, write every report.

Six real servers on 127.0.0.1, ephemeral ports, keys generated into a
temporary folder at start (nothing secret ships in the package):

=============  ==============================================================
group          services
=============  ==============================================================
``secure``     SOAP quote service (HTTPS + WS-Security middleware configured
               from its WSDL policy), REST order API (HTTPS, JWT, CORS
               allow-list, rate limit, object/function authorization) and the
               secure Authlib authorization server (HTTPS, PKCE S256 only …)
``legacy``     SOAP quote service (plain HTTP, no message security, weak
               published policy), REST order API (plain HTTP, reflected CORS,
               banners, no rate limit, BOLA/BFLA) and the insecure
               authorization server (implicit/password grants, PKCE plain …)
=============  ==============================================================

The REST APIs verify RS256 access tokens signed by their own key (the demo
mints one per sample user, for the JWT and roles-matrix probes); the
authorization servers are assessed as the REST side's token issuers.  Every
service runs from the installed ``apisec_samples`` package, so the demo works
from a non-editable install in an empty folder with no network.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from compare.config import Profile, RestTarget, SecretRef, Settings, SoapTarget, Targets
from compare.model import Assessment
from compare.reporters import ALL_FORMATS, write_reports
from compare.run import assess

AUDIT_LOG = "soap-audit.jsonl"
"""The secure SOAP service's audit lines (one JSON event per probe it refused)."""
DEMO_NOTE = (
    "This is the demo: the legacy SOAP and REST services are insecure on purpose, so the legacy pair "
    "fails the gate; the secure pair shows what passing looks like. 'apisec demo' exits 0 when the "
    "tour completed; 'apisec compare run' is the CI gate and exits 1 when it fails."
)
DEMO_CONCURRENCY = 6
DEMO_TIMEOUT = 90.0
DEMO_PROFILE = Profile(name="demo", tls_profile="mozilla-intermediate", rate_limit_probe=50)


@dataclass
class DemoServices:
    """The running sample services and the material the assessment needs."""

    workdir: Path
    pki: Any
    soap: dict[str, Any]
    rest: dict[str, Any]
    oauth: dict[str, Any]
    audit: list[str]
    """Audit lines the secure SOAP service logged while it was probed."""


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextlib.contextmanager
def _captured_audit(sink: list[str]) -> Iterator[None]:
    """The services' audit lines go to the report folder, not over the demo's table."""
    log = logging.getLogger("wssec.audit")
    handler, propagate = _Collect(sink), log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


@contextlib.contextmanager
def sample_services(workdir: Path) -> Iterator[DemoServices]:
    """Start every sample service on 127.0.0.1; stop them all on exit."""
    from apisec_samples import oauth_server, rest_service, soap_service
    from apisec_samples.pki import make_pki

    pki = make_pki(workdir / "pki")
    audit: list[str] = []
    with contextlib.ExitStack() as stack:
        stack.enter_context(_captured_audit(audit))

        def started(handle: Any) -> Any:
            stack.callback(handle.stop)
            return handle

        soap = {
            c: started(soap_service.serve(c, host="127.0.0.1", port=0, pki=pki)) for c in ("secure", "legacy")
        }
        oauth = {
            "secure": started(
                oauth_server.serve(
                    "secure", host="127.0.0.1", port=0, tls=(pki.service.cert_path, pki.service.key_path)
                )
            ),
            "legacy": started(oauth_server.serve("insecure", host="127.0.0.1", port=0, tls=None)),
        }
        rest = {
            "secure": started(rest_service.serve("secure", host="127.0.0.1", port=0, tls=True, pki=pki)),
            "legacy": started(rest_service.serve("legacy", host="127.0.0.1", port=0, tls=False)),
        }
        yield DemoServices(workdir=workdir, pki=pki, soap=soap, rest=rest, oauth=oauth, audit=audit)


def _secret_file(folder: Path, name: str, value: str) -> SecretRef:
    path = folder / name
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return SecretRef(f"file:{path}")


def demo_targets(services: DemoServices) -> Targets:
    """The assessment's targets, built the way a targets file would describe them."""
    from apisec_samples import rest_service, soap_service

    secrets = services.workdir / "secrets"
    secrets.mkdir(exist_ok=True)
    # the installed sample request, so report anchors (SARIF) outlive the demo's temp folder
    sample = Path(soap_service.__file__).with_name("request.xml")
    if not sample.is_file():  # zipped install: fall back to a copy
        sample = services.workdir / "request.xml"
        sample.write_bytes(soap_service.request_xml())
    ca = services.pki.ca.cert_path
    soap_targets = []
    rest_targets = []
    for group in ("secure", "legacy"):
        s = services.soap[group]
        soap_targets.append(
            SoapTarget(
                name=f"soap-{group}",
                group=group,
                wsdl=s.wsdl_url,
                endpoint=s.url,
                sample_request=sample,
                signing_key=services.pki.client.key_path,
                signing_cert=services.pki.client.cert_path,
                trust=ca,
                ca_file=ca,
                profile=DEMO_PROFILE,
            )
        )
        api = services.rest[group]
        issuer = services.oauth[group]
        auth = issuer.extra["service"]
        pub = services.workdir / f"rest-{group}-public.pem"
        pub.write_bytes(
            api._signing_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        rest_targets.append(
            RestTarget(
                name=f"rest-{group}",
                group=group,
                base_url=f"{api.url}/api/orders",
                openapi=str(rest_service.OPENAPI),
                oauth_issuer=issuer.url,
                client_id=auth.client_id,
                client_secret=_secret_file(secrets, f"{group}-client-secret", auth.client_secret),
                token=_secret_file(secrets, f"{group}-alice-token", api.mint("alice")),
                public_key=pub,
                roles=Path(rest_service.ROLES),
                env=api.role_env(),
                ca_file=ca,
                profile=DEMO_PROFILE,
            )
        )
    return Targets(
        soap=tuple(soap_targets),
        rest=tuple(rest_targets),
        settings=Settings(concurrency=DEMO_CONCURRENCY, timeout=DEMO_TIMEOUT, fail_on="high"),
        source=None,
    )


@dataclass
class DemoResult:
    assessment: Assessment
    written: dict[str, Path]
    seconds: float


def run_demo(
    output: Path,
    *,
    formats: tuple[str, ...] = ALL_FORMATS,
    progress: bool | None = None,
    show_raw: bool = False,
) -> DemoResult:
    """Start the services, assess, write the reports into ``output``, stop the services."""
    from compare.fileio import atomic_write

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="apisec-demo-") as tmp, warnings.catch_warnings():
        quiet_scanner_warnings()
        with sample_services(Path(tmp)) as services:
            targets = demo_targets(services)
            if show_raw:
                from dataclasses import replace

                targets = replace(targets, settings=replace(targets.settings, show_raw=True))
            assessment = assess(targets, progress=progress)
            rest_urls = {c: h.url for c, h in services.rest.items()}
            soap_urls = {c: h.url for c, h in services.soap.items()}
        assessment.note = DEMO_NOTE
        written = write_reports(assessment, output, formats)
        from compare.flow.samples import write_demo_flows

        # the security test flows of the same services and their Postman exports (docs/flows.md)
        written |= write_demo_flows(Path(output) / "flows", rest_urls, soap_urls)
        atomic_write(Path(output) / AUDIT_LOG, "".join(line + "\n" for line in services.audit))
        written["audit"] = Path(output) / AUDIT_LOG
    return DemoResult(assessment=assessment, written=written, seconds=time.perf_counter() - t0)


def quiet_scanner_warnings() -> None:
    """sslyze's bundled trust stores hold a certificate with a negative serial
    number; cryptography warns on every load.  Not a finding, not for users."""
    from cryptography.utils import CryptographyDeprecationWarning

    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"sslyze(\.|$)")


__all__ = ["DemoResult", "DemoServices", "demo_targets", "run_demo", "sample_services"]
