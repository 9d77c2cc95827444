"""When an `assert` can no longer come true, and why: it then fails at once, not at its timeout.

A false claim used to cost the whole step timeout even when the cluster could
not change any more. Only facts Kubernetes itself guarantees end the wait, so
a claim that could still come true is never cut short (a valid guide must not
be refused):
- a pod's `spec.nodeName` never changes once set (the binding is immutable);
- a pod in phase Succeeded or Failed never runs again (terminal phases);
- a Job with condition Complete or Failed never runs again (finished).
They hold for the object the step names; a pod may only be replaced under the
same name by a controller that reuses names (a StatefulSet, an operator), so a
pod such a controller owns is left to the timeout.
"""

from __future__ import annotations

from typing import Any

from kdocs.cluster.kind_checks import pod_failure
from kdocs.cluster.kube import condition, condition_entry, condition_reason
from kdocs.cluster.match import first_mismatch

# Controllers that give each pod a fresh generated name: a pod they own is never
# replaced under its name, so what is final about it stays final for that name.
FRESH_NAMES = frozenset({"ReplicaSet", "DaemonSet", "Job", "Node"})
TERMINAL_PHASES = ("Succeeded", "Failed")


def why_hopeless(expected: dict[str, Any], live: dict[str, Any]) -> str | None:
    """Why the live object the step names can never match `expected`, or None if it still can."""
    if live.get("apiVersion") == "v1" and live.get("kind") == "Pod":
        return _pod(expected, live)
    if live.get("apiVersion") == "batch/v1" and live.get("kind") == "Job":
        return _job(expected, live)
    return None


def _pod(expected: dict[str, Any], pod: dict[str, Any]) -> str | None:
    if _name_reused(pod):
        return None
    name = (pod.get("metadata") or {}).get("name")
    wanted = (expected.get("spec") or {}).get("nodeName")
    bound = (pod.get("spec") or {}).get("nodeName")
    if isinstance(wanted, str) and bound and bound != wanted:
        return (
            f"Pod {name} is bound to node {bound}, not {wanted}, and a pod never moves"
            " (spec.nodeName is immutable once set)"
        )
    phase = (pod.get("status") or {}).get("phase")
    if phase in TERMINAL_PHASES:
        problem = first_mismatch(_settled_part(expected), pod)
        if problem:
            ended = "succeeded" if phase == "Succeeded" else f"failed ({pod_failure(pod)})"
            return f"Pod {name} {ended} and a finished pod never runs again: {problem}"
    return None


def _job(expected: dict[str, Any], job: dict[str, Any]) -> str | None:
    if condition(job, "Complete") == "True":
        ended = "completed"
    elif condition(job, "Failed") == "True":
        ended = f"failed ({condition_reason(condition_entry(job, 'Failed') or {})})"
    else:
        return None
    problem = first_mismatch(_settled_part(expected), job)
    if problem is None:
        return None
    name = (job.get("metadata") or {}).get("name")
    return f"Job {name} {ended} and a finished Job never runs again: {problem}"


def _settled_part(expected: dict[str, Any]) -> dict[str, Any]:
    """What a finished object no longer changes: spec and status (labels may still be edited)."""
    return {key: expected[key] for key in ("spec", "status") if key in expected}


def _name_reused(pod: dict[str, Any]) -> bool:
    """Whether a controller that may recreate the pod under the same name owns it."""
    for owner in (pod.get("metadata") or {}).get("ownerReferences") or []:
        if owner.get("controller") and owner.get("kind") not in FRESH_NAMES:
            return True
    return False

