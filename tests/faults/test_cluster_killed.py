"""kill -9 of the API server or etcd in the middle of `kdocs test`: a bounded, clean, honest end.

A cluster that dies under a run says nothing about the guide: the run must
stop soon with exit code 2 and one line saying the cluster is unreachable and
where the scenario was, leave no kubectl behind, and record nothing (a
recorded failure would replace a passing result and fail the site's build).
The next `kdocs test` must recreate the cluster by itself and pass.

Everything goes through the command line with the default kwok provider, as
a user would, but with KDOCS_CACHE pointing at a folder of this test's own
(its `bin/` linked to the real binaries): the cluster it kills is that
project's own, which nobody else uses. The scenario is the guide's daemonset-placement
(14 steps, ~20 s), killed once its DaemonSet is applied. A dead API server
refuses connections at once; a dead etcd leaves the API server accepting
requests and answering none, which the run's /readyz probe must notice.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kdocs.cluster.providers._common import checkout_cluster_name
from kdocs.cluster.providers.kwok import BUILD_SCRIPT, KwokProvider
from kdocs.config import Settings, load_settings
from tests.cluster.conftest import record_timing
from tests.cluster.test_runner_helpers import make_project
from tests.faults.conftest import ROOT, SETTINGS, alive, kwok_only, processes_with

pytestmark = [pytest.mark.cluster, kwok_only]

SCENARIO = "snippets/karpenter-daemonset/daemonset-placement.scenario.yaml"
# From the kill to the end of the run. Measured: ~2 s for the API server (a refused connection
# fails at once), ~13-20 s for etcd (three failed /readyz probes, 3 s apart); the bound leaves room
# for a loaded machine, not for kubectl timeouts (a dead etcd took ~190 s before the probe).
BOUND = 60.0
MARKER = "KDOCS_FAULTS_MARK"


@dataclass
class Workspace:
    """A project and a cache root of the test's own; `kdocs` runs there as a user would."""

    settings: Settings
    env: dict[str, str]
    cluster_dir: Path

    def kdocs(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "kdocs.cli", *args]

    def pid(self, component: str) -> int:
        return int((self.cluster_dir / "pids" / f"{component}.pid").read_text())


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    settings = make_project(tmp_path / "project")
    shutil.copytree(ROOT / BUILD_SCRIPT.parent, settings.root / BUILD_SCRIPT.parent)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "bin").symlink_to(KwokProvider(SETTINGS).binaries().parent)
    env = {
        **os.environ, "KDOCS_CACHE": str(cache), "KDOCS_PROVIDER": "kwok",
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    name = checkout_cluster_name(settings.root)
    space = Workspace(load_settings(settings.root), env, cache / "kwok" / "clusters" / name)
    try:
        yield space
    finally:
        subprocess.run(
            space.kdocs("cluster", "down"), cwd=settings.root, env=env,
            capture_output=True, timeout=300,
        )  # fmt: skip
        assert not space.cluster_dir.exists()


@pytest.mark.parametrize("component", ["kube-apiserver", "etcd"])
def test_a_killed_control_plane_mid_run_ends_it_with_exit_2_recording_nothing(
    workspace: Workspace, component: str
) -> None:
    root, env = workspace.settings.root, workspace.env
    up = subprocess.run(
        workspace.kdocs("cluster", "up"), cwd=root, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert up.returncode == 0, up.stderr
    victim = workspace.pid(component)
    # Only the run carries the marker (the cluster's own processes, started by `up`, do not).
    env = {**env, MARKER: uuid.uuid4().hex}
    test = workspace.kdocs("test", "--jobs", "1", "--output", "json", "--force", SCENARIO)
    seen: list[str] = []
    proc = subprocess.Popen(
        test, cwd=root, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if "daemonset-placement [2/" in line:  # the DaemonSet is applied; 12 steps to go
                break
        else:
            pytest.fail("the run ended before its DaemonSet was applied:\n" + "".join(seen))
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        stdout, stderr = proc.communicate(timeout=300)  # a hang guard; the bound is below
        took = time.monotonic() - killed
        record_timing(f"run's end after kill -9 of {component}", took)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(seen) + stderr
    assert not alive(victim)
    assert proc.returncode == 2, output
    assert took < BOUND, f"the run went on {took:.0f}s after the API server died\n{output}"
    assert "Traceback" not in output
    (outcome,) = json.loads(stdout)["outcomes"]
    assert outcome["status"] == "error", outcome
    message = outcome["message"]
    assert "\n" not in message
    assert message.startswith(f"{SCENARIO}:"), message  # where the scenario was
    assert "the API server is unreachable" in message, message
    assert f"  {message}" in output.splitlines()  # the one line a reader sees on stderr
    assert [s["status"] for s in outcome["steps"]][:2] == ["passed", "passed"]
    assert processes_with(MARKER, env[MARKER]) == [], "no kubectl may outlive the run"
    assert not workspace.settings.results_file.exists(), "a dead cluster proves nothing"

    # The next run notices the dead API server, recreates the cluster by itself and passes.
    again = subprocess.run(
        test, cwd=root, env=workspace.env, capture_output=True, text=True, timeout=600
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    name = workspace.cluster_dir.name
    assert f"recreating cluster {name}: {component} is not running" in again.stderr
    assert workspace.pid(component) != victim
    assert [o["status"] for o in json.loads(again.stdout)["outcomes"]] == ["passed"]
    assert workspace.settings.results_file.exists()
    status = subprocess.run(
        workspace.kdocs("cluster", "status"), cwd=root, env=env, capture_output=True, text=True
    )  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
