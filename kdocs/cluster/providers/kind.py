"""The kind provider: the topology as real kubelets in Docker containers (CI, Docker users).

kind cannot name its nodes, so each worker carries the topology's name in the
label kdocs/node (kind calls it <cluster>-worker, <cluster>-worker2, ...), plus the
topology's labels (kind's `labels`) and taints (kubeadm JoinConfiguration
nodeRegistration.taints). Real kubelets report the host's resources; to stage
contention the generated config reserves the difference (kubelet
--system-reserved) so allocatable is close to the topology's. Labels in the
kubernetes.io / k8s.io namespaces that a kubelet may not set on itself are
refused up front, since kind would otherwise fail late and obscurely.

The kubeconfig is private (<cache>/kind/<name>/kubeconfig.yaml, context
kind-<name>); ~/.kube/config is never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.components import always_on
from kdocs.cluster.match import parse_quantity
from kdocs.cluster.providers._common import (
    Log,
    cache_root,
    checkout_cluster_name,
    cluster_nodes,
    find_kubectl,
    install_crds,
    last_lines,
    node_mismatch,
    nodes_by_topology,
    quiet,
    run,
    server_version,
    wait_nodes_ready,
    wait_service_account,
)
from kdocs.cluster.providers.component_process import check_provided
from kdocs.cluster.topology import (
    HOSTNAME_LABEL,
    TOPOLOGY_NODE_LABEL,
    NodeSpec,
    Topology,
    find_topology,
)
from kdocs.config import Settings
from kdocs.errors import KdocsError

STATE_CONFIGMAP = "kdocs-topology"
# The kubelet sets these itself, truthfully: hostname is kind's node name, os/arch the host's.
KUBELET_OWN_LABELS = (HOSTNAME_LABEL, "kubernetes.io/os", "kubernetes.io/arch")
# What a kubelet may put on its own Node in the kubernetes.io / k8s.io namespaces
# (NodeRestriction; the kubelet refuses to start with any other such --node-labels).
KUBELET_ALLOWED_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/os",
        "kubernetes.io/arch",
        "beta.kubernetes.io/os",
        "beta.kubernetes.io/arch",
        "beta.kubernetes.io/instance-type",
        "node.kubernetes.io/instance-type",
        "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "topology.kubernetes.io/zone",
    }
)
KUBELET_ALLOWED_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")


@dataclass(frozen=True)
class HostCapacity:
    """What every kind node's kubelet will see: the Docker host's CPUs and memory."""

    cpu_millis: int
    memory_bytes: int

    @classmethod
    def of_this_machine(cls) -> HostCapacity | None:
        """The local host's capacity, or None where /proc/meminfo is not there."""
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemTotal:"):
                    memory = int(line.split()[1]) * 1024
                    return cls(cpu_millis=(os.cpu_count() or 1) * 1000, memory_bytes=memory)
        except (OSError, ValueError, IndexError):
            pass
        return None


def kubelet_label_problem(key: str) -> str | None:
    """Why a kubelet may not set label `key` on its own node, or None."""
    prefix = key.rpartition("/")[0]
    restricted = prefix and (
        prefix in ("kubernetes.io", "k8s.io")
        or prefix.endswith(".kubernetes.io")
        or prefix.endswith(".k8s.io")
    )
    if not restricted or key in KUBELET_ALLOWED_LABELS:
        return None
    if any(prefix == ns or prefix.endswith("." + ns) for ns in KUBELET_ALLOWED_NAMESPACES):
        return None
    return "a kubelet may not set this label on its own node (NodeRestriction)"


def _amount(value: str) -> Fraction:
    """A topology quantity (its reader checked the syntax) as an exact number."""
    found = parse_quantity(value)
    if found is None:
        raise ValueError(f"not a quantity: {value!r}")
    return found


def kubelet_args(node: NodeSpec, host: HostCapacity | None) -> dict[str, str]:
    """kubelet flags that make the node's allocatable close to the topology's."""
    args = {"max-pods": node.allocatable["pods"]}
    if host is None:
        return args
    reserved = []
    cpu = host.cpu_millis - round(_amount(node.allocatable["cpu"]) * 1000)
    if cpu > 0:
        reserved.append(f"cpu={cpu}m")
    memory = host.memory_bytes - int(_amount(node.allocatable["memory"]))
    if memory >= 2**20:
        reserved.append(f"memory={memory // 2**20}Mi")
    if reserved:
        args["system-reserved"] = ",".join(reserved)
    return args


def kind_config(
    topology: Topology, cluster_name: str = "kdocs", host: HostCapacity | None = None
) -> dict[str, Any]:
    """The kind Cluster config: one control plane, then one worker per topology node, in order."""
    nodes: list[dict[str, Any]] = [{"role": "control-plane"}]
    for node in topology.nodes:
        labels = {}
        for key, value in node.labels.items():
            if key in KUBELET_OWN_LABELS:
                continue
            problem = kubelet_label_problem(key)
            if problem:
                raise ClusterUnavailableError(
                    str(topology.source), f"node {node.name}: label {key}: {problem} (kind)"
                )
            labels[key] = value
        join = {
            "kind": "JoinConfiguration",
            "nodeRegistration": {
                "taints": [t.as_kubernetes() for t in node.taints],
                "kubeletExtraArgs": kubelet_args(node, host),
            },
        }
        patch = yaml.safe_dump(join, sort_keys=False)
        nodes.append({"role": "worker", "labels": labels, "kubeadmConfigPatches": [patch]})
    return {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": cluster_name,
        "nodes": nodes,
    }


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings (the kubeadm patches) as literal blocks: the file stays readable."""


_LiteralDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)


def dump_kind_config(config: dict[str, Any]) -> str:
    """The kind config as the YAML file `kind create cluster --config` reads."""
    return yaml.dump(config, Dumper=_LiteralDumper, sort_keys=False)


class KindProvider:
    """Creates, reuses and removes the kind cluster `cluster_name`."""

    name = "kind"

    def __init__(
        self,
        settings: Settings,
        *,
        cluster_name: str | None = None,
        kind_binary: str | None = None,
        kubectl: str | None = None,
        image: str | None = None,
        workdir: Path | None = None,
        host: HostCapacity | None = None,
        log: Log = quiet,
    ) -> None:
        self.settings = settings
        cluster_name = cluster_name or checkout_cluster_name(settings.root)
        self.cluster_name = cluster_name
        self.kind_binary = kind_binary or os.environ.get("KDOCS_KIND") or "kind"
        self.kubectl = kubectl
        self.image = image or os.environ.get("KDOCS_KIND_IMAGE") or None
        self.state_dir = (workdir or cache_root() / "kind") / cluster_name
        self.kubeconfig = self.state_dir / "kubeconfig.yaml"
        self.context = f"kind-{cluster_name}"
        self.host = host or HostCapacity.of_this_machine()
        self.log = log

    def up(self, topology_name: str) -> Cluster:
        """Reuse the running cluster if it is of this topology, else create it."""
        topology = find_topology(self.settings.clusters_dir, topology_name)
        config = kind_config(topology, self.cluster_name, self.host)
        cluster, reason = self._reused(topology)
        if cluster is not None:
            return cluster
        if self._exists():
            self.log(f"recreating kind cluster {self.cluster_name}: {reason}")
            self.down()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        config_path = self.state_dir / "kind-config.yaml"
        config_path.write_text(dump_kind_config(config), encoding="utf-8")
        command = [
            self.kind_binary, "create", "cluster", "--name", self.cluster_name,
            "--config", config_path, "--kubeconfig", self.kubeconfig, "--wait", "5m",
        ]  # fmt: skip
        if self.image:
            command += ["--image", self.image]
        self.log(f"creating kind cluster {self.cluster_name} ({len(topology.nodes)} workers)")
        try:
            run(command, what="kind create cluster", timeout=900)
            cluster = self._cluster(topology.name)
            by_topology = self._node_names(cluster)
            names = tuple(by_topology.get(n.name, "") for n in topology.nodes)
            if "" in names:
                raise ClusterUnavailableError(None, "kind did not create every topology node")
            wait_nodes_ready(cluster, names, timeout=300)
            wait_service_account(cluster)
            # kind ships the always-on components itself (local-path `standard`, kube-dns).
            check_provided(cluster, always_on(self.settings.clusters_dir))
            install_crds(cluster, self.settings.crd_dirs, self.log)
            record = {"topology": topology.name, "digest": topology.digest}
            state = {
                "apiVersion": "v1", "kind": "ConfigMap", "data": record,
                "metadata": {"name": STATE_CONFIGMAP, "namespace": "kube-system"},
            }  # fmt: skip
            cluster.kubectl("create", "-f", "-", input=json.dumps(state), check=True)
        except BaseException:
            with contextlib.suppress(KdocsError, OSError):  # the first error is the one to show
                self.down()
            raise
        return replace(cluster, node_names=names)

    def reusable(self, topology_name: str) -> Cluster | None:
        """The running cluster if it is of this topology (its CRDs applied), else None."""
        cluster, _ = self._reused(find_topology(self.settings.clusters_dir, topology_name))
        return cluster

    def _reused(self, topology: Topology) -> tuple[Cluster | None, str]:
        cluster, reason = self._inspect(topology)
        if cluster is not None:
            self.log(f"reusing running kind cluster {self.cluster_name}")
            install_crds(cluster, self.settings.crd_dirs, self.log)
        return cluster, reason

    def current(self) -> Cluster | None:
        """The running cluster when it answers, else None."""
        cluster, _ = self._inspect(None)
        return cluster

    def down(self) -> None:
        """Delete the kind cluster (its containers) and the private kubeconfig."""
        if self._exists():
            self.log(f"deleting kind cluster {self.cluster_name}")
            run(
                [self.kind_binary, "delete", "cluster", "--name", self.cluster_name,
                 "--kubeconfig", self.kubeconfig],
                what="kind delete cluster", timeout=300,
            )  # fmt: skip
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _exists(self) -> bool:
        done = run([self.kind_binary, "get", "clusters"], what="kind get clusters", timeout=60)
        return self.cluster_name in done.stdout.split()

    def _cluster(self, topology: str, node_names: tuple[str, ...] = ()) -> Cluster:
        draft = Cluster(
            provider=self.name, kubeconfig=self.kubeconfig, context=self.context,
            kubernetes_version="", kubectl_binary=find_kubectl(self.kubectl),
            topology=topology, node_names=node_names,
        )  # fmt: skip
        return replace(draft, kubernetes_version=server_version(draft))

    def _node_names(self, cluster: Cluster) -> dict[str, str]:
        """Topology node name -> kind node name, from the kdocs/node label."""
        return {
            labels[TOPOLOGY_NODE_LABEL]: node["metadata"]["name"]
            for node in cluster_nodes(cluster)
            if TOPOLOGY_NODE_LABEL in (labels := node["metadata"].get("labels") or {})
        }

    def _inspect(self, topology: Topology | None) -> tuple[Cluster | None, str]:
        """The cluster if it answers and (when given) is of `topology`, else why not."""
        if not self._exists():  # first: a missing kind binary is an error, not "not running"
            return None, "it does not exist"
        if not self.kubeconfig.is_file():
            return None, "its kubeconfig is gone"
        try:
            cluster = self._cluster("")
            found = cluster.kubectl(
                "get", "configmap", STATE_CONFIGMAP, "-n", "kube-system", "-o", "json", timeout=15
            )
            if found.returncode != 0:
                return None, f"it was never completed ({last_lines(found.stderr, 1)})"
            record = json.loads(found.stdout).get("data") or {}
            nodes = cluster_nodes(cluster)
        except (ClusterUnavailableError, ValueError) as error:
            return None, f"its API server does not answer ({error})"
        by_topology = {
            label: node["metadata"]["name"] for label, node in nodes_by_topology(nodes).items()
        }
        node_names = tuple(by_topology.values())
        if topology is not None:
            if record.get("digest") != topology.digest:
                return None, f"it was built from another topology ({record.get('topology')})"
            mismatch = node_mismatch(topology, nodes, ignore_labels=KUBELET_OWN_LABELS)
            if mismatch:
                return None, mismatch
            node_names = tuple(by_topology[n.name] for n in topology.nodes)
        found = replace(cluster, topology=record.get("topology", ""), node_names=node_names)
        return found, "healthy"
