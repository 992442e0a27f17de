"""Errors of the rest side.  ``exit_code`` drives the CLI's exit status."""

from __future__ import annotations


class RestCheckError(Exception):
    """Base of rest errors; ``str(err)`` is a one-line reason safe to show."""

    exit_code = 2


class TargetUnreachable(RestCheckError):
    """The host could not be resolved or connected to (input error: exit 2)."""


class BadInput(RestCheckError):
    """A file, key, URL or option value is unusable (exit 2)."""


class TokenRejected(RestCheckError):
    """A token failed validation (exit 1)."""

    exit_code = 1


class TokenRequestFailed(RestCheckError):
    """The authorization server refused or failed a token request (exit 1);
    the message carries the OAuth ``error`` code, never a secret."""

    exit_code = 1
