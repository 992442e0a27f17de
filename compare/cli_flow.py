"""``apisec flow …``: generate security test flows from a contract, preview
them before deployment, run them after, export them to Postman.

The commands only parse arguments, call :mod:`compare.flow` and print; the
reports of ``flow run`` go through the same writer as ``compare run``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from compare.cliutil import FailOn, InputError, atomic_write, merge_alias, split_csv

app = typer.Typer(
    name="flow",
    help=(
        "Security test flows: generate them from an OpenAPI or WSDL contract (happy path plus "
        "security variations with their expected outcome), preview the raw requests before "
        "deployment, run them against the deployed service, export them to Postman."
    ),
    no_args_is_help=True,
)


@app.callback()
def _flow() -> None:
    """Security test flows from a contract."""


def _file_ref(path: Path | None, flow_out: Path | None, what: str) -> str | None:
    """A ``file:`` reference to ``path``, relative to the folder the flow is written to."""
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"{what} not found: {path}")
    folder = (flow_out.parent if flow_out is not None and str(flow_out) != "-" else Path(".")).resolve()
    return "file:" + os.path.relpath(path.resolve(), folder)


def _env_name(name: str | None, flag: str) -> str | None:
    if name is None:
        return None
    if not name.replace("_", "a").isalnum() or name[0].isdigit():
        raise InputError(f"{flag} takes an environment variable name, got {name!r}")
    return f"env:{name}"


@app.command("generate")
def generate(
    openapi: Path | None = typer.Option(
        None, "--openapi", help="OpenAPI 3.x contract (YAML/JSON).", show_default=False
    ),
    wsdl: Path | None = typer.Option(None, "--wsdl", help="WSDL with WS-SecurityPolicy.", show_default=False),
    roles: Path | None = typer.Option(
        None,
        "--roles",
        help="Roles matrix (the 'apisec rest check --roles' file): wrong-role and BOLA steps.",
        show_default=False,
    ),
    base_url: str | None = typer.Option(
        None,
        "--base-url",
        help="Service URL (default: the contract's first server / soap:address).",
        show_default=False,
    ),
    token_env: str = typer.Option(
        "APISEC_TOKEN", "--token-env", help="Environment variable of the bearer token (without --roles)."
    ),
    expired_token_env: str | None = typer.Option(
        None,
        "--expired-token-env",
        help="Environment variable holding an expired token (expired step).",
        show_default=False,
    ),
    expired_token_file: Path | None = typer.Option(
        None, "--expired-token-file", help="File holding an expired token (expired step).", show_default=False
    ),
    public_key: Path | None = typer.Option(
        None,
        "--public-key",
        help="The API's token verification key, PEM (key-confusion step).",
        show_default=False,
    ),
    ca_file: Path | None = typer.Option(
        None,
        "--ca-file",
        help="PEM CA bundle that verifies the service (recorded in the flow).",
        show_default=False,
    ),
    key: Path | None = typer.Option(
        None, "--key", metavar="KEY.pem", help="SOAP: client signing key (PEM).", show_default=False
    ),
    cert: Path | None = typer.Option(
        None,
        "--cert",
        metavar="CERT.pem",
        help="SOAP: client certificate the service trusts (PEM).",
        show_default=False,
    ),
    encrypt_cert: Path | None = typer.Option(
        None,
        "--encrypt-cert",
        metavar="CERT.pem",
        help="SOAP: service certificate to encrypt to (default: from the WSDL).",
        show_default=False,
    ),
    key_file: Path | None = typer.Option(None, "--key-file", hidden=True, help="Old name of --key."),
    cert_file: Path | None = typer.Option(None, "--cert-file", hidden=True, help="Old name of --cert."),
    service_cert_file: Path | None = typer.Option(
        None, "--service-cert-file", hidden=True, help="Old name of --encrypt-cert."
    ),
    request: Path | None = typer.Option(
        None,
        "--request",
        help="SOAP: a sample request envelope for the happy path (default: built from the WSDL).",
        show_default=False,
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Flow file to write (YAML); default: stdout.", show_default=False
    ),
) -> None:
    """Generate a flow file from an OpenAPI or WSDL contract.

    The flow holds a connection (references only, never secret values) and, per
    operation, the happy path plus security variations with their expected
    outcome.  What could not be generated is said on stderr."""
    from compare.flow.model import dump_flow

    # One flag name per concept (docs/cli.md): --key/--cert/--encrypt-cert as on
    # 'soap check --url'; the first names of this group stay as hidden aliases.
    key_file = merge_alias(key, key_file, "--key", "--key-file")
    cert_file = merge_alias(cert, cert_file, "--cert", "--cert-file")
    service_cert_file = merge_alias(encrypt_cert, service_cert_file, "--encrypt-cert", "--service-cert-file")
    if (openapi is None) == (wsdl is None):
        raise InputError("give exactly one of --openapi SPEC or --wsdl WSDL")
    if expired_token_env and expired_token_file:
        raise InputError("give --expired-token-env or --expired-token-file, not both")
    # The flow records the CA bundle as a bare path, not a file: reference.
    ca_ref = _file_ref(ca_file, output, "CA file")
    if ca_ref is not None:
        ca_ref = ca_ref.removeprefix("file:")
    if openapi is not None:
        from compare.flow.generate_openapi import generate_openapi

        if not openapi.is_file():
            raise InputError(f"OpenAPI spec not found: {openapi}")
        if key_file or cert_file or service_cert_file or request:
            raise InputError("--key/--cert/--encrypt-cert/--request apply to --wsdl flows")
        flow, notes = generate_openapi(
            openapi,
            roles=roles,
            base_url=base_url,
            token=_env_name(token_env, "--token-env") or "env:APISEC_TOKEN",
            expired_token=_env_name(expired_token_env, "--expired-token-env")
            or _file_ref(expired_token_file, output, "expired token file"),
            public_key=_file_ref(public_key, output, "public key"),
            ca_file=ca_ref,
        )
    else:
        from compare.flow.generate_wsdl import generate_wsdl

        assert wsdl is not None
        if not wsdl.is_file():
            raise InputError(f"WSDL not found: {wsdl}")
        if request is not None and not request.is_file():
            raise InputError(f"request file not found: {request}")
        if roles or expired_token_env or expired_token_file or public_key:
            raise InputError("--roles/--expired-token-*/--public-key apply to --openapi flows")
        if key_file is None or cert_file is None:
            raise InputError("a SOAP flow needs --key and --cert (the client identity)")
        flow, notes = generate_wsdl(
            wsdl,
            base_url=base_url,
            key=_file_ref(key_file, output, "key file"),  # type: ignore[arg-type]
            cert=_file_ref(cert_file, output, "certificate file"),  # type: ignore[arg-type]
            service_cert=_file_ref(service_cert_file, output, "service certificate file"),
            request=request,
            ca_file=ca_ref,
        )
    text = dump_flow(flow)  # validated against the flow schema: never write a flow `flow run` refuses
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write(output, text)
        n = sum(len(op["steps"]) for op in flow["operations"])
        print(f"wrote {output}: {len(flow['operations'])} operations, {n} steps", file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)


def _load(flow_file: Path) -> dict:
    from compare.flow.model import load_flow

    return load_flow(flow_file)


ONLY_HELP = "Only these steps: a step name, an operation name or a variation (repeatable, comma-separated)."


@app.command("preview")
def preview_command(
    flow_file: Path = typer.Argument(..., help="Flow file (YAML)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Override the flow's base URL.", show_default=False
    ),
    only: list[str] = typer.Option([], "--only", help=ONLY_HELP, show_default=False),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write the preview to this file.", show_default=False
    ),
) -> None:
    """Show the raw requests every step would send, secrets redacted; nothing is sent.

    The pre-deployment view: the same builder and HTTP session as 'flow run'."""
    from compare.flow.preview import preview

    text = preview(_load(flow_file), base_url=base_url, only=split_csv(only) or None)
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write(output, text)


@app.command("run")
def run_command(
    flow_file: Path = typer.Argument(..., help="Flow file (YAML)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Override the flow's base URL.", show_default=False
    ),
    ca_file: Path | None = typer.Option(
        None, "--ca-file", help="PEM CA bundle that verifies the service.", show_default=False
    ),
    only: list[str] = typer.Option([], "--only", help=ONLY_HELP, show_default=False),
    output: Path | None = typer.Option(None, "--output", "-o", help="Folder to write the reports into."),
    formats: list[str] = typer.Option(
        ["text"],
        "--format",
        "-f",
        help="Report formats as for 'apisec compare run' (text, md, html, json, sarif, junit, all).",
    ),
    fail_on: FailOn | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a step failed at or above this severity (default high)."
    ),
    baseline: Path | None = typer.Option(
        None, "--baseline", help="A previous flow run's assessment.json: mark findings new/fixed/unchanged."
    ),
    allow_incomplete: bool = typer.Option(
        False,
        "--allow-incomplete",
        help="Pass the gate even when some steps could not run (missing secret, unreachable service, "
        "happy path refused). Without it an incomplete run exits 1.",
    ),
    timeout: float = typer.Option(10.0, "--timeout", min=0.5, max=120, help="Seconds per request."),
) -> None:
    """Send the flow's steps and report each step as a finding.

    The raw exchanges are captured (redacted); every report format, --fail-on,
    --baseline and 'apisec compare report' work as for 'apisec compare run'.

    Exit codes: 0 no step failed at or above --fail-on, 1 one did or a step could
    not run (unless --allow-incomplete), 2 bad input."""
    import time

    from compare.baseline import apply_baseline, load_baseline
    from compare.cli_compare import _emit
    from compare.flow.run import assessment, run_flow
    from compare.model import now_iso
    from compare.reporters import parse_formats

    fmts = parse_formats(formats)
    if ca_file is not None and not ca_file.is_file():
        raise InputError(f"CA file not found: {ca_file}")
    flow = _load(flow_file)
    previous = load_baseline(baseline) if baseline is not None else None
    started, t0 = now_iso(), time.perf_counter()
    findings = run_flow(
        flow, base_url=base_url, ca_file=ca_file, only=split_csv(only) or None, timeout=timeout
    )
    result = assessment(
        flow, findings, flow_file=str(flow_file), started=started, seconds=time.perf_counter() - t0
    )
    if previous is not None:
        result = apply_baseline(result, previous)
    code = _emit(result, output, fmts, fail_on.value if fail_on else None, allow_incomplete)
    raise typer.Exit(code)


@app.command("export")
def export_command(
    flow_file: Path = typer.Argument(..., help="Flow file (YAML)."),
    postman: Path = typer.Option(..., "--postman", help="Postman Collection v2.1 file to write."),
) -> None:
    """Export the flow as a Postman Collection v2.1 with a pm.test per step.

    A folder per operation, a request per step, collection variables for the
    base URL and the credentials (never their values).  Steps a static
    collection cannot run honestly are left out and listed."""
    from compare.flow.postman import export_postman

    collection, left_out = export_postman(_load(flow_file))
    import json

    atomic_write(postman, json.dumps(collection, indent=2, ensure_ascii=False) + "\n")
    n = sum(len(f["item"]) for f in collection["item"])
    print(f"wrote {postman}: {len(collection['item'])} folders, {n} requests")
    for name, why in left_out:
        print(f"left out {name}: {why}")
