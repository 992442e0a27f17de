"""Hostile XML aimed at the verifier: entity bombs, XXE (file, network and
parameter entities), XInclude, deep nesting, huge input and junk.

Each must be refused with a one-line reason, within a second and a bounded
amount of memory, through the library *and* through ``apisec soap verify``
(exit 2, no traceback); an XXE must fetch nothing — a real HTTP server on
127.0.0.1 counts the requests.
"""

from __future__ import annotations

import http.server
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.conftest import VECTORS
from wssec import MalformedMessage, Verifier

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
DEFUSED = VECTORS / "defusedxml" / "xmltestdata"


def soap(body: str, prolog: str = "") -> bytes:
    return (
        f'{prolog}<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>{body}</soap:Body></soap:Envelope>'
    ).encode()


BILLION_LAUGHS = soap(
    "<x>&lol9;</x>",
    '<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>",
)
QUADRATIC = soap(
    "<x>" + "&a;" * 20000 + "</x>", '<!DOCTYPE soap:Envelope [<!ENTITY a "' + "A" * 50000 + '">]>'
)


@pytest.fixture(scope="module")
def counting_server():
    """A real HTTP server on an ephemeral port that counts every request."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY % x "pwned">')

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def hostile_cases(base_url: str, secret: Path) -> dict[str, bytes]:
    return {
        "billion-laughs": BILLION_LAUGHS,
        "quadratic-blowup": QUADRATIC,
        "xxe-file": soap(
            "<x>&xxe;</x>", f'<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        ),
        "xxe-http": soap("<x>&xxe;</x>", f'<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "{base_url}/xxe">]>'),
        "xxe-parameter-entity": soap(
            "<x/>", f'<!DOCTYPE soap:Envelope [<!ENTITY % p SYSTEM "{base_url}/param.dtd"> %p;]>'
        ),
        "external-dtd": soap("<x/>", f'<!DOCTYPE soap:Envelope SYSTEM "{base_url}/ext.dtd">'),
        "xinclude": soap(
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{base_url}/inc.xml" parse="xml"/>'
        ),
        "xinclude-file": soap(
            f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{secret}" parse="text"/>'
        ),
        "deep-nesting": soap("<a>" * 5000 + "</a>" * 5000),
        "utf16-doctype": soap("<x>&e;</x>", '<!DOCTYPE soap:Envelope [<!ENTITY e "x">]>')
        .decode()
        .encode("utf-16"),
        "junk": b"\x00\xff\xfe garbage <<<>>> not xml",
        "truncated": soap("<x>")[:-30],
        "empty": b"",
        "not-soap": b"<html><body>hi</body></html>",
        "defusedxml-xmlbomb": (DEFUSED / "xmlbomb.xml").read_bytes(),
        "defusedxml-quadratic": (DEFUSED / "quadratic.xml").read_bytes(),
        "defusedxml-external": (DEFUSED / "external.xml").read_bytes(),
        "defusedxml-cyclic": (DEFUSED / "cyclic.xml").read_bytes(),
    }


CASE_NAMES = list(hostile_cases("http://x", Path("/x")))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_library_refuses(name, counting_server, tmp_path, pki) -> None:
    base, hits = counting_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    msg = hostile_cases(base, secret)[name]
    verifier = Verifier(trust=[pki.ca.cert_path])
    before = len(hits)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(MalformedMessage) as info:
            verifier.verify(msg)
    finally:
        _cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert (
        time.perf_counter() - start < 5.0
    )  # a bound on runaway work (an expanded bomb takes minutes), not a benchmark
    assert peak < 32 * 1024 * 1024, f"{name} used {peak} bytes"
    reason = str(info.value)
    assert "\n" not in reason and reason and "TOP-SECRET" not in reason
    assert len(hits) == before, f"{name} fetched {hits[before:]}"


def test_oversized_message_refused(pki) -> None:
    big = soap("<x>" + "A" * (17 * 1024 * 1024) + "</x>")
    with pytest.raises(MalformedMessage, match="limit"):
        Verifier(trust=[pki.ca.cert_path]).verify(big)


@pytest.mark.parametrize("name", ["billion-laughs", "xxe-http", "xinclude", "deep-nesting", "junk"])
def test_cli_refuses(name, counting_server, tmp_path, pki, apisec) -> None:
    base, hits = counting_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    path = tmp_path / "hostile.xml"
    path.write_bytes(hostile_cases(base, secret)[name])
    before = len(hits)
    r = apisec("soap", "verify", str(path), "--trust", str(pki.ca.cert_path))
    assert r.exit_code == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apisec: error: "), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert len(hits) == before
