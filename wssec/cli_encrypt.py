"""``apisec soap encrypt`` and ``apisec soap decrypt``: the CLI face of
:mod:`wssec.encryption`.  Parses arguments, calls the library, writes the
output atomically (no partial file on failure) and maps errors to exit codes
through the exceptions' ``exit_code``.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum

import typer

from compare.cliutil import (
    InputError,
    OutputFormat,
    atomic_write,
    print_json,
    read_input,
    read_secret,
    split_csv,
    wrote,
)
from wssec.cli import app
from wssec.encryption import KEY_IDENTIFIERS, Decryptor, Encryptor
from wssec.safexml import parse_xml, serialize


class CipherName(StrEnum):
    aes256_gcm = "aes256-gcm"
    aes128_gcm = "aes128-gcm"
    aes256_cbc = "aes256-cbc"
    aes128_cbc = "aes128-cbc"
    tripledes_cbc = "tripledes-cbc"
    aes192_gcm = "aes192-gcm"
    aes192_cbc = "aes192-cbc"


class KeyTransportName(StrEnum):
    rsa_oaep = "rsa-oaep"
    rsa_oaep_sha256 = "rsa-oaep-sha256"
    rsa_1_5 = "rsa-1_5"


KeyIdentifierName = StrEnum("KeyIdentifierName", {k.replace("-", "_"): k for k in KEY_IDENTIFIERS})


def _debug_requested(ctx: typer.Context) -> bool:
    """``apisec --debug …``: the root command's flag."""
    return bool(ctx.find_root().params.get("debug"))


def _enable_debug_log(ctx: typer.Context) -> None:
    """With --debug, the decryption failure detail (kept from callers to avoid
    an oracle) is printed locally on stderr."""
    if _debug_requested(ctx):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("apisec: debug: %(name)s: %(message)s"))
        logger = logging.getLogger("wssec")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


@app.command("encrypt")
def encrypt_command(
    input: str = typer.Argument(..., metavar="IN", help="SOAP message to encrypt ('-' for stdin)."),
    output: str = typer.Option(
        ..., "-o", "--output", help="Where to write the encrypted message ('-' for stdout)."
    ),
    recipient: str = typer.Option(
        ..., "--recipient", metavar="CERT.pem", help="The recipient's X.509 certificate (RSA key)."
    ),
    encrypt: list[str] = typer.Option(
        ["Body"],
        "--encrypt",
        help=(
            "Parts to encrypt, comma-separated or repeated: Body (its content), a header or other "
            "element as {namespace}local or prefix:local (headers become wsse11:EncryptedHeader)."
        ),
    ),
    cipher: CipherName = typer.Option(
        CipherName.aes256_gcm, "--cipher", help="Data encryption; GCM is authenticated, CBC is not."
    ),
    key_transport: KeyTransportName = typer.Option(
        KeyTransportName.rsa_oaep,
        "--key-transport",
        help=(
            "rsa-oaep (xmlenc#rsa-oaep-mgf1p, what WSS4J 1.6 reads) or rsa-oaep-sha256 (xmlenc11); "
            "rsa-1_5 only for legacy receivers that demand it."
        ),
    ),
    key_identifier: KeyIdentifierName = typer.Option(
        "issuer-serial", "--key-identifier", help="How the EncryptedKey names the recipient certificate."
    ),
    actor: str | None = typer.Option(
        None, "--actor", help="Security header actor/role (default: ultimate receiver)."
    ),
) -> None:
    """Encrypt a SOAP message for a recipient (WS-Security XML Encryption).

    A fresh session key encrypts the chosen parts; an xenc:EncryptedKey in the
    Security header carries it to the recipient.  Sign first (apisec soap sign)
    for sign-then-encrypt; the EncryptedKey is placed before the Signature.
    """
    parts = split_csv(encrypt)
    try:
        encryptor = Encryptor(
            recipient_cert=recipient,
            encrypt=parts,
            cipher=cipher.value,
            key_transport=key_transport.value,
            key_identifier=KeyIdentifierName(key_identifier).value,
            actor=actor,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None
    data = read_input(input, what="SOAP message")
    try:
        out = encryptor.encrypt(data)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    atomic_write(output, out)
    wrote(output, f"encrypted {', '.join(parts)} for {encryptor_subject(recipient)}")


def encryptor_subject(path: str) -> str:
    """The recipient certificate's subject CN, for the one 'wrote' line."""
    from cryptography.x509.oid import NameOID

    from wssec.keys import load_certificate

    try:
        cert = load_certificate(path)
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(cns[0].value) if cns else cert.subject.rfc4514_string()
    except Exception:  # noqa: BLE001 - only cosmetic: the file was already used to encrypt
        return str(path)


@app.command("decrypt")
def decrypt_command(
    ctx: typer.Context,
    input: str = typer.Argument(..., metavar="IN", help="Encrypted SOAP message ('-' for stdin)."),
    output: str = typer.Option(
        ..., "-o", "--output", help="Where to write the decrypted message ('-' for stdout)."
    ),
    key: str = typer.Option(
        ..., "--key", metavar="KEY.pem", help="The recipient's RSA private key (PEM, DER or PKCS#12)."
    ),
    cert: str | None = typer.Option(
        None,
        "--cert",
        metavar="CERT.pem",
        help="The key's certificate: EncryptedKeys for others are skipped.",
    ),
    password: str | None = typer.Option(
        None, "--key-password", envvar="APISEC_KEY_PASSWORD", help="Password of an encrypted key file."
    ),
    password_env: str | None = typer.Option(
        None, "--key-password-env", help="Read the key password from this environment variable."
    ),
    password_file: str | None = typer.Option(
        None, "--key-password-file", help="Read the key password from this file (first line)."
    ),
    allow_rsa15: bool = typer.Option(
        False,
        "--allow-rsa15",
        help="Accept rsa-1_5 key transport from legacy peers (open to Bleichenbacher's attack).",
    ),
    actor: str | None = typer.Option(
        None, "--actor", help="Security header actor/role (default: ultimate receiver)."
    ),
    fmt: OutputFormat = typer.Option(
        OutputFormat.text, "--format", help="What was decrypted: text lines on stderr, or json on stdout."
    ),
    json_out: bool = typer.Option(False, "--json", hidden=True, help="Old name of --format json."),
) -> None:
    """Decrypt a WS-Security encrypted SOAP message.

    Every failure of the cryptography (wrong key, tampered data, bad tag) gives
    the same 'decryption failed' (no padding oracle); 'apisec --debug' shows the
    detail locally.  This does not verify signatures: use 'apisec soap verify
    --decrypt-key' to decrypt and verify in one pass.
    """
    _enable_debug_log(ctx)
    json_out = json_out or fmt is OutputFormat.json
    if json_out and output == "-":
        raise InputError("--format json prints to stdout; write the message to a file with -o")
    password = read_secret("--key-password", value=password, env=password_env, file=password_file)
    decryptor = Decryptor(key=key, cert=cert, allow_rsa15=allow_rsa15, password=password, actor=actor)
    data = read_input(input, what="SOAP message")
    root = parse_xml(data, what="SOAP message")
    parts = decryptor.decrypt_tree(root)
    atomic_write(output, serialize(root))
    wrote(output, f"decrypted {', '.join(p.name for p in parts)}")
    summary = [
        {"name": p.name, "kind": p.kind, "algorithm": p.algorithm, "key_transport": p.key_transport}
        for p in parts
    ]
    if json_out:
        print_json({"decrypted": summary})
    else:
        for p in summary:
            print(
                f"decrypted {p['kind']:7} {p['name']}  ({p['algorithm'].rsplit('#', 1)[-1]})", file=sys.stderr
            )
