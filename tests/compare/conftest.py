"""Fixtures for the compare tests: real sample WSDLs/messages on disk and an
assessment of them made by the real engine and the real SOAP checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from apisec_samples import soap_service


def write_wsdls(folder: Path) -> dict[str, Path]:
    """The sample quote WSDLs as files (address fixed; no service needed for static checks)."""
    out = {}
    for config in ("secure", "legacy"):
        p = folder / f"quote-{config}.wsdl"
        p.write_bytes(soap_service.render_wsdl(config, "https://127.0.0.1:8443/quote", None))
        out[config] = p
    req = folder / "request.xml"
    req.write_bytes(soap_service.request_xml())
    out["request"] = req
    return out


@pytest.fixture(scope="session")
def sample_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_wsdls(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="session")
def static_targets_file(sample_docs: dict[str, Path]) -> Path:
    """A targets file with two static SOAP targets (secure/legacy WSDL)."""
    folder = sample_docs["secure"].parent
    cfg = folder / "apisec.toml"
    cfg.write_text(
        """
[settings]
concurrency = 2
timeout = 60
fail_on = "high"

[profiles.static]
live = false

[[soap]]
name = "quote-secure"
group = "secure"
wsdl = "quote-secure.wsdl"
sample_request = "request.xml"
profile = "static"

[[soap]]
name = "quote-legacy"
group = "legacy"
wsdl = "quote-legacy.wsdl"
profile = "static"
""",
        encoding="utf-8",
    )
    return cfg


@pytest.fixture(scope="session")
def static_assessment(static_targets_file: Path):
    from compare.config import load_targets
    from compare.engine import assess

    return assess(load_targets(static_targets_file), progress=False)
