"""Counting a process tree's instructions under valgrind (benchmarks/bench_instructions.py).

Real valgrind on small Python trees: a child that execs is added to its parent; a
child that forks without exec, whose count holds its parent's, is refused.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import bench_instructions  # noqa: E402

needs_valgrind = pytest.mark.skipif(shutil.which("valgrind") is None, reason="no valgrind")
LOOP = "sum(range(2_000_000))"


def _count(tmp_path: Path, name: str, code: str) -> int:
    return bench_instructions.count([sys.executable, "-c", code], tmp_path, tmp_path / name)


@needs_valgrind
def test_a_child_that_execs_is_added_to_its_parent(tmp_path: Path) -> None:
    alone = _count(tmp_path, "alone", "pass")
    looped = _count(tmp_path, "looped", LOOP)
    spawn = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {LOOP!r}])"
    spawned = _count(tmp_path, "spawned", spawn)
    loop = looped - alone
    assert loop > 50_000_000  # the loop is what the two differ by
    # the parent (start-up, subprocess) and the child (start-up + loop), each once
    assert looped + alone < spawned < looped + alone + loop / 2, (alone, looped, spawned)
    assert len(list((tmp_path / "spawned").glob("*.log"))) == 2


@needs_valgrind
def test_a_fork_without_exec_is_refused_not_counted_twice(tmp_path: Path) -> None:
    code = "import os\npid = os.fork()\nif pid == 0: os._exit(0)\nos.waitpid(pid, 0)"
    with pytest.raises(bench_instructions.ForkedChild, match="without exec"):
        _count(tmp_path, "forked", code)


def test_a_log_without_a_count_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "1.log").write_text("==1== Command: python -c pass\n==1== Parent PID: 0\n")
    with pytest.raises(RuntimeError, match="left no instruction count"):
        bench_instructions.tree_instructions(tmp_path)
