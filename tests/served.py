"""``apisec demo --serve`` as a test fixture: the six sample services and the
folder they describe, started through the real console script (as users do)
and stopped with SIGTERM (as a service manager does)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Served:
    folder: Path
    stdout_lines: list[str]
    proc: subprocess.Popen
    env: dict[str, str] = field(default_factory=dict)
    """The environment after ``. serve.env`` (URLs, tokens)."""
    stderr: str = ""
    returncode: int | None = None

    @property
    def commands(self) -> list[str]:
        """The 'try:' commands the serve printed."""
        out, on = [], False
        for line in self.stdout_lines:
            if line.startswith("try:"):
                on = True
            elif on and line.startswith("  "):
                out.append(line.strip())
            elif on:
                break
        return out


def _exe() -> str:
    return shutil.which("apisec") or str(Path(sys.executable).with_name("apisec"))


@contextmanager
def serve(folder: Path, *, timeout: float = 120) -> Iterator[Served]:
    """Start ``apisec demo --serve -o folder``; yield once it printed its
    commands; SIGTERM it on exit and record its exit code and stderr."""
    proc = subprocess.Popen(
        [_exe(), "demo", "--serve", "-o", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C"):
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    served = Served(folder=folder, stdout_lines=lines, proc=proc)
    try:
        if not ready.wait(timeout) or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(
                f"apisec demo --serve did not start: {proc.stderr.read() if proc.stderr else ''}"
            )
        dump = subprocess.run(
            ["bash", "-c", f". {folder}/serve.env && env -0"], capture_output=True, check=True
        ).stdout.decode()
        served.env = dict(item.split("=", 1) for item in dump.split("\0") if "=" in item)
        yield served
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, served.stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, served.stderr = proc.communicate()
        served.returncode = proc.returncode
        reader.join(timeout=5)
