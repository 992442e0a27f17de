"""``apisec rest check``: live HTTP-level probes of a URL, or the static
OpenAPI audit when only ``--openapi`` is given."""

from __future__ import annotations

from pathlib import Path

import typer

from compare.cliutil import (
    FAIL_ON_OPTION,
    FORMAT_OPTION,
    FailOn,
    InputError,
    OutputFormat,
    emit_findings,
    read_secret,
)
from compare.findings import Finding
from rest.cli import app
from rest.http.runner import DEFAULT_BURST, check, parse_header
from rest.openapi import audit, load_spec


@app.command("check")
def check_command(
    url: str | None = typer.Argument(
        None,
        help="API URL answering 2xx with the given credentials. Omit it (and give --openapi) for the static audit.",
        show_default=False,
    ),
    token: str | None = typer.Option(
        None,
        "--token",
        envvar="APISEC_TOKEN",
        help="Bearer token sent as 'Authorization: Bearer …' (or set APISEC_TOKEN; never printed). "
        "Prefer --token-env or --token-file: a value on argv shows in ps.",
        show_default=False,
    ),
    token_env: str | None = typer.Option(
        None, "--token-env", metavar="VAR", help="Read the bearer token from this environment variable."
    ),
    token_file: Path | None = typer.Option(
        None, "--token-file", metavar="FILE", help="Read the bearer token from this file (first line)."
    ),
    header: list[str] = typer.Option(
        [],
        "--header",
        "-H",
        help="Credential header 'Name: value' (repeatable), e.g. an API key. Values are never printed.",
        show_default=False,
    ),
    openapi: Path | None = typer.Option(
        None,
        "--openapi",
        help="OpenAPI 3.0/3.1 contract (JSON/YAML): audited statically, and with a URL every "
        "declared-protected operation is probed without credentials.",
        show_default=False,
    ),
    roles: Path | None = typer.Option(
        None,
        "--roles",
        help="Roles matrix (YAML) for authz.bola / authz.bfla; ${VAR} placeholders come from the environment.",
        show_default=False,
    ),
    rate_limit_probe: int = typer.Option(
        DEFAULT_BURST,
        "--rate-limit-probe",
        min=0,
        max=1000,
        help="Size of the final burst to the URL (only that URL, stops at the first 429).",
    ),
    no_rate_limit_probe: bool = typer.Option(
        False, "--no-rate-limit-probe", help="Skip the burst (production targets, shared quotas)."
    ),
    ca_file: Path | None = typer.Option(
        None, "--ca-file", help="PEM CA bundle that verifies the server certificate.", show_default=False
    ),
    timeout: float = typer.Option(10.0, "--timeout", min=0.5, max=120, help="Seconds per request."),
    show_raw: bool = typer.Option(
        False, "--show-raw", help="Attach the (redacted) raw requests/responses behind each finding."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    fail_on: FailOn = FAIL_ON_OPTION,
) -> None:
    """Probe a REST API's HTTP-level controls, or audit its OpenAPI contract.

    Live (URL given): authentication enforced (no/garbage/tampered token refused),
    credentials refused in the query string, CORS, security headers, error leaks,
    version banners, TRACE/TRACK, plain HTTP and Basic over HTTP, with --openapi
    every declared-protected operation, with --roles object/function-level
    authorization, and last a bounded rate-limit burst.

    Static (only --openapi): security schemes and requirements, public
    state-changing operations, Basic, API keys in query, implicit/password flows,
    http:// servers, undocumented 429s.

    Exit codes: 0 ok, 1 a check failed at or above --fail-on, 2 input error
    (unreachable host, bad spec, bad roles file, baseline not 2xx).
    """
    token = read_secret("--token", value=token, env=token_env, file=token_file)
    if url is None and openapi is None:
        raise InputError("give a URL to probe, or --openapi SPEC for the static audit (see --help)")
    if url is None and (roles or token or header):
        raise InputError("--roles/--token/--header need a URL; the static audit reads only --openapi")
    for path, what in ((openapi, "OpenAPI spec"), (roles, "roles file"), (ca_file, "CA file")):
        if path is not None and not path.is_file():
            raise InputError(f"{what} not found: {path}")
    findings: list[Finding] = []
    spec = load_spec(openapi) if openapi is not None else None
    targets: list[str] = []
    if url is not None:
        headers = dict(parse_header(h) for h in header)
        findings += check(
            url,
            headers=headers,
            token=token,
            openapi=spec,
            roles=roles,
            rate_limit_probe=0 if no_rate_limit_probe else rate_limit_probe,
            ca_file=ca_file,
            record_raw=show_raw,
            timeout=timeout,
        )
        targets.append(url)
    if spec is not None:
        findings += audit(spec)
        targets.append(str(openapi))
    code = emit_findings(findings, fmt, targets=targets, fail_on=fail_on, title="apisec rest check")
    if show_raw and fmt is OutputFormat.text:
        _print_raw(findings)
    raise typer.Exit(code)


def _print_raw(findings: list[Finding]) -> None:
    for f in findings:
        if not f.raw:
            continue
        print(f"\n--- {f.check_id} {f.target}")
        for r in f.raw:
            req, resp = r["request"], r["response"]
            if r.get("note"):
                print(
                    f"# {r['note']}"
                    + (f" (after {r['retries_after_429']} × 429)" if r.get("retries_after_429") else "")
                )
            print(f"> {req['method']} {req['url']}")
            for k, v in req["headers"].items():
                print(f"> {k}: {v}")
            print(f"< {resp['status']}")
            for k, v in resp["headers"].items():
                print(f"< {k}: {v}")
            if resp["body"]:
                print("< " + resp["body"].replace("\n", "\n< ")[:600])
