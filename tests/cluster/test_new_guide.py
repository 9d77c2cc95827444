"""`kdocs new guide` end to end, as a contributor runs it: no file edited by hand.

In a copy of this project: scaffold a guide, build the site, run its scenario
on the session's cluster, build again and find the guide's passing badge;
then a comment-only edit of its snippet is named by the build's last line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from tests.cluster.conftest import ROOT, TOPOLOGY

pytestmark = pytest.mark.cluster
NAME = "first-steps"
PAGE = Path("site/guides/basics/first-steps/index.html")


def copy_of_project(target: Path) -> Path:
    """The project's files as a fresh clone would have them (untracked new files included)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")  # fmt: skip
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    return target


def kdocs(project: Path, *argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *argv],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def cluster_badge(page: str, snippet: str) -> str:
    """The state of the cluster badge under the block of `snippet` (passed, not-run, failed)."""
    badges = re.search(
        rf'<span class="kdocs-badges"[^>]*data-snippet="{snippet}".*?</a></span>', page
    )
    assert badges, f"no block of {snippet}"
    return re.search(
        r'kdocs-badge--([a-z-]+)"[^>]*><span class="kdocs-badge__label">cluster<', badges.group(0)
    ).group(1)


def test_a_scaffolded_guide_is_built_proven_and_badged_without_a_manual_edit(
    cluster: Cluster, tmp_path: Path
) -> None:
    project = copy_of_project(tmp_path / "project")
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "KDOCS_PROVIDER": "kubeconfig",
        "KDOCS_KUBECTL": str(cluster.kubectl_binary), "KDOCS_CACHE": str(tmp_path / "cache"),
    }  # fmt: skip

    done = kdocs(project, "new", "guide", NAME, "--category", "basics", env=env)
    assert done.returncode == 0, done.stderr
    assert kdocs(project, "new", "guide", NAME, "--category", "other", env=env).returncode == 2

    done = kdocs(project, "build", env=env)
    assert done.returncode == 0, done.stderr
    page = (project / PAGE).read_text()
    assert cluster_badge(page, f"{NAME}/settings.yaml") == "not-run"
    listed = (project / "site" / "index.html").read_text()
    assert 'href="guides/basics/first-steps/"' in listed  # the home list found it alone

    done = kdocs(
        project, "test", "--provider", "kubeconfig", f"--kubeconfig={cluster.kubeconfig}",
        f"--context={cluster.context}", "--topology", TOPOLOGY, f"snippets/{NAME}/", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

    done = kdocs(project, "build", env=env)
    assert done.returncode == 0, done.stderr
    page = (project / PAGE).read_text()
    assert cluster_badge(page, f"{NAME}/settings.yaml") == "passed"
    assert f"{NAME}-settings (passed)" in page  # the badge names the scenario that proved it
    assert "changed since" not in done.stderr

    snippet = project / "snippets" / NAME / "settings.yaml"
    snippet.write_text(snippet.read_text().replace("data:", "data:  # what the app reads"))
    done = kdocs(project, "build", env=env)
    assert done.returncode == 0, done.stderr
    assert cluster_badge((project / PAGE).read_text(), f"{NAME}/settings.yaml") == "not-run"
    assert done.stderr.splitlines()[-1].endswith(f"(run `kdocs test`): {NAME}/settings.yaml")
