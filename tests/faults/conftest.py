"""A kwok cluster of the faults tests' own, which they may kill, and helpers to run `kdocs test`.

The faults tests break clusters on purpose (kill -9 the API server in the middle
of a run), so they never touch the session's shared cluster: they bring up
`kdocs-faults-<pid>` (named after this process, so concurrent test runs never
share it; those of runs that died are removed first) and remove it at the end,
whatever happened.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.checks import RUN_LABEL
from kdocs.cluster.kwok import KwokProvider
from kdocs.cluster.providers import default_provider_name
from kdocs.config import Settings, load_settings
from tests.signals import default_signals

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(ROOT)
TOPOLOGY = "karpenter"
PREFIX = "kdocs-faults-"

kwok_only = pytest.mark.skipif(
    default_provider_name() != "kwok", reason="needs the kwok provider (KDOCS_PROVIDER)"
)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.fixture(scope="session")
def faults_provider() -> Iterator[KwokProvider]:
    """The provider of this session's breakable cluster; it is down after the session."""
    provider = KwokProvider(SETTINGS, cluster_name=f"{PREFIX}{os.getpid()}")
    for stale in (provider.workdir / "clusters").glob(f"{PREFIX}*"):
        pid = stale.name.removeprefix(PREFIX)
        if pid.isdigit() and not alive(int(pid)):
            KwokProvider(SETTINGS, cluster_name=stale.name).down()
    provider.down()  # a clean start, whatever an interrupted session left
    try:
        yield provider
    finally:
        provider.down()


def pid_of(provider: KwokProvider, component: str) -> int:
    """The pid kwokctl recorded for `component` of the provider's cluster."""
    return int((provider.cluster_dir / "pids" / f"{component}.pid").read_text())


def run_namespaces(cluster: Cluster) -> list[str]:
    """Every namespace labelled as a kdocs run's, whichever run (nothing else uses this cluster)."""
    done = cluster.kubectl("get", "namespaces", "-l", RUN_LABEL, "-o", "name", check=True)
    return done.stdout.split()


class KdocsTest:
    """`kdocs test` as a user runs it, in a subprocess, through the kubeconfig provider.

    Every process it starts inherits a marker in its environment, so that
    leftovers (an orphaned kubectl) can be found after it ended, even reparented.
    """

    def __init__(self, cluster: Cluster, settings: Settings) -> None:
        self.cluster, self.settings = cluster, settings
        self.marker = f"KDOCS_FAULTS_MARK={uuid.uuid4().hex}"

    def command(self, *paths: Path) -> list[str]:
        return [
            sys.executable, "-m", "kdocs.cli", "test", "--provider", "kubeconfig",
            f"--kubeconfig={self.cluster.kubeconfig}", f"--context={self.cluster.context}",
            "--topology", TOPOLOGY, "--jobs", "1", "--output", "json", "--force",
            *map(str, paths),
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        """The kubeconfig provider keeps a private copy of the context (credentials) under
        KDOCS_CACHE: a folder next to the project, gone with tmp_path, not the user's cache."""
        name, value = self.marker.split("=", 1)
        return {
            **os.environ, "PYTHONPATH": str(ROOT), "KDOCS_PROVIDER": "kubeconfig",
            "KDOCS_KUBECTL": str(self.cluster.kubectl_binary), name: value,
            "KDOCS_CACHE": str(self.settings.root.parent / "runs-cache"),
        }  # fmt: skip

    def popen(self, *paths: Path) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*paths), cwd=self.settings.root, env=self.env(), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_signals,
        )  # fmt: skip

    def run(self, *paths: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*paths), cwd=self.settings.root, env=self.env(), text=True,
            capture_output=True, timeout=timeout,
        )  # fmt: skip

    def leftover_processes(self) -> list[str]:
        """Command lines of live processes started by a run (their environment has the marker)."""
        return processes_with(*self.marker.split("=", 1))


def processes_with(name: str, value: str) -> list[str]:
    """Command lines of live processes whose environment holds name=value, even reparented."""
    wanted, found = f"{name}={value}".encode(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or not alive(int(entry.name)):
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found
