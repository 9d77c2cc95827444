"""End to end on the project itself: `kdocs test` records, `kdocs build` shows it.

This is what CI produces: after this test the project's results file holds
the cluster results of every snippet of the site, and the built guide shows
them under each snippet. With the kwok provider, `kdocs test` proves them on
every version of the project's `cluster-versions` (1.34 and 1.36), each on a
cluster of its own, and the badge a reader sees in the browser lists both.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.providers.kwok import KwokProvider
from kdocs.config import CLUSTER_RELEASES, load_settings
from kdocs.site.extract import rendered_blocks

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.cluster


def kdocs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,  # two versions, one cluster each
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`kdocs test` on the project, then `kdocs build`: the site, and the versions proven."""
    settings = load_settings(ROOT)
    others: list[KwokProvider] = []
    versions = [cluster.kubernetes_version]
    if cluster.provider == "kwok":  # one pass per cluster version, each on its own cluster
        versions = [CLUSTER_RELEASES[minor] for minor in settings.cluster_versions]
        others = [KwokProvider(settings, kubernetes_version=v) for v in versions]
        others = [o for o in others if o.kubernetes_version and o.current() is None]
    try:
        tested = kdocs("test", "--provider", cluster.provider)
    finally:
        for other in others:  # made by this test: the session fixture removes only its own
            other.down()
    assert tested.returncode == 0, tested.stdout + tested.stderr
    site = tmp_path_factory.mktemp("badges") / "site"
    built = kdocs("build", "--site-dir", str(site))
    assert built.returncode == 0, built.stderr
    return site, ", ".join(versions)


def test_every_block_of_the_built_site_shows_its_cluster_result(
    cluster: Cluster, built: tuple[Path, str]
) -> None:
    site, versions = built
    blocks = rendered_blocks(site)
    assert blocks
    # "kwok + Karpenter v1.14.1 · Kubernetes v1.34.4, v1.36.3" where Karpenter ran beside it
    where = f"{cluster.label} · Kubernetes {versions}"
    for block in blocks:
        state, text = block.badges["cluster"]
        assert state == "passed" and where in text, (block.page, block.snippet, text)
        static = block.badges.get("schema") or block.badges["scenario"]
        assert static[0] == "passed", block


@pytest.mark.browser
def test_a_reader_sees_every_version_a_guide_snippet_passed_on(
    built: tuple[Path, str],
    page,
) -> None:
    site, versions = built
    guide = next(site.glob("**/deploy-daemonset-with-karpenter/index.html"))
    page.goto(guide.as_uri())
    badges = page.locator('span.kdocs-badges[data-snippet="karpenter-daemonset/daemonset.yaml"]')
    badge = badges.first.locator(".kdocs-badge").nth(1)  # after the schema badge: the cluster
    assert "passed" in (badge.get_attribute("class") or "")
    text = badge.inner_text()
    assert f"Kubernetes {versions}" in text, text
    if "," in versions:  # the matrix: two versions, named one by one
        assert all(v in text for v in versions.split(", ")), text
