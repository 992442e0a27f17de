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


# Command modules register themselves here, one line each:
from wssec import cli_check as _cli_check  # noqa: E402,F401
from wssec import cli_encrypt as _cli_encrypt  # noqa: E402,F401
from wssec import cli_saml as _cli_saml  # noqa: E402,F401
from wssec import cli_sign as _cli_sign  # noqa: E402,F401
