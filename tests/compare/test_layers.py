"""Layering: no library module imports CLI plumbing (typer, compare.cliutil),
and the exit-code errors live in a module without typer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLI_MODULES = {"cli", "cliutil", "serve"}  # command faces (serve is `apisec demo --serve`)


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_library_modules_do_not_import_cli_code() -> None:
    offenders = []
    for pkg in ("compare", "wssec", "rest"):
        for path in (ROOT / pkg).rglob("*.py"):
            stem = path.stem
            if stem.startswith("cli") or stem in CLI_MODULES:
                continue
            bad = {
                m for m in _imports(path) if m == "typer" or m.startswith("typer.") or m == "compare.cliutil"
            }
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, offenders


def test_exit_code_errors_load_without_typer() -> None:
    code = (
        "import sys; import compare.errors, compare.fileio, compare.gate, compare.catalogue; "
        "print('typer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _module_level_imports(path: Path) -> set[str]:
    """Imports executed when the module loads (not under TYPE_CHECKING, not in functions)."""
    out: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_compare_has_no_import_circles() -> None:
    mods = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
            for p in (ROOT / "compare").rglob("*.py")}  # fmt: skip
    graph = {m: {i for i in _module_level_imports(p) if i in mods and i != m} for m, p in mods.items()}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            if state.get(n) == 1:
                raise AssertionError("import circle: " + " -> ".join([*stack[stack.index(n) :], n]))
            if n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    # the engine is split: model / plan / run, and the model needs neither
    assert not {"compare.plan", "compare.run", "compare.config"} & graph["compare.model"]
