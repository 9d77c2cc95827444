"""The benchmark harness still runs: `benchmarks/bench.py --smoke` on a tiny corpus.

No cluster and no assertion on any number (timings depend on the machine); only
that every section produces its rows and that every tool agrees with the corpus
on which documents are invalid.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_smoke_run_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "results.md"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--smoke", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    table = out.read_text()
    assert table in done.stdout  # printed as well as written

    rows = [line for line in table.splitlines() if line.startswith("| ")]
    validation = [r for r in rows if r.startswith("| 40 |") and "MiB" in r]
    tools = [r.split("|")[2].strip() for r in validation]
    expected = ["kdocs validate", "kdocs validate, schema cache cold", "kubernetes-validate",
                "kdocs validate"]  # fmt: skip
    if shutil.which("go"):
        expected += ["kubeconform", "kubeconform x8 runs", "kubeconform, bundled schemas",
                     "kubeconform, bundled schemas x8 runs"]  # fmt: skip
    assert sorted(tools) == sorted(expected), validation
    for row in validation:
        assert "| yes (" in row, row  # the same invalid documents as the corpus says
    if shutil.which("go"):  # the paired kdocs ÷ kubeconform (bundled) ratio of the goals
        assert [r for r in rows if r.startswith("| 40 |") and "×" in r], table

    assert "## 2. Site build" in table
    assert any(r.startswith("| 1 | 3 |") for r in rows)
    assert any(r.startswith("| 3 | 9 |") for r in rows)

    assert "## 3. Cluster stage" not in table  # never in a smoke run
    # The goal table: every goal of issue 14, the ones of sections not run said so.
    goal_rows = table.split("## Goals of issue 14")[1].split("\n## ")[0]
    assert "unchanged `make docs`" in goal_rows and ", 3 pages |" in goal_rows, goal_rows
    assert "peak memory ÷ plain, 3 pages" in goal_rows, goal_rows
    macros = [r for r in goal_rows.splitlines() if "macros plugin alone" in r and "3 pages" in r]
    assert len(macros) == 1 and "wall " in macros[0] and "; CPU " in macros[0], goal_rows
    assert all(r.count("|") == 11 for r in rows if r.startswith("| 3 | 9 |")), rows  # a column each
    assert "| (cluster section) | not measured in this run |" in goal_rows, goal_rows
    preview = [r for r in rows if r.startswith(("| `kdocs serve`", "| `mkdocs serve`"))]
    assert len(preview) == 2, rows
    assert all("never showed" not in r and "n/a" not in r for r in preview), preview
