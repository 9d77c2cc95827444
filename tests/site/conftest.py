"""A throwaway kdocs project built with the real MkDocs, macros and engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Project:
    root: Path

    def page(self, name: str, body: str) -> Path:
        path = self.root / "docs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body))
        return path

    def snippet(self, rel: str, body: str | bytes) -> Path:
        path = self.root / "snippets" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, str):
            body = textwrap.dedent(body).encode()
        path.write_bytes(body)
        return path

    def build(self) -> subprocess.CompletedProcess[str]:
        return self._run("kdocs.cli", "build")

    def mkdocs_build(self) -> subprocess.CompletedProcess[str]:
        """A plain `mkdocs build --strict`: the kdocs plugin alone, no kdocs command."""
        return self._run("mkdocs", "build", "--strict")

    def _run(self, module: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
        )


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pids of the children this process forks during the test, in order."""
    pids: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    return pids


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project with the repo's mkdocs.yml (no nav), macros and CRDs, and no pages yet."""
    return make_project(tmp_path / "project")


def make_project(root: Path) -> Project:
    root.mkdir()
    config = (REPO / "mkdocs.yml").read_text()
    (root / "mkdocs.yml").write_text(config.split("\nnav:")[0] + "\n")
    shutil.copytree(REPO / "macros", root / "macros", ignore=shutil.ignore_patterns("__pycache__"))
    if (REPO / "schemas").is_dir():
        shutil.copytree(REPO / "schemas", root / "schemas")
    (root / "pyproject.toml").write_text('[tool.kdocs]\nkubernetes-versions = ["1.30", "1.33"]\n')
    (root / "docs" / "assets").mkdir(parents=True)
    (root / "docs" / "assets" / "kdocs.css").write_text("")
    (root / "docs" / "index.md").write_text("# Home\n")
    return Project(root)


CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
data:
  # --8<-- [start:data]
  greeting: hello
  nested: |
    line one
      line two, indented
  # --8<-- [end:data]
"""
