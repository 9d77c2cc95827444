"""kill -9 of the API server in the middle of `kdocs test`: a bounded, clean, honest end.

A cluster that dies under a run says nothing about the guide: the run must
stop soon with exit code 2 and one line saying the cluster is unreachable and
where the scenario was, leave no kubectl behind, and record nothing (a
recorded failure would replace a passing result and fail the site's build).
The next `up` must recreate the cluster by itself and the next run pass.

The scenario is the guide's daemonset-placement (14 steps, ~20 s), killed
once its DaemonSet is applied, on a cluster of these tests' own.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from kdocs.cluster.kwok import KwokProvider
from tests.cluster.test_runner_helpers import make_project
from tests.faults.conftest import TOPOLOGY, KdocsTest, alive, kwok_only, pid_of, run_namespaces

pytestmark = [pytest.mark.cluster, kwok_only]

SCENARIO = "snippets/karpenter-daemonset/daemonset-placement.scenario.yaml"
# From the kill to the end of the run. Measured: ~2 s (a refused connection fails at once);
# the bound leaves room for a loaded machine, not for a cleanup that waits on a dead server.
BOUND = 60.0


def test_a_killed_api_server_mid_run_ends_it_with_exit_2_recording_nothing(
    faults_provider: KwokProvider, tmp_path: Path
) -> None:
    cluster = faults_provider.up(TOPOLOGY)
    settings = make_project(tmp_path / "project")
    run = KdocsTest(cluster, settings)
    victim = pid_of(faults_provider, "kube-apiserver")
    seen: list[str] = []
    proc = run.popen(settings.root / SCENARIO)
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
    assert run.leftover_processes() == [], "no kubectl (or anything else) may outlive the run"
    assert not settings.results_file.exists(), "a dead cluster proves nothing: nothing recorded"

    # The next `up` notices the dead API server and recreates the cluster by itself.
    recreated = faults_provider.up(TOPOLOGY)
    assert pid_of(faults_provider, "kube-apiserver") != victim
    again = KdocsTest(recreated, settings).run(settings.root / SCENARIO)
    assert again.returncode == 0, again.stderr
    assert [o["status"] for o in json.loads(again.stdout)["outcomes"]] == ["passed"]
    assert settings.results_file.exists()
    assert run_namespaces(recreated) == []
