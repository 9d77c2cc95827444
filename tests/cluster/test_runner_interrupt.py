"""Ctrl-C or SIGTERM: `kdocs test` stops at the next step, cleans up everything, records nothing.

Runs the real command line in a subprocess (`python -m kdocs.cli test`, the
kubeconfig provider pointed at the session's cluster) and sends it SIGINT (or
SIGTERM, which must be handled the same way) once the DaemonSet of the first
scenario is applied, the moment an interrupted run would most likely leave a
DaemonSet, its pods and the PriorityClass behind. The scenarios need no
Karpenter (the kubeconfig provider cannot prove those). The child starts with
default signal dispositions whatever this suite inherited.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from tests.cluster.test_runner_helpers import (
    AGENT,
    ROOT,
    leftovers,
    make_project,
    units_lock,
    write,
)
from tests.signals import default_signals

pytestmark = pytest.mark.cluster


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_mid_run_exits_130_cleans_up_and_records_nothing(
    cluster: Cluster, tmp_path: Path, signum: signal.Signals
) -> None:
    settings = make_project(tmp_path / "project")
    guide = settings.snippets_dir / "karpenter-daemonset"
    write(guide / "agent.scenario.yaml", AGENT)
    command = [
        sys.executable, "-m", "kdocs.cli", "test", "--provider", "kubeconfig",
        f"--kubeconfig={cluster.kubeconfig}", f"--context={cluster.context}",
        "--topology", "karpenter", "--jobs", "1", "--output", "json",
        str(guide / "agent.scenario.yaml"),
        str(guide / "nodepool-stable.scenario.yaml"),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KDOCS_PROVIDER": "kubeconfig"}
    seen: list[str] = []
    namespace = ""
    with units_lock():
        proc = subprocess.Popen(
            command, cwd=settings.root, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=default_signals,
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                seen.append(line)
                if line.startswith("▶ scenario agent"):
                    namespace = line.rsplit("(", 1)[1].strip().rstrip(")")
                if "agent [2/" in line:  # the DaemonSet is applied
                    proc.send_signal(signum)
                    break
            stdout, stderr = proc.communicate(timeout=300)  # a hang guard, not an assertion
        finally:
            if proc.poll() is None:
                proc.kill()
        left = leftovers(cluster, [namespace] if namespace else [])
    output = "".join(seen) + stderr
    assert namespace.startswith("kdocs-agent-"), output
    assert proc.returncode == 130, output
    assert "interrupted" in output
    report = json.loads(stdout)
    statuses = {o["name"]: (o["status"], o["message"]) for o in report["outcomes"]}
    assert statuses == {
        "agent": ("cancelled", "interrupted before the unit finished"),
        "nodepool-stable": ("cancelled", "not started"),
    }, output
    assert left == [], output
    assert not settings.results_file.exists(), "an interrupted run records nothing"
