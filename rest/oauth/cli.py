"""``apisec rest oauth ISSUER_URL``: audit an OAuth 2.0 authorization server."""

from __future__ import annotations

import os

import typer

from compare.cliutil import (
    FAIL_ON_OPTION,
    FORMAT_OPTION,
    FailOn,
    InputError,
    OutputFormat,
    emit_findings,
    exit_with,
    read_secret,
)
from rest.cli import app


@app.command("oauth")
def oauth_cmd(
    issuer_url: str = typer.Argument(
        ..., help="The issuer identifier, e.g. https://login.example/realms/main"
    ),
    ca_file: str | None = typer.Option(
        None, "--ca-file", help="CA bundle (PEM) to trust for the server's TLS."
    ),
    client_id: str | None = typer.Option(None, "--client-id", help="A test client: enables the live checks."),
    client_secret_env: str | None = typer.Option(
        None, "--client-secret-env", help="Environment variable holding that client's secret (never on argv)."
    ),
    client_secret_file: str | None = typer.Option(
        None, "--client-secret-file", help="File holding that client's secret (first line)."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    fail_on: FailOn = FAIL_ON_OPTION,
) -> None:
    """Fetch RFC 8414 metadata (path-inserted well-known, then openid-configuration)
    and judge it by RFC 9700; with --client-id/--client-secret-env also run live
    token checks.  Exit 1 when a check fails at/above --fail-on, 2 on input or
    connection errors."""
    from rest.oauth import check

    if bool(client_id) != bool(client_secret_env or client_secret_file):
        raise InputError("--client-id and --client-secret-env (or --client-secret-file) go together")
    secret = read_secret("--client-secret", env=client_secret_env, file=client_secret_file)
    if ca_file and not os.path.isfile(ca_file):
        raise InputError(f"CA file not found: {ca_file}")
    findings = check(issuer_url, ca_file=ca_file, client_id=client_id, client_secret=secret)
    code = emit_findings(
        findings, fmt, targets=[issuer_url], fail_on=fail_on, title=f"OAuth 2.0: {issuer_url}"
    )
    exit_with(code)
