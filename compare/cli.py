"""The top-level ``apisec`` command: mounts ``soap``, ``rest`` and ``compare``
and adds ``demo``.

:func:`main` is the console-script entry.  It runs the click command without
click's own error handling so that every failure, usage errors included,
becomes exactly one ``apisec: error: …`` line on stderr with the contract exit
code (2 input/usage, 1 refused/failed), and never a traceback unless
``--debug`` is given.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence

import click
import typer

from compare.findings import __version__, redact

app = typer.Typer(
    name="apisec",
    help=(
        "Secure and audit APIs on both sides of the SOAP/REST divide.\n\n"
        "SOAP puts security in the message (WS-Security: signatures, encryption, "
        "UsernameToken, SAML); REST relies on the transport and tokens (TLS, OAuth 2.0, "
        "JWT). 'apisec soap' and 'apisec rest' check each side, 'apisec compare' puts a "
        "SOAP and a REST service side by side, and 'apisec demo' shows it all on built-in "
        "sample services.\n\n"
        "Exit codes: 0 ok, 1 a verification was refused or a check failed at or above "
        "--fail-on, 2 usage or input error."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_DEBUG = False


def _version(value: bool) -> None:
    if value:
        print(f"apisec {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and internal detail on errors."),
) -> None:
    """Secure and audit SOAP and REST APIs."""
    global _DEBUG
    _DEBUG = debug


def _mount() -> None:
    from compare.cli_compare import app as compare_app
    from compare.cli_demo import register as register_demo
    from rest.cli import app as rest_app
    from wssec.cli import app as soap_app

    app.add_typer(soap_app, name="soap")
    app.add_typer(rest_app, name="rest")
    app.add_typer(compare_app, name="compare")
    register_demo(app)


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return redact(text) if text else "unknown error"


def _usage_line(exc: click.UsageError) -> str:
    msg = _one_line(exc.format_message())
    ctx = exc.ctx
    if ctx is not None:
        return f"{msg} (see '{ctx.command_path} --help')"
    return msg


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code (used by tests too)."""
    global _DEBUG
    args = list(sys.argv[1:] if argv is None else argv)
    _DEBUG = "--debug" in args[:1] or "--debug" in args
    try:
        _mount_once()
        command = typer.main.get_command(app)
        result = command.main(args=args, prog_name="apisec", standalone_mode=False)
        return int(result or 0) if isinstance(result, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        print("apisec: error: aborted", file=sys.stderr)
        return 130
    except click.UsageError as exc:
        print(f"apisec: error: {_usage_line(exc)}", file=sys.stderr)
        return 2
    except click.ClickException as exc:
        print(f"apisec: error: {_one_line(exc.format_message())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("apisec: error: interrupted", file=sys.stderr)
        return 130
    except BaseException as exc:  # noqa: BLE001 - the one place errors become exit codes
        if isinstance(exc, SystemExit):
            return int(exc.code or 0) if isinstance(exc.code, int) else 2
        code = getattr(exc, "exit_code", None)
        if _DEBUG:
            traceback.print_exc()
        if isinstance(code, int) and code in (1, 2):
            print(f"apisec: error: {_one_line(str(exc))}", file=sys.stderr)
            return code
        if isinstance(exc, (OSError, ValueError, ImportError)):
            print(f"apisec: error: {_one_line(str(exc) or type(exc).__name__)}", file=sys.stderr)
            return 2
        print(
            f"apisec: error: internal error ({type(exc).__name__}: {_one_line(str(exc))}); "
            "rerun with --debug for details",
            file=sys.stderr,
        )
        return 2


_MOUNTED = False


def _mount_once() -> None:
    global _MOUNTED
    if not _MOUNTED:
        _mount()
        _MOUNTED = True


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":  # pragma: no cover
    main()
