"""Temporary kdocs projects whose resident validators (`kdocs validate --server`) are
real processes on real sockets, stopped (and checked gone) after each test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kdocs.commands.server import server_info, stop_server
from tests.crd_fixture import crd

IDLE = "20"  # seconds: a server a failed test leaves behind does not stay long
START_WAIT = 15.0  # seconds for a server to answer after the first call started it
WIDGET_CRD = crd("example.com", "Widget", {
    "type": "object", "properties": {"size": {"type": "integer"}},
})  # fmt: skip
WIDGET = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n"
VALID = """apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {a: b}
"""
INVALID = VALID.replace("data:", "dta:")


@dataclass
class Run:
    code: int
    stdout: bytes
    stderr: bytes


@dataclass
class Project:
    root: Path
    env: dict[str, str] = field(default_factory=dict)

    def kdocs(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Run:
        done = subprocess.run([sys.executable, "-m", "kdocs.cli", *args], cwd=self.root,
                              env={**self.env, **(env or {})}, capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)  # fmt: skip
        return Run(done.returncode, done.stdout, done.stderr)

    def info(self) -> dict[str, int] | None:
        return server_info(str(self.root))[1]

    def socket(self) -> str:
        path = server_info(str(self.root))[0]
        assert path is not None
        return path

    def started(self) -> dict[str, int]:
        """Make sure a server runs (a first --server call starts it) and return its info."""
        if self.info() is None:
            self.kdocs("validate", "--server", "-k", "1.33", "valid.yaml")
        deadline = time.monotonic() + START_WAIT
        while (info := self.info()) is None:
            assert time.monotonic() < deadline, f"no server for {self.root}: {self.log()}"
            time.sleep(0.05)
        return info

    def served(self, *args: str, env: dict[str, str] | None = None) -> Run:
        """`kdocs validate --server ARGS`, asserting the running server answered it."""
        before = self.started()
        run = self.kdocs("validate", "--server", *args, env=env)
        after = self.info()
        assert after is not None and after["pid"] == before["pid"], "the server went away"
        assert after["served"] == before["served"] + 1, "answered in-process, not by the server"
        return run

    def log(self) -> str:
        logs = Path(self.env.get("KDOCS_CACHE", Path.home() / ".cache/kdocs")) / "server"
        return "\n".join(p.read_text() for p in logs.glob("*.log")) if logs.is_dir() else ""

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path


def server_pids(root: Path) -> list[int]:
    """Every live server process for this project root (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"kdocs.server.daemon" in args and str(root).encode() in args and state != "Z":
            pids.append(int(entry.name))
    return pids


def make_project(root: Path, versions: str = '["1.30", "1.37"]') -> Project:
    root.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDOCS_SERVER")}
    env.pop("GITHUB_ACTIONS", None)
    project = Project(root.resolve(), {**env, "KDOCS_SERVER_IDLE": IDLE, "COLUMNS": "100"})
    project.write("pyproject.toml", f"[tool.kdocs]\nkubernetes-versions = {versions}\n")
    project.write("schemas/crds/widget.yaml", WIDGET_CRD)
    project.write("valid.yaml", VALID)
    project.write("invalid.yaml", INVALID)
    project.write("widget.yaml", WIDGET)
    return project


@pytest.fixture
def make(tmp_path: Path) -> Iterator:
    """make(name, versions) -> Project; every server is stopped, and checked gone, after."""
    made: list[Project] = []

    def factory(name: str = "project", versions: str = '["1.30", "1.37"]') -> Project:
        made.append(make_project(tmp_path / name, versions))
        return made[-1]

    yield factory
    left = []
    for project in made:  # a server a client has just started may come up after a stop
        deadline = time.monotonic() + 10
        while (pids := server_pids(project.root)) and time.monotonic() < deadline:
            stop_server(str(project.root))
            time.sleep(0.1)
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        left += pids
    assert not left, f"servers stayed: {left}"
