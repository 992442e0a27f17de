"""``apisec compare …``: side-by-side assessments of SOAP and REST services."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="compare",
    help=(
        "Put a SOAP service and a REST service side by side: run both sides' checks, "
        "build the matrix (encryption, access control, token authentication, protocols, "
        "resilience, observability) and write terminal, Markdown, HTML, JSON, SARIF and "
        "JUnit reports with CI exit codes."
    ),
    no_args_is_help=True,
)


@app.callback()
def _compare() -> None:
    """Side-by-side SOAP/REST assessments."""
