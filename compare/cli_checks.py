"""``apisec checks …``: what apisec checks, straight from the check catalogue."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

app = typer.Typer(
    name="checks",
    help="The check catalogue: every check id of both sides with its control, severity, "
    "pass/fail wording, references, remediation and the function that implements it.",
    no_args_is_help=True,
)


class SideChoice(StrEnum):
    soap = "soap"
    rest = "rest"


class ListFormat(StrEnum):
    text = "text"
    json = "json"
    md = "md"


@app.callback()
def _checks() -> None:
    """The check catalogue."""


@app.command("list")
def list_checks(
    side: SideChoice | None = typer.Option(None, "--side", help="Only the checks of one side."),
    fmt: ListFormat = typer.Option(
        ListFormat.text, "--format", "-f", help="text for people, json for machines, md for docs."
    ),
) -> None:
    """List every check apisec can emit (id, side, severity, control, code location).

    docs/checks.md is 'apisec checks list --format md'.
    """
    from compare.catalogue import load
    from compare.catalogue_views import render

    sys.stdout.write(render(load(), fmt.value, side.value if side else None))
