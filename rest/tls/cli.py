"""``apisec rest tls HOST[:PORT]…``: the CLI face of the TLS checks.

Only parses options, calls :func:`rest.tls.check_many`, prints, and maps the
outcome to the exit-code contract (0 ok, 1 a check failed at or above
``--fail-on``, 2 bad input or an unreachable endpoint).
"""

from __future__ import annotations

from pathlib import Path

import typer

from compare.cliutil import (
    FAIL_ON_OPTION,
    FORMAT_OPTION,
    FailOn,
    OutputFormat,
    atomic_write,
    emit_findings,
    wrote,
)
from compare.findings import dumps
from rest.cli import app
from rest.errors import BadInput
from rest.tls import Endpoint, EndpointReport, ScanTarget, check_many, parse_target
from rest.tls.json_output import result_to_dict
from rest.tls.profiles import BUILTIN_PROFILES, DEFAULT_PROFILE, load_profile

_PROFILE_HELP = (
    f"Policy to judge against: {', '.join(BUILTIN_PROFILES)}, or a .toml/.yaml file "
    "with your own (see docs/rest-tls.md)."
)


@app.command("tls")
def tls_command(
    targets: list[str] = typer.Argument(
        ...,
        metavar="HOST[:PORT]...",
        help="Endpoints to scan: host, host:port, \\[v6]:port, or an https:// URL (which also checks HSTS).",
    ),
    hostname: str | None = typer.Option(
        None, "--hostname", help="Name to send as SNI and verify in the certificate (default: the host)."
    ),
    profile: str = typer.Option(DEFAULT_PROFILE, "--profile", help=_PROFILE_HELP),
    ca_file: Path | None = typer.Option(
        None, "--ca-file", help="PEM file of CA certificates to trust in addition to the Mozilla roots."
    ),
    ca_only: bool = typer.Option(
        False, "--ca-only", help="Trust only --ca-file, not the Mozilla roots (private PKI)."
    ),
    client_cert: Path | None = typer.Option(
        None, "--client-cert", help="PEM client certificate for servers that require mTLS."
    ),
    client_key: Path | None = typer.Option(None, "--client-key", help="PEM private key of --client-cert."),
    output: str | None = typer.Option(
        None, "-o", "--output", help="Also write the JSON findings document to this file (atomically)."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    fail_on: FailOn = FAIL_ON_OPTION,
) -> None:
    """Check TLS endpoints against a policy profile (sslyze does the handshakes).

    Every protocol, cipher suite, key-exchange group and certificate the
    server offers is judged: legacy protocols, weak ciphers, forward secrecy,
    certificate expiry/host name/trust/key/signature/lifetime, Heartbleed,
    ROBOT, CCS injection, renegotiation, compression, and HSTS when the target
    is an https:// URL.  Several targets are scanned concurrently.
    """
    if ca_only and ca_file is None:
        raise BadInput("--ca-only needs --ca-file")
    if (client_cert is None) != (client_key is None):
        raise BadInput("--client-cert and --client-key go together")
    prof = load_profile(profile)  # bad profile: exit 2 before any connection
    endpoints = []
    for text in targets:
        host, port, url = parse_target(text)
        endpoints.append(Endpoint(ScanTarget(host, port, hostname, client_cert, client_key), url=url))

    reports = _run_with_progress(endpoints, prof, ca_file, ca_only)
    unreachable = [r for r in reports if r.error is not None]
    if len(unreachable) == len(reports):
        raise unreachable[0].error  # nothing scanned: one line, exit 2
    findings = [f for r in reports for f in r.findings]
    labels = [r.endpoint.target.label for r in reports]
    extra = {
        "profile": prof.name,
        "tls_scans": [result_to_dict(r.result) for r in reports if r.result is not None],
    }
    if output:
        atomic_write(output, dumps(findings, labels, **extra) + "\n")
        wrote(output, "JSON findings")
    code = emit_findings(
        findings, fmt, targets=labels, fail_on=fail_on, title=f"TLS against {prof.describe()}", extra=extra
    )
    raise typer.Exit(2 if unreachable else code)


def _run_with_progress(endpoints, prof, ca_file, ca_only) -> list[EndpointReport]:
    """Scan with a rich progress bar on an interactive stderr, silently otherwise."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    if not console.is_terminal:
        return check_many(endpoints, profile=prof, ca_file=ca_file, ca_only=ca_only)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]TLS scan[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=len(endpoints))

        def done(report: EndpointReport) -> None:
            progress.update(task, advance=1, description=report.endpoint.target.label)

        return check_many(endpoints, profile=prof, ca_file=ca_file, ca_only=ca_only, on_done=done)
