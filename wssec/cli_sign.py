"""``apisec soap sign`` and ``apisec soap verify``: the CLI face of
:class:`wssec.Signer` and :class:`wssec.Verifier`.

Only argument parsing, printing and exit codes live here: 0 valid, 1
refused (one line saying why), 2 input error.  Output files are written
atomically, so a failure never leaves a half-signed message behind.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import typer

from compare.cliutil import (
    FORMAT_OPTION,
    InputError,
    OutputFormat,
    atomic_write,
    name_flags,
    print_json,
    print_refusal,
    read_input,
    read_secret,
    split_csv,
    wrote,
)
from wssec.cli import app
from wssec.cli_policy import ALLOW_EKU_OPTION, MIN_RSA_BITS_OPTION, key_policy
from wssec.dsig import SIGNATURE_ALGORITHMS
from wssec.errors import WssecError
from wssec.xsdtime import DEFAULT_CLOCK_SKEW


class KeyIdentifier(StrEnum):
    bst = "bst"
    ski = "ski"
    issuer_serial = "issuer-serial"
    thumbprint = "thumbprint"


class PasswordType(StrEnum):
    digest = "digest"
    text = "text"


Algorithm = StrEnum("Algorithm", {n.replace("-", "_"): n for n in SIGNATURE_ALGORITHMS})


class Digest(StrEnum):
    sha256 = "sha256"
    sha384 = "sha384"
    sha512 = "sha512"
    sha1 = "sha1"


def _parse_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"--at {value!r} is not an ISO 8601 date-time (e.g. 2025-01-31T12:00:00Z)") from None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


@app.command("sign")
def sign_cmd(
    input: str = typer.Argument(..., metavar="IN", help="SOAP 1.1/1.2 envelope to sign ('-' for stdin)."),
    output: str = typer.Option(
        ..., "-o", "--output", help="Where to write the signed message ('-' for stdout)."
    ),
    key: str = typer.Option(..., "--key", help="Signing private key (PEM, DER or PKCS#12)."),
    cert: str | None = typer.Option(
        None, "--cert", help="Certificate of --key (PEM/DER); optional only with a holder-of-key --saml."
    ),
    key_password: str | None = typer.Option(
        None, "--key-password", envvar="APISEC_KEY_PASSWORD", help="Password of an encrypted key / PKCS#12."
    ),
    key_password_env: str | None = typer.Option(
        None, "--key-password-env", help="Read the key password from this environment variable."
    ),
    key_password_file: str | None = typer.Option(
        None, "--key-password-file", help="Read the key password from this file (first line)."
    ),
    timestamp: int = typer.Option(
        300, "--timestamp", min=0, help="Lifetime of the wsu:Timestamp in seconds (0: no Timestamp)."
    ),
    username: str | None = typer.Option(None, "--username", help="Add a UsernameToken for this user."),
    password: str | None = typer.Option(
        None,
        "--password",
        envvar="APISEC_WSSE_PASSWORD",
        help="UsernameToken password (or $APISEC_WSSE_PASSWORD); prefer --password-env/--password-file.",
    ),
    password_env: str | None = typer.Option(
        None, "--password-env", help="Read the UsernameToken password from this environment variable."
    ),
    password_file: str | None = typer.Option(
        None, "--password-file", help="Read the UsernameToken password from this file (first line)."
    ),
    password_type: PasswordType = typer.Option(
        PasswordType.digest, "--password-type", help="digest (SHA-1 of nonce+created+password) or text."
    ),
    key_identifier: KeyIdentifier = typer.Option(
        KeyIdentifier.bst,
        "--key-identifier",
        help="How KeyInfo names the certificate: bst (embedded), ski, issuer-serial, thumbprint.",
    ),
    sign: list[str] = typer.Option(
        ["Body,Timestamp"],
        "--sign",
        help="Parts to sign, comma separated: Body, Timestamp, UsernameToken, Assertion, "
        "a WS-Addressing header (To, Action, MessageID…) or {namespace}Local.",
    ),
    algorithm: Algorithm = typer.Option("rsa-sha256", "--algorithm", help="Signature algorithm."),  # type: ignore[valid-type]
    digest: Digest = typer.Option(Digest.sha256, "--digest", help="Digest algorithm of the References."),
    saml: str | None = typer.Option(
        None, "--saml", help="SAML assertion (already signed) to carry and reference."
    ),
    actor: str | None = typer.Option(
        None, "--actor", help="SOAP actor/role of the Security header (default: the ultimate receiver)."
    ),
) -> None:
    """Sign a SOAP message: add a wsse:Security header with a Timestamp, the
    signer's X.509 token and an XML signature over the listed parts."""
    from wssec.signer import Signer

    data = read_input(input, what="SOAP message")
    password = read_secret("--password", value=password, env=password_env, file=password_file)
    key_password = read_secret(
        "--key-password", value=key_password, env=key_password_env, file=key_password_file
    )
    if (username is None) != (password is None):
        raise InputError("--username and --password go together")
    saml_bytes = read_input(saml, what="SAML assertion") if saml else None
    try:
        signer = Signer(
            key=key,
            cert=cert,
            key_password=key_password,
            timestamp=timestamp,
            username=username,
            password=password,
            password_type=password_type.value,
            key_identifier=key_identifier.value,
            sign=split_csv(sign),
            signature_algorithm=str(algorithm.value),
            digest_algorithm=digest.value,
            saml=saml_bytes,
            actor=actor,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    signed = signer.sign(data)
    atomic_write(output, signed)
    wrote(output, f"signed {', '.join(split_csv(sign))}")


# The Verifier's parameter names, as this command spells them (errors name flags).
_VERIFY_FLAGS = {
    "decrypt_key": "--decrypt-key",
    "saml_trust": "--saml-trust",
    "saml_audience": "--saml-audience",
    "audience=": "--saml-audience",
    "allow_sha1": "--allow-sha1",
    "strict_transforms": "--strict-transforms",
    "certs=": "--certs",
}


@app.command("verify")
def verify_cmd(
    input: str = typer.Argument(..., metavar="IN", help="Signed SOAP message ('-' for stdin)."),
    trust: list[str] = typer.Option(
        [], "--trust", help="Trusted CA (or pinned signer) certificate, PEM/DER; repeatable."
    ),
    certs: list[str] = typer.Option(
        [],
        "--certs",
        help="Known signer certificates for SKI/thumbprint/issuer-serial references; repeatable.",
    ),
    require: list[str] = typer.Option(
        ["Body,Timestamp"], "--require", help="Parts that must be signed (comma separated; '' for none)."
    ),
    users: str | None = typer.Option(
        None, "--users", help="user:password file; a valid UsernameToken is then required."
    ),
    max_skew: float = typer.Option(
        DEFAULT_CLOCK_SKEW, "--clock-skew", min=0, help="Clock skew tolerated, seconds."
    ),
    old_max_skew: float | None = typer.Option(
        None, "--max-skew", min=0, hidden=True, help="Old name of --clock-skew."
    ),
    max_age: float = typer.Option(
        300, "--max-age", min=1, help="Oldest acceptable Timestamp/UsernameToken Created, seconds."
    ),
    at: str | None = typer.Option(None, "--at", help="Verify as of this ISO 8601 time instead of now."),
    decrypt_key: str | None = typer.Option(
        None, "--decrypt-key", help="Private key to decrypt xenc:EncryptedKey."
    ),
    saml_trust: list[str] = typer.Option(
        [], "--saml-trust", help="Trusted SAML issuer certificate(s); repeatable."
    ),
    saml_audience: str | None = typer.Option(None, "--saml-audience", help="Required SAML audience."),
    actor: str | None = typer.Option(
        None, "--actor", help="SOAP actor/role whose Security header to process (default: ultimate receiver)."
    ),
    allow_sha1: bool = typer.Option(
        False, "--allow-sha1", help="Accept SHA-1 signatures/digests (legacy peers)."
    ),
    strict_transforms: bool = typer.Option(
        False,
        "--strict-transforms",
        help="Refuse References whose Transforms are not exactly one exc-c14n "
        "(by default enveloped-signature before it, as node-soap sends, is accepted).",
    ),
    min_rsa_bits: int = MIN_RSA_BITS_OPTION,
    allow_eku: list[str] = ALLOW_EKU_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Verify a signed SOAP message: every signature, the signer's chain to
    --trust, the Timestamp, the UsernameToken, and that the required parts
    (the envelope's own Body, by node identity) are signed."""
    from wssec.verifier import Verifier

    data = read_input(input, what="SOAP message")
    if not trust:
        raise InputError("--trust is required (the CA or pinned certificate signers must chain to)")
    when = _parse_at(at)
    policy = key_policy(min_rsa_bits, allow_eku)
    if old_max_skew is not None:
        max_skew = old_max_skew
    for path in [
        *trust,
        *certs,
        *saml_trust,
        *([users] if users else []),
        *([decrypt_key] if decrypt_key else []),
    ]:
        read_input(path, what="input")  # one clear 'file not found' line before anything else
    verifier = Verifier(
        trust=trust,
        certs=certs,
        require=split_csv(require),
        max_skew=max_skew,
        max_age=max_age,
        users=users,
        replay_cache=None,  # one message per process: nothing to remember
        allow_sha1=allow_sha1,
        strict_transforms=strict_transforms,
        decrypt_key=_load_decrypt_key(decrypt_key),
        saml_trust=saml_trust or None,
        saml_audience=saml_audience,
        actor=actor,
        key_policy=policy,
    )
    try:
        result = verifier.verify(data, at=when)
    except WssecError as exc:
        name_flags(exc, _VERIFY_FLAGS)
        if fmt is OutputFormat.json:
            print_refusal(exc)
        raise
    if fmt is OutputFormat.json:
        print_json(result.to_json())
        return
    signer = result.signer_certificate.subject.rfc4514_string() if result.signer_certificate else "-"
    line = f"valid: signed {', '.join(result.signed_parts) or 'nothing'}; signer {signer}"
    if result.username:
        line += f"; user {result.username}"
    if result.timestamp_expires:
        line += f"; expires {result.timestamp_expires:%Y-%m-%dT%H:%M:%SZ}"
    if result.encrypted:
        line += f"; decrypted {len(result.encrypted)} part(s)"
    if result.saml is not None:
        line += f"; SAML subject {getattr(result.saml, 'subject', '?')}"
    print(line)


def _load_decrypt_key(path: str | None):
    if path is None:
        return None
    from wssec.keys import load_private_key

    return load_private_key(read_input(path, what="decryption key"))
