"""After a failing scenario and an interrupted run, the cluster holds no namespace of any run.

The runner's own tests check the namespaces a run reports; here the cluster
is the faults tests' own, so nothing else runs on it and the check can be the
stronger one: no namespace labelled kdocs.dev/run at all (whatever run made
it, reported or not), with the cluster still running and reused afterwards.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from kdocs.cluster.providers.kwok import KwokProvider
from tests.cluster.test_runner_helpers import make_project, write
from tests.faults.conftest import TOPOLOGY, KdocsTest, kwok_only, pid_of, run_namespaces

pytestmark = [pytest.mark.cluster, kwok_only]

GUIDE = "snippets/karpenter-daemonset"
FAILING = """\
name: fails
description: asserts a value the PriorityClass does not have
timeout: 2s
steps:
  - apply: priorityclass.yaml
  - assert:
      object:
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata:
          name: qovery-standard-priority
        value: 5
"""


def test_no_run_namespace_survives_a_failure_then_an_interrupt(
    faults_provider: KwokProvider, tmp_path: Path
) -> None:
    cluster = faults_provider.up(TOPOLOGY)
    apiserver = pid_of(faults_provider, "kube-apiserver")
    settings = make_project(tmp_path / "project")
    write(settings.root / GUIDE / "fails.scenario.yaml", FAILING)
    run = KdocsTest(cluster, settings)
    # --jobs 1: the failing scenario ends first, then Ctrl-C once the NodePool is applied
    # (a scenario the kubeconfig provider can prove: it needs no Karpenter).
    proc = run.popen(
        settings.root / GUIDE / "fails.scenario.yaml",
        settings.root / GUIDE / "nodepool-stable.scenario.yaml",
    )
    seen: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append(line)
            if "nodepool-stable [2/" in line:
                proc.send_signal(signal.SIGINT)
                break
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(seen) + stderr
    assert proc.returncode == 130, output
    statuses = {o["name"]: o["status"] for o in json.loads(stdout)["outcomes"]}
    assert statuses == {"fails": "failed", "nodepool-stable": "cancelled"}, output
    assert run_namespaces(cluster) == [], output
    assert run.leftover_processes() == []
    assert faults_provider.current() is not None  # still running, the same API server
    assert pid_of(faults_provider, "kube-apiserver") == apiserver
