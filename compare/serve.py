"""``apisec demo --serve``, library side: keep the six sample services running
and leave a ready folder, so every command can be pointed at something real.

The folder (``--output``) receives, for as long as the services run:

============================  ================================================
``pki/ca.pem``                the one CA every sample service's certificate
                              chains to (SOAP, REST and OAuth share one PKI)
``pki/client.key|pem``        the SOAP client identity the services trust
``pki/service.key|pem``       the services' identity (SOAP encryption target)
``pki/orders-token-signing.pem``  the secure REST API's token verification key
``secrets/``                  tokens (alice, bob, admin) and OAuth client
                              secrets, one 0600 file each
``targets.toml``              a ready targets file for ``apisec compare run``
``serve.env``                 ``export`` lines (URLs, and the tokens read from
                              ``secrets/`` with ``$(cat …)``) that make the
                              shipped ``samples/apisec.toml`` point here
``request.xml``               a SOAP request the services answer
============================  ================================================

Everything written is removed when the services stop (Ctrl-C, SIGTERM or
an error): no key, token or client secret outlives the run.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compare.errors import InputError

SERVE_ENTRIES = ("pki", "secrets", "targets.toml", "serve.env", "request.xml")
"""What ``--serve`` writes into its folder (and removes on exit)."""
TOKEN_TTL = 12 * 3600
"""Sample tokens live as long as a working day of trying commands."""


@dataclass
class ServedFolder:
    """The running services and the folder describing them."""

    folder: Path
    urls: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)
    """Variables serve.env exports (secrets as ``$(cat FILE)``, not values)."""
    commands: list[str] = field(default_factory=list)


def check_output_folder(folder: Path, entries: tuple[str, ...] = ()) -> None:
    """Refuse (exit 2) before any service starts when ``folder`` cannot take
    our files: it is a file, cannot be created or written, or already holds
    one of ``entries`` (we would overwrite, then delete, someone's files)."""
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--output exists and is not a folder: {folder}")
    probe_dir = folder
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not os.access(probe_dir, os.W_OK | os.X_OK):
        raise InputError(f"--output folder is not writable: {probe_dir}")
    taken = [name for name in entries if (folder / name).exists()]
    if taken:
        raise InputError(
            f"--output {folder} already holds {', '.join(taken)} (from another --serve?); "
            "pick an empty folder or remove them"
        )


def _write(path: Path, text: str, *, secret: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)


def _toml_str(value: str | Path) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _targets_toml(folder: Path, urls: dict[str, str], client_ids: dict[str, str]) -> str:
    """The ready targets file: both groups, absolute paths, secrets by file."""
    from apisec_samples import rest_service, soap_service

    request = folder / "request.xml"
    pki, secrets = folder / "pki", folder / "secrets"
    lines = [
        "# Written by 'apisec demo --serve'; valid while it runs.",
        "[settings]",
        "concurrency = 6",
        "timeout = 90",
        f"ca_file = {_toml_str(pki / 'ca.pem')}",
        "",
        "[profiles.default]",
        'tls_profile = "mozilla-intermediate"',
        "rate_limit_probe = 50",
    ]
    for group in ("secure", "legacy"):
        wsdl = Path(soap_service.__file__).with_name(f"quote-{group}.wsdl")
        lines += [
            "",
            "[[soap]]",
            f'name = "soap-{group}"',
            f'group = "{group}"',
            f"wsdl = {_toml_str(wsdl)}",
            f"endpoint = {_toml_str(urls[f'soap-{group}'])}",
            f"sample_request = {_toml_str(request)}",
            f"signing_key = {_toml_str(pki / 'client.key')}",
            f"signing_cert = {_toml_str(pki / 'client.pem')}",
            f"trust = {_toml_str(pki / 'ca.pem')}",
        ]
    for group in ("secure", "legacy"):
        lines += [
            "",
            "[[rest]]",
            f'name = "rest-{group}"',
            f'group = "{group}"',
            f"base_url = {_toml_str(urls[f'rest-{group}'] + '/api/orders')}",
            f"openapi = {_toml_str(rest_service.OPENAPI)}",
            f"oauth_issuer = {_toml_str(urls[f'oauth-{group}'])}",
            f"client_id = {_toml_str(client_ids[group])}",
            f"client_secret = {_toml_str('file:' + str(secrets / f'{group}-client-secret'))}",
            f"token = {_toml_str('file:' + str(secrets / f'{group}-alice-token'))}",
            f"public_key = {_toml_str(pki / f'rest-{group}-token-signing.pem')}",
        ]
        if group == "secure":  # the roles file's ${ALICE_TOKEN} … come from serve.env
            lines.append(f"roles = {_toml_str(rest_service.ROLES)}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def serve_samples(folder: Path) -> Iterator[ServedFolder]:
    """Start the six sample services, fill ``folder``, yield; on exit stop
    them and remove every file written (the folder too when we created it)."""
    from apisec_samples import soap_service
    from compare.demo import quiet_scanner_warnings, sample_services

    check_output_folder(folder, SERVE_ENTRIES)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    folder = folder.resolve()
    try:
        with warnings.catch_warnings():
            quiet_scanner_warnings()
            with sample_services(folder) as services:
                yield _fill(folder, services, soap_service.request_xml())
    finally:
        for name in SERVE_ENTRIES:
            path = folder / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: never remove what others put there


def _fill(folder: Path, services: object, request: bytes) -> ServedFolder:
    from apisec_samples import rest_service

    pki, secrets = folder / "pki", folder / "secrets"
    for private in (*pki.glob("*.key"), *pki.glob("*.p12")):
        private.chmod(0o600)
    (folder / "request.xml").write_bytes(request)
    urls: dict[str, str] = {}
    client_ids: dict[str, str] = {}
    for group in ("secure", "legacy"):
        soap = services.soap[group]  # type: ignore[attr-defined]
        api = services.rest[group]  # type: ignore[attr-defined]
        issuer = services.oauth[group]  # type: ignore[attr-defined]
        urls[f"soap-{group}"] = soap.url
        urls[f"rest-{group}"] = api.url
        urls[f"oauth-{group}"] = issuer.url
        auth = issuer.extra["service"]
        client_ids[group] = auth.client_id
        _write(secrets / f"{group}-client-secret", auth.client_secret, secret=True)
        (pki / f"rest-{group}-token-signing.pem").write_bytes(api.public_key_pem())
        for who in ("alice", "bob", "admin"):
            _write(secrets / f"{group}-{who}-token", api.mint(who, ttl=TOKEN_TTL), secret=True)
    shutil.copyfile(pki / "rest-secure-token-signing.pem", pki / "orders-token-signing.pem")
    _write(folder / "targets.toml", _targets_toml(folder, urls, client_ids))

    def cat(name: str) -> str:
        return f'"$(cat {shlex.quote(str(secrets / name))})"'

    env = {
        "APISEC_SERVE": shlex.quote(str(folder)),
        "APISEC_PKI": shlex.quote(str(pki)),
        "APISEC_SOAP_URL": urls["soap-secure"],
        "APISEC_REST_URL": urls["rest-secure"] + "/api/orders",
        "APISEC_OAUTH_ISSUER": urls["oauth-secure"],
        "APISEC_OAUTH_CLIENT_ID": shlex.quote(client_ids["secure"]),
        "APISEC_TLS_HOST": "127.0.0.1",
        "APISEC_TLS_PORT": str(services.soap["secure"].port),  # type: ignore[attr-defined]
        "ORDERS_CLIENT_SECRET": cat("secure-client-secret"),
        "ORDERS_ACCESS_TOKEN": cat("secure-alice-token"),
        "ALICE_TOKEN": cat("secure-alice-token"),
        "BOB_TOKEN": cat("secure-bob-token"),
        "ADMIN_TOKEN": cat("secure-admin-token"),
    }
    _write(
        folder / "serve.env",
        "# Source me: . serve.env   (written by 'apisec demo --serve'; tokens stay in secrets/)\n"
        + "".join(f"export {k}={v}\n" for k, v in env.items()),
    )
    q = shlex.quote
    d = q(str(folder))
    rest_url = urls["rest-secure"] + "/api/orders"
    commands = [
        f"apisec compare run -c {d}/targets.toml -o {d}/report",
        f". {d}/serve.env && apisec compare run -c {q(str(Path(rest_service.__file__).parents[1] / 'apisec.toml'))}",
        f"apisec soap check --url {urls['soap-secure']} --sample {d}/request.xml --key {d}/pki/client.key "
        f"--cert {d}/pki/client.pem --ca-file {d}/pki/ca.pem",
        f"apisec rest jwt probe {rest_url} --token-file {d}/secrets/secure-alice-token "
        f"--public-key {d}/pki/orders-token-signing.pem --ca-file {d}/pki/ca.pem",
        # last: its rate-limit burst makes the API answer 429 for a while
        f"apisec rest check {rest_url} --token-file {d}/secrets/secure-alice-token --ca-file {d}/pki/ca.pem",
    ]
    return ServedFolder(folder=folder, urls=urls, env=env, commands=commands)


__all__ = ["SERVE_ENTRIES", "ServedFolder", "check_output_folder", "serve_samples"]
