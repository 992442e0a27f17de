"""``apisec soap …``: the CLI face of wssec.

This module only creates the group; each command lives in its own module
(``wssec/cli_*.py``) and is registered below with one line, so the modules
stay small and independent.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="soap",
    help=(
        "SOAP message security (WS-Security): sign, verify, encrypt and decrypt "
        "SOAP 1.1/1.2 messages, issue and verify SAML tokens, and check SOAP "
        "services and captured messages for compliance (WS-SecurityPolicy, WS-I BSP)."
    ),
    no_args_is_help=True,
)


@app.callback()
def _soap() -> None:
    """SOAP message security (WS-Security)."""


# Each command lives in its own module, which registers itself on ``app`` when
# imported.  ``load`` imports only the module a command line needs: the group's
# modules pull in zeep, requests and the crypto stacks, a second of start-up
# for a command that uses one of them.
_COMMANDS = {
    "sign": "wssec.cli_sign",
    "verify": "wssec.cli_sign",
    "encrypt": "wssec.cli_encrypt",
    "decrypt": "wssec.cli_encrypt",
    "saml": "wssec.cli_saml",
    "check": "wssec.cli_check",
    "policy": "wssec.cli_check",
}


def load(command: str | None = None) -> typer.Typer:
    """Register ``command`` (every command when it is None or unknown) and return the group."""
    import importlib

    modules = [_COMMANDS[command]] if command in _COMMANDS else list(dict.fromkeys(_COMMANDS.values()))
    for module in modules:
        importlib.import_module(module)
    return app
