"""`kdocs test --clusters K` on real kwok clusters, and its refusal elsewhere.

The same project (passing and failing scenarios, an exclusive one, plain
snippets) is run with --clusters 1 and then --clusters 2: the second must use
two clusters (the checkout's and its `-spread2`), record exactly the same units
and verdicts, and `kdocs cluster down` must remove both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.cluster.providers._common import cache_root, checkout_cluster_name
from tests.cluster.test_runner_helpers import ROOT, TOPOLOGY
from tests.cluster.test_shards import project, verdicts


def kdocs(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KDOCS_PROVIDER": "kwok"}
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *args], cwd=root, env=env,
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip


@pytest.mark.cluster
def test_two_clusters_give_the_verdicts_of_one_and_down_removes_both(tmp_path: Path) -> None:
    settings = project(tmp_path / "project")
    (settings.root / "clusters").symlink_to(ROOT / "clusters")  # the kwok build scripts
    name = checkout_cluster_name(settings.root)
    folders = [cache_root() / "kwok" / "clusters" / n for n in (name, f"{name}-spread2")]
    run = ("test", "--topology", TOPOLOGY, "--cluster-version", "1.36", "--force")
    try:
        one = kdocs(settings.root, *run, "--clusters", "1")
        assert one.returncode == 1, one.stdout + one.stderr  # gamma's claim is false
        expected = verdicts(settings.results_file)
        assert ("app/gamma.yaml", "scenario", "gamma", False) in expected
        assert len({(unit, kind) for _, kind, unit, _ in expected}) == 6
        assert not folders[1].exists(), "--clusters 1 must not make a second cluster"

        settings.results_file.unlink()
        two = kdocs(settings.root, *run, "--clusters", "2", "--output", "json")
        assert two.returncode == 1, two.stdout + two.stderr
        assert verdicts(settings.results_file) == expected
        for cluster in (name, f"{name}-spread2"):
            assert f"cluster kwok-{cluster}: " in two.stderr, two.stderr
        assert all(folder.is_dir() for folder in folders)
        statuses = {u["name"]: u["status"] for u in json.loads(two.stdout)["outcomes"]}
        assert len(statuses) == 6 and statuses["gamma"] == "failed", statuses
    finally:
        down = kdocs(settings.root, "cluster", "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not any(folder.exists() for folder in folders)


def test_other_providers_refuse_more_clusters_in_one_line(tmp_path: Path) -> None:
    settings = project(tmp_path / "project")
    refused = kdocs(settings.root, "test", "--provider", "kubeconfig", "--clusters", "2")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "--clusters" in lines[0] and "kubeconfig" in lines[0], lines
