"""``apisec rest jwt verify|inspect|probe``: the CLI face of :mod:`rest.jwt`.

Only argument handling lives here: files are read with
:func:`compare.cliutil.read_input`, secrets come from environment variables
(never argv), and errors carry their exit code (0 valid, 1 refused or a
failed check, 2 input error).
"""

from __future__ import annotations

import datetime as dt
import sys

import typer

from compare.cliutil import (
    FAIL_ON_OPTION,
    FORMAT_OPTION,
    FailOn,
    InputError,
    OutputFormat,
    emit_findings,
    exit_with,
    print_json,
    print_refusal,
    read_input,
    read_secret,
    split_csv,
)
from rest.cli import app as rest_app
from rest.errors import BadInput, TokenRejected

app = typer.Typer(
    name="jwt",
    help=(
        "JWT validation by RFC 8725, untrusted inspection, and forged-token probes against a live API "
        "(alg none, stripped/tampered signatures, HS/RS key confusion, embedded jwk, jku, kid injection, "
        "weak HMAC secrets, psychic ECDSA signatures, and white-box claim checks)."
    ),
    no_args_is_help=True,
)
rest_app.add_typer(app, name="jwt")


def _token_arg(token: str) -> str:
    """TOKEN may be '-' (stdin) or '@FILE' so it need not appear in argv/ps."""
    if token == "-":
        return sys.stdin.read().strip()
    if token.startswith("@"):
        return read_input(token[1:], what="token").decode("utf-8", "replace").strip()
    return token.strip()


def _parse_at(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--at must be UNIX seconds or ISO 8601, got {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


@app.command("verify")
def verify_cmd(
    token: str = typer.Argument(..., help="The JWT, '-' to read it from stdin, or @FILE."),
    public_key: str | None = typer.Option(None, "--public-key", help="PEM public key or certificate file."),
    jwks: str | None = typer.Option(None, "--jwks", help="JWKS URL (https) or local JWKS file."),
    secret_env: str | None = typer.Option(
        None, "--secret-env", help="Name of the environment variable holding the HMAC secret (never on argv)."
    ),
    secret_file: str | None = typer.Option(
        None, "--secret-file", help="File holding the HMAC secret (first line)."
    ),
    algorithm: list[str] | None = typer.Option(
        None,
        "--algorithm",
        help="Allowed algorithm (repeatable). Default from the key: RS256, ES*, EdDSA or HS256.",
    ),
    audience: list[str] | None = typer.Option(None, "--audience", help="This API's audience (repeatable)."),
    issuer: str | None = typer.Option(None, "--issuer", help="The trusted issuer (exact match)."),
    typ: str | None = typer.Option(None, "--typ", help="Required header typ, e.g. at+jwt (RFC 9068)."),
    at: str | None = typer.Option(
        None, "--at", help="Validate as of UNIX seconds or ISO 8601 (naive = UTC)."
    ),
    leeway: float = typer.Option(
        0, "--clock-skew", min=0, help="Clock skew allowed for exp/nbf/iat, seconds."
    ),
    old_leeway: float | None = typer.Option(
        None, "--leeway", min=0, hidden=True, help="Old name of --clock-skew."
    ),
    max_age: float | None = typer.Option(
        None, "--max-age", help="Refuse tokens whose iat is older, seconds."
    ),
    ca_file: str | None = typer.Option(None, "--ca-file", help="CA bundle for fetching --jwks over HTTPS."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Validate TOKEN: exit 0 valid (claims printed), 1 refused (one-line reason), 2 input error."""
    from rest.jwt.jwks import JWKSClient, load_jwks_source
    from rest.jwt.keys import key_from_pem
    from rest.jwt.validator import Validator

    if old_leeway is not None:
        leeway = old_leeway
    sources = [s for s in (public_key, jwks, secret_env, secret_file) if s]
    if len(sources) != 1:
        raise InputError("give exactly one of --public-key, --jwks, --secret-env, --secret-file")
    kwargs: dict = {}
    default_algs: tuple[str, ...] = ("RS256",)
    if public_key:
        vk = key_from_pem(read_input(public_key, what="public key"), where="--public-key")
        kwargs["keys"] = vk
        default_algs = vk.algorithms()[:1] if vk.kind != "RSA" else ("RS256",)
    elif jwks:
        src = load_jwks_source(jwks, ca_file=ca_file)
        if isinstance(src, JWKSClient):
            kwargs["jwks_client"] = src
        else:
            kwargs["keys"] = src
            pinned = tuple(dict.fromkeys(k.alg for k in src.keys if k.alg))
            if pinned and not any(a.startswith("HS") for a in pinned):
                default_algs = pinned  # the JWKS says which algorithm each key is for
            elif all(k.kind.startswith("EC") for k in src.keys):
                default_algs = tuple(sorted({a for k in src.keys for a in k.algorithms()}))
    else:
        secret = read_secret("--secret", env=secret_env, file=secret_file, required=True)
        assert secret is not None
        kwargs["keys"] = secret.encode("utf-8")
        default_algs = ("HS256",)
    algs = tuple(algorithm) if algorithm else default_algs
    when = _parse_at(at)
    validator = Validator(
        algorithms=algs,
        audience=list(audience) if audience else None,
        issuer=issuer,
        typ=typ,
        leeway=leeway,
        max_age=max_age,
        **kwargs,
    )
    tok = _token_arg(token)
    try:
        claims = validator.validate(tok, at=when)
    except TokenRejected as exc:
        if fmt is OutputFormat.json:
            print_refusal(exc)
        raise
    if fmt is OutputFormat.json:
        print_json({"valid": True, "claims": claims})
    else:
        print("valid: signature and claims accepted")
        print_json(claims)


@app.command("inspect")
def inspect_cmd(
    token: str = typer.Argument(..., help="The JWT, '-' to read it from stdin, or @FILE."),
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Decode TOKEN WITHOUT verifying it, and list warnings (alg none, weak alg,
    long lifetime, missing exp/aud, sensitive-looking claims)."""
    from rest.jwt.inspect import NOT_VERIFIED, inspect_token

    try:
        result = inspect_token(_token_arg(token))
    except TokenRejected as exc:
        raise BadInput(str(exc)) from None
    doc = result.to_dict()
    if fmt is OutputFormat.json:
        print_json(doc)
        return
    print(f"!! {NOT_VERIFIED}")
    print("header:")
    print_json(doc["header"])
    print("claims:")
    print_json(doc["claims"])
    for name, iso in doc["times"].items():
        print(f"  {name}: {iso}")
    print(f"signature: {doc['signature_bytes']} bytes")
    if doc["warnings"]:
        print("warnings:")
        for w in doc["warnings"]:
            print(f"  - {w}")
    else:
        print("warnings: none")


@app.command("probe")
def probe_cmd(
    url: str = typer.Argument(..., help="The protected endpoint, e.g. https://api.example/me"),
    token: str | None = typer.Option(
        None, "--token", help="A VALID token the API accepts ('-' stdin, @FILE)."
    ),
    token_env: str | None = typer.Option(
        None, "--token-env", metavar="VAR", help="Read the valid token from this environment variable."
    ),
    token_file: str | None = typer.Option(
        None, "--token-file", metavar="FILE", help="Read the valid token from this file (first line)."
    ),
    public_key: list[str] | None = typer.Option(
        None,
        "--public-key",
        help="The API's PEM verification key or certificate file (repeatable; enables jwt.key-confusion, "
        "which also tries each file's exact bytes).",
    ),
    signing_key: str | None = typer.Option(
        None, "--signing-key", help="The issuer's PEM private key: white-box claim checks, YOUR OWN API only."
    ),
    header: str = typer.Option(
        "Authorization", "--header", help="Header carrying the token (Bearer for Authorization)."
    ),
    method: str = typer.Option("GET", "--method", help="HTTP method of the probed request."),
    ca_file: str | None = typer.Option(None, "--ca-file", help="CA bundle to trust for an https URL."),
    wordlist: str | None = typer.Option(None, "--wordlist", help="Extra HMAC secrets to try, one per line."),
    only: list[str] | None = typer.Option(
        None, "--only", help="Run only these check ids (repeatable or comma-separated), e.g. jwt.none-alg."
    ),
    fmt: OutputFormat = FORMAT_OPTION,
    fail_on: FailOn = FAIL_ON_OPTION,
) -> None:
    """Send the valid token, then forged variants; a forgery answered like the
    valid token fails its check.  Exit 1 when a check fails at/above --fail-on."""
    from rest.jwt.probe import probe

    tok = read_secret(
        "--token", value=_token_arg(token) if token else None, env=token_env, file=token_file, required=True
    )
    assert tok is not None
    pub = [read_input(p, what="public key") for p in public_key] if public_key else None
    priv = read_input(signing_key, what="signing key") if signing_key else None
    words = (
        read_input(wordlist, what="wordlist").decode("utf-8", "replace").splitlines() if wordlist else None
    )
    selected = split_csv(only) or None
    if selected:
        from rest.jwt.checks import ALL

        known = {c.check_id for c in ALL}
        unknown = [c for c in selected if c not in known]
        if unknown:
            raise InputError(
                f"unknown check id(s) for --only: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
    findings = probe(
        url, tok, pub, priv, header=header, method=method, ca_file=ca_file, wordlist=words, only=selected
    )
    code = emit_findings(findings, fmt, targets=[url], fail_on=fail_on, title=f"JWT probes: {url}")
    exit_with(code)
