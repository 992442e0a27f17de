"""Documentation that runs (issue 16): every fenced code block in README.md
and docs/*.md is executed against the sample services of ``apisec demo
--serve``, or says in a marker why it cannot run; usage synopses are checked
against the real ``--help``.  The rules for writers are in docs/cli.md
("Writing examples in these docs").
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SHELL = {"sh", "bash", "shell", "console"}
PYTHON = {"python", "py"}
DATA = {"text", "toml", "yaml", "yml", "json", "xml", "ini", "http", "diff", "java", "javascript", "js"}

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)(?P<lang>[^\s`]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*apisec-doc:\s*(?P<what>[a-z-]+)\s*(?P<arg>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    lang: str
    text: str
    marker: str | None = None
    """``no-run`` or ``exit``, from the marker on the line before the fence."""
    arg: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.marker != "no-run" and (self.lang in SHELL or self.lang in PYTHON)


def parse(page: Path) -> tuple[list[Block], list[str]]:
    """The page's fenced blocks, and the problems found while parsing."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    problems: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            if MARKER.search(lines[i]) and not _next_is_fence(lines, i):
                problems.append(f"{page.name}:{i + 1}: apisec-doc marker not directly before a code block")
            i += 1
            continue
        indent, fence, lang = m.group("indent"), m.group("fence"), m.group("lang").lower()
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        if j == len(lines):
            problems.append(f"{page.name}:{i + 1}: unclosed code block")
            break
        body = "\n".join(
            line[len(indent) :] if line.startswith(indent) else line for line in lines[i + 1 : j]
        )
        marker = arg = None
        k = i - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mm = MARKER.search(lines[k]) if k >= 0 else None
        if mm:
            marker, arg = mm.group("what"), mm.group("arg")
        blocks.append(Block(page, i + 1, lang, body + "\n", marker, arg or ""))
        i = j + 1
    return blocks, problems


def _next_is_fence(lines: list[str], i: int) -> bool:
    k = i + 1
    while k < len(lines) and not lines[k].strip():
        k += 1
    return k < len(lines) and bool(FENCE.match(lines[k]))


ALL = [b for page in PAGES for b in parse(page)[0]]


# ---------------------------------------------------------------- every block says what it is


def test_every_block_declares_what_it_is() -> None:
    problems = [p for page in PAGES for p in parse(page)[1]]
    for b in ALL:
        if not b.lang:
            problems.append(
                f"{b.where}: code block without a language (sh/python to run it, text for a synopsis)"
            )
        elif b.lang not in SHELL | PYTHON | DATA:
            problems.append(f"{b.where}: unknown block language {b.lang!r}")
        if b.marker not in (None, "no-run", "exit"):
            problems.append(f"{b.where}: unknown apisec-doc marker {b.marker!r} (no-run REASON, exit N)")
        if b.marker == "no-run" and len(b.arg.split()) < 2:
            problems.append(
                f"{b.where}: no-run needs a reason (<!-- apisec-doc: no-run why it cannot run -->)"
            )
        if b.marker == "exit" and not b.arg.isdigit():
            problems.append(f"{b.where}: exit needs a number (<!-- apisec-doc: exit 1 -->)")
    assert not problems, "\n".join(problems)


def test_the_parser_reads_markers_and_languages(tmp_path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "text\n\n<!-- apisec-doc: no-run needs the internet -->\n```sh\nfalse\n```\n\n"
        "```python\nx = 1\n```\n\n- item\n\n  ```text\n  apisec x\n  ```\n\n"
        "<!-- apisec-doc: exit 1 -->\n\n```\nfalse\n```\n<!-- apisec-doc: no-run stray -->\nprose\n"
    )
    blocks, problems = parse(page)
    assert [(b.lang, b.marker, b.arg) for b in blocks] == [
        ("sh", "no-run", "needs the internet"),
        ("python", None, ""),
        ("text", None, ""),
        ("", "exit", "1"),
    ]
    assert blocks[2].text == "apisec x\n" and [b.runs for b in blocks] == [False, True, False, False]
    assert len(problems) == 1 and "not directly before a code block" in problems[0]


# ---------------------------------------------------------------- running the blocks


def _workdir(served, tmp: Path) -> Path:
    """A scratch folder with the served material under the names the docs use."""
    pki = served.folder / "pki"
    for name in ("ca.pem", "client.key", "client.pem", "service.key", "service.pem"):
        shutil.copy(pki / name, tmp / name)
    shutil.copy(pki / "service.key", tmp / "idp.key")  # the SAML examples' identity provider
    shutil.copy(pki / "service.pem", tmp / "idp.pem")
    shutil.copy(served.folder / "request.xml", tmp / "request.xml")
    for name in ("pki", "secrets", "targets.toml", "serve.env"):
        (tmp / name).symlink_to(served.folder / name)
    (tmp / "samples").symlink_to(ROOT / "samples")
    (tmp / "bench").symlink_to(ROOT / "bench")
    return tmp


def _env(served) -> dict[str, str]:
    bindir = str(Path(shutil.which("apisec") or sys.executable).parent)
    env = {**os.environ, **served.env, "COLUMNS": "200"}
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["PW"] = "correct horse battery staple"
    return env


def _shell_script(b: Block) -> str:
    if b.lang == "console":
        cmds, current = [], ""
        for line in b.text.splitlines():
            if line.startswith("$ "):
                current = line[2:]
            elif current and current.endswith("\\"):
                current += "\n" + line
            else:
                if current:
                    cmds.append(current)
                current = ""
            if current and not current.endswith("\\"):
                cmds.append(current)
                current = ""
        return "\n".join(cmds) + "\n"
    return b.text


PRELUDE = textwrap.dedent(
    """
    import os, sys
    envelope_bytes = open("request.xml", "rb").read()
    token = os.environ["ALICE_TOKEN"]
    pw = os.environ["PW"]
    _ns = dict(envelope_bytes=envelope_bytes, token=token, pw=pw, __name__="__docs__")
    for _where, _src in BLOCKS:
        try:
            exec(compile(_src, _where, "exec"), _ns)
        except BaseException:
            print(f"FAILED in the python block at {_where}", file=sys.stderr)
            raise
    """
)


def _pages_that_run() -> list[Path]:
    return [page for page in PAGES if any(b.runs for b in parse(page)[0])]


@pytest.mark.parametrize("page", _pages_that_run(), ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(page: Path, served, tmp_path) -> None:
    """The page's shell blocks in order, then its Python blocks in order in
    one interpreter (they may build on each other), in a scratch folder."""
    blocks = [b for b in parse(page)[0] if b.runs]
    work, env = _workdir(served, tmp_path), _env(served)
    for b in (b for b in blocks if b.lang in SHELL):
        r = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", _shell_script(b)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        want = int(b.arg) if b.marker == "exit" else 0
        assert r.returncode == want, (
            f"{b.where}: exit {r.returncode}, expected {want}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )
    py = [(b.where, b.text) for b in blocks if b.lang in PYTHON]
    if py:
        script = f"BLOCKS = {py!r}\n" + PRELUDE
        r = subprocess.run(
            [sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600
        )
        assert r.returncode == 0, f"{page.name}: python blocks failed\n{r.stdout[-3000:]}\n{r.stderr[-4000:]}"


# ---------------------------------------------------------------- synopses against --help


@functools.cache
def _help(path: tuple[str, ...]) -> str | None:
    exe = shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))
    r = subprocess.run(
        [exe, *path, "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    return r.stdout if r.returncode == 0 else None


def _command_path(words: list[str]) -> tuple[str, ...]:
    path: tuple[str, ...] = ()
    for w in words:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", w) or _help((*path, w)) is None:
            break
        if w not in _subcommands(path):
            break
        path = (*path, w)
    return path


def _subcommands(path: tuple[str, ...]) -> set[str]:
    text = _help(path) or ""
    if "Commands" not in text:
        return set()
    panel = text.split("Commands", 1)[1]
    return set(re.findall(r"^│ ([a-z][a-z0-9-]*)\s", panel, re.M))


def _synopses() -> list[tuple[str, str]]:
    """(where, synopsis with its continuation lines) of every text block line starting with apisec."""
    out = []
    for b in ALL:
        if b.lang != "text":
            continue
        lines = b.text.splitlines()
        for n, line in enumerate(lines):
            if not line.startswith("apisec "):
                continue
            chunk = [line]
            for more in lines[n + 1 :]:
                if more.startswith((" ", "\t")) and more.strip():
                    chunk.append(more)
                else:
                    break
            out.append((f"{b.where}+{n + 1}", "\n".join(chunk)))
    return out


@pytest.mark.parametrize("where,synopsis", _synopses(), ids=[w for w, _ in _synopses()])
def test_synopsis_matches_help(where: str, synopsis: str) -> None:
    words = synopsis.split()
    path = _command_path(words[1:])
    assert path or words[1].startswith(("-", "[")), f"{where}: {words[1]!r} is not an apisec command"
    text = _help(path) or ""
    known = set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])\b", text)) | {
        "--help",
        "--version",
        "--debug",
    }
    named = set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", synopsis))
    missing = sorted(named - known)
    assert not missing, f"{where}: apisec {' '.join(path)} --help does not list {', '.join(missing)}"


def test_readme_overview_covers_every_command() -> None:
    """Every leaf command of the real CLI appears in the README's CLI overview."""
    readme = [
        b for b in ALL if b.page.name == "README.md" and b.lang == "text" and "apisec [--version]" in b.text
    ]
    assert len(readme) == 1, "README.md has one ```text block with the CLI overview (apisec [--version] …)"
    overview = readme[0].text

    def leaves(path: tuple[str, ...]) -> list[tuple[str, ...]]:
        subs = _subcommands(path)
        return [leaf for s in sorted(subs) for leaf in leaves((*path, s))] if subs else [path]

    missing = [" ".join(p) for p in leaves(()) if not re.search(rf"^apisec {' '.join(p)}\b", overview, re.M)]
    assert not missing, f"README CLI overview lacks: {', '.join(missing)}"
