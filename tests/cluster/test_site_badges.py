"""End to end on the project itself: `kdocs test` records, `kdocs build` shows it.

This is what CI produces: after this test the project's results file holds
the cluster results of every snippet of the site, and the built guide shows
them under each snippet.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.site.extract import rendered_blocks

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cluster


def kdocs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_every_block_of_the_built_site_shows_its_cluster_result(
    cluster: Cluster, tmp_path: Path
) -> None:
    tested = kdocs("test", "--provider", cluster.provider)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    site = tmp_path / "site"
    built = kdocs("build", "--site-dir", str(site))
    assert built.returncode == 0, built.stderr
    blocks = rendered_blocks(site)
    assert blocks
    # "kwok + Karpenter v1.14.1 · Kubernetes v1.36.3" where Karpenter ran next to the cluster
    where = f"{cluster.label} · Kubernetes {cluster.kubernetes_version}"
    for block in blocks:
        state, text = block.badges["cluster"]
        assert state == "passed" and where in text, (block.page, block.snippet, block.section)
        static = block.badges.get("schema") or block.badges["scenario"]
        assert static[0] == "passed", block
