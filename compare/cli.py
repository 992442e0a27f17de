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

import typer

try:  # typer >= 0.22 runs on its own vendored copy of click: catch the exceptions it raises
    from typer._click import exceptions as _click_exc
except ImportError:  # pragma: no cover - older typer runs on the click package
    from click import exceptions as _click_exc

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


_GROUPS: tuple[tuple[str, str, str], ...] = (
    (
        "soap",
        "wssec.cli",
        "SOAP message security (WS-Security): sign, verify, encrypt and decrypt SOAP 1.1/1.2 "
        "messages, issue and verify SAML tokens, and check SOAP services and captured "
        "messages for compliance (WS-SecurityPolicy, WS-I BSP).",
    ),
    (
        "rest",
        "rest.cli",
        "REST transport and token security: TLS against named policy profiles, JWT validation "
        "and forged-token probes, OAuth 2.0 server audits, and HTTP-level controls with OpenAPI "
        "and access-control probes.",
    ),
    (
        "compare",
        "compare.cli_compare",
        "Put a SOAP service and a REST service side by side: run both sides' checks, build the "
        "matrix and write terminal, Markdown, HTML, JSON, SARIF and JUnit reports with CI exit codes.",
    ),
    (
        "flow",
        "compare.cli_flow",
        "Security test flows from an OpenAPI or WSDL contract: generate the happy path and security "
        "variations, preview the raw requests before deployment, run them after, export to Postman.",
    ),
    (
        "checks",
        "compare.cli_checks",
        "The check catalogue: every check id of both sides, its control, severity, wording and code.",
    ),
)


def _placeholder(help: str) -> typer.Typer:
    """A group that only carries its help text, listed by ``apisec --help``."""
    stub = typer.Typer(help=help, no_args_is_help=True)

    @stub.callback()
    def _group() -> None:
        pass

    return stub


def _build(args: Sequence[str]) -> object:
    """Mount the command groups: the one the command line names for real, the
    others as help-only placeholders.

    Importing every group up front (sslyze, zeep, Authlib, …) cost about a
    second on every invocation; this way ``apisec rest jwt …`` imports only
    the rest side and ``apisec --help`` imports neither.
    """
    import importlib

    from compare.cli_demo import register as register_demo

    words = [a for a in args if not a.startswith("-")]
    wanted = words[0] if words else None
    for name, module, help in _GROUPS:
        if name == wanted:
            mod = importlib.import_module(module)
            load = getattr(mod, "load", None)  # groups that can import one command's module
            group = load(words[1] if len(words) > 1 else None) if load else mod.app
        else:
            group = _placeholder(help)
        app.add_typer(group, name=name, help=help)
    register_demo(app)
    from compare.clihelp import readable_help

    return readable_help(typer.main.get_command(app))


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return redact(text) if text else "unknown error"


def _usage_line(exc: _click_exc.UsageError) -> str:
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
        command = _command(args)
        if _DEBUG:
            _debug_logging()
        result = command.main(  # type: ignore[attr-defined]
            args=args, prog_name="apisec", standalone_mode=False
        )
        if result == 130:  # typer answers Ctrl-C inside a command with a silent exit code 130
            return _interrupted()
        return int(result or 0) if isinstance(result, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("apisec: error: aborted", file=sys.stderr)
        return 130
    except _click_exc.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            # a group called with nothing to do: teach, then exit as a usage error
            print(exc.ctx.get_help())
            return 2
        print(f"apisec: error: {_usage_line(exc)}", file=sys.stderr)
        return 2
    except _click_exc.ClickException as exc:
        print(f"apisec: error: {_one_line(exc.format_message())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _interrupted()
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


def _interrupted() -> int:
    """Ctrl-C (or SIGTERM where a command maps it to Ctrl-C): one line, exit 130,
    the same for every command."""
    print("apisec: error: interrupted", file=sys.stderr)
    return 130


_COMMAND: object | None = None


def _command(args: Sequence[str]) -> object:
    global _COMMAND
    if _COMMAND is None:
        _COMMAND = _build(args)
    return _COMMAND


def _debug_logging() -> None:
    """With --debug, library debug detail (e.g. why a decryption failed, which
    is deliberately hidden from the one-line error) goes to stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("apisec: debug: %(name)s: %(message)s"))
    for name in ("wssec", "rest", "compare"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)


def main() -> None:
    """Console-script entry point."""
    sys.exit(run())


if __name__ == "__main__":  # pragma: no cover
    main()
