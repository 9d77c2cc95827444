"""The kubeconfig provider: use a cluster that already exists, named by a kubeconfig context.

Scenarios create, fill and delete workloads, so pointing kdocs at a real
cluster by mistake must be impossible: only contexts that look like a local
throwaway cluster are used (kind-*, kwok-*, k3d-*, minikube, docker-desktop,
rancher-desktop, or an API server on a loopback address), anything else needs
`--allow-context NAME` naming exactly that context. The chosen context is
copied (flattened, minified) into a private kubeconfig so that a later
`kubectl config use-context` or an edit of the user's file cannot redirect a
run that was checked against another server. kdocs did not create the
cluster, so `down` leaves it alone.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from kdocs.cluster.base import Cluster, ClusterUnavailableError, server_host, server_is_loopback
from kdocs.cluster.providers._common import (
    Log,
    cache_root,
    cluster_nodes,
    find_kubectl,
    install_crds,
    node_difference,
    quiet,
    run,
    server_version,
)
from kdocs.cluster.topology import HOSTNAME_LABEL, TOPOLOGY_NODE_LABEL, Topology, find_topology
from kdocs.config import Settings
from kdocs.errors import UnusableInputError

THROWAWAY_PREFIXES = ("kind-", "kwok-", "k3d-")
THROWAWAY_NAMES = frozenset({"minikube", "docker-desktop", "rancher-desktop"})
# API servers of managed clouds are never throwaway, whatever the context is called.
MANAGED_SERVER_SUFFIXES = (
    ".eks.amazonaws.com",
    ".azmk8s.io",
    ".gke.goog",
    ".googleapis.com",
    ".oraclecloud.com",
    ".ondigitalocean.com",
    ".linodelke.net",
    ".scw.cloud",
    ".ovh.net",
)
IGNORED_LABELS = (HOSTNAME_LABEL, TOPOLOGY_NODE_LABEL, "kubernetes.io/os", "kubernetes.io/arch")


@dataclass(frozen=True)
class ContextDecision:
    """Whether kdocs may apply snippets through a context, and why (shown to the user)."""

    allowed: bool
    reason: str


def context_decision(context: str, server: str, allow_context: str | None) -> ContextDecision:
    """Decide whether `context` (API server `server`) may be used; `allow_context` overrides."""
    if allow_context is not None:
        if allow_context == context:
            return ContextDecision(True, f"context {context!r} allowed by --allow-context")
        return ContextDecision(
            False,
            f"--allow-context {allow_context!r} does not name the context in use ({context!r}); "
            f"pass --allow-context {context} to use it",
        )
    if server_host(server).endswith(MANAGED_SERVER_SUFFIXES):
        return ContextDecision(
            False,
            f"refusing context {context!r}: its API server {server} is a managed cloud cluster; "
            f"pass --allow-context {context} if it really is a throwaway test cluster",
        )
    if context in THROWAWAY_NAMES or any(
        context.startswith(p) and len(context) > len(p) for p in THROWAWAY_PREFIXES
    ):
        return ContextDecision(True, f"context {context!r} is named like a local test cluster")
    if server_is_loopback(server):
        return ContextDecision(True, f"context {context!r} has its API server on this machine")
    return ContextDecision(
        False,
        f"refusing context {context!r} (server {server or 'unknown'}): it does not look like a "
        "throwaway test cluster (kind-*, kwok-*, k3d-*, minikube, docker-desktop, "
        "rancher-desktop, or a server on localhost) and kdocs would create and delete workloads "
        f"in it; pass --allow-context {context} if it really is one",
    )


def kubeconfig_files(explicit: str | Path | None) -> list[Path]:
    """Files kubectl reads: --kubeconfig, else $KUBECONFIG (a path list), else ~/.kube/config."""
    if explicit:
        return [Path(explicit).expanduser()]
    listed = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return [Path(p).expanduser() for p in listed] or [Path.home() / ".kube" / "config"]


def read_contexts(files: list[Path]) -> tuple[dict[str, str], str]:
    """Context name -> API server URL, and the current context, merged the way kubectl merges."""
    contexts: dict[str, str] = {}
    clusters: dict[str, str] = {}
    current = ""
    for path in files:
        if not path.is_file():
            continue
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise UnusableInputError(str(path), f"unreadable kubeconfig: {error}") from None
        if not isinstance(data, dict):
            raise UnusableInputError(str(path), "a kubeconfig must be a mapping")
        current = current or str(data.get("current-context") or "")
        for entry in data.get("clusters") or []:
            if isinstance(entry, dict) and isinstance(entry.get("cluster"), dict):
                clusters.setdefault(str(entry.get("name")), str(entry["cluster"].get("server", "")))
        for entry in data.get("contexts") or []:
            if isinstance(entry, dict) and isinstance(entry.get("context"), dict):
                contexts.setdefault(
                    str(entry.get("name")), str(entry["context"].get("cluster", ""))
                )
    return {name: clusters.get(cluster, "") for name, cluster in contexts.items()}, current


def match_nodes(topology: Topology, nodes: list[dict[str, Any]]) -> dict[str, str]:
    """Topology node -> a distinct cluster node with its labels and taints; missing ones absent."""
    matched: dict[str, str] = {}
    used: set[str] = set()
    for spec in topology.nodes:
        for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
            name = node["metadata"]["name"]
            if name not in used and node_difference(spec, node, IGNORED_LABELS) is None:
                matched[spec.name] = name
                used.add(name)
                break
    return matched


class KubeconfigProvider:
    """An existing cluster, reached through one checked kubeconfig context."""

    name = "kubeconfig"

    def __init__(
        self,
        settings: Settings,
        *,
        kubeconfig: str | Path | None = None,
        context: str | None = None,
        allow_context: str | None = None,
        kubectl: str | None = None,
        workdir: Path | None = None,
        log: Log = quiet,
    ) -> None:
        self.settings = settings
        self.files = kubeconfig_files(kubeconfig)
        self.requested_context = context
        self.allow_context = allow_context
        self.kubectl = kubectl
        self.workdir = workdir or cache_root() / "kubeconfig"
        self.log = log

    def resolve(self) -> tuple[str, str]:
        """The context to use and its API server, or UnusableInputError (exit 2) if not allowed."""
        contexts, current = read_contexts(self.files)
        where = os.pathsep.join(str(p) for p in self.files)
        context = self.requested_context or current
        if not context:
            raise UnusableInputError(where, "no --context given and no current-context")
        if context not in contexts:
            raise UnusableInputError(where, f"no context {context!r} in the kubeconfig")
        decision = context_decision(context, contexts[context], self.allow_context)
        if not decision.allowed:
            raise UnusableInputError(where, decision.reason)
        self.log(decision.reason)
        return context, contexts[context]

    def up(self, topology_name: str) -> Cluster:
        """Check the context, verify the cluster has the topology's nodes, install the CRDs."""
        topology = find_topology(self.settings.clusters_dir, topology_name)
        cluster = self._connect(topology.name)
        matched = match_nodes(topology, cluster_nodes(cluster))
        missing = [n.name for n in topology.nodes if n.name not in matched]
        if missing:
            raise ClusterUnavailableError(
                None,
                f"context {cluster.context!r} lacks nodes like {', '.join(missing)} of topology "
                f"{topology.name} (same labels and taints as in {topology.source.name})",
            )
        install_crds(cluster, self.settings.crd_dirs, self.log)
        names = tuple(matched[n.name] for n in topology.nodes)
        return replace(cluster, node_names=names)

    def reusable(self, topology_name: str) -> Cluster | None:
        """`up`'s cluster (kdocs never creates this one), or None when it does not answer or
        lacks the topology's nodes: `up` says why when a unit needs it."""
        try:
            return self.up(topology_name)
        except ClusterUnavailableError:
            return None

    def current(self) -> Cluster | None:
        """The cluster when it answers (the context check still applies), else None."""
        try:
            return self._connect("")
        except ClusterUnavailableError:
            return None

    def down(self) -> None:
        """kdocs did not create this cluster, so it is left running; only the private copy goes."""
        self.log("leaving the cluster running: kdocs did not create it")
        for copy in self.workdir.glob("*.yaml") if self.workdir.is_dir() else ():
            copy.unlink(missing_ok=True)

    def _connect(self, topology: str) -> Cluster:
        context, server = self.resolve()
        kubectl = find_kubectl(self.kubectl)
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        env["KUBECONFIG"] = os.pathsep.join(str(p) for p in self.files)
        view = run(
            [kubectl, "config", "view", "--flatten", "--minify", f"--context={context}"],
            what=f"reading context {context}", timeout=30, env=env,
        )  # fmt: skip
        copied, _ = read_contexts([self._write_private(context, view.stdout)])
        if copied.get(context) != server:  # what is used must be what was checked
            raise ClusterUnavailableError(None, f"context {context!r} changed while being read")
        draft = Cluster(
            provider=self.name, kubeconfig=self._private_path(context), context=context,
            kubernetes_version="", kubectl_binary=kubectl, topology=topology,
        )  # fmt: skip
        return replace(draft, kubernetes_version=server_version(draft))

    def _private_path(self, context: str) -> Path:
        return self.workdir / (re.sub(r"[^A-Za-z0-9_.-]", "_", context) + ".yaml")

    def _write_private(self, context: str, text: str) -> Path:
        """Write the copy (0600) beside itself and rename it into place: two runs on one
        context at once must never read each other's half-written copy."""
        path = self._private_path(context)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                handle.write(text)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return path
