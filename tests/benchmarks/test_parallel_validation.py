"""Validating in worker processes (what makes large runs fast) changes nothing in the report."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kdocs.output import get_output
from kdocs.schema.api import PARALLEL_MIN_BYTES, _workers, validate_paths
from tests.signals import default_signals

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from corpus import generate  # noqa: E402


def _outputs(report) -> dict[str, str]:
    out = {}
    for name in ("text", "json", "github"):
        buffer = io.StringIO()
        get_output(name).write(report, buffer)
        out[name] = buffer.getvalue()
    return out


def test_workers_give_the_same_report_in_the_same_order(tmp_path: Path) -> None:
    corpus = generate(tmp_path / "corpus", 300)
    broken = tmp_path / "corpus" / "zz-broken"
    broken.mkdir()
    (broken / "binary.yaml").write_bytes(b"kind: Pod\x00")
    (broken / "syntax.yaml").write_text("apiVersion: v1\nkind: [\n")
    (broken / "latin1.yaml").write_bytes(b"apiVersion: v1\nkind: Caf\xe9\n")
    (broken / "dup.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nkind: ConfigMap\n")
    paths = [tmp_path / "corpus", tmp_path / "missing.yaml"]

    one = validate_paths(paths, ["1.30", "1.37"], jobs=1)
    two = validate_paths(paths, ["1.30", "1.37"], jobs=2)

    assert _outputs(two) == _outputs(one)
    assert two.exit_code == one.exit_code == 2
    assert [type(e) for f in two.files for e in f.errors] == [
        type(e) for f in one.files for e in f.errors
    ]
    invalid = {d.document.name for d in one.documents if not d.valid}
    assert invalid == corpus.invalid


@pytest.mark.parametrize("jobs, files, expected", [(1, 10, 1), (3, 10, 3), (8, 2, 2)])
def test_explicit_jobs(jobs: int, files: int, expected: int) -> None:
    assert _workers(jobs, [Path(f"f{i}") for i in range(files)]) == expected


def test_small_runs_stay_in_one_process(tmp_path: Path) -> None:
    corpus = generate(tmp_path / "c", 50)
    assert _workers(None, corpus.files) == 1


def test_runs_over_a_mebibyte_use_workers(tmp_path: Path) -> None:
    small, large = generate(tmp_path / "s", 1500), generate(tmp_path / "l", 2000)
    assert sum(p.stat().st_size for p in small.files) < PARALLEL_MIN_BYTES  # ~0.9 MB
    assert sum(p.stat().st_size for p in large.files) > PARALLEL_MIN_BYTES  # ~1.2 MB
    assert _workers(None, small.files) == 1
    if len(os.sched_getaffinity(0)) >= 2:
        assert _workers(None, large.files) >= 2


def test_ctrl_c_stops_the_workers_quietly(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: one line, exit 130, no worker traceback."""
    generate(tmp_path / "c", 6000)
    (tmp_path / "pyproject.toml").write_text("[tool.kdocs]\n")
    kdocs = Path(sys.executable).parent / "kdocs"
    proc = subprocess.Popen(
        [str(kdocs), "validate", "-j", "2", "c"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_signals,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None and not _children(proc.pid):
        time.sleep(0.01)
    assert proc.poll() is None, "finished before the workers could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err == "kdocs: interrupted\n"


def _children(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []


def test_the_head_ends_once_the_kinds_stop_growing(tmp_path: Path) -> None:
    """Files validated before forking keep the other core waiting: the head stops once
    HEAD_SETTLED files in a row brought no new kind, and never passes 1/HEAD_FRACTION."""
    from kdocs.resource.limits import DEFAULT_LIMITS
    from kdocs.schema.api import HEAD_FRACTION, HEAD_SETTLED, _validate_head, engine_for

    files = []
    for i in range(800):
        kind = "Secret" if i == 9 else "ConfigMap"
        path = tmp_path / f"f{i:03d}.yaml"
        path.write_text(f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: n{i}\n")
        files.append(path)
    engine = engine_for(["1.33"])
    head = _validate_head(files, engine, DEFAULT_LIMITS)
    assert len(head) == 10 + HEAD_SETTLED < 800 // HEAD_FRACTION  # the Secret (file 10) reset it
    assert [r.path for r in head] == [str(p) for p in files[: len(head)]]
    assert all(r.valid for r in head)
    assert len(_validate_head(files[:80], engine, DEFAULT_LIMITS)) == 80 // HEAD_FRACTION
