"""``apisec rest …``: the CLI face of the rest side.

This module only creates the group; each command lives beside the check it
drives (``rest/<check>/cli.py``) and is registered below with one line.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="rest",
    help=(
        "REST transport and token security: TLS against named policy profiles, "
        "JWT validation and forged-token probes, OAuth 2.0 server audits, and "
        "HTTP-level controls with OpenAPI and access-control probes."
    ),
    no_args_is_help=True,
)


@app.callback()
def _rest() -> None:
    """REST transport and token security."""


# Command modules register themselves here, one line each:
from rest.http import cli as _cli_http  # noqa: E402,F401
from rest.jwt import cli as _jwt_cli  # noqa: E402,F401
from rest.oauth import cli as _oauth_cli  # noqa: E402,F401
from rest.tls import cli as _tls_cli  # noqa: E402,F401
