"""Hostile input through every command, not only `kdocs validate`.

An alias bomb ("billion laughs"), 20,000-deep nesting, a file over the size limit
and a binary file are refused by the one reader's limits wherever they enter:
`kdocs validate`, `kdocs test` (before any cluster: its offline checks run first),
`kdocs build` and `kdocs serve` (through a real HTTP client). Exit 2, one line, no
traceback, no hang.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.site.conftest import Project
from tests.site.test_serve import free_port, wait_for

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
MiB = 1024 * 1024


def _bomb() -> bytes:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefghi", "bcdefghij", strict=False):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return (CM + "data:\n" + "".join(f"  {line}\n" for line in levels)).encode()


HOSTILE = {
    "alias-bomb": (_bomb(), "limit max_alias_nodes"),
    "deep": ((CM + "data: " + "[" * 20_000 + "]" * 20_000 + "\n").encode(), "limit max_depth"),
    "oversize": ((CM + "data:\n  a: " + "x" * (6 * MiB) + "\n").encode(), "max_bytes"),
    "binary": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64, "binary file (NUL byte)"),
}


def _kdocs(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *args], cwd=root, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )  # fmt: skip


def _one_line(done: subprocess.CompletedProcess[str], words: str) -> str:
    text = done.stdout + done.stderr
    assert "Traceback" not in text and "RecursionError" not in text, text[-2000:]
    problem = [line for line in text.splitlines() if words in line]
    assert len(problem) == 1, text[-2000:]
    return problem[0]


@pytest.mark.parametrize("kind", HOSTILE)
def test_kdocs_test_refuses_it_offline_without_a_cluster(project: Project, tmp_path, kind):
    data, words = HOSTILE[kind]
    project.snippet("bad.yaml", data)
    # No control plane binaries in this cache: bringing a cluster up would fail differently.
    env = {"KDOCS_CACHE": str(tmp_path), "COLUMNS": "1000"}  # the table on one line a row
    done = _kdocs(project.root, "test", "snippets/bad.yaml", env=env)
    line = _one_line(done, words)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refused offline" in line and "bad.yaml" in line
    assert not (tmp_path / "kwok").exists()


@pytest.mark.parametrize("kind", HOSTILE)
def test_kdocs_build_refuses_it_in_one_line(project: Project, kind):
    data, words = HOSTILE[kind]
    project.snippet("bad.yaml", data)
    project.page("p.md", '# P\n\n{{ snippet("bad.yaml") }}\n')
    done = _kdocs(project.root, "build")
    line = _one_line(done, words)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "bad.yaml" in line


def test_kdocs_serve_shows_each_refusal_and_keeps_serving(project: Project):
    for kind, (data, _words) in HOSTILE.items():
        project.snippet(f"{kind}.yaml", data)
    project.page("p.md", "# P\n\n" + "".join(f'{{{{ snippet("{k}.yaml") }}}}\n\n' for k in HOSTILE))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kdocs.cli", "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        body = wait_for(f"http://127.0.0.1:{port}/p/", lambda b: "kdocs-error" in b, 120)
        for _kind, (_data, words) in HOSTILE.items():
            assert words in body, body[-3000:]
        assert "Traceback" not in body
        assert server.poll() is None  # still serving
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert "Traceback" not in err and "RecursionError" not in err, err[-2000:]
