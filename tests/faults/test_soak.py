"""`make soak`'s engine: its verdict (no cluster), and a two-run smoke test on a cluster of its own.

The soak is only worth running if it says so when something went wrong: a
run that failed, a namespace, an object or a process left behind must each
make the soak fail, while clean runs pass whatever their timings.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.soak import Run, summarize
from tests.faults.conftest import ROOT, kwok_only

CLEAN = Run(
    run=1, at_s=0.0, exit_code=0, seconds=5.0, status="passed", leaked_namespaces=0,
    leaked_objects=0, leftover_processes=0, apiserver_rss_mib=350.0, etcd_rss_mib=45.0,
    rss_mib=395.0,
)  # fmt: skip


def rows(count: int, **changes_of_the_last: object) -> list[Run]:
    """`count` clean runs whose memory grows by 1 MiB each, the last one changed."""
    out = [replace(CLEAN, run=i, rss_mib=395.0 + i) for i in range(1, count + 1)]
    out[-1] = replace(out[-1], **changes_of_the_last)
    return out


def test_clean_runs_pass_and_the_summary_has_the_numbers() -> None:
    lines, ok = summarize(rows(20), 380.0, "snippets/x.scenario.yaml", 20)
    assert ok
    text = "\n".join(lines)
    assert "20 of 20 runs, 20 ok, 0 failed or leaked" in text
    assert "exit codes: 0×20" in text
    assert "leaked: 0 namespaces, 0 objects, 0 processes" in text
    assert "380 MiB before, 396 after run 1, 415 after run 20, max 415" in text
    assert "trend +100.0 MiB per 100 runs" in text


@pytest.mark.parametrize(
    "change",
    [
        {"exit_code": 1, "status": "failed", "message": "f:3: step 2: no"},
        {"exit_code": 2, "status": "error", "message": "the API server is unreachable"},
        {"exit_code": -1, "status": "no report", "message": "no end within 600s"},
        {"leaked_namespaces": 1},
        {"leaked_objects": 2},
        {"leftover_processes": 1},
        {"status": "skipped"},  # exit 0, but --force must run it: nothing was proven
    ],
    ids=lambda change: ",".join(change),
)
def test_one_bad_run_in_many_fails_the_soak_and_is_named(change: dict[str, object]) -> None:
    lines, ok = summarize(rows(50, **change), 380.0, "snippets/x.scenario.yaml", 50)
    assert not ok
    assert "49 ok, 1 failed or leaked" in lines[0]
    assert any(line.startswith("run 50: ") for line in lines), lines


@pytest.mark.cluster
@kwok_only
def test_two_runs_against_a_cluster_of_its_own(tmp_path: Path) -> None:
    soak = ROOT / "benchmarks" / "soak.py"
    done = subprocess.run(
        [sys.executable, str(soak), "--runs", "2", "--out", str(tmp_path)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (table,) = tmp_path.glob("soak-*.csv")
    assert table.with_suffix(".md").is_file()
    runs = list(csv.DictReader(table.open(encoding="utf-8")))
    assert [r["run"] for r in runs] == ["1", "2"]
    for run in runs:
        assert (run["exit_code"], run["status"]) == ("0", "passed")
        assert run["leaked_namespaces"] == run["leaked_objects"] == "0"
        assert run["leftover_processes"] == "0"
        assert float(run["apiserver_rss_mib"]) > 50 and float(run["etcd_rss_mib"]) > 5
    assert "2 of 2 runs, 2 ok" in done.stdout
    # Its cluster lived in a temporary cache, removed with the cluster and every process.
    created = next(line for line in done.stderr.splitlines() if "creating kwok cluster" in line)
    folder = created.rsplit(" in ", 1)[1].strip()
    assert "/kdocs-soak-" in folder and not Path(folder).exists()
    leftovers = subprocess.run(["pgrep", "-f", folder], capture_output=True, text=True)
    assert leftovers.stdout == "", leftovers.stdout
