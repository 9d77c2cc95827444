"""Cluster components fail loudly: killed mid-run, never ready, and gone after `cluster down`.

A component (here the local-path provisioner behind the default StorageClass)
is part of the cluster a run is promised. Everything goes through the command
line with the kwok provider, as a user would, with KDOCS_CACHE pointing at a
folder of the test's own (its bin/ and components/ linked to the real builds),
so the cluster these tests break is a `kdocs` cluster nobody else uses.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kdocs.cluster.component_process import BUILD_COMPONENT, build_component
from kdocs.cluster.components import find_component
from kdocs.cluster.kwok import BUILD_SCRIPT, KwokProvider
from kdocs.cluster.providers import checkout_cluster_name
from kdocs.config import load_settings
from tests.faults.conftest import ROOT, SETTINGS, alive, kwok_only

pytestmark = [pytest.mark.cluster, kwok_only]

SCENARIO = "snippets/karpenter-daemonset/daemonset-placement.scenario.yaml"
COMPONENT = "local-path-provisioner"


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


def test_status_shows_the_component_and_down_leaves_no_process(project: Project) -> None:
    up = project.kdocs("cluster", "up")
    assert up.returncode == 0, up.stderr
    pid = project.component_pid()
    assert f"component:  {COMPONENT} v0.0.30 (pid {pid}," in up.stdout, up.stdout
    status = project.kdocs("cluster", "status")
    assert status.returncode == 0 and f"{COMPONENT} v0.0.30 (pid {pid}," in status.stdout
    assert alive(pid)
    assert os.readlink(f"/proc/{pid}/exe").endswith(f"/{COMPONENT}")
    assert any(f"bin/{COMPONENT} start" in line for line in project.processes())
    log = project.cluster_dir / "components" / COMPONENT / f"{COMPONENT}.log"
    assert "Started provisioner controller" in log.read_text(encoding="utf-8")

    down = project.kdocs("cluster", "down")
    assert down.returncode == 0, down.stderr
    assert not alive(pid), "the component outlived cluster down"
    assert project.processes() == []


def test_a_component_killed_mid_run_ends_it_with_exit_2_recording_nothing(
    project: Project,
) -> None:
    up = project.kdocs("cluster", "up")
    assert up.returncode == 0, up.stderr
    victim = project.component_pid()
    command = [sys.executable, "-m", "kdocs.cli", "test", "--jobs", "1", "--output", "json",
               "--force", SCENARIO]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=project.root, env=project.env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if "daemonset-placement [2/" in line:
                break
        else:
            pytest.fail("the run ended before its second step:\n" + "".join(seen))
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(seen) + stderr
    assert proc.returncode == 2, output
    assert "Traceback" not in output
    (outcome,) = json.loads(stdout)["outcomes"]
    assert outcome["status"] == "error", outcome
    assert f"cluster component {COMPONENT}" in outcome["message"]
    assert "\n" not in outcome["message"]
    assert not (project.root / "results.json").exists(), "a broken cluster proves nothing"

    again = project.kdocs("test", "--jobs", "1", "--output", "json", "--force", SCENARIO)
    assert again.returncode == 0, again.stderr
    assert f"cluster component {COMPONENT} is not running" in again.stderr
    assert project.component_pid() != victim
    assert (project.root / "results.json").exists()


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda text: text.replace(
                "log: Started provisioner controller", "log: never logged"
            ).replace("timeout: 60", "timeout: 5"),
            f"component {COMPONENT} did not get ready within 5s",
        ),
        (
            lambda text: text.replace("  - start\n", "  - start\n  - --no-such-flag\n"),
            f"component {COMPONENT} exited (code 1) before it could get ready",
        ),
    ],
    ids=["never-ready", "exits-at-once"],
)
def test_a_component_that_never_gets_ready_is_one_line_exit_2(project, edit, words) -> None:
    definition = project.clusters / "components" / COMPONENT / "component.yaml"
    definition.write_text(edit(definition.read_text(encoding="utf-8")), encoding="utf-8")
    up = project.kdocs("cluster", "up")
    assert up.returncode == 2, up.stderr
    assert "Traceback" not in up.stderr
    last = up.stderr.strip().splitlines()[-1]
    assert last.startswith("kdocs: ") and words in last, up.stderr
    assert not project.cluster_dir.exists(), "a cluster that is not whole is not kept"
    assert project.processes() == []
    status = project.kdocs("cluster", "status")
    assert status.returncode == 1
    settings = load_settings(project.root)
    assert not settings.results_file.exists()


def _default_sigint() -> None:
    """Popen preexec: a suite started in the background inherits SIGINT ignored; Ctrl-C
    must reach the kdocs under test as it would from a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_a_component_starts_leaves_no_process(project: Project) -> None:
    definition = project.clusters / "components" / COMPONENT / "component.yaml"
    text = definition.read_text(encoding="utf-8")
    definition.write_text(text.replace("log: Started provisioner controller", "log: never"))
    state = project.cluster_dir / "components" / COMPONENT / "process.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kdocs.cli", "cluster", "up"], cwd=project.root, env=project.env,
        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_default_sigint,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not state.exists():  # the component runs, and is not ready (it never will be)
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the component never started"
            time.sleep(0.1)
        pid = project.component_pid()
        assert alive(pid)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, stderr
    assert "Traceback" not in stderr
    assert not alive(pid), "the component outlived the interrupted cluster up"
    assert project.processes() == []
    assert not project.cluster_dir.exists()
