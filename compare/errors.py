"""Errors that map to exit codes, and the exit-code contract, without any CLI
framework: library modules raise these; :func:`compare.cli.main` turns them
into one ``apisec: error: …`` line and the code.

* 0 — ok, or every check passed below the ``--fail-on`` threshold;
* 1 — verification refused, or the gate tripped;
* 2 — usage or input error (unreadable file, malformed XML, bad key, bad host).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2


class InputError(Exception):
    """Unusable input (missing file, bad option value): exit 2."""

    exit_code = EXIT_INPUT


class Refused(Exception):
    """A verification or check refused the input: exit 1."""

    exit_code = EXIT_FAILED


__all__ = ["EXIT_FAILED", "EXIT_INPUT", "EXIT_OK", "InputError", "Refused"]
