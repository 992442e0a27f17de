"""The ``apisec`` entry point: help that teaches, version, one-line errors
with contract exit codes, atomic output."""

from __future__ import annotations

from pathlib import Path

import pytest

from compare.cliutil import InputError, atomic_write


@pytest.mark.parametrize("group", [[], ["soap"], ["rest"], ["compare"], ["demo"]])
def test_help_works_for_every_group(apisec, group: list[str]) -> None:
    res = apisec(*group, "--help")
    assert res.exit_code == 0, res.stderr
    assert "Usage: apisec" in res.stdout


def test_version(apisec) -> None:
    res = apisec("--version")
    assert res.exit_code == 0 and res.stdout.startswith("apisec ")


def test_unknown_command_is_a_one_line_usage_error(apisec) -> None:
    res = apisec("soap", "no-such-command")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apisec: error: ")
    assert "Traceback" not in res.stderr


def test_unknown_option_is_a_one_line_usage_error(apisec) -> None:
    res = apisec("--no-such-flag")
    assert res.exit_code == 2
    assert res.stderr.strip().startswith("apisec: error: ") and len(res.stderr.strip().splitlines()) == 1


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.xml"

    atomic_write(target, b"<ok/>")
    assert target.read_bytes() == b"<ok/>"
    with pytest.raises(InputError):
        atomic_write(tmp_path / "missing-dir" / "x.xml", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xml"]


@pytest.mark.parametrize("content", [b"[]", b"42", b"{", b'{"tool": "apisec"}'])
def test_bad_assessment_is_an_input_error_with_no_output(apisec, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "assessment.json"
    bad.write_bytes(content)
    out = tmp_path / "reports"
    res = apisec("compare", "report", str(bad), "-o", str(out), "--format", "json,html")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("apisec: error: ") and "internal error" not in lines[0]
    assert not out.exists()
