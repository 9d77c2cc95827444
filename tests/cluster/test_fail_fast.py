"""An `assert` that can no longer come true fails at once with the reason, not at its timeout.

On the real control plane: the scheduler binds the pod, KWOK finishes it. The
step timeouts are set large (120 s) so that ending before them can only be the
fail-fast rule, never a slow poll; no speed is asserted beyond that.
"""

from __future__ import annotations

import pytest

from kdocs.cluster.base import Cluster
from tests.cluster.conftest import record_timing
from tests.cluster.test_runner_helpers import (
    StaticProvider,
    kdocs_test,
    leftovers,
    make_project,
    outcomes,
    units_lock,
    write,
)

pytestmark = pytest.mark.cluster

TIMEOUT = 120.0
POD = """\
      object:
        apiVersion: v1
        kind: Pod
        metadata: {name: %s}
        spec:
          restartPolicy: %s
          nodeSelector: {kdocs/node: system-1}
          containers: [{name: main, image: registry.k8s.io/pause:3.10}]
"""
ON_NODE = """\
  - assert:
      object:
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec: {nodeName: "${node:%s}"}
"""
BOUND_ELSEWHERE = (
    f"name: bound-elsewhere\n"
    "description: a false claim about a pod the scheduler has bound to another node\n"
    f"timeout: {TIMEOUT:g}s\n"
    "steps:\n"
    "  - apply:\n" + POD % ("web", "Always") + ON_NODE % "system-1" + ON_NODE % "fargate-1"
)
FINISHED = f"""\
name: finished
description: a false claim that a pod which ran to completion is running
timeout: {TIMEOUT:g}s
steps:
  - apply:
{POD % ("once", "Never")}
  - assert:
      object: {{apiVersion: v1, kind: Pod, metadata: {{name: once}}, status: {{phase: Succeeded}}}}
  - assert:
      object: {{apiVersion: v1, kind: Pod, metadata: {{name: once}}, status: {{phase: Running}}}}
"""


def real_name(cluster: Cluster, node: str) -> str:
    done = cluster.kubectl("get", "nodes", "-l", f"kdocs/node={node}", "-o", "name", check=True)
    return done.stdout.strip().removeprefix("node/")


@pytest.fixture(scope="module")
def report(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> dict:
    settings = make_project(tmp_path_factory.mktemp("failfast"), guide=False)
    folder = settings.snippets_dir / "failfast"
    write(folder / "bound-elsewhere.scenario.yaml", BOUND_ELSEWHERE)
    write(folder / "finished.scenario.yaml", FINISHED)
    with units_lock():  # leftovers looks for any run's objects: no other run meanwhile
        code, found = kdocs_test(settings, str(folder), provider=StaticProvider(cluster))
        found["leftovers"] = leftovers(cluster, [o["namespace"] for o in found["outcomes"]])
    assert code == 1, found
    return found


def test_a_false_assert_on_a_pod_bound_elsewhere_fails_well_before_its_timeout(
    report: dict, cluster: Cluster
) -> None:
    outcome = outcomes(report)["bound-elsewhere"]
    assert outcome["status"] == "failed"
    line = BOUND_ELSEWHERE.splitlines().index("  - assert:", 14) + 1  # the second assert
    assert outcome["message"] == (
        f"snippets/failfast/bound-elsewhere.scenario.yaml:{line}: step 3 (assert Pod web): "
        f"cannot happen any more: Pod web is bound to node {real_name(cluster, 'system-1')}, "
        f"not {real_name(cluster, 'fargate-1')}, and a pod never moves"
        " (spec.nodeName is immutable once set)"
    )
    steps = outcome["steps"]
    assert [s["status"] for s in steps] == ["passed", "passed", "failed"]
    record_timing(
        f"fail fast: assert on a pod bound elsewhere (timeout {TIMEOUT:g}s)", steps[2]["seconds"]
    )
    assert steps[2]["seconds"] < TIMEOUT / 4, "it waited as if the pod could still move"


def test_a_false_assert_on_a_finished_pod_fails_well_before_its_timeout(report: dict) -> None:
    # The pod is first seen Succeeded: a poll can catch a one-shot pod in its short Running
    # phase, so only after that is "Running" a claim that can never come true.
    outcome = outcomes(report)["finished"]
    assert outcome["status"] == "failed"
    assert [s["status"] for s in outcome["steps"]] == ["passed", "passed", "failed"]
    assert (
        "cannot happen any more: Pod once succeeded and a finished pod never runs again"
        in (outcome["message"])
    ), outcome["message"]
    seconds = outcome["steps"][-1]["seconds"]
    record_timing(f"fail fast: assert Running on a finished pod (timeout {TIMEOUT:g}s)", seconds)
    assert seconds < TIMEOUT / 4


def test_failing_fast_still_cleans_up(report: dict) -> None:
    assert report["leftovers"] == []
