"""xsd:dateTime, parsed by its grammar (XML Schema 1.1 Part 2, 3.3.7) and
nothing else: one parser for every time apisec reads from a message
(wsu:Timestamp, UsernameToken Created, SAML instants, metadata validUntil).

``datetime.fromisoformat`` is not that grammar: it accepts ISO week dates,
the basic format and offsets beyond +/-14:00, and converting an extreme
value to UTC overflows.  Here a value either parses to an aware UTC
datetime or is refused with :class:`wssec.errors.MalformedMessage`.
"""

from __future__ import annotations

import datetime as dt
import re

from wssec.errors import MalformedMessage

_DATETIME = re.compile(
    r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?",
    re.ASCII,
)
_MAX_LEN = 64

DEFAULT_CLOCK_SKEW: float = 60
"""Seconds of clock difference tolerated on every time apisec checks in a
message (Timestamp and UsernameToken Created/Expires, SAML NotBefore,
NotOnOrAfter and IssueInstant), by the library and every command alike:
WSS4J's timeStampFutureTTL, and a common SAML relying-party setting.  How
*old* a message may be is a separate limit (``max_age``)."""


def parse_datetime(text: str | None, what: str, *, require_zone: bool = True) -> dt.datetime:
    """Parse an xsd:dateTime into an aware UTC datetime.

    Fractions of a second of any length are accepted (truncated to
    microseconds); the zone offset must be within +/-14:00; ``24:00:00`` is
    the next day's midnight; a value without a zone is refused when
    ``require_zone`` (WS-Security) and read as UTC otherwise (SAML).  A value
    outside years 1..9999 after conversion to UTC is refused, never an
    OverflowError.
    """
    if text is None or not text.strip():
        raise MalformedMessage(f"{what} is empty")
    value = text.strip()
    if len(value) > _MAX_LEN:
        raise MalformedMessage(f"{what} is not a valid xsd:dateTime (too long)")
    m = _DATETIME.fullmatch(value)
    if m is None:
        raise MalformedMessage(f"{what} is not an xsd:dateTime: {value[:40]!r}")
    if value[-1] == "Z" and value[4] == "-" and value[11:13] != "24" and value[:4] != "0000":
        # The form every WS-Security peer writes (UTC, four-digit year): the
        # grammar matched, and for it datetime.fromisoformat (C) gives the
        # same value as the arithmetic below (aware UTC, the fraction
        # truncated to microseconds), in a third of the time.  An invalid
        # date (30 February, second 60) takes the full path, which says why.
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    year_s, month, day, hour, minute, second, frac, zone = m.groups()
    if len(year_s.lstrip("-")) > 4 and year_s.lstrip("-")[0] == "0":
        raise MalformedMessage(f"{what} has a year with leading zeros: {value[:40]!r}")
    year = int(year_s)
    if zone is None and require_zone:
        raise MalformedMessage(f"{what} has no time zone (WS-I BSP requires UTC with Z)")
    h, mi, s = int(hour), int(minute), int(second)
    micro = int(frac[1:7].ljust(6, "0")) if frac else 0
    next_day = False
    if h == 24:
        if mi or s or micro:
            raise MalformedMessage(f"{what} is not a valid time: {value[:40]!r}")
        h, next_day = 0, True
    offset = None
    if zone and zone != "Z":
        zh, zm = int(zone[1:3]), int(zone[4:6])
        if zm > 59 or zh > 14 or (zh == 14 and zm):
            raise MalformedMessage(f"{what} has a time-zone offset outside +/-14:00: {value[:40]!r}")
        offset = dt.timedelta(hours=zh, minutes=zm) * (1 if zone[0] == "+" else -1)
    try:
        if not 1 <= year <= 9999:
            raise ValueError
        t = dt.datetime(year, int(month), int(day), h, mi, s, micro, tzinfo=dt.UTC)
        if next_day:
            t += dt.timedelta(days=1)
        return t if offset is None else t - offset
    except (ValueError, OverflowError):
        raise MalformedMessage(f"{what} is out of range or not a valid date: {value[:40]!r}") from None


__all__ = ["DEFAULT_CLOCK_SKEW", "parse_datetime"]
