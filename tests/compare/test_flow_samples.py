"""The sample flows committed under samples/ are exactly what the generator
makes from the sample contracts (regenerate them with
``python -c "from compare.flow.samples import write_sample_flows; write_sample_flows()"``
after changing a contract or the generator)."""

from __future__ import annotations

from pathlib import Path

import yaml

from compare.flow.model import validate
from compare.flow.samples import sample_flow_files

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_committed_sample_flows_match_the_generator() -> None:
    files = sample_flow_files()
    assert set(files) == {
        "rest_service/flow.yaml",
        "soap_service/flow-secure.yaml",
        "soap_service/flow-legacy.yaml",
    }
    for rel, text in files.items():
        validate(yaml.safe_load(text))
        assert (SAMPLES / rel).read_text(encoding="utf-8") == text, f"samples/{rel} is stale: regenerate it"


def test_sample_flows_hold_references_only() -> None:
    for rel in sample_flow_files():
        text = (SAMPLES / rel).read_text(encoding="utf-8")
        assert "PRIVATE KEY" not in text and "eyJ" not in text
        assert "env:ALICE_TOKEN" in text or "file:pki/client.key" in text
