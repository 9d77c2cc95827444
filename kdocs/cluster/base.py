"""What every cluster provider hands to the scenario runner.

A provider (kwok, kind, kubeconfig) turns a topology into a running cluster
and describes it as a `Cluster`: a kubeconfig, a context and a kubectl to talk
to it. Everything above this line speaks only to `Cluster`, so a scenario
means the same on every provider.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from kdocs.errors import UnusableInputError


class ClusterUnavailableError(UnusableInputError):
    """The cluster could not be created, reached or used (exit code 2)."""


def server_host(server: str) -> str:
    """The host of an API server URL, lower-cased, "" when there is none or the URL is malformed."""
    try:
        return (urlsplit(server).hostname or "").rstrip(".")
    except ValueError:
        return ""


def server_is_loopback(server: str) -> bool:
    """True when the API server URL's host is localhost or a loopback address."""
    host = server_host(server)
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Components a scenario may require (`requires:`), as a cluster's label names them.
LABELLED = {"karpenter": "Karpenter"}


@dataclass(frozen=True)
class ComponentProcess:
    """A cluster component running next to the control plane (kdocs/cluster/components.py).

    `pid` 0 marks a component that is only objects (nothing to keep alive).
    """

    name: str
    version: str
    pid: int
    executable: str  # the real path /proc/<pid>/exe must show: a recycled pid is not it
    log: Path

    def alive(self) -> bool:
        """Whether it still runs (always true for a component without a process)."""
        if self.pid == 0:
            return True
        try:
            state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            exe = os.readlink(f"/proc/{self.pid}/exe").removesuffix(" (deleted)")
        except (OSError, IndexError):
            return False
        return state != "Z" and exe == self.executable


@dataclass(frozen=True)
class Cluster:
    """A running cluster: how to reach it and what it is."""

    provider: str  # "kwok", "kind", "kubeconfig"
    kubeconfig: Path
    context: str
    kubernetes_version: str  # as the API server reports it, e.g. "v1.36.3"
    kubectl_binary: Path
    topology: str  # name of the topology it was built from ("" when unknown)
    node_names: tuple[str, ...] = field(default=())
    components: tuple[ComponentProcess, ...] = field(default=())

    def dead_components(self) -> list[ComponentProcess]:
        """The components that stopped: the cluster is no longer the one the run was promised."""
        return [component for component in self.components if not component.alive()]

    def component(self, name: str) -> ComponentProcess | None:
        """The running component called `name` (e.g. "karpenter"), if this cluster has it."""
        return next((c for c in self.components if c.name == name), None)

    def has_component(self, name: str) -> bool:
        return self.component(name) is not None

    @property
    def label(self) -> str:
        """The provider and what a claim may depend on, as a badge says it:
        "kwok + Karpenter v1.14.1" (the always-on components kind also has are left out)."""
        shown = [
            f"{LABELLED[c.name]} {c.version}".strip() for c in self.components if c.name in LABELLED
        ]
        return " + ".join((self.provider, *shown))

    def kubectl(
        self, *args: str, input: str | None = None, timeout: float = 60.0, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster only: kubeconfig and context are always explicit."""
        command = [
            str(self.kubectl_binary),
            f"--kubeconfig={self.kubeconfig}",
            f"--context={self.context}",
            *args,
        ]
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
        try:
            done = subprocess.run(
                command, input=input, capture_output=True, text=True, timeout=timeout, env=env
            )
        except subprocess.TimeoutExpired:
            raise ClusterUnavailableError(
                None, f"kubectl {' '.join(args[:3])} did not answer within {timeout:.0f}s"
            ) from None
        except OSError as error:
            raise ClusterUnavailableError(None, f"cannot run kubectl: {error}") from None
        if check and done.returncode != 0:
            raise ClusterUnavailableError(
                None, f"kubectl {' '.join(args[:3])} failed: {done.stderr.strip()}"
            )
        return done


class Provider(Protocol):
    """Creates and removes clusters of a topology."""

    name: str

    def up(self, topology_name: str) -> Cluster:
        """Create (or reuse, when already running with the same topology) and return the cluster."""
        ...

    def reusable(self, topology_name: str) -> Cluster | None:
        """The running cluster when `up` would reuse it, made ready as `up` makes it (CRDs
        applied); None when `up` would have to create or recreate one. Creates nothing."""
        ...

    def current(self) -> Cluster | None:
        """The running cluster of this provider, or None."""
        ...

    def down(self) -> None:
        """Remove the cluster and stop every process the provider started."""
        ...
