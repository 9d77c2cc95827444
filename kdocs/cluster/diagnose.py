"""What a failure report shows of the cluster: events, pods, object states, node events.

Collected when a step fails, before cleanup, because "scenario failed" alone
sends the reader to a cluster that is already cleaned up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kdocs.cluster import karpenter
from kdocs.cluster.base import Cluster
from kdocs.cluster.kube import event_line, events, get_json
from kdocs.cluster.match import show
from kdocs.cluster.model import Cancelled, StepFailed
from kdocs.errors import KdocsError

if TYPE_CHECKING:
    from kdocs.cluster.session import Session


def pod_lines(cluster: Cluster, namespace: str) -> tuple[list[str], set[str]]:
    """Every pod of the namespace (node, phase, each condition not True), and their nodes."""
    try:
        found = get_json(cluster, "pods", "-n", namespace)
    except StepFailed as error:
        return [f"(pods unavailable: {error})"], set()
    lines, nodes = [], set()
    for pod in (found or {}).get("items") or []:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        nodes |= {n for n in (spec.get("nodeName"), status.get("nominatedNodeName")) if n}
        bad = [
            f"{c.get('type')}={c.get('status')}"
            + (f" {c.get('reason')}: {c.get('message', '')}" if c.get("reason") else "")
            for c in status.get("conditions") or []
            if c.get("status") != "True"
        ]
        detail = f" [{'; '.join(bad)}]" if bad else ""
        where = spec.get("nodeName") or "(unscheduled)"
        lines.append(f"{pod['metadata']['name']} on {where}: {status.get('phase')}{detail}")
    return lines, nodes


def diagnostics(cluster: Cluster, namespace: str, states: list[str]) -> str:
    """What a reader needs to see why a step failed: events, pods, objects, their nodes' events."""
    parts = []
    found = events(cluster, namespace)
    if found:
        parts.append("events:\n" + "\n".join("  " + event_line(e) for e in found[-25:]))
    pods, nodes = pod_lines(cluster, namespace)
    if pods:
        parts.append("pods:\n" + "\n".join("  " + line for line in pods[:40]))
    if states:
        parts.append("objects:\n" + "\n".join("  " + s for s in states))
    node_events = [
        e
        for e in events(cluster, None, **{"involvedObject.kind": "Node"})
        if (e.get("involvedObject") or {}).get("name") in nodes
    ]
    if node_events:
        parts.append("node events:\n" + "\n".join("  " + event_line(e) for e in node_events[-10:]))
    return "\n".join(parts)


def state_line(obj: dict[str, Any]) -> str:
    """One live object in a line: kind/name, node (pods) and status."""
    meta = obj.get("metadata") or {}
    node = (obj.get("spec") or {}).get("nodeName")
    where = f" on {node}" if node else ""
    status = dict(obj.get("status") or {})
    if obj.get("kind") != "Pod":
        status.pop("conditions", None)  # long and rarely the reason; pod conditions are
    return f"{obj.get('kind')}/{meta.get('name')}{where} status={show(status, 400)}"


def failure_diagnostics(session: Session, with_karpenter: bool = False) -> str:
    """What a failed unit's report shows; never raises (a failure must still be reported)."""
    try:
        states = [state_line(obj) for obj in session.seen[:20]]
        text = diagnostics(session.cluster, session.namespace, states)
        if with_karpenter:
            pods = [_name(o) for o in session.seen if o.get("kind") == "Pod"]
            text += "\n" + karpenter.diagnostics(session.cluster, session.namespace, pods)
        return text
    except (KdocsError, StepFailed) as error:
        return f"(no diagnostics: {error})"
    except Cancelled:
        return "(no diagnostics: interrupted)"


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")
