"""``apisec soap check``: SOAP compliance findings from a WSDL, a captured
message or a running service.

Parses arguments, calls :mod:`wssec.checks`, prints findings (text or JSON)
and maps the outcome to the exit-code contract: 0 when no check fails at or
above ``--fail-on``, 1 when one does, 2 for unusable input (unreadable
files, a WSDL that cannot be fetched or parsed, a live baseline that the
service refuses).
"""

from __future__ import annotations

from pathlib import Path

import typer

from compare.cliutil import (
    FAIL_ON_OPTION,
    FORMAT_OPTION,
    FailOn,
    InputError,
    OutputFormat,
    atomic_write,
    emit_findings,
    exit_with,
    merge_alias,
    read_input,
    read_secret,
    wrote,
)
from compare.findings import Finding, dumps
from wssec.checks.fetch import is_url
from wssec.cli import app


@app.command("check")
def check_command(
    wsdl: str | None = typer.Option(
        None,
        "--wsdl",
        metavar="FILE|URL",
        help="Static checks of the WSDL's WS-SecurityPolicy (no-security-policy, weak-algorithm-suite, "
        "no-timestamp, body-not-signed, body-not-encrypted, plaintext-password, http-endpoint).",
    ),
    message: str | None = typer.Option(
        None,
        "--message",
        metavar="FILE",
        help="Judge a captured SOAP message against WS-I Basic Security Profile 1.1 rules "
        "(one finding per rule, wssec.bsp-rNNNN).",
    ),
    url: str | None = typer.Option(
        None,
        "--url",
        metavar="URL",
        help="Probe a running service: a properly signed baseline must be accepted, then each probe "
        "(unsigned, untrusted, tampered, wrapped, replayed, expired, DTD, malformed, plain HTTP) must be refused.",
    ),
    sample: Path | None = typer.Option(
        None, "--sample", metavar="REQUEST.xml", help="With --url: a request the service accepts when signed."
    ),
    key: Path | None = typer.Option(
        None, "--key", metavar="KEY.pem", help="With --url: the client's private key the service trusts."
    ),
    cert: Path | None = typer.Option(
        None, "--cert", metavar="CERT.pem", help="With --url: the client's certificate."
    ),
    ca_file: Path | None = typer.Option(
        None,
        "--ca-file",
        metavar="PEM",
        help="With --url: CA bundle that verifies the service's TLS certificate.",
    ),
    trust: Path | None = typer.Option(None, "--trust", hidden=True, help="Old name of --ca-file."),
    encrypt_cert: Path | None = typer.Option(
        None,
        "--encrypt-cert",
        metavar="CERT.pem",
        help="With --url: encrypt probe Bodies to this service certificate (default: the certificate the "
        "WSDL publishes, when its policy requires encryption).",
    ),
    soap_action: str | None = typer.Option(
        None, "--soap-action", help="With --url: SOAPAction to send (default: from the service's WSDL)."
    ),
    username: str | None = typer.Option(
        None, "--username", help="With --url: add a signed UsernameToken (PasswordDigest) for this user."
    ),
    password_file: Path | None = typer.Option(
        None,
        "--password-file",
        metavar="FILE",
        help="With --username: file holding the password (or set APISEC_SOAP_PASSWORD); never a flag value.",
    ),
    password_env: str | None = typer.Option(
        None,
        "--password-env",
        metavar="VAR",
        help="With --username: environment variable holding the password.",
    ),
    timeout: float = typer.Option(
        10.0, "--timeout", min=0.5, max=120.0, help="Per-request timeout, seconds."
    ),
    show_raw: bool = typer.Option(
        False, "--show-raw", help="Keep redacted request/response excerpts in the JSON findings."
    ),
    output: str | None = typer.Option(
        None, "-o", "--output", help="Also write the JSON findings document to this file (atomically)."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    fail_on: FailOn = FAIL_ON_OPTION,
) -> None:
    """Check a SOAP service's security: its WSDL policy, a captured message, or the live service.

    Exit 0 when nothing fails at or above --fail-on, 1 when something does,
    2 when the input cannot be used.
    """
    trust = merge_alias(ca_file, trust, "--ca-file", "--trust")
    if not (wsdl or message or url):
        raise InputError("give --wsdl FILE|URL, --message FILE or --url URL (with --sample, --key, --cert)")
    url_only = {"--sample": sample, "--key": key, "--cert": cert}
    if url is None:
        extra = [
            k
            for k, v in {
                **url_only,
                "--encrypt-cert": encrypt_cert,
                "--username": username,
                "--password-file": password_file,
                "--password-env": password_env,
            }.items()
            if v
        ]
        if extra:
            raise InputError(f"{', '.join(extra)} only apply to --url")
    else:
        missing = [k for k, v in url_only.items() if v is None]
        if missing:
            raise InputError(f"--url needs {', '.join(missing)}")
        if not is_url(url):
            raise InputError(f"--url must be an http(s) URL: {url}")
    for what, path in (("ca-file", trust), ("encrypt-cert", encrypt_cert)):
        if path is not None and not path.is_file():
            raise InputError(f"{what} file not found: {path}")

    findings: list[Finding] = []
    targets: list[str] = []
    if wsdl:
        from wssec.checks import check_wsdl

        if not is_url(wsdl) and not Path(wsdl).is_file():
            raise InputError(f"WSDL file not found: {wsdl}")
        findings.extend(check_wsdl(wsdl, verify=str(trust) if trust else True))
        targets.append(wsdl)
    if message:
        from wssec.checks import check_message

        findings.extend(check_message(read_input(message, what="message"), target=message))
        targets.append(message)
    if url:
        from wssec.checks import probe_service
        from wssec.checks.live import ProbeOptions
        from wssec.keys import load_certificates, load_private_key

        assert sample is not None and key is not None and cert is not None
        password = None
        if username is not None:
            import os

            if password_file is not None or password_env is not None:
                password = read_secret("--password", env=password_env, file=password_file)
            else:
                password = os.environ.get("APISEC_SOAP_PASSWORD")
            if not password:
                raise InputError(
                    "--username needs --password-env VAR, --password-file FILE or APISEC_SOAP_PASSWORD"
                )
        elif password_file is not None or password_env is not None:
            raise InputError("--password-env/--password-file need --username")
        sample_bytes = read_input(sample, what="sample request")
        key_obj = load_private_key(read_input(key, what="key"))
        certs = load_certificates(read_input(cert, what="certificate"))
        options = ProbeOptions(
            trust=str(trust) if trust else None,
            record_raw=show_raw,
            encrypt_cert=str(encrypt_cert) if encrypt_cert else None,
            soap_action=soap_action,
            timeout=timeout,
            username=username,
            password=password,
        )
        findings.extend(probe_service(url, sample_bytes, key_obj, certs, options=options))
        targets.append(url)
    if output:
        atomic_write(output, dumps(findings, targets) + "\n")
        wrote(output, "JSON findings")
    code = emit_findings(findings, fmt, targets=targets, fail_on=fail_on, title="apisec soap check")
    exit_with(code)


@app.command("policy")
def policy_command(
    source: str = typer.Argument(
        ..., metavar="WSDL|POLICY|URL", help="A WSDL (file or URL) or a wsp:Policy file."
    ),
    operation: str | None = typer.Option(None, "--operation", help="Only this WSDL operation."),
    ca_file: Path | None = typer.Option(
        None, "--ca-file", metavar="PEM", help="CA bundle for an https WSDL URL."
    ),
    trust: Path | None = typer.Option(None, "--trust", hidden=True, help="Old name of --ca-file."),
) -> None:
    """Show a WS-SecurityPolicy as data, with the Signer/Encryptor/Verifier settings that satisfy it (JSON).

    Per operation and direction, every policy alternative and its settings:
    what a client must sign and encrypt, with which algorithms and key
    reference, and what a receiver must require.
    """
    from compare.cliutil import print_json
    from wssec.checks.static import load_wsdl
    from wssec.policy import WSDL11_NS, parse_policy_alternatives, parse_wsdl_policy
    from wssec.safexml import parse_xml

    trust = merge_alias(ca_file, trust, "--ca-file", "--trust")
    if trust is not None and not trust.is_file():
        raise InputError(f"CA file not found: {trust}")
    if not is_url(source) and not Path(source).is_file():
        raise InputError(f"file not found: {source}")
    data = load_wsdl(source, verify=str(trust) if trust else True)
    root = parse_xml(data, what="policy document", max_bytes=len(data) + 1)

    def alt(p) -> dict:
        s = p.to_settings()
        return {
            "policy": p.to_dict(),
            "weaknesses": p.weaknesses(),
            "settings": {
                "sign": s.sign,
                "encrypt": s.encrypt,
                "order": s.order,
                "signer": s.signer,
                "encryptor": s.encryptor,
                "verifier": s.verifier,
            },
        }

    if root.tag == f"{{{WSDL11_NS}}}definitions":
        wp = parse_wsdl_policy(root)
        ops = [o for o in wp.operations if operation in (None, o.operation)]
        if operation is not None and not ops:
            raise InputError(f"no operation {operation!r} in the WSDL")
        doc = {
            "source": source,
            "target_namespace": wp.target_namespace,
            "addresses": list(wp.addresses),
            "service_certificates": len(wp.service_certificates),
            "operations": [
                {
                    "service": o.service,
                    "port": o.port,
                    "binding": o.binding,
                    "operation": o.operation,
                    "address": o.address,
                    "soap_version": o.soap_version,
                    "soap_action": o.soap_action,
                    "input": [alt(p) for p in o.input],
                    "output": [alt(p) for p in o.output],
                }
                for o in ops
            ],
        }
    else:
        if operation is not None:
            raise InputError("--operation applies to a WSDL, not to a policy file")
        doc = {"source": source, "alternatives": [alt(p) for p in parse_policy_alternatives(root)]}
    print_json(doc)
