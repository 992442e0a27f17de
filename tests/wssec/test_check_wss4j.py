"""BSP checks and the middleware on messages produced by a real peer:
Apache WSS4J 1.6 (Debian libwss4j-java), through the project's Java harness
(tests/interop/java/WssHarness.java, compiled here once per module)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from apisec_samples.soap_service import request_xml
from apisec_samples.soap_service.quote import make_quote_app
from apisec_samples.soap_service.server import start_wsgi
from tests.conftest import require_peer
from wssec import Verifier
from wssec.checks import check_message
from wssec.wsgi import SecurityMiddleware

JAVA_DIR = Path(__file__).parents[1] / "interop" / "java"
JARS = ["wss4j.jar", "xmlsec.jar", "commons-logging.jar", "slf4j-api.jar", "slf4j-nop.jar"]
CASES = {
    "bst": ["keyid=bst"],
    "ski": ["keyid=ski"],
    "x509-keyidentifier": ["keyid=x509"],
    "ut-digest": ["keyid=bst", "ut=alice:s3cret", "parts=Body,Timestamp,UsernameToken"],
}


@pytest.fixture(scope="module")
def wss4j_messages(tmp_path_factory: pytest.TempPathFactory, pki) -> dict[str, bytes]:
    """The sample request secured by WSS4J in each configuration (one JVM)."""
    javac = require_peer("javac", "compiles the WSS4J harness")
    java = require_peer("java", "runs Apache WSS4J")
    missing = [j for j in JARS if not (Path("/usr/share/java") / j).exists()]
    if missing:
        pytest.fail(f"WSS4J jars missing from /usr/share/java: {missing} (apt-get install libwss4j-java)")
    out = tmp_path_factory.mktemp("wss4j-bsp")
    cp = ":".join(str(Path("/usr/share/java") / j) for j in JARS)
    subprocess.run(
        [
            javac,
            "-nowarn",
            "-d",
            str(out),
            "-cp",
            cp,
            str(JAVA_DIR / "WssHarness.java"),
            str(JAVA_DIR / "HarnessUtil.java"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    src = out / "request.xml"
    src.write_bytes(request_xml())
    jobs = []
    for name, opts in CASES.items():
        jobs.append(["secure", str(src), str(out / f"{name}.xml"), str(pki.client.p12_path), *opts])
    jobfile = out / "jobs.txt"
    jobfile.write_text("\n".join("\t".join(j) for j in jobs) + "\n")
    proc = subprocess.run(
        [java, "-cp", f"{out}:{cp}", "WssHarness", "batch", str(jobfile)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0 and proc.stdout.count(" 0\n") >= len(jobs), proc.stdout + proc.stderr
    return {name: (out / f"{name}.xml").read_bytes() for name in CASES}


def statuses(data: bytes) -> dict[str, str]:
    return {f.check_id: f.status.value for f in check_message(data)}


@pytest.mark.parametrize("name", ["bst", "ski", "ut-digest"])
def test_wss4j_output_conforms(wss4j_messages, name: str) -> None:
    st = statuses(wss4j_messages[name])
    assert not [k for k, v in st.items() if v == "fail"], st
    assert (
        st["wssec.bsp-r3227"] == "pass"
        and st["wssec.bsp-r5404"] == "pass"
        and st["wssec.bsp-r5417"] == "pass"
    )
    if name == "ski":
        assert st["wssec.bsp-r5206"] == "pass"
    if name == "ut-digest":
        assert st["wssec.bsp-r4201"] == "pass" and st["wssec.bsp-r4220"] == "pass"


def test_wss4j_x509_key_identifier_breaks_r5206(wss4j_messages) -> None:
    """WSS4J's X509KeyIdentifier puts the certificate in a KeyIdentifier with
    ValueType #X509v3: BSP 1.1 R5206 allows only SKI or ThumbprintSHA1."""
    st = statuses(wss4j_messages["x509-keyidentifier"])
    assert st["wssec.bsp-r5206"] == "fail"


@pytest.mark.parametrize("name,users", [("bst", None), ("ski", None), ("ut-digest", {"alice": "s3cret"})])
def test_middleware_accepts_wss4j_requests(wss4j_messages, pki, name: str, users) -> None:
    verifier = Verifier(
        trust=[pki.ca.cert], certs=[pki.client.cert], users=users, require=("Body", "Timestamp")
    )
    h = start_wsgi(SecurityMiddleware(make_quote_app(lambda _e: b""), verifier=verifier), path="/quote")
    try:
        post = lambda: requests.post(  # noqa: E731
            h.url, data=wss4j_messages[name], headers={"Content-Type": "text/xml"}, timeout=10
        )
        r = post()
        assert r.status_code == 200 and b"GetQuoteResponse" in r.content, r.text
        r = post()  # the same WSS4J message again is a replay
        assert r.status_code == 500 and b"wsse:InvalidSecurity" in r.content
    finally:
        h.stop()
