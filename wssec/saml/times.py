"""xs:dateTime as SAML uses it: always UTC, written with a ``Z``."""

from __future__ import annotations

import datetime as dt

from wssec.xsdtime import parse_datetime


def format_instant(value: dt.datetime) -> str:
    """``2026-01-02T03:04:05Z`` (second precision, UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str, what: str = "time") -> dt.datetime:
    """Parse an xs:dateTime into an aware UTC datetime (:mod:`wssec.xsdtime`).

    SAML requires UTC; a value without a zone is read as UTC (as the SAML
    core spec says it must be), fractions of any length are accepted and
    truncated to microseconds.  Anything else is a MalformedMessage.
    """
    return parse_datetime(text, what, require_zone=False)


def utc(value: dt.datetime | str | None) -> dt.datetime:
    """``at`` as an aware UTC datetime (now when None; ISO-8601 strings accepted)."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(value, str):
        return parse_instant(value, "instant")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


__all__ = ["format_instant", "parse_instant", "utc"]
