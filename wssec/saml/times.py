"""xs:dateTime as SAML uses it: always UTC, written with a ``Z``."""

from __future__ import annotations

import datetime as dt
import re

from wssec.errors import MalformedMessage

_INSTANT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$")


def format_instant(value: dt.datetime) -> str:
    """``2026-01-02T03:04:05Z`` (second precision, UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str, what: str = "time") -> dt.datetime:
    """Parse an xs:dateTime into an aware UTC datetime.

    SAML requires UTC; a value without a zone is read as UTC (as the SAML
    core spec says it must be), fractions of any length are accepted and
    truncated to microseconds.  Anything else is a MalformedMessage.
    """
    m = _INSTANT.match(text.strip())
    if not m:
        raise MalformedMessage(f"{what} {text!r} is not an xs:dateTime")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    try:
        value = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=dt.UTC
        )
    except ValueError:
        raise MalformedMessage(f"{what} {text!r} is not a valid date") from None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        value = value - sign * offset
    return value


def utc(value: dt.datetime | str | None) -> dt.datetime:
    """``at`` as an aware UTC datetime (now when None; ISO-8601 strings accepted)."""
    if value is None:
        return dt.datetime.now(dt.UTC)
    if isinstance(value, str):
        return parse_instant(value, "instant")
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


__all__ = ["format_instant", "parse_instant", "utc"]
