"""A kwok cluster of the faults tests' own, which they may kill, and helpers to run `kdocs test`.

The faults tests break clusters on purpose (kill -9 the API server in the middle
of a run), so they never touch the session's shared cluster: they bring up
`kdocs-faults-<pid>` (named after this process, so concurrent test runs never
share it; those of runs that died are removed first) and remove it at the end,
whatever happened.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.components import find_component
from kdocs.cluster.providers._common import checkout_cluster_name, default_provider_name
from kdocs.cluster.providers.component_process import BUILD_COMPONENT, build_component
from kdocs.cluster.providers.kwok import BUILD_SCRIPT, KwokProvider
from kdocs.cluster.session import RUN_LABEL
from kdocs.config import Settings, load_settings
from tests.signals import default_signals

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(ROOT)
TOPOLOGY = "karpenter"
PREFIX = "kdocs-faults-"
# The component the component faults tests break (Karpenter's have tests of their own).
COMPONENT = "local-path-provisioner"

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
    """Every namespace labelled as a kdocs run's, whichever run (nothing else uses this cluster),
    once those being deleted are gone: a run asks, it does not wait for the namespace
    controller's 5 s grace period, so one not gone within a minute is really left."""
    cluster.kubectl("wait", "--for=delete", "namespaces", "-l", RUN_LABEL, "--timeout=60s",
                    timeout=90)  # fmt: skip
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


@dataclass
class Project:
    root: Path
    env: dict[str, str]
    cluster_dir: Path
    clusters: Path

    def kdocs(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "kdocs.cli", *args], cwd=self.root, env=self.env,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def kill_during(self, scenario: str, marker: str, victim: int) -> tuple[int, dict, str]:
        """`kdocs test SCENARIO`, SIGKILL `victim` once a progress line contains `marker`;
        the run's exit code, its one outcome and everything it printed on stderr."""
        command = [sys.executable, "-m", "kdocs.cli", "test", "--jobs", "1", "--output", "json",
                   "--force", scenario]  # fmt: skip
        proc = subprocess.Popen(
            command, cwd=self.root, env=self.env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        seen: list[str] = []
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                seen.append(line)
                if marker in line:
                    break
            else:
                pytest.fail(f"the run ended before {marker!r}:\n" + "".join(seen))
            os.kill(victim, signal.SIGKILL)
            stdout, stderr = proc.communicate(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        output = "".join(seen) + stderr
        outcomes = json.loads(stdout)["outcomes"] if stdout.strip() else [{}]
        assert len(outcomes) == 1, output
        return proc.returncode, outcomes[0], output

    def component_pid(self) -> int:
        state = self.cluster_dir / "components" / COMPONENT / "process.json"
        return int(json.loads(state.read_text(encoding="utf-8"))["pid"])

    def processes(self) -> list[str]:
        """Command lines of live processes started from this cluster's folder."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or not alive(int(entry.name)):
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv[0].decode(errors="replace").startswith(f"{self.cluster_dir}/"):
                found.append(b" ".join(argv).decode(errors="replace"))
        return found


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    """A project with the guide's snippets and its own copy of clusters/ (tests may edit it)."""
    root = tmp_path / "project"
    shutil.copytree(
        ROOT / "snippets" / "karpenter-daemonset", root / "snippets" / "karpenter-daemonset"
    )
    shutil.copytree(ROOT / "clusters", root / "clusters")
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""\
        [tool.kdocs]
        docs-dir = "docs"
        snippets-dir = "snippets"
        crd-dirs = ["{ROOT / "schemas" / "crds"}"]
        clusters-dir = "clusters"
        results-file = "results.json"
    """), encoding="utf-8")  # fmt: skip
    assert (root / BUILD_SCRIPT).is_file() and (root / BUILD_COMPONENT).is_file()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "bin").symlink_to(KwokProvider(SETTINGS).binaries().parent)
    spec = find_component(SETTINGS.clusters_dir, COMPONENT)
    (cache / "components").symlink_to(build_component(ROOT, spec).parent)
    env = {
        **os.environ, "KDOCS_CACHE": str(cache), "KDOCS_PROVIDER": "kwok",
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    name = checkout_cluster_name(root)
    made = Project(root, env, cache / "kwok" / "clusters" / name, root / "clusters")
    try:
        yield made
    finally:
        made.kdocs("cluster", "down", timeout=300)
        assert not made.cluster_dir.exists()
        assert made.processes() == []
