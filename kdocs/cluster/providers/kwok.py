"""The kwok provider: a real control plane (etcd, kube-apiserver, controller manager,
scheduler) with KWOK fake nodes, as local processes, with nothing downloaded.

Scheduling, taints, tolerations, affinity, admission and preemption are the
real Kubernetes code, so a guide's scheduling claims are proven for real, in
seconds and without Docker; only the kubelets are simulated.

State: kwokctl runs with KWOK_WORKDIR=<cache>/kwok (<cache> is $KDOCS_CACHE or
~/.cache/kdocs), so the cluster lives in <cache>/kwok/clusters/<name>/ and never
mixes with the user's own ~/.kwok. <name> is the checkout's own
(`checkout_cluster_name`: kdocs-<folder>-<hash of its path>), and
<cache>/kwok/owners/<name>.json says which checkout made it, so two clones never
share or remove each other's cluster and `kdocs cluster status` can list them all.
Its kubeconfig is kubeconfig.yaml in the cluster folder (context kwok-<name>);
~/.kube/config is never read or written. Which topology a cluster was built from
is recorded in the ConfigMap kube-system/kdocs-topology, written last, so a
half-built cluster is never reused. Every component listens on 127.0.0.1 only.

Cluster components (kdocs/cluster/components.py: the local-path provisioner
behind the default StorageClass, Karpenter, ...) start once the nodes are
Ready, before the record is written; a cluster whose component died is not
reused. Extra KWOK stages (clusters/kwok/stages/*.yaml, such as completing
pods with restartPolicy Never/OnFailure as a kubelet would) are added to
kwokctl's defaults right after creation (kdocs/cluster/providers/kwok_stages.py).

Over 400 lines because the provider's life cycle (create, inspect for reuse,
destroy) is one class whose steps share its state; the parts that need none
of it live beside it (local_processes.py, kwok_stages.py, component_process.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from kdocs.cluster import karpenter
from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.components import ComponentRequest, requested
from kdocs.cluster.providers._common import (
    Log,
    cache_root,
    checkout_cluster_name,
    cluster_nodes,
    flock,
    install_crds,
    last_lines,
    node_mismatch,
    quiet,
    run,
    server_version,
    wait_nodes_ready,
    wait_service_account,
)
from kdocs.cluster.providers.component_process import (
    ComponentRunner,
    components_signature,
    signature_names,
)
from kdocs.cluster.providers.kwok_stages import add_stages
from kdocs.cluster.providers.local_processes import (
    alive,
    ports_lock,
    runs_from,
    stop_processes,
    wait_gone,
)
from kdocs.cluster.topology import NodeSpec, Topology, find_topology
from kdocs.config import CLUSTER_RELEASES, DEFAULT_CLUSTER_VERSIONS, Settings
from kdocs.errors import KdocsError, UnusableInputError

BUILD_SCRIPT = Path("clusters/build/build-binaries.sh")
BINARIES = (
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "etcd",
    "kwok",
)
# kwokctl starts each component from <cluster>/bin/<component> (a link into the
# binaries folder) and writes <cluster>/pids/<component>.pid.
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok-controller",
)
STATE_CONFIGMAP = "kdocs-topology"
# Bumped whenever how a cluster is created changes, so older clusters are not reused.
RECIPE = "3"
# KWOK stages added to kwokctl's defaults: <clusters dir>/kwok/stages/*.yaml, sorted.
STAGES_DIR = Path("kwok/stages")


class KwokProvider:
    """Creates, reuses and removes the kwokctl cluster `cluster_name`."""

    name = "kwok"

    def __init__(
        self,
        settings: Settings,
        *,
        cluster_name: str | None = None,
        workdir: Path | None = None,
        log: Log = quiet,
        show_build_progress: bool = False,
        kubernetes_version: str | None = None,
    ) -> None:
        self.settings = settings
        # Another release than the build script's pin: its own binaries and its own cluster
        # (name, folder, ports), beside the default one (`cluster-versions` in [tool.kdocs]).
        self.kubernetes_version = version_override(kubernetes_version)
        cluster_name = cluster_name or versioned_name(
            checkout_cluster_name(settings.root), self.kubernetes_version
        )
        self.cluster_name = cluster_name
        self.workdir = (workdir or cache_root() / "kwok").resolve()
        self.cluster_dir = self.workdir / "clusters" / cluster_name
        self.owner_file = self.workdir / "owners" / f"{cluster_name}.json"
        # kwokctl's own options file; removed by `down` with the rest (a leak otherwise).
        self.config_file = self.workdir / f"{cluster_name}.kwokctl.yaml"
        self.kubeconfig = self.cluster_dir / "kubeconfig.yaml"
        self.context = f"kwok-{cluster_name}"
        self.log = log
        self.show_build_progress = show_build_progress
        self._bin_dir: Path | None = None
        self.components = ComponentRunner(
            settings.root, self.cluster_dir, self.kubeconfig, ports_lock=ports_lock, log=log,
            show_build_progress=show_build_progress,
        )  # fmt: skip

    # -- the Provider protocol ---------------------------------------------

    def up(self, topology_name: str) -> Cluster:
        """Reuse the running cluster if it is healthy and of this topology, else build it anew."""
        cluster = self._up(topology_name, create=True)
        assert cluster is not None
        return cluster

    def reusable(self, topology_name: str) -> Cluster | None:
        """The running cluster if `up` would reuse it (its CRDs applied), else None."""
        if not self.cluster_dir.exists():
            return None
        return self._up(topology_name, create=False)

    def _up(self, topology_name: str, create: bool) -> Cluster | None:
        topology = find_topology(self.settings.clusters_dir, topology_name)
        bin_dir = self.binaries()
        wanted = requested(self.settings.clusters_dir, topology.components, str(topology.source))
        if topology.karpenter is not None:  # after the always-on ones: it runs last
            wanted.append(karpenter.request(self.settings.clusters_dir, topology.karpenter))
        builds = self.components.build(wanted)
        signature = components_signature(wanted, builds)
        with self._lock():
            cluster, reason = self._inspect(topology, signature)
            if cluster is not None:
                self.log(f"reusing running cluster {self.cluster_name} ({topology.name})")
                install_crds(cluster, self.settings.crd_dirs, self.log)
                return cluster
            if not create:
                return None
            if self.cluster_dir.exists() or self.processes():
                self.log(f"recreating cluster {self.cluster_name}: {reason}")
                self._destroy()
            try:
                return self._create(topology, bin_dir, wanted, builds)
            except BaseException:
                # Never leave a half-built cluster or its processes behind; the first error wins.
                with contextlib.suppress(KdocsError, OSError):
                    self._destroy()
                raise

    def current(self) -> Cluster | None:
        """The running cluster when it is healthy (whatever its topology), else None."""
        if not self.cluster_dir.exists():
            return None
        cluster, _ = self._inspect(None, None)
        return cluster

    def down(self) -> None:
        """Delete the cluster: kwokctl first, then any process or file it left behind."""
        with self._lock():
            self._destroy()

    # -- what the tests and the CLI look at --------------------------------

    def binaries(self) -> Path:
        """The folder of pinned binaries, built by clusters/build/build-binaries.sh on first use."""
        if self._bin_dir is not None:
            return self._bin_dir
        script = self.settings.root / BUILD_SCRIPT
        if not script.is_file():
            raise ClusterUnavailableError(str(script), "the binary build script is missing")
        pinned = {"K8S_VERSION": self.kubernetes_version} if self.kubernetes_version else {}
        done = run(
            ["bash", script], what="clusters/build/build-binaries.sh",
            timeout=3 * 3600, check=False, stderr_to_terminal=self.show_build_progress,
            env={**os.environ, **pinned},
        )  # fmt: skip
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            reason = last_lines(done.stderr or "") if done.stderr else f"exit {done.returncode}"
            raise ClusterUnavailableError(str(script), f"building the binaries failed: {reason}")
        bin_dir = Path(lines[-1].strip())
        missing = [b for b in (*BINARIES, "kwokctl") if not os.access(bin_dir / b, os.X_OK)]
        if missing:
            raise ClusterUnavailableError(str(bin_dir), f"missing binaries: {', '.join(missing)}")
        self._bin_dir = bin_dir
        return bin_dir

    def processes(self) -> list[int]:
        """Pids of the live processes of this cluster's components."""
        found = []
        for entry in Path("/proc").iterdir():
            pid = int(entry.name) if entry.name.isdigit() else os.getpid()
            if pid != os.getpid() and alive(pid) and runs_from(entry, self.cluster_dir / "bin"):
                found.append(pid)
        return sorted(found)

    # -- internals ---------------------------------------------------------

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        """One up/down at a time per cluster (pytest-xdist workers share it)."""
        return flock(self.workdir / f".{self.cluster_name}.lock")

    def _env(self) -> dict[str, str]:
        """kwokctl's environment: its own workdir, our kubectl, and a KUBECONFIG of its own."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("KWOK_")}
        bin_dir = self.binaries()
        versions = manifest_versions(bin_dir)
        env.update(
            KWOK_WORKDIR=str(self.workdir),
            KWOK_KUBECTL_BINARY=str(bin_dir / "kubectl"),
            # kwokctl must never edit ~/.kube/config: create gets --kubeconfig '', delete
            # (which refuses '') this private file, as does anything reading $KUBECONFIG.
            KUBECONFIG=str(self.workdir / "kwokctl-kubeconfig.yaml"),
        )
        if "kubernetes" in versions:
            env["KWOK_KUBE_VERSION"] = versions["kubernetes"]
        if "etcd" in versions:
            env["KWOK_ETCD_VERSION"] = versions["etcd"].removeprefix("v")
        return env

    def _cluster(self, topology: str, node_names: tuple[str, ...]) -> Cluster:
        draft = Cluster(
            provider=self.name, kubeconfig=self.kubeconfig, context=self.context,
            kubernetes_version="", kubectl_binary=self.binaries() / "kubectl",
            topology=topology, node_names=node_names,
        )  # fmt: skip
        return replace(draft, kubernetes_version=server_version(draft))

    def _create(
        self, topology: Topology, bin_dir: Path, wanted: list[ComponentRequest],
        builds: dict[str, Path],
    ) -> Cluster:  # fmt: skip
        started = time.monotonic()
        self.log(f"creating kwok cluster {self.cluster_name} in {self.cluster_dir}")
        # Before anything starts: even a half-built cluster says whose it is.
        self.owner_file.parent.mkdir(parents=True, exist_ok=True)
        self.owner_file.write_text(
            json.dumps({"checkout": str(self.settings.root.resolve())}) + "\n", encoding="utf-8"
        )
        # Options without a create flag: every component listens on 127.0.0.1 only (the
        # default, 0.0.0.0, would expose etcd's plain HTTP port to the network).
        config = self.config_file
        config.write_text(
            "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\n"
            f"options:\n  bindAddress: 127.0.0.1\n  kubectlBinary: {bin_dir / 'kubectl'}\n",
            encoding="utf-8",
        )
        # kwokctl picks "unused" ports by probing them; two creates at once can pick the
        # same ones, so creations take turns machine-wide (the lock is held ~3 s).
        with ports_lock():
            self._kwokctl_create(bin_dir, config)
            restarted = time.monotonic()
            added = add_stages(self.cluster_dir, self.settings.clusters_dir / STAGES_DIR)
        if added:
            took = time.monotonic() - restarted
            self.log(f"KWOK stages added in {took:.1f}s: {', '.join(added)}")
        self.log(f"control plane up in {time.monotonic() - started:.1f}s; adding nodes")
        names = tuple(node.name for node in topology.nodes)
        cluster = self._cluster(topology.name, names)
        nodes = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [fake_node(n) for n in topology.nodes],
        }
        done = cluster.kubectl("create", "-f", "-", input=json.dumps(nodes), timeout=60)
        if done.returncode != 0:
            raise ClusterUnavailableError(
                None, f"creating the nodes failed: {last_lines(done.stderr)}"
            )
        wait_nodes_ready(cluster, names)
        wait_service_account(cluster)
        install_crds(cluster, self.settings.crd_dirs, self.log)
        if topology.karpenter is not None:  # its instance types and node class, before it starts
            karpenter.prepare(cluster, self.components.folder / karpenter.NAME, topology.karpenter)
        running = self.components.start(cluster, wanted, builds)
        cluster = replace(cluster, components=running)
        record = {
            "topology": topology.name, "digest": topology.digest,
            "binaries": bin_dir.name, "recipe": RECIPE,
            "components": components_signature(wanted, builds),
        }  # fmt: skip
        state = {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": STATE_CONFIGMAP, "namespace": "kube-system"}, "data": record,
        }  # fmt: skip
        cluster.kubectl("create", "-f", "-", input=json.dumps(state), check=True)
        self.log(f"cluster {self.cluster_name} ready in {time.monotonic() - started:.1f}s")
        return cluster

    def _kwokctl_create(self, bin_dir: Path, config: Path) -> None:
        run(
            [
                bin_dir / "kwokctl", "--config", config,
                "create", "cluster", "--name", self.cluster_name,
                "--runtime", "binary", "--kubeconfig", "", "--wait", "2m",
                "--kube-authorization=true", "--kube-admission=true",
                f"--etcd-binary={bin_dir / 'etcd'}",
                f"--kube-apiserver-binary={bin_dir / 'kube-apiserver'}",
                f"--kube-controller-manager-binary={bin_dir / 'kube-controller-manager'}",
                f"--kube-scheduler-binary={bin_dir / 'kube-scheduler'}",
                f"--kwok-controller-binary={bin_dir / 'kwok'}",
            ],
            what="kwokctl create cluster", timeout=300, env=self._env(),
        )  # fmt: skip

    def _inspect(
        self, topology: Topology | None, signature: str | None
    ) -> tuple[Cluster | None, str]:
        """The cluster if it is whole and (when given) of `topology`, else why it is not."""
        if not self.cluster_dir.is_dir():
            return None, "it does not exist"
        try:  # kwokctl needs its config to stop the cluster; a broken one means start over
            list(yaml.safe_load_all((self.cluster_dir / "kwok.yaml").read_text(encoding="utf-8")))
            yaml.safe_load(self.kubeconfig.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None, "its state folder is incomplete or corrupt"
        for component in COMPONENTS:
            if not self.component_alive(component):
                return None, f"{component} is not running"
        try:
            probe = self._cluster("", ())
            found = probe.kubectl(
                "get", "configmap", STATE_CONFIGMAP, "-n", "kube-system", "-o", "json", timeout=15
            )
            if found.returncode != 0:
                return None, "it was never completed (no kube-system/kdocs-topology)"
            record = json.loads(found.stdout).get("data") or {}
        except (ClusterUnavailableError, ValueError) as error:
            return None, f"its API server does not answer ({error})"
        names = tuple(n.name for n in topology.nodes) if topology else ()
        if topology is not None:
            if record.get("digest") != topology.digest or record.get("topology") != topology.name:
                return None, f"it was built from another topology ({record.get('topology')})"
            if (record.get("binaries"), record.get("recipe")) != (self.binaries().name, RECIPE):
                return None, "it was made by other binaries or another version of kdocs"
            if record.get("components") != signature:
                return None, "it runs other cluster components (or other versions or settings)"
            mismatch = node_mismatch(topology, cluster_nodes(probe))
            if mismatch:
                return None, mismatch
        elif record.get("topology"):
            fake = [
                n["metadata"]["name"] for n in cluster_nodes(probe)
                if n["metadata"].get("annotations", {}).get("kwok.x-k8s.io/node") == "fake"
            ]  # fmt: skip
            try:  # in the topology's order when its file is still there
                order = [
                    n.name
                    for n in find_topology(self.settings.clusters_dir, record["topology"]).nodes
                ]
            except UnusableInputError:
                order = []
            names = tuple(
                sorted(fake, key=lambda n: (order.index(n) if n in order else len(order), n))
            )
        running = self.components.running(signature_names(record.get("components", "")))
        if running is None:
            return None, "a cluster component was never started"
        dead = [c.name for c in running if not c.alive()]
        if dead:
            return None, f"cluster component {', '.join(dead)} is not running"
        cluster = replace(
            probe, topology=record.get("topology", ""), node_names=names, components=running
        )
        return cluster, "healthy"

    def component_alive(self, component: str) -> bool:
        """Whether `component` of this cluster runs (its pid not recycled by another program)."""
        try:
            pid = int((self.cluster_dir / "pids" / f"{component}.pid").read_text().strip())
            exe = os.readlink(f"/proc/{pid}/exe").removesuffix(" (deleted)")
        except (OSError, ValueError):
            return False
        # A recycled pid would run something else: the executable must be the component's.
        return alive(pid) and exe == os.path.realpath(self.cluster_dir / "bin" / component)

    def _destroy(self) -> None:
        """kwokctl delete, then kill whatever still runs from the cluster folder, then remove it."""
        self.components.stop()  # first: controllers must not act on a control plane going away
        components = self.processes()
        if self.cluster_dir.exists():
            self.log(f"deleting kwok cluster {self.cluster_name}")
            kwokctl = self._kwokctl_for_delete()
            if kwokctl is not None:
                done = run(
                    [kwokctl, "delete", "cluster", "--name", self.cluster_name,
                     "--kubeconfig", self._env()["KUBECONFIG"]],
                    what="kwokctl delete cluster", timeout=120, env=self._env(), check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    self.log(
                        f"kwokctl delete failed, cleaning up by hand: {last_lines(done.stderr)}"
                    )
        leftovers = self.processes()
        if leftovers:
            self.log(f"stopping {len(leftovers)} leftover process(es): {leftovers}")
            stop_processes(leftovers)
        # kwokctl does not wait for what it killed, and a dying process may already have
        # lost its command line: wait until every component seen at the start is gone.
        wait_gone(components)
        shutil.rmtree(self.cluster_dir, ignore_errors=True)
        self.owner_file.unlink(missing_ok=True)
        self.config_file.unlink(missing_ok=True)
        still = self.processes() + [pid for pid in components if alive(pid)]
        if still or self.cluster_dir.exists():
            raise ClusterUnavailableError(
                str(self.cluster_dir), f"could not remove the cluster (processes left: {still})"
            )

    def _kwokctl_for_delete(self) -> Path | None:
        try:
            return self.binaries() / "kwokctl"
        except ClusterUnavailableError:
            return None  # without binaries, killing the processes by hand still works


def fake_node(node: NodeSpec) -> dict[str, Any]:
    """A Node object KWOK adopts (annotation kwok.x-k8s.io/node=fake) and keeps Ready."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": dict(node.labels),
        },
        "spec": {"taints": [t.as_kubernetes() for t in node.taints]},
        "status": {
            "allocatable": dict(node.allocatable),
            "capacity": dict(node.capacity),
            "phase": "Running",
        },
    }


def manifest_versions(bin_dir: Path) -> dict[str, str]:
    """Versions from the MANIFEST line "# versions: kubernetes v1.36.3, etcd v3.6.16, ..."."""
    try:
        text = (bin_dir / "MANIFEST").read_text(encoding="utf-8")
    except OSError:
        return {}
    for line in text.splitlines():
        if line.startswith("# versions:"):
            pairs = (item.split() for item in line.removeprefix("# versions:").split(","))
            return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}
    return {}


def version_override(release: str | None) -> str | None:
    """`release` unless it is the build script's own pin (then None: the default cluster)."""
    default = CLUSTER_RELEASES[DEFAULT_CLUSTER_VERSIONS[0]]
    return None if release in (None, default) else release


def versioned_name(name: str, release: str | None) -> str:
    """The cluster name for a release other than the default: kdocs-x-1234abcd-v1-34."""
    if release is None:
        return name
    return f"{name}-v{'-'.join(release.removeprefix('v').split('.')[:2])}"
