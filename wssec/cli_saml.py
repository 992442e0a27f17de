"""``apisec soap saml issue|verify|xsw``: the CLI face of :mod:`wssec.saml`.

Parses arguments, calls the library, writes output atomically and maps
errors to the exit-code contract: 0 valid, 1 refused (bad signature,
untrusted key, expired, wrong audience/recipient, wrapping), 2 unusable input
(unreadable file, malformed XML, bad key).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import urllib.parse
from enum import StrEnum
from pathlib import Path

import typer

from compare.cliutil import (
    FORMAT_OPTION,
    InputError,
    OutputFormat,
    atomic_write,
    merge_alias,
    name_flags,
    print_json,
    print_refusal,
    read_input,
    read_secret,
    wrote,
)
from wssec.cli import app
from wssec.cli_policy import ALLOW_EKU_OPTION, MIN_RSA_BITS_OPTION, key_policy
from wssec.errors import WssecError
from wssec.saml import Issuer, SamlTrust, verify
from wssec.saml.times import parse_instant
from wssec.saml.xsw import VARIANTS, wrap
from wssec.xsdtime import DEFAULT_CLOCK_SKEW

saml_app = typer.Typer(
    name="saml",
    help=(
        "SAML 1.1/2.0 tokens: issue signed assertions, verify assertions and Responses "
        "(signature wrapping, comment injection, audience, recipient and validity checked), "
        "and generate XSW1-XSW8 attack variants to test relying parties."
    ),
    no_args_is_help=True,
)
app.add_typer(saml_app, name="saml")


class Confirmation(StrEnum):
    bearer = "bearer"
    sender_vouches = "sender-vouches"
    holder_of_key = "holder-of-key"


class SamlVersion(StrEnum):
    v2 = "2.0"
    v1 = "1.1"


def _attributes(values: list[str]) -> list[tuple[str, str]]:
    out = []
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--attribute {item!r} is not name=value")
        out.append((name.strip(), value))
    return out


def _unwrap_post_binding(data: bytes) -> bytes:
    """Accept what the HTTP-POST binding carries (a base64 ``SAMLResponse``
    value, possibly URL-encoded, as copied from a browser) as well as XML."""
    text = data.strip()
    if not text or text.startswith(b"<"):
        return data
    if text.startswith(b"SAMLResponse="):
        text = text.split(b"=", 1)[1].split(b"&", 1)[0]
    text = urllib.parse.unquote_to_bytes(text)
    try:
        decoded = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return data  # not base64: let the XML parser say what is wrong
    return decoded if decoded.lstrip().startswith(b"<") else data


def _instant(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value, "--at")
    except WssecError:
        raise InputError(
            f"--at {value!r} is not an ISO 8601 UTC instant (e.g. 2026-01-31T12:00:00Z)"
        ) from None


@saml_app.command("issue")
def issue_command(
    output: str = typer.Option(..., "-o", "--output", help="Where to write the assertion ('-' for stdout)."),
    key: str = typer.Option(
        ..., "--key", metavar="KEY.pem", help="Issuer's private key (PEM, DER or PKCS#12)."
    ),
    cert: str = typer.Option(
        ..., "--cert", metavar="CERT.pem", help="Issuer's certificate (goes in KeyInfo)."
    ),
    issuer: str = typer.Option(..., "--issuer", metavar="URI", help="Issuer entity id (the IdP/STS)."),
    subject: str = typer.Option(
        ..., "--subject", metavar="NAME", help="NameID of the authenticated subject."
    ),
    audience: list[str] = typer.Option(
        [], "--audience", metavar="URI", help="Audience (relying party entity id); repeat for several."
    ),
    confirmation: Confirmation = typer.Option(
        Confirmation.bearer, "--confirmation", help="SubjectConfirmation method."
    ),
    confirmation_cert: str | None = typer.Option(
        None,
        "--confirmation-cert",
        metavar="CERT.pem",
        help="holder-of-key: certificate of the key the presenter signs messages with.",
    ),
    attribute: list[str] = typer.Option(
        [], "--attribute", metavar="NAME=VALUE", help="Attribute; repeat (same name twice = two values)."
    ),
    lifetime: int = typer.Option(300, "--lifetime", metavar="SECONDS", min=1, help="Validity from now."),
    saml_version: SamlVersion = typer.Option(SamlVersion.v2, "--saml-version", help="SAML version."),
    recipient: str | None = typer.Option(
        None,
        "--recipient",
        metavar="URL",
        help="SAML 2.0: SubjectConfirmationData Recipient (ACS/endpoint URL).",
    ),
    in_response_to: str | None = typer.Option(
        None, "--in-response-to", metavar="ID", help="SAML 2.0: the AuthnRequest ID this token answers."
    ),
    response: bool = typer.Option(
        False, "--response", help="Wrap the signed assertion in a signed SAML 2.0 samlp:Response."
    ),
    key_password: str | None = typer.Option(
        None, "--key-password", envvar="APISEC_KEY_PASSWORD", help="Password of an encrypted key."
    ),
    key_password_env: str | None = typer.Option(
        None, "--key-password-env", help="Read the key password from this environment variable."
    ),
    key_password_file: str | None = typer.Option(
        None, "--key-password-file", help="Read the key password from this file (first line)."
    ),
) -> None:
    """Issue a signed SAML assertion (enveloped exc-c14n rsa-sha256 signature)."""
    if confirmation is Confirmation.holder_of_key and not confirmation_cert:
        raise InputError("--confirmation holder-of-key needs --confirmation-cert CERT.pem")
    if confirmation_cert and confirmation is not Confirmation.holder_of_key:
        raise InputError("--confirmation-cert only applies to --confirmation holder-of-key")
    if response and saml_version is SamlVersion.v1:
        raise InputError("--response is SAML 2.0 only")
    key_password = read_secret(
        "--key-password", value=key_password, env=key_password_env, file=key_password_file
    )
    idp = Issuer(
        key=key, cert=cert, issuer=issuer, key_password=key_password, saml_version=saml_version.value
    )
    options = dict(
        audience=audience or None,
        confirmation=confirmation.value,
        confirmation_cert=confirmation_cert,
        attributes=_attributes(attribute),
        lifetime=lifetime,
        recipient=recipient,
    )
    if response:
        data = idp.issue_response(
            subject,
            destination=recipient,
            in_response_to=in_response_to,
            **options,  # type: ignore[arg-type]
        )
    else:
        data = idp.issue(subject, in_response_to=in_response_to, **options)
    atomic_write(output, data)
    kind = "signed samlp:Response" if response else f"signed SAML {saml_version.value} assertion"
    wrote(output, f"{kind} for {subject}")


@saml_app.command("verify")
def verify_command(
    file: str = typer.Argument(
        ..., metavar="FILE", help="Assertion or samlp:Response, XML or base64 SAMLResponse ('-' for stdin)."
    ),
    trust: list[str] = typer.Option(
        [],
        "--trust",
        metavar="CERT.pem",
        help="Trusted CA or pinned IdP certificate(s); repeat or use a PEM bundle.",
    ),
    trust_metadata: list[str] = typer.Option(
        [],
        "--trust-metadata",
        metavar="METADATA.xml",
        help="Trust IdP(s) by SAML metadata: pinned signing certificates, Issuer must be the entityID.",
    ),
    audience: list[str] = typer.Option(
        [], "--audience", metavar="URI", help="Accepted audience (your entity id). Unchecked if omitted."
    ),
    at: str | None = typer.Option(
        None, "--at", metavar="ISO8601", help="Verify as of this instant (default: now)."
    ),
    recipient: str | None = typer.Option(
        None, "--recipient", metavar="URL", help="Required Recipient/Destination (your ACS/endpoint URL)."
    ),
    in_response_to: str | None = typer.Option(
        None, "--in-response-to", metavar="ID", help="ID of your AuthnRequest the Response must answer."
    ),
    allow_multiple: bool = typer.Option(
        False, "--allow-multiple", help="Accept several assertions in a Response."
    ),
    allow_sha1: bool = typer.Option(False, "--allow-sha1", help="Accept legacy rsa-sha1/sha1 signatures."),
    ignore_pinned_cert_dates: bool = typer.Option(
        False,
        "--ignore-pinned-cert-dates",
        help="Trust a pinned IdP certificate outside its validity dates (SAML metadata profile).",
    ),
    clock_skew: float = typer.Option(
        DEFAULT_CLOCK_SKEW, "--clock-skew", metavar="SECONDS", min=0, help="Tolerated clock skew, seconds."
    ),
    min_rsa_bits: int = MIN_RSA_BITS_OPTION,
    allow_eku: list[str] = ALLOW_EKU_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Verify a SAML assertion or Response: exit 0 valid, 1 refused, 2 unusable input."""
    if bool(trust) == bool(trust_metadata):
        raise InputError("give either --trust CERT.pem or --trust-metadata METADATA.xml (one of them)")
    data = _unwrap_post_binding(read_input(file, what="SAML"))
    when = _instant(at)
    policy = key_policy(min_rsa_bits, allow_eku)
    anchors: object = list(trust)
    if trust_metadata:
        parts = [
            SamlTrust.from_metadata(
                read_input(m, what="SAML metadata"), check_pinned_dates=not ignore_pinned_cert_dates
            )
            for m in trust_metadata
        ]
        anchors = SamlTrust.merge(parts)  # entities stay apart: each Issuer, its own keys
    try:
        result = verify(
            data,
            trust=anchors,  # type: ignore[arg-type]
            audience=audience or None,
            at=when,
            recipient=recipient,
            in_response_to=in_response_to,
            allow_multiple=allow_multiple,
            allow_sha1=allow_sha1,
            clock_skew=clock_skew,
            check_pinned_dates=not ignore_pinned_cert_dates,
            key_policy=policy,
        )
    except WssecError as exc:
        name_flags(exc, {"audience=": "--audience", "allow_sha1": "--allow-sha1"})
        if fmt is OutputFormat.json and exc.exit_code == 1:
            print_refusal(exc)
        raise
    if fmt is OutputFormat.json:
        print_json(result.to_json())
        return
    lines = [
        f"valid SAML {result.version} assertion {result.assertion_id} (signed by {result.signed_by})",
        f"  subject:         {result.subject}",
        f"  issuer:          {result.issuer}",
        f"  signer:          {result.signer_certificate.subject.rfc4514_string()}",
        f"  audience:        {', '.join(result.audiences) or '(none)'}",
        f"  confirmation:    {result.confirmation}",
        f"  not_on_or_after: {result.not_on_or_after.isoformat() if result.not_on_or_after else '-'}",
    ]
    for name, values in result.attributes.items():
        lines.append(f"  attribute {name}: {', '.join(values)}")
    if not audience:
        lines.append("  warning: audience not checked (pass --audience with your entity id)")
    print("\n".join(lines))


@saml_app.command("xsw")
def xsw_command(
    file: str = typer.Argument(..., metavar="RESPONSE", help="A signed SAML 2.0 samlp:Response."),
    output_dir: str | None = typer.Option(
        None, "-o", "--output", metavar="DIR", help="Folder for XSW1.xml ... XSW8.xml.", show_default=False
    ),
    old_output_dir: str | None = typer.Option(
        None, "--output-dir", hidden=True, help="Old name of --output."
    ),
    evil_subject: str = typer.Option("attacker", "--evil-subject", help="NameID the attack injects."),
) -> None:
    """Write the XSW1-XSW8 signature-wrapping variants of a signed Response (to test a relying party).

    XSW1/XSW2 need a signed Response, XSW3-XSW8 a signed Assertion; variants
    that do not apply to the input are skipped with a note.
    """
    output_dir = merge_alias(output_dir, old_output_dir, "--output", "--output-dir")
    if not output_dir:
        raise InputError("give -o/--output DIR (the folder for XSW1.xml ... XSW8.xml)")
    data = read_input(file, what="SAML Response")
    folder = Path(output_dir)
    if not folder.is_dir():
        raise InputError(f"output folder does not exist: {folder}")
    attacks: dict[str, bytes] = {}
    for name in VARIANTS:  # build every variant first: a failure leaves no file behind
        try:
            attacks[name] = wrap(name, data, evil_subject=evil_subject)
        except WssecError as exc:
            if exc.exit_code == 2 and "must be signed" in str(exc):
                print(f"{name}: skipped ({exc})")
                continue
            raise
    if not attacks:
        raise InputError("no XSW variant applies: the Response and its assertion are both unsigned")
    for name, attack in attacks.items():
        atomic_write(folder / f"{name}.xml", attack)
        wrote(folder / f"{name}.xml", f"{name} signature-wrapping variant")
