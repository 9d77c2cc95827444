"""Karpenter's faults: each is one line, exit code 2, nothing recorded, and no process left.

(Ctrl-C while Karpenter starts: tests/faults/test_components.py, for every component.)

Karpenter is a cluster component of the guide's topology, so these tests use the
component faults' `project` (tests/faults/conftest.py): the command line
with the kwok provider, a cache of the test's own (bin/ and components/ linked
to the real builds), a copy of clusters/ the test may edit.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.faults.conftest import Project, alive, kwok_only

pytestmark = [pytest.mark.cluster, kwok_only]

PREEMPTION = "snippets/karpenter-daemonset/daemonset-preemption.scenario.yaml"
# The guide's NodePool as it is: it points at an EC2NodeClass, which no kwok cluster has.
UNPATCHED = """\
name: unpatched
requires: [karpenter]
steps:
  - apply: nodepool-stable.yaml
"""


def karpenter_pid(project: Project) -> int:
    state = project.cluster_dir / "components" / "karpenter" / "process.json"
    return int(json.loads(state.read_text(encoding="utf-8"))["pid"])


def one_line_exit_2(done: subprocess.CompletedProcess[str], words: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("kdocs: ") and words in last, done.stderr
    return last


def test_karpenter_killed_mid_scenario_is_exit_2_and_the_next_up_starts_a_fresh_one(
    project: Project,
) -> None:
    up = project.kdocs("cluster", "up")
    assert up.returncode == 0, up.stderr
    assert "component:  karpenter v1.14.1 (pid" in up.stdout
    victim = karpenter_pid(project)
    # Killed while the workload waits for the nodes Karpenter launches.
    code, outcome, output = project.kill_during(PREEMPTION, "daemonset-preemption [3/", victim)
    assert code == 2, output
    assert "Traceback" not in output
    assert outcome["status"] == "error", outcome
    assert "cluster component karpenter" in outcome["message"] and "\n" not in outcome["message"]
    assert not (project.root / "results.json").exists(), "a broken cluster proves nothing"

    again = project.kdocs("cluster", "up")
    assert again.returncode == 0, again.stderr
    assert "cluster component karpenter is not running" in again.stderr
    fresh = karpenter_pid(project)
    assert fresh != victim and alive(fresh)


def test_a_nodepool_naming_a_node_class_nobody_provides_is_exit_2(project: Project) -> None:
    scenario = project.root / "snippets" / "karpenter-daemonset" / "unpatched.scenario.yaml"
    scenario.write_text(UNPATCHED, encoding="utf-8")
    done = project.kdocs("test", "--jobs", "1", "--output", "json", "--force", str(scenario))
    assert done.returncode == 2, done.stderr
    (outcome,) = json.loads(done.stdout)["outcomes"]
    assert outcome["status"] == "error"
    assert outcome["message"] == (
        "snippets/karpenter-daemonset/unpatched.scenario.yaml:4: step 1 (apply "
        "snippets/karpenter-daemonset/nodepool-stable.yaml): snippets/karpenter-daemonset/"
        "nodepool-stable.yaml: NodePool stable points at EC2NodeClass 'default' "
        "(karpenter.k8s.aws), which nobody provides on this cluster: patch its nodeClassRef "
        "to group karpenter.kwok.sh, kind KWOKNodeClass, name default"
    )
    assert not (project.root / "results.json").exists()


def test_an_unknown_karpenter_setting_is_one_line_naming_its_place(project: Project) -> None:
    topology = project.clusters / "karpenter.yaml"
    text = topology.read_text(encoding="utf-8")
    line = text.splitlines().index("    batchIdleDuration: 200ms") + 1
    topology.write_text(text.replace("batchIdleDuration: 200ms", "batchIdleDuratoin: 200ms"))
    done = project.kdocs("cluster", "up")
    last = one_line_exit_2(done, f"clusters/karpenter.yaml:{line}:5: unknown Karpenter setting")
    assert "'batchIdleDuratoin'" in last
    assert not project.cluster_dir.exists() and project.processes() == []


def test_a_karpenter_version_that_does_not_build_is_one_line_exit_2(project: Project) -> None:
    topology = project.clusters / "karpenter.yaml"
    text = topology.read_text(encoding="utf-8")
    topology.write_text(text.replace("version: v1.14.1", "version: v1.15.0"), encoding="utf-8")
    done = project.kdocs("cluster", "up")
    one_line_exit_2(done, "building component karpenter v1.15.0 failed")
    assert "requires go >= 1.26.9 (running go 1.26.8" in done.stderr  # the build's own reason
    assert not project.cluster_dir.exists() and project.processes() == []
    assert not (project.root / "results.json").exists()


def test_cluster_down_stops_karpenter(project: Project) -> None:
    up = project.kdocs("cluster", "up")
    assert up.returncode == 0, up.stderr
    pid = karpenter_pid(project)
    assert alive(pid) and any("bin/karpenter" in line for line in project.processes())
    down = project.kdocs("cluster", "down")
    assert down.returncode == 0, down.stderr
    assert not alive(pid), "Karpenter outlived cluster down"
    assert project.processes() == []
