"""Sharded runs on a real cluster: three shard processes, merged, equal one unsharded run.

Each `kdocs test --shard I/3` is its own process (the kubeconfig provider
pointed at the session's kwok cluster), as each would be its own CI runner;
the project has passing and failing scenarios, an exclusive one and plain
snippets under the default check. The merged file must hold exactly the units
and verdicts of an unsharded run of a copy of the project, the failure
included, and `kdocs build --require-complete` refuses while a shard is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.config import Settings, load_settings
from kdocs.results import shard_file
from tests.cluster.test_results_file import CONFIGMAP, SCENARIO, _env, run_args, site_project
from tests.cluster.test_runner_helpers import write

pytestmark = pytest.mark.cluster


def project(folder: Path) -> Settings:
    """Six units: four scenarios (one fails, one exclusive) and two snippets' default checks."""
    settings = site_project(folder)
    app = settings.snippets_dir / "app"
    for name in ("alpha", "beta", "gamma", "delta"):
        write(app / f"{name}.yaml", CONFIGMAP.format(name=name))
        greeting = "bye" if name == "gamma" else "hello"  # gamma's claim is false
        scenario = SCENARIO.format(greeting=greeting).replace("config", name)
        if name == "delta":
            scenario = scenario.replace("steps:", "exclusive: true\nsteps:")
        write(app / f"{name}.scenario.yaml", scenario)
    for name in ("plain-one", "plain-two"):
        write(app / f"{name}.yaml", CONFIGMAP.format(name=name))
    return settings


def kdocs(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *args], cwd=root, env=_env(),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def verdicts(results: Path) -> set[tuple[str, str, str, bool]]:
    """What a results file says, without dates and durations: (snippet, kind, unit, passed)."""
    raw = json.loads(results.read_text())["records"].values()
    return {(r["snippet"], r["kind"], r["unit"], r["passed"]) for r in raw}


def test_three_shards_merged_equal_one_unsharded_run_failure_included(
    cluster: Cluster, tmp_path: Path
) -> None:
    whole = project(tmp_path / "whole")
    unsharded = kdocs(whole.root, *run_args(cluster))
    assert unsharded.returncode == 1, unsharded.stdout + unsharded.stderr  # gamma fails
    expected = verdicts(whole.results_file)
    assert ("app/gamma.yaml", "scenario", "gamma", False) in expected
    assert len({(unit, kind) for _, kind, unit, _ in expected}) == 6

    sharded = project(tmp_path / "sharded")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "kdocs.cli", *run_args(cluster), "--shard", f"{i}/3"],
            cwd=sharded.root,
            env=_env(),
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for i in (1, 2, 3)
    ]
    ended = [run.communicate(timeout=600) for run in runs]
    ran: dict[int, set[str]] = {}
    for i, (run, (stdout, stderr)) in enumerate(zip(runs, ended, strict=True), start=1):
        names = {o["name"] for o in json.loads(stdout)["outcomes"]}
        ran[i] = names
        assert run.returncode == (1 if "gamma" in names else 0), stdout + stderr
        assert f"shard {i}/3: {len(names)} unit(s)" in stderr
    every_unit = sorted({unit for _, _, unit, _ in expected})
    assert sorted(n for names in ran.values() for n in names) == every_unit  # each once
    assert all(len(names) == 2 for names in ran.values()), ran  # balanced by count
    assert not sharded.results_file.exists()  # shards write files of their own only
    files = [shard_file(sharded.results_file, f"{i}-of-3") for i in (1, 2, 3)]

    merged = kdocs(sharded.root, "results", "merge", str(files[0]), str(files[1]))
    assert merged.returncode == 0, merged.stderr
    refused = kdocs(sharded.root, "build", "--require-complete", "--site-dir", "site")
    assert refused.returncode == 1, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == len(ran[3]), refused.stderr  # one line per unit no shard merged ran
    assert all(any(f"'{name}'" in line for line in lines) for name in ran[3]), refused.stderr
    assert not (sharded.root / "site").exists()  # nothing published

    merged = kdocs(sharded.root, "results", "merge", str(files[2]))
    assert merged.returncode == 0, merged.stderr
    assert verdicts(sharded.results_file) == expected
    built = kdocs(sharded.root, "build", "--require-complete", "--site-dir", "site")
    assert "no result for its current inputs" not in built.stderr, built.stderr


def test_a_rerun_shard_skips_what_the_shared_results_file_proved(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = project(tmp_path / "p")
    shutil.rmtree(settings.snippets_dir / "app")
    write(settings.snippets_dir / "app" / "only.yaml", CONFIGMAP.format(name="only"))
    args = [a for a in run_args(cluster) if a != "--force"]
    first = kdocs(settings.root, *args)
    assert first.returncode == 0, first.stderr
    again = kdocs(settings.root, *args, "--shard", "1/1")
    assert again.returncode == 0, again.stderr
    assert [o["status"] for o in json.loads(again.stdout)["outcomes"]] == ["skipped"]
    assert load_settings(settings.root).results_file.exists()
