"""Which claims can no longer come true (kdocs.cluster.hopeless), from objects alone.

Pure: no cluster. The real cluster's side is tests/cluster/test_fail_fast.py.
"""

from __future__ import annotations

from typing import Any

from kdocs.cluster.hopeless import why_hopeless


def pod(node: str | None = None, phase: str = "Running", owner: str | None = None) -> dict:
    meta: dict[str, Any] = {"name": "web"}
    if owner:
        meta["ownerReferences"] = [{"kind": owner, "name": "x", "controller": True}]
    spec = {"nodeName": node} if node else {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
            "status": {"phase": phase}}  # fmt: skip


def job(condition: str | None) -> dict:
    conditions = [{"type": condition, "status": "True", "reason": "BackoffLimitExceeded",
                   "message": "Job has reached the specified backoff limit"}] if condition else []
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
            "status": {"conditions": conditions, "failed": 1}}  # fmt: skip


ON_B = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"nodeName": "b"}}
RUNNING = {"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running"}}
SUCCEEDED = {"apiVersion": "batch/v1", "kind": "Job", "status": {"succeeded": 1}}


def test_a_pod_bound_to_another_node_never_moves() -> None:
    assert why_hopeless(ON_B, pod("a")) == (
        "Pod web is bound to node a, not b, and a pod never moves"
        " (spec.nodeName is immutable once set)"
    )


def test_a_pod_not_bound_yet_or_bound_there_may_still_match() -> None:
    assert why_hopeless(ON_B, pod(None)) is None
    assert why_hopeless(ON_B, pod("b")) is None


def test_a_pod_whose_controller_reuses_names_is_left_to_the_timeout() -> None:
    # A StatefulSet recreates a deleted pod under its name, possibly on node b.
    assert why_hopeless(ON_B, pod("a", owner="StatefulSet")) is None
    # A DaemonSet's or ReplicaSet's replacement pod gets a new name: this one never moves.
    assert why_hopeless(ON_B, pod("a", owner="DaemonSet")) is not None
    assert why_hopeless(ON_B, pod("a", owner="ReplicaSet")) is not None


def test_a_finished_pod_never_runs_again() -> None:
    reason = why_hopeless(RUNNING, pod("a", phase="Succeeded"))
    assert reason is not None and reason.startswith("Pod web succeeded and a finished pod never")
    assert "status.phase" in reason
    assert why_hopeless(RUNNING, pod("a", phase="Pending")) is None
    # What it claims of a finished pod may be true: then nothing is hopeless.
    done = {"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Succeeded"}}
    assert why_hopeless(done, pod("a", phase="Succeeded")) is None


def test_a_finished_job_never_runs_again() -> None:
    reason = why_hopeless(SUCCEEDED, job("Failed"))
    assert reason is not None
    assert reason.startswith("Job once failed (BackoffLimitExceeded: Job has reached the")
    assert why_hopeless(SUCCEEDED, job(None)) is None  # still running: it may succeed


def test_other_kinds_are_never_cut_short() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 2}}
    assert why_hopeless(deployment, {**deployment, "spec": {"replicas": 1}}) is None
