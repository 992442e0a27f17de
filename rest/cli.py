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


# Each command lives beside its check and registers itself on ``app`` when
# imported.  ``load`` imports only the module a command line needs (sslyze,
# Authlib and the HTTP probes are heavy to import for a command using one).
_COMMANDS = {
    "tls": "rest.tls.cli",
    "jwt": "rest.jwt.cli",
    "oauth": "rest.oauth.cli",
    "check": "rest.http.cli",
}


def load(command: str | None = None) -> typer.Typer:
    """Register ``command`` (every command when it is None or unknown) and return the group."""
    import importlib

    modules = [_COMMANDS[command]] if command in _COMMANDS else list(_COMMANDS.values())
    for module in modules:
        importlib.import_module(module)
    return app
