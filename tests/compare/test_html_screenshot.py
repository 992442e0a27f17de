"""The HTML report as a browser shows it: headless Chromium renders the demo's
report (run with --show-raw) to a PNG, and the page carries the pass
wordings and the raw exchanges as ``>``/``<`` transcripts, collapsed."""

from __future__ import annotations

import html
import re
import struct
import subprocess
import zlib
from pathlib import Path

from tests.conftest import require_peer, run_apisec


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, decompressed scanlines) of a PNG, read by hand (no imaging library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_html_report_renders_in_headless_chromium_with_pass_wordings_and_raw_exchanges(
    tmp_path: Path,
) -> None:
    chromium = require_peer("chromium", "the HTML report is checked as a browser renders it")
    out = tmp_path / "report"
    r = run_apisec("demo", "--output", str(out), "--show-raw", "--no-progress", timeout=300)
    assert r.exit_code == 0, r.stderr[-2000:]
    page = out / "report.html"
    text = page.read_text(encoding="utf-8")
    # pass rows show the pass wording, fail rows the fail wording
    assert "Service refuses an XML Signature Wrapping attack" in text
    assert "Service accepts a request whose Body was changed after signing" in text
    # raw exchanges as transcripts, collapsed by default, secrets redacted
    exchanges = [html.unescape(b) for b in re.findall(r'<pre class="exchange">(.*?)</pre>', text, re.S)]
    assert exchanges and any(b.startswith("> POST ") for b in exchanges)
    assert any(re.search(r"^< 2\d\d$", b, re.M) for b in exchanges)
    assert any(">   <soap:Header>" in b for b in exchanges), "XML bodies are pretty-printed"
    assert any(re.search(r'^<   "', b, re.M) for b in exchanges), "JSON bodies are pretty-printed"
    assert '<details class="raw" open' not in text and '<details class="raw">' in text
    assert "Bearer [REDACTED]" in text and not re.search(
        r"Bearer ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}", text
    )
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000",
         f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    # a rendered report has text, tables and colours: far more than a blank page's few byte values
    assert len(set(pixels)) > 50 and pixels.count(pixels[1]) < 0.95 * len(pixels)
