"""Helpers of the runner's cluster tests (no tests here): throwaway projects, runs, leftovers.

Every run happens in a project under tmp_path (its own snippets and results
file, the real topologies and CRDs), so tests never touch the site's results.
Runs that apply the guide's cluster-scoped objects (the PriorityClass, the
NodePool) hold a file lock, because pytest-xdist workers share one cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kdocs.cluster.base import Cluster, Provider
from kdocs.cluster.providers._common import cache_root
from kdocs.commands.test import add_test_parser, run_test
from kdocs.config import Settings, load_settings
from kdocs.errors import KdocsError

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "snippets" / "karpenter-daemonset"
FAULTY = ROOT / "tests" / "fixtures" / "faulty"
TOPOLOGY = "karpenter"
OWNER_LABEL = "kdocs.dev/owner"
# A scenario of the guide's PriorityClass and DaemonSet, then a long wait: what an
# interrupted or killed run leaves behind. It needs no Karpenter, so the kubeconfig
# provider (which runs none) can run it.
AGENT = """\
name: agent
description: the guide's DaemonSet and PriorityClass, applied, then a long wait
steps:
  - apply: priorityclass.yaml
  - apply: daemonset.yaml
  - error:
      for: 60s
      object: {apiVersion: v1, kind: Pod, metadata: {name: never-made}}
"""


class StaticProvider:
    """The session's cluster as a provider; counts how often a run asked for a cluster."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.name = cluster.provider
        self.ups = 0

    def up(self, topology_name: str) -> Cluster:
        self.ups += 1
        return self.cluster

    def reusable(self, topology_name: str) -> Cluster | None:
        return self.up(topology_name)

    def current(self) -> Cluster | None:
        return self.cluster

    def down(self) -> None:
        raise AssertionError("a kdocs test run must never remove the cluster")


class NoClusterProvider:
    """A provider named `name` that fails the test if a run asks it for a cluster at all."""

    def __init__(self, name: str) -> None:
        self.name = name

    def up(self, topology_name: str) -> Cluster:
        raise AssertionError("this run must not bring a cluster up")

    def reusable(self, topology_name: str) -> Cluster | None:
        raise AssertionError("this run must not look for a cluster")

    def current(self) -> Cluster | None:
        raise AssertionError("this run must not look for a cluster")

    def down(self) -> None:
        raise AssertionError("a kdocs test run must never remove the cluster")


def make_project(folder: Path, guide: bool = True) -> Settings:
    """A project in `folder`: own snippets/ and results file, the real clusters/ and CRDs."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
        [tool.kdocs]
        docs-dir = "docs"
        snippets-dir = "snippets"
        crd-dirs = ["{ROOT / "schemas" / "crds"}"]
        clusters-dir = "{ROOT / "clusters"}"
        results-file = "results.json"
        """),
        encoding="utf-8",
    )
    (folder / "snippets").mkdir(exist_ok=True)
    if guide:
        shutil.copytree(GUIDE, folder / "snippets" / GUIDE.name)
    return load_settings(folder)


def kdocs_test(settings: Settings, *argv: str, provider: Provider) -> tuple[int, dict]:
    """`kdocs test --output json ARGV` in-process: the exit code and the JSON report."""
    parser = argparse.ArgumentParser()
    add_test_parser(parser.add_subparsers())
    args = parser.parse_args(["test", "--output", "json", "--topology", TOPOLOGY, *argv])
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            code = run_test(args, settings, provider=provider)
    except KdocsError as error:  # what kdocs.cli.main turns into a message and exit code
        return int(error.exit_code), {"error": str(error)}
    return code, json.loads(out.getvalue())


def outcomes(report: dict) -> dict[str, dict[str, Any]]:
    """Outcomes by unit name."""
    return {o["name"]: o for o in report.get("outcomes", [])}


def failures(report: dict) -> str:
    """Failed outcomes with their diagnostics, for assertion messages."""
    bad = [o for o in report.get("outcomes", []) if o["status"] not in ("passed", "skipped")]
    return "\n".join(f"{o['name']}: {o['message']}\n{o['diagnostics']}" for o in bad) or str(report)


def leftovers(cluster: Cluster, namespaces: list[str]) -> list[str]:
    """Namespaces of `namespaces` that still exist, and any object a run labelled as its own.

    A run asks for its namespaces' deletion and does not wait out the namespace controller's
    5 s grace period: a namespace still there a minute later is really left behind.
    """
    if namespaces:
        cluster.kubectl("wait", "--for=delete", *(f"namespace/{n}" for n in namespaces if n),
                        "--timeout=60s", timeout=90)  # fmt: skip
    found = []
    for namespace in namespaces:
        done = cluster.kubectl("get", "namespace", namespace, "-o", "name")
        if done.returncode == 0:
            found.append(done.stdout.strip())
        elif "NotFound" not in done.stderr:
            raise AssertionError(done.stderr)
    for kinds, scope in (
        ("priorityclasses,nodepools.karpenter.sh,namespaces", []),
        ("daemonsets,deployments,pods", ["--all-namespaces"]),
    ):
        done = cluster.kubectl("get", kinds, *scope, "-l", OWNER_LABEL, "-o", "name", check=True)
        found += done.stdout.split()
    return found


@contextlib.contextmanager
def units_lock() -> Iterator[None]:
    """One run at a time that applies the guide's cluster-scoped objects, across xdist workers."""
    folder = cache_root() / "pytest"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "kdocs-test-units.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
