"""Karpenter as a cluster component: what its KWOK cloud provider needs, and what it did.

Karpenter's KWOK cloud provider is the real Karpenter (scheduling simulation,
batching, NodePools, NodeClaims, disruption) with one difference: instead of
calling EC2 it creates a KWOK Node object for each NodeClaim. So when a
topology declares `karpenter:`, which nodes exist is decided by Karpenter
itself, and a guide's claims about Karpenter are proven against it.

It runs like every cluster component (clusters/components/karpenter/,
kdocs/cluster/providers/component_process.py). This module adds what is Karpenter's
own: the component request built from the topology's section (version and
settings), the instance-types file and the Ready KWOKNodeClass it needs
before it starts, the check that a scenario's NodePool names that node class,
and the diagnostics of a failed scenario (NodePool and NodeClaim conditions,
Karpenter's log lines about the scenario's pods).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from threading import Event
from typing import Any

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.components import ComponentRequest, find_component
from kdocs.cluster.karpenter_spec import KarpenterSpec
from kdocs.cluster.kube import get_json_or_none

NAME = "karpenter"
NODE_CLASS_GROUP = "karpenter.kwok.sh"
NODE_CLASS_KIND = "KWOKNodeClass"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
DISRUPTED_TAINT = "karpenter.sh/disrupted"  # Karpenter's taint on a node it is deleting
NODE_CLASS_FILE = "node-class"  # in the component's folder: what NodePools must point at


class KarpenterSetupError(ClusterUnavailableError):
    """Karpenter cannot do what the scenario needs (no verdict on the guide: exit 2)."""


def request(clusters_dir: Path, spec: KarpenterSpec) -> ComponentRequest:
    """The component request of a topology's `karpenter:` section (its version and settings)."""
    component = find_component(clusters_dir, NAME)
    return ComponentRequest(component, {**component.settings, **dict(spec.settings)}, spec.version)


def prepare(cluster: Cluster, folder: Path, spec: KarpenterSpec) -> None:
    """Before Karpenter starts: its instance types in `folder` ({dir} of its component.yaml),
    and the KWOKNodeClass NodePools point at, marked Ready (the KWOK provider has no
    controller for it, and Karpenter launches nothing for a node class that is not Ready)."""
    folder.mkdir(parents=True, exist_ok=True)
    types = [t.as_kwok() for t in spec.instance_types]
    (folder / "instance-types.json").write_text(json.dumps(types, indent=1), encoding="utf-8")
    (folder / NODE_CLASS_FILE).write_text(spec.node_class + "\n", encoding="utf-8")
    node_class = {
        "apiVersion": f"{NODE_CLASS_GROUP}/v1alpha1",
        "kind": NODE_CLASS_KIND,
        "metadata": {"name": spec.node_class, "labels": {"app.kubernetes.io/managed-by": "kdocs"}},
    }
    cluster.kubectl("apply", "-f", "-", input=json.dumps(node_class), check=True)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ready = {
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Ready", "message": "",
                 "lastTransitionTime": now, "observedGeneration": 1},
            ]
        }
    }  # fmt: skip
    cluster.kubectl(
        "patch", f"kwoknodeclasses.{NODE_CLASS_GROUP}", spec.node_class, "--subresource=status",
        "--type=merge", "-p", json.dumps(ready), check=True,
    )  # fmt: skip


def node_class(cluster: Cluster) -> str:
    """The KWOKNodeClass this cluster's Karpenter provides."""
    process = cluster.component(NAME)
    try:
        assert process is not None
        return (process.log.parent / NODE_CLASS_FILE).read_text(encoding="utf-8").strip()
    except (AssertionError, OSError):
        return "default"


def nodepool_problem(doc: dict[str, Any], provided: str) -> str | None:
    """Why Karpenter would ignore this NodePool here: it names a node class nobody provides."""
    if doc.get("kind") != "NodePool" or not str(doc.get("apiVersion", "")).startswith(
        "karpenter.sh/"
    ):
        return None
    spec = ((doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    ref = spec.get("nodeClassRef") or {}
    got = (ref.get("group"), ref.get("kind"), ref.get("name"))
    if got == (NODE_CLASS_GROUP, NODE_CLASS_KIND, provided):
        return None
    name = (doc.get("metadata") or {}).get("name")
    return (
        f"NodePool {name} points at {got[1]} {got[2]!r} ({got[0]}), which nobody provides on "
        f"this cluster: patch its nodeClassRef to group {NODE_CLASS_GROUP}, "
        f"kind {NODE_CLASS_KIND}, name {provided}"
    )


def diagnostics(cluster: Cluster, namespace: str, pods: list[str]) -> str:
    """What a person looks at when Karpenter did not do what a scenario expected."""
    parts = []
    for kind in ("nodepools.karpenter.sh", "nodeclaims.karpenter.sh"):
        items = (get_json_or_none(cluster, kind) or {}).get("items") or []
        lines = [condition_line(item) for item in items]
        parts.append(f"{kind.split('.')[0]}:\n" + ("\n".join(lines) or "  (none)"))
    process = cluster.component(NAME)
    if process is not None:
        about = log_lines_about(process.log, [namespace, *pods])
        if about:
            text = "\n".join(f"  {line}" for line in about)
            parts.append(f"Karpenter's log about this scenario ({process.log}):\n{text}")
    return "\n".join(parts)


def condition_line(obj: dict[str, Any]) -> str:
    """`  stable: Ready=True, NodeClassReady=False (NodeClassNotFound: ...)`."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    shown = []
    for item in status.get("conditions") or []:
        text = f"{item.get('type')}={item.get('status')}"
        if item.get("status") != "True" and (item.get("reason") or item.get("message")):
            text += f" ({item.get('reason', '')}: {' '.join(str(item.get('message', '')).split())})"
        shown.append(text)
    pool = (meta.get("labels") or {}).get(NODEPOOL_LABEL)
    where = f" [nodepool {pool}, node {status.get('nodeName') or '-'}]" if pool else ""
    return f"  {meta.get('name')}{where}: {', '.join(shown) or 'no conditions yet'}"


def log_lines_about(log: Path, words: list[str], count: int = 8) -> list[str]:
    """The last lines of Karpenter's log that mention any of `words` (pod names, a namespace)."""
    wanted = [w for w in words if w]
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 512 * 1024))
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return []
    found = [line for line in lines if any(w in line for w in wanted)]
    return [line[:400] for line in found[-count:]]


def drains(resource: str) -> bool:
    """Whether deleting objects of `resource` (as kubectl names it) makes Karpenter drain nodes."""
    return resource.split(".", 1)[0] == "nodepools" and resource.endswith(".karpenter.sh")


def await_cordoned(
    cluster: Cluster, nodepools: list[str], timeout: float = 60, stop: Event | None = None
) -> str | None:
    """Wait until every node of the (deleted) `nodepools` carries Karpenter's disrupted taint
    or is gone; why not, if not in time or once `stop` is set (the run is cancelled: by the
    user, or by the health probe when the cluster died, where waiting would only hang).

    Karpenter holds a node it deletes for at least 5 s (MinDrainTime), but taints it at
    once: from then on nothing new lands there, which is all a unit without Karpenter
    needs. A Karpenter scenario starts, and the run ends, only once the drains are
    over (`await_drained`).
    """
    selector = f"{NODEPOOL_LABEL} in ({','.join(nodepools)})"
    deadline = time.monotonic() + timeout
    while True:
        found = get_json_or_none(cluster, "nodes", "-l", selector)
        left = "no answer from the API server"
        if found is not None:
            items = found.get("items") or []
            left = ", ".join(item["metadata"]["name"] for item in items if not _disrupted(item))
            if not left:
                return None
        gave_up = _gave_up(deadline, timeout, stop)
        if gave_up:
            pools = ", ".join(nodepools)
            return f"nodes of NodePool {pools} not tainted by Karpenter {gave_up}: {left}"


# Seconds one `kubectl wait` may block: `stop` is looked at between two, so a cancelled run
# still ends within seconds.
WAIT_CHUNK = 2.0


def _gave_up(deadline: float, timeout: float, stop: Event | None) -> str | None:
    """Why a poll ends now ("after 60s", "when the run was cancelled"); else waits its 0.2 s."""
    if time.monotonic() > deadline:
        return f"after {timeout:g}s"
    if stop is None:
        time.sleep(0.2)
        return None
    return "when the run was cancelled" if stop.wait(0.2) else None


def _disrupted(node: dict[str, Any]) -> bool:
    taints = (node.get("spec") or {}).get("taints") or []
    return any(t.get("key") == DISRUPTED_TAINT for t in taints)


def await_drained(
    cluster: Cluster, timeout: float = 120, stop: Event | None = None
) -> str | None:
    """Wait until no NodeClaim is being deleted; why not, if not in time or once `stop` is
    set (see `await_cordoned`).

    A Karpenter scenario starts only then (a node of an earlier one, still draining,
    carries the same NodePool labels and would be counted as launched for it), and
    a run ends only then (no Karpenter node outlives it).
    """
    deadline = time.monotonic() + timeout
    while True:
        found = get_json_or_none(cluster, "nodeclaims.karpenter.sh")
        left, names = "no answer from the API server", []
        if found is not None:
            items = found.get("items") or []
            names = [i["metadata"]["name"] for i in items if i["metadata"].get("deletionTimestamp")]
            if not names:
                return None
            left = ", ".join(names)
        gave_up = _gave_up(deadline, timeout, stop)
        if gave_up:
            return f"NodeClaims still being deleted {gave_up}: {left}"
        if names:  # one watching kubectl until they are gone, not a list every 0.2 s
            chunk = max(1.0, min(WAIT_CHUNK, deadline - time.monotonic()))
            cluster.kubectl(
                "wait", "--for=delete", *(f"nodeclaims.karpenter.sh/{name}" for name in names),
                f"--timeout={chunk:.0f}s", timeout=chunk + 10,
            )  # fmt: skip


def sweep_orphans(cluster: Cluster) -> list[str]:
    """Delete the nodes Karpenter launched whose NodeClaim is gone; their names.

    The KWOK provider creates a NodeClaim's Node in the background; when the
    NodeClaim is deleted before that (a NodePool removed right after a launch, as a
    failed or interrupted scenario does), the Node is left behind, never
    registered. A later scenario would see it: a DaemonSet runs a pod there too.
    """
    nodes = get_json_or_none(cluster, "nodes", "-l", NODEPOOL_LABEL)
    claims = get_json_or_none(cluster, "nodeclaims.karpenter.sh")
    if nodes is None or claims is None:
        return []
    try:
        claimed = {
            (item.get("status") or {}).get("providerID") for item in claims.get("items") or []
        }
        orphans = [
            item["metadata"]["name"]
            for item in nodes.get("items") or []
            if str((item.get("spec") or {}).get("providerID", "")).startswith("kwok://")
            and item["spec"]["providerID"] not in claimed
        ]
    except (ValueError, KeyError, TypeError):
        return []
    if orphans:
        cluster.kubectl("delete", "node", *orphans, "--ignore-not-found", "--wait=false")
    return orphans
