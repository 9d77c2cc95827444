"""The results file on a real cluster: shared by runs, restored with a scenario, never lied to.

Every command is the real command line in a subprocess (the kubeconfig
provider pointed at the session's cluster), in a project of the test's own
with a site (MkDocs, the repo's macros), so what is checked is what a
contributor sees: two `kdocs test` of one checkout at once both keep their
results; restoring a scenario byte for byte brings its badge back in
`kdocs build` without a new `kdocs test`, while the failing version is
refused with the command that re-checks it; a broken scenario is exit 2 and
changes no result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.config import Settings
from kdocs.recording import sha256
from kdocs.results import ResultStore
from kdocs.site.extract import rendered_blocks
from tests.cluster.test_runner_helpers import ROOT, TOPOLOGY, make_project, write

pytestmark = pytest.mark.cluster

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
data:
  greeting: hello
"""
SCENARIO = """\
name: config
steps:
  - apply: config.yaml
  - assert:
      timeout: 5s
      object:
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: config
        data:
          greeting: {greeting}
"""
DEPLOYMENT = (ROOT / "snippets" / "contributing" / "web-deployment.yaml").read_text()


def site_project(folder: Path) -> Settings:
    """A project with its own snippets and results file, and a site that shows them."""
    settings = make_project(folder, guide=False)
    (folder / "mkdocs.yml").write_text((ROOT / "mkdocs.yml").read_text().split("\nnav:")[0] + "\n")
    no_cache = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "macros", folder / "macros", ignore=no_cache)
    write(folder / "docs" / "assets" / "kdocs.css", "")
    write(folder / "docs" / "index.md", "# Home\n")
    return settings


def kdocs(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kdocs.cli", *args], cwd=settings.root, env=_env(),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def run_args(cluster: Cluster, *paths: Path) -> list[str]:
    return [
        "test", "--provider", "kubeconfig", f"--kubeconfig={cluster.kubeconfig}",
        f"--context={cluster.context}", "--topology", TOPOLOGY, "--output", "json", "--force",
        *map(str, paths),
    ]  # fmt: skip


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "KDOCS_PROVIDER": "kubeconfig"}


def test_two_runs_of_one_checkout_at_once_both_keep_their_results(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = make_project(tmp_path / "project", guide=False)
    app = settings.snippets_dir / "app"
    first = write(app / "first.yaml", DEPLOYMENT.replace("web", "first"))
    second = write(app / "second.yaml", DEPLOYMENT.replace("web", "second"))
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "kdocs.cli", *run_args(cluster, snippet)],
            cwd=settings.root, env=_env(), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        for snippet in (first, second)
    ]
    ended = [run.communicate(timeout=600) for run in runs]
    for run, (stdout, stderr) in zip(runs, ended, strict=True):
        assert run.returncode == 0, stdout + stderr
    store = ResultStore(settings.results_file, settings.root)
    for snippet in (first, second):
        result = store.lookup(sha256(snippet))
        assert result is not None and result.passed, snippet.name


def test_restoring_a_scenario_restores_its_badge_and_a_broken_one_changes_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = site_project(tmp_path / "project")
    app = settings.snippets_dir / "app"
    write(app / "config.yaml", CONFIGMAP.format(name="config"))
    scenario = write(app / "config.scenario.yaml", SCENARIO.format(greeting="hello"))
    write(settings.root / "docs" / "guide.md", '# Guide\n\n{{ snippet("app/config.yaml") }}\n')
    passing = scenario.read_bytes()

    tested = kdocs(settings, *run_args(cluster, scenario))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert cluster_badge(settings, tmp_path / "site1")[0] == "passed"

    scenario.write_text(SCENARIO.format(greeting="bye"))  # a claim the cluster refutes
    failed = kdocs(settings, *run_args(cluster, scenario))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    refused = kdocs(settings, "build", "--site-dir", str(tmp_path / "site2"))
    assert refused.returncode == 1
    assert "failed on the cluster (kubeconfig)" in refused.stderr
    assert "fix it, then run `kdocs test snippets/app/config.scenario.yaml`" in refused.stderr

    scenario.write_bytes(passing)  # restored byte for byte; no new `kdocs test`
    state, text = cluster_badge(settings, tmp_path / "site3")
    assert state == "passed" and "1 scenario" in text, text

    before = settings.results_file.read_bytes()
    node = "{apiVersion: v1, kind: Node, metadata: {name: '${node:no}'}}"
    typo = f"  - assert:\n      object: {node}\n"
    scenario.write_text(SCENARIO.format(greeting="hello") + typo)
    broken = kdocs(settings, *run_args(cluster, scenario))
    assert broken.returncode == 2, broken.stdout + broken.stderr
    (outcome,) = json.loads(broken.stdout)["outcomes"]
    assert outcome["status"] == "error"
    # Found by the scenario lint against the run's topology, before the cluster is used.
    assert outcome["message"].startswith(
        "refused offline: snippets/app/config.scenario.yaml:14:61: ${node:no}: no static node 'no'"
    )
    assert settings.results_file.read_bytes() == before, "a broken test proves nothing"


def cluster_badge(settings: Settings, site: Path) -> tuple[str, str]:
    """`kdocs build` into `site`; the (state, text) of the cluster badge of the guide's block."""
    built = subprocess.run(
        [sys.executable, "-m", "kdocs.cli", "build", "--site-dir", str(site)],
        cwd=settings.root, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (block,) = [b for b in rendered_blocks(site) if b.snippet == "app/config.yaml"]
    return block.badges["cluster"]
