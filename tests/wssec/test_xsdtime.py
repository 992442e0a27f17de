"""xsd:dateTime by its grammar: extreme offsets and out-of-range instants are
clean wssec.errors refusals (library, CLI), never OverflowError; valid
forms (any fraction length, +/-14:00, 24:00:00) parse."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from lxml import etree

from wssec import Signer, Verifier
from wssec.errors import MalformedMessage
from wssec.safexml import parse_xml
from wssec.saml.times import parse_instant
from wssec.usernametoken import parse_time
from wssec.xsdtime import parse_datetime

WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
ENVELOPE = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>'
    b'<soap:Body><m:Ping xmlns:m="urn:t"/></soap:Body></soap:Envelope>'
)
UTC = dt.UTC

VALID = {
    "2026-01-02T03:04:05Z": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    "2026-01-02T03:04:05.123456789012Z": dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    "2026-01-02T03:04:05.5+14:00": dt.datetime(2026, 1, 1, 13, 4, 5, 500000, tzinfo=UTC),
    "2026-01-02T03:04:05-14:00": dt.datetime(2026, 1, 2, 17, 4, 5, tzinfo=UTC),
    "2026-12-31T24:00:00Z": dt.datetime(2027, 1, 1, tzinfo=UTC),
    "9999-12-31T23:59:59Z": dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
}
REFUSED = [
    "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
    "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
    "2026-01-02T03:04:05+14:01",
    "2026-01-02T03:04:05+15:00",
    "2026-01-02T03:04:05+05:60",
    "2026-W01-1T03:04:05Z",  # ISO week date
    "20260102T030405Z",  # ISO basic format
    "2026-01-02 03:04:05Z",
    "2026-02-30T03:04:05Z",
    "2026-01-02T03:04:60Z",
    "2026-01-02T24:00:01Z",
    "0000-01-02T03:04:05Z",
    "-0001-01-02T03:04:05Z",
    "10000-01-02T03:04:05Z",
    "2026-01-02T03:04:05.Z",
    "\u0662\u0660\u0662\u0666-01-02T03:04:05Z",  # non-ASCII digits
    "2026-01-02T03:04:05",  # no zone (WS-Security)
    "",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_forms_parse(text) -> None:
    assert parse_time(text, "t") == VALID[text]
    assert parse_instant(text, "t") == VALID[text]


@pytest.mark.parametrize("text", REFUSED)
def test_refused_forms_are_malformed_message(text) -> None:
    with pytest.raises(MalformedMessage):
        parse_time(text, "t")


def test_saml_reads_a_zoneless_instant_as_utc() -> None:
    assert parse_instant("2026-01-02T03:04:05", "t") == dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_datetime("2026-01-02T03:04:05", "t", require_zone=False).tzinfo is UTC


def _with_created(pki, value: str, where: str) -> bytes:
    kw = {"username": "alice", "password": "pw"} if where == "ut" else {}
    root = parse_xml(Signer(pki.client.key, pki.client.cert, **kw).sign(ENVELOPE))
    parent = f"{{{WSU}}}Timestamp" if where == "ts" else f"{{{WSSE}}}UsernameToken"
    created = root.find(f".//{parent}/{{{WSU}}}Created")
    created.text = value
    return etree.tostring(root)


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
@pytest.mark.parametrize("where", ["ts", "ut"])
def test_extreme_created_is_a_clean_refusal(pki, value, where, tmp_path) -> None:
    msg = _with_created(pki, value, where)
    users = {"alice": "pw"} if where == "ut" else None
    with pytest.raises(MalformedMessage, match="out of range"):
        Verifier(trust=[pki.ca.cert], users=users).verify(msg)
    path = tmp_path / "m.xml"
    path.write_bytes(msg)
    proc = subprocess.run(
        ["apisec", "soap", "verify", str(path), "--trust", str(pki.ca_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("apisec: error:") and "internal error" not in proc.stderr
    assert proc.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-03T21:04:45Z",
        "2026-12-03T21:04:45.1Z",
        "2026-12-03T21:04:45.123Z",
        "2026-12-31T23:59:59.9999999Z",
        "2026-01-01T00:00:00.000000001Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "2024-02-29T12:00:00Z",
    ],
)
def test_utc_fast_path_agrees_with_the_grammar(value) -> None:
    """The UTC ('Z') form is read by datetime.fromisoformat after the
    grammar matched; it must give what the grammar's arithmetic gives (the
    same value with an explicit +00:00 offset takes the arithmetic path)."""
    fast = parse_datetime(value, "t")
    slow = parse_datetime(value[:-1] + "+00:00", "t")
    assert fast == slow and fast.tzinfo is dt.UTC and slow.utcoffset() == dt.timedelta(0)
