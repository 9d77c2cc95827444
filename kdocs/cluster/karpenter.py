"""Karpenter as a component of a kwok cluster: its KWOK cloud provider beside the control plane.

Karpenter's KWOK cloud provider is the real Karpenter (scheduler simulation,
batching, NodePools, NodeClaims, disruption) with one difference: instead of
calling EC2 it creates a KWOK Node object for each NodeClaim. So when a
topology declares `karpenter:`, which nodes exist is decided by Karpenter
itself, and a guide's claims about Karpenter are proven against it.

It runs out of cluster, as `<cluster>/bin/karpenter` (a link to the cached
binary), so the kwok provider's process scan finds and stops it with the rest
of the cluster; its pid is in `<cluster>/pids/karpenter.pid` and its log in
`<cluster>/logs/karpenter.log`. Karpenter binds its metrics and health ports
on every interface (its flags take a port, not an address); the ports are
free ones picked at start.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.karpenter_spec import KarpenterSpec
from kdocs.cluster.providers import Log, last_lines, pid_file_alive, quiet, run

BUILD_SCRIPT = Path("clusters/build/build-binaries.sh")
NAME = "karpenter"
NODE_CLASS_GROUP = "karpenter.kwok.sh"
NODE_CLASS_KIND = "KWOKNodeClass"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
READY_TIMEOUT = 120.0


class KarpenterSetupError(ClusterUnavailableError):
    """Karpenter cannot do what the scenario needs (no verdict on the guide: exit 2)."""


def build(root: Path, version: str, show_progress: bool = False) -> Path:
    """The cached Karpenter binary of `version`, built from its Go module on first use."""
    script = root / BUILD_SCRIPT
    env = {**os.environ, "KARPENTER_VERSION": version}
    done = run(
        ["bash", script, "--component", NAME], what=f"building Karpenter {version}",
        timeout=3 * 3600, check=False, env=env, stderr_to_terminal=show_progress,
    )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        why = last_lines(done.stderr or "", 2) if done.stderr else f"exit {done.returncode}"
        raise ClusterUnavailableError(
            str(script), f"Karpenter {version} does not build with this Go: {why}"
        )
    binary = Path(lines[-1].strip()) / NAME
    if not os.access(binary, os.X_OK):
        raise ClusterUnavailableError(str(binary), "the Karpenter build left no binary")
    return binary


def start(
    cluster: Cluster, cluster_dir: Path, spec: KarpenterSpec, binary: Path, log: Log = quiet
) -> int:
    """Start Karpenter for `cluster`, give it its node class, and wait until it is ready."""
    started = time.monotonic()
    (cluster_dir / "bin").mkdir(parents=True, exist_ok=True)
    link = cluster_dir / "bin" / NAME
    with contextlib.suppress(FileNotFoundError):
        link.unlink()
    link.symlink_to(binary)
    folder = cluster_dir / NAME
    folder.mkdir(parents=True, exist_ok=True)
    types_file = folder / "instance-types.json"
    types_file.write_text(
        json.dumps([t.as_kwok() for t in spec.instance_types], indent=1), encoding="utf-8"
    )
    probe_port, metrics_port = free_port(), free_port()
    command = [
        str(link),
        "--disable-leader-election=true",
        f"--health-probe-port={probe_port}",
        f"--metrics-port={metrics_port}",
        f"--instance-types-file-path={types_file}",
        *spec.flags(),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KWOK_")}
    env.update(KUBECONFIG=str(cluster.kubeconfig), SYSTEM_NAMESPACE="kube-system")
    (cluster_dir / "logs").mkdir(parents=True, exist_ok=True)
    (cluster_dir / "pids").mkdir(parents=True, exist_ok=True)
    with open(log_path(cluster_dir), "ab") as output:
        # A session of its own: like the control plane, it outlives the command that made
        # the cluster (the next run reuses it) and a Ctrl-C in that terminal.
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
            env=env, start_new_session=True, cwd=folder,
        )  # fmt: skip
    (cluster_dir / "pids" / f"{NAME}.pid").write_text(f"{process.pid}\n", encoding="utf-8")
    (folder / "version").write_text(spec.version + "\n", encoding="utf-8")
    (folder / "node-class").write_text(spec.node_class + "\n", encoding="utf-8")
    provide_node_class(cluster, spec.node_class)
    wait_ready(process, probe_port, cluster_dir)
    log(f"Karpenter {spec.version} ready in {time.monotonic() - started:.1f}s")
    return process.pid


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def log_path(cluster_dir: Path) -> Path:
    return cluster_dir / "logs" / f"{NAME}.log"


def provide_node_class(cluster: Cluster, name: str) -> None:
    """The KWOKNodeClass NodePools point at, marked Ready (the KWOK provider has no controller
    for it, and Karpenter launches nothing for a NodePool whose node class is not Ready)."""
    node_class = {
        "apiVersion": f"{NODE_CLASS_GROUP}/v1alpha1",
        "kind": NODE_CLASS_KIND,
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "kdocs"}},
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
        "patch", f"kwoknodeclasses.{NODE_CLASS_GROUP}", name, "--subresource=status",
        "--type=merge", "-p", json.dumps(ready), check=True,
    )  # fmt: skip


def wait_ready(process: subprocess.Popen[bytes], port: int, cluster_dir: Path) -> None:
    """Until Karpenter's readiness probe answers 200; its death or a timeout: exit code 2."""
    deadline = time.monotonic() + READY_TIMEOUT
    url = f"http://127.0.0.1:{port}/readyz"
    while True:
        if process.poll() is not None:
            raise ClusterUnavailableError(
                str(log_path(cluster_dir)),
                f"Karpenter exited with {process.returncode} before it was ready: "
                + last_lines(tail(cluster_dir, 20), 2),
            )
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=2) as answer,  # loopback only
        ):
            if answer.status == 200:
                return
        if time.monotonic() > deadline:
            raise ClusterUnavailableError(
                str(log_path(cluster_dir)),
                f"Karpenter not ready within {READY_TIMEOUT:.0f}s: "
                + last_lines(tail(cluster_dir)),
            )
        time.sleep(0.3)


def tail(cluster_dir: Path, count: int = 40) -> str:
    """The last lines of Karpenter's log ("" when there is none)."""
    try:
        with open(log_path(cluster_dir), "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 256 * 1024))
            lines = handle.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(lines[-count:])


def running_version(cluster_dir: Path) -> str:
    try:
        return (cluster_dir / NAME / "version").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def nodepool_problem(doc: dict[str, Any], node_class: str) -> str | None:
    """Why Karpenter would ignore this NodePool here: it names a node class nobody provides."""
    if doc.get("kind") != "NodePool" or not str(doc.get("apiVersion", "")).startswith(
        "karpenter.sh/"
    ):
        return None
    spec = (doc.get("spec") or {}).get("template", {}).get("spec") or {}
    ref = spec.get("nodeClassRef") or {}
    got = (ref.get("group"), ref.get("kind"), ref.get("name"))
    if got == (NODE_CLASS_GROUP, NODE_CLASS_KIND, node_class):
        return None
    name = (doc.get("metadata") or {}).get("name")
    return (
        f"NodePool {name} points at {got[1]} {got[2]!r} ({got[0]}), which nobody provides on "
        f"this cluster: patch its nodeClassRef to group {NODE_CLASS_GROUP}, "
        f"kind {NODE_CLASS_KIND}, name {node_class}"
    )


def log_lines_about(cluster_dir: Path, words: list[str], count: int = 8) -> list[str]:
    """Karpenter's last log lines mentioning any of `words` (pod names, a namespace)."""
    wanted = [w for w in words if w]
    found = [
        line for line in tail(cluster_dir, 2000).splitlines() if any(w in line for w in wanted)
    ]
    return [line[:400] for line in found[-count:]]


def stopped(cluster: Cluster) -> str | None:
    """Why a cluster that runs Karpenter is unusable now (it died), or None."""
    if not cluster.has_component(NAME) or cluster.state_dir is None:
        return None
    if pid_file_alive(cluster.state_dir, NAME):
        return None
    last = last_lines(tail(cluster.state_dir, 5), 1)
    return f"Karpenter stopped running (the next run starts a fresh one); its last log line: {last}"


def node_class(cluster: Cluster) -> str:
    """The KWOKNodeClass this cluster's Karpenter provides."""
    try:
        assert cluster.state_dir is not None
        return (cluster.state_dir / NAME / "node-class").read_text(encoding="utf-8").strip()
    except (AssertionError, OSError):
        return "default"


def diagnostics(cluster: Cluster, namespace: str, pods: list[str]) -> str:
    """What a person looks at when Karpenter did not do what a scenario expected."""
    parts = []
    for kind in ("nodepools.karpenter.sh", "nodeclaims.karpenter.sh"):
        done = cluster.kubectl("get", kind, "-o", "json", timeout=30)
        try:
            items = json.loads(done.stdout).get("items") or [] if done.returncode == 0 else []
        except ValueError:
            items = []
        lines = [condition_line(item) for item in items]
        parts.append(f"{kind.split('.')[0]}:\n" + ("\n".join(lines) or "  (none)"))
    if cluster.state_dir is not None:
        about = log_lines_about(cluster.state_dir, [namespace, *pods])
        if about:
            parts.append(
                "Karpenter's log about this scenario:\n" + "\n".join(f"  {line}" for line in about)
            )
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
