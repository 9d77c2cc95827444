"""The steps every provider shares once its API server answers (the table: providers/__init__).

Whatever made the cluster (kwok fake nodes, kind containers, somebody's
existing cluster), the guide's CRDs must be installed and Established and the
API server must be able to take a Pod before a scenario starts; doing that in
one place keeps the providers' clusters interchangeable.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.topology import TOPOLOGY_NODE_LABEL, NodeSpec, Topology
from kdocs.filelock import flock as flock  # re-exported: the cluster code locks through here
from kdocs.resource.crds import find_crds

DEFAULT_PROVIDER = "kwok"
PROVIDER_ENV = "KDOCS_PROVIDER"

Log = Callable[[str], None]


def quiet(_message: str) -> None:
    """The default log: providers say nothing unless asked."""


def stderr_log(message: str) -> None:
    """Progress lines for the CLI (stdout stays for results)."""
    print(f"kdocs cluster: {message}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    """Where kdocs keeps machine-wide state: the same root as clusters/build/build-binaries.sh."""
    configured = os.environ.get("KDOCS_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "kdocs"


def checkout_cluster_name(root: Path) -> str:
    """The cluster name of the checkout at `root`: `kdocs-<folder>-<hash of its real path>`.

    Every clone (and a clone's CI run in another folder) gets a cluster of its own,
    so one checkout's `kdocs cluster down` never removes what another's tests run on;
    the folder part says whose it is at a glance, the hash keeps same-named folders apart.
    """
    resolved = root.resolve()
    slug = re.sub(r"[^a-z0-9]+", "-", resolved.name.lower()).strip("-")[:20].strip("-")
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    return f"kdocs-{slug or 'project'}-{digest}"


def default_provider_name() -> str:
    """The provider of `KDOCS_PROVIDER`, kwok when unset (the one that needs no Docker)."""
    return os.environ.get(PROVIDER_ENV, "").strip() or DEFAULT_PROVIDER


def run(
    command: Sequence[str | Path],
    *,
    what: str,
    timeout: float = 120.0,
    env: dict[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    stderr_to_terminal: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a tool; a missing binary, a timeout or (with check) a failure: ClusterUnavailableError.

    `stderr_to_terminal` lets a long build show its progress instead of capturing it.
    """
    try:
        done = subprocess.run(
            [str(part) for part in command],
            input=input,
            stdout=subprocess.PIPE,
            stderr=None if stderr_to_terminal else subprocess.PIPE,
            text=True,
            timeout=timeout,
            env=env,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise ClusterUnavailableError(None, f"{what}: no answer within {timeout:.0f}s") from None
    except OSError as error:
        raise ClusterUnavailableError(None, f"{what}: cannot run {command[0]}: {error}") from None
    if check and done.returncode != 0:
        output = last_lines(done.stderr or done.stdout or "")
        raise ClusterUnavailableError(None, f"{what} failed: {output}")
    return done


def last_lines(text: str, count: int = 3) -> str:
    """The end of a tool's output, on one line: where the reason usually is."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "no output"


# On each CRD kdocs applies: the digest of what it applied, so that a reused cluster whose
# CRDs are those of the files already is not sent them again (~1 MB for Karpenter's).
CRD_DIGEST_ANNOTATION = "kdocs.dev/applied-digest"


def install_crds(cluster: Cluster, crd_dirs: Iterable[Path], log: Log = quiet) -> list[str]:
    """Apply every CRD and wait until Established; nothing is sent when every one is
    Established already with the digest of its file's content (a reused cluster).

    Server-side apply: big CRDs (Karpenter's) exceed the client-side annotation limit.
    """
    crds = [_stamped(crd.obj) for crd in find_crds(d for d in crd_dirs if d.is_dir())]
    if not crds:
        log("no CRDs to install")
        return []
    names = [crd["metadata"]["name"] for crd in crds]
    if _applied_already(cluster, crds):
        log(f"CRDs unchanged and Established: {', '.join(names)}")
        return names
    manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": crds})
    done = cluster.kubectl(
        "apply", "--server-side", "--force-conflicts", "--field-manager=kdocs", "-f", "-",
        input=manifest, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise ClusterUnavailableError(None, f"installing CRDs failed: {last_lines(done.stderr)}")
    wait_established(cluster, names)
    log(f"CRDs installed and Established: {', '.join(names)}")
    return names


def _stamped(crd: dict[str, Any]) -> dict[str, Any]:
    """A copy of `crd` annotated with the digest of its content."""
    digest = hashlib.sha256(json.dumps(crd, sort_keys=True).encode()).hexdigest()[:32]
    meta = dict(crd.get("metadata") or {})
    meta["annotations"] = {**(meta.get("annotations") or {}), CRD_DIGEST_ANNOTATION: digest}
    return {**crd, "metadata": meta}


def _applied_already(cluster: Cluster, crds: list[dict[str, Any]]) -> bool:
    """Whether every CRD of `crds` is in the cluster, Established, with the same digest."""
    wanted = {c["metadata"]["name"]: c["metadata"]["annotations"][CRD_DIGEST_ANNOTATION]
              for c in crds}  # fmt: skip
    current = {
        item["metadata"]["name"]
        for item in _live_crds(cluster, list(wanted))
        if (item["metadata"].get("annotations") or {}).get(CRD_DIGEST_ANNOTATION)
        == wanted.get(item["metadata"]["name"])
        and _established(item)
    }
    return current == set(wanted)


def _live_crds(cluster: Cluster, names: Sequence[str]) -> list[dict[str, Any]]:
    """The CRDs of `names` as the cluster has them; none when any is missing or unreadable."""
    done = cluster.kubectl(
        "get", *[f"customresourcedefinition/{name}" for name in names], "-o", "json", timeout=30
    )
    try:
        data = json.loads(done.stdout) if done.returncode == 0 else {}
    except ValueError:
        return []
    return data.get("items", [data]) if data else []


def _established(crd: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Established" and c.get("status") == "True"
        for c in (crd.get("status") or {}).get("conditions") or []
    )


def wait_established(cluster: Cluster, names: Sequence[str], timeout: float = 60.0) -> None:
    """Poll until every CRD in `names` is Established.

    Not `kubectl wait`: it fails at once on a CRD whose status has no conditions yet.
    """
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending:
        live = _live_crds(cluster, pending)
        established = {item["metadata"]["name"] for item in live if _established(item)}
        pending = [name for name in pending if name not in established]
        if not pending:
            return
        if time.monotonic() > deadline:
            raise ClusterUnavailableError(None, f"CRDs not Established: {', '.join(pending)}")
        time.sleep(0.2)


def server_version(cluster: Cluster) -> str:
    """gitVersion from the API server's /version (what the cluster really runs)."""
    done = cluster.kubectl("get", "--raw", "/version", timeout=20, check=True)
    try:
        return str(json.loads(done.stdout)["gitVersion"])
    except (ValueError, KeyError, TypeError):
        raise ClusterUnavailableError(
            None, f"unexpected /version answer: {done.stdout[:80]!r}"
        ) from None


def wait_nodes_ready(cluster: Cluster, names: Sequence[str], timeout: float = 120.0) -> None:
    """Block until every node in `names` reports Ready."""
    done = cluster.kubectl(
        "wait", "--for=condition=Ready", f"--timeout={int(timeout)}s",
        *[f"node/{name}" for name in names], timeout=timeout + 30,
    )  # fmt: skip
    if done.returncode != 0:
        raise ClusterUnavailableError(None, f"nodes not Ready: {last_lines(done.stderr)}")


def wait_service_account(
    cluster: Cluster, namespace: str = "default", timeout: float = 60.0
) -> None:
    """Pods are refused until the controller manager has made the namespace's `default` account."""
    deadline = time.monotonic() + timeout
    while True:
        done = cluster.kubectl("get", "serviceaccount", "default", "-n", namespace, "-o", "name")
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise ClusterUnavailableError(
                None, f"no default service account in {namespace}: {last_lines(done.stderr)}"
            )
        time.sleep(0.5)


def cluster_nodes(cluster: Cluster) -> list[dict[str, Any]]:
    """The cluster's Node objects, as JSON."""
    done = cluster.kubectl("get", "nodes", "-o", "json", timeout=30, check=True)
    try:
        return list(json.loads(done.stdout)["items"])
    except (ValueError, KeyError, TypeError):
        raise ClusterUnavailableError(None, "unexpected answer to kubectl get nodes") from None


def nodes_by_topology(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The cluster's nodes by the topology name they carry (label kdocs/node)."""
    found = {}
    for node in nodes:
        label = (node["metadata"].get("labels") or {}).get(TOPOLOGY_NODE_LABEL)
        if label:
            found[label] = node
    return found


def node_difference(
    spec: NodeSpec, node: dict[str, Any], ignored: Iterable[str] = ()
) -> str | None:
    """How `node` differs from topology node `spec` (labels, taints), or None when it is it.

    Taints under node.kubernetes.io/ are left out: the control plane sets and lifts them.
    """
    skip = set(ignored)
    labels = node["metadata"].get("labels") or {}
    changed = sorted(k for k, v in spec.labels.items() if k not in skip and labels.get(k) != v)
    if changed:
        return f"other values for {', '.join(changed)}"
    taints = {
        (t["key"], t.get("value", ""), t["effect"])
        for t in (node.get("spec") or {}).get("taints") or []
        if not t["key"].startswith("node.kubernetes.io/")
    }
    if taints != {(t.key, t.value, t.effect) for t in spec.taints}:
        return "other taints"
    return None


def node_mismatch(
    topology: Topology, nodes: list[dict[str, Any]], ignore_labels: Iterable[str] = ()
) -> str | None:
    """Why the cluster's nodes are no longer the topology's (a scenario may have changed them).

    Nodes are matched by their kdocs/node label; `ignore_labels` are labels the
    provider cannot control (kind's kubelets set hostname, os and arch).
    """
    by_topology = nodes_by_topology(nodes)
    for spec in topology.nodes:
        node = by_topology.get(spec.name)
        if node is None:
            return f"node {spec.name} is missing"
        difference = node_difference(spec, node, ignore_labels)
        if difference:
            return f"node {spec.name} has {difference}"
    return None


def find_kubectl(explicit: str | None = None) -> Path:
    """kubectl for clusters kdocs did not build: `explicit`, else $KDOCS_KUBECTL, else PATH."""
    wanted = explicit or os.environ.get("KDOCS_KUBECTL") or "kubectl"
    found = shutil.which(wanted)
    if found is None:
        raise ClusterUnavailableError(
            None, f"kubectl not found ({wanted}); install it or set KDOCS_KUBECTL"
        )
    return Path(found)
