"""Cluster topologies: the nodes a guide's claims depend on, kept as data in clusters/*.yaml.

A guide claims things like "the DaemonSet misses the tainted node"; those claims
only mean something on a cluster with that node. The topology file says which
nodes exist (labels, taints, allocatable) so every provider builds the same
shape. Loading is strict and every problem is one line naming file:line:col,
because a typo in a label silently changes what a scenario proves.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from kdocs.cluster.components import find_component
from kdocs.cluster.yaml_nodes import NodeReader, compose_file
from kdocs.errors import Location, UnusableInputError

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
HOSTNAME_LABEL = "kubernetes.io/hostname"
# Every provider puts the topology's node name here, so scenarios can address
# "stable-1" even where the real node is called otherwise (kind names its nodes).
TOPOLOGY_NODE_LABEL = "kdocs/node"

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_QUANTITY = re.compile(r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+|[KMGTPE]i|[mkMGTPE])?$")
_RESOURCE_NAMES = ("cpu", "memory", "pods", "ephemeral-storage")


@dataclass(frozen=True)
class Taint:
    """A node taint; `value` is "" for key-only taints such as `nodepool/stable`."""

    key: str
    effect: str
    value: str = ""

    def as_kubernetes(self) -> dict[str, str]:
        """The taint as it appears in a Node's spec.taints."""
        taint = {"key": self.key, "effect": self.effect}
        if self.value:
            taint["value"] = self.value
        return taint

    def __str__(self) -> str:
        value = f"={self.value}" if self.value else ""
        return f"{self.key}{value}:{self.effect}"


@dataclass(frozen=True)
class NodeSpec:
    """One node of a topology, with defaults already merged in."""

    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    allocatable: dict[str, str]
    capacity: dict[str, str]


@dataclass(frozen=True)
class Topology:
    """A named set of nodes, loaded from clusters/<name>.yaml."""

    name: str
    description: str
    nodes: tuple[NodeSpec, ...]
    source: Path = field(compare=False)
    # Cluster components it runs beyond the always-on ones: name -> settings (components.py).
    components: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Content hash of what the cluster must look like: a changed file means a new cluster."""
        canonical = {
            "name": self.name,
            "nodes": [
                {
                    "name": n.name,
                    "labels": n.labels,
                    "taints": [t.as_kubernetes() for t in n.taints],
                    "allocatable": n.allocatable,
                    "capacity": n.capacity,
                }
                for n in self.nodes
            ],
        }
        if self.components:  # absent when empty: older clusters keep their digest
            canonical["components"] = self.components
        data = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(data).hexdigest()[:16]

    def node(self, name: str) -> NodeSpec:
        """The node called `name` (KeyError if there is none)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


def topology_path(clusters_dir: Path, name: str) -> Path:
    """Where topology `name` lives; names are file stems, never paths."""
    if not _DNS_SUBDOMAIN.match(name) or "." in name:
        raise UnusableInputError(
            None, f"invalid topology name {name!r}: use a file stem of {clusters_dir}/*.yaml"
        )
    return clusters_dir / f"{name}.yaml"


def available_topologies(clusters_dir: Path) -> list[str]:
    """Names of the topology files in `clusters_dir`, sorted."""
    if not clusters_dir.is_dir():
        return []
    return sorted(p.stem for p in clusters_dir.glob("*.yaml") if p.is_file())


def find_topology(clusters_dir: Path, name: str) -> Topology:
    """Load topology `name` from `clusters_dir`; the error lists the ones that exist."""
    path = topology_path(clusters_dir, name)
    if not path.is_file():
        known = ", ".join(available_topologies(clusters_dir)) or "none"
        raise UnusableInputError(str(path), f"no topology {name!r} (available: {known})")
    return load_topology(path)


def load_topology(path: Path) -> Topology:
    """Read and validate one topology file; the first problem raises UnusableInputError (exit 2)."""
    root = compose_file(path, "topology")
    return _Reader(path).topology(root)


class _Reader(NodeReader):
    """Reads a topology (NodeReader: every error knows its line and column)."""

    def string(self, node: yaml.Node, what: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            raise self.fail(node, f"{what} must be a string (quote it)")
        return node.value

    def quantity(self, node: yaml.Node, what: str) -> str:
        numeric = ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if not isinstance(node, yaml.ScalarNode) or node.tag not in numeric:
            raise self.fail(node, f'{what} must be a quantity such as "2" or 4Gi')
        if not _QUANTITY.match(node.value):
            raise self.fail(node, f"{what} {node.value!r} is not a Kubernetes quantity")
        return node.value

    def labels(self, node: yaml.Node, what: str) -> dict[str, str]:
        labels: dict[str, str] = {}
        for key, (key_node, value_node) in self.mapping(node, what).items():
            problem = _label_key_problem(key)
            if problem:
                raise self.fail(key_node, f"label key {key!r}: {problem}")
            value = self.string(value_node, f"label {key}")
            if len(value) > 63 or not _LABEL_NAME.match(value):
                raise self.fail(value_node, f"label {key} has an invalid value {value!r}")
            labels[key] = value
        return labels

    def resources(self, node: yaml.Node, what: str) -> dict[str, str]:
        resources: dict[str, str] = {}
        for key, (key_node, value_node) in self.mapping(node, what).items():
            if key not in _RESOURCE_NAMES and "/" not in key:
                raise self.fail(key_node, f"unknown resource {key!r} in {what}")
            resources[key] = self.quantity(value_node, f"{what}.{key}")
        return resources

    def taints(self, node: yaml.Node) -> tuple[Taint, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, "taints must be a list")
        taints: list[Taint] = []
        for item in node.value:
            fields = self.mapping(item, "a taint", ("key", "value", "effect"))
            if "key" not in fields or "effect" not in fields:
                raise self.fail(item, "a taint needs a key and an effect")
            key_node = fields["key"][1]
            key = self.string(key_node, "taint key")
            problem = _label_key_problem(key)
            if problem:
                raise self.fail(key_node, f"taint key {key!r}: {problem}")
            value = self.string(fields["value"][1], "taint value") if "value" in fields else ""
            if len(value) > 63 or not _LABEL_NAME.match(value):
                raise self.fail(fields["value"][1], f"invalid taint value {value!r}")
            effect_node = fields["effect"][1]
            effect = self.string(effect_node, "taint effect")
            if effect not in TAINT_EFFECTS:
                raise self.fail(
                    effect_node, f"taint effect {effect!r} is not one of {', '.join(TAINT_EFFECTS)}"
                )
            taint = Taint(key=key, effect=effect, value=value)
            if any(t.key == key and t.effect == effect for t in taints):
                raise self.fail(item, f"taint {key}:{effect} is listed twice")
            taints.append(taint)
        return tuple(taints)

    def topology(self, root: yaml.Node | None) -> Topology:
        if root is None:
            raise self.fail(None, "empty topology file")
        allowed = ("name", "description", "defaults", "nodes", "components")
        top = self.mapping(root, "the topology", allowed)
        if "name" not in top:
            raise self.fail(root, "missing key 'name'")
        name_node = top["name"][1]
        name = self.string(name_node, "name")
        if name != self.path.stem:
            raise self.fail(name_node, f"name {name!r} must match the file name {self.path.stem!r}")
        description = ""
        if "description" in top:
            description = self.string(top["description"][1], "description")
        default_labels: dict[str, str] = {}
        default_alloc: dict[str, str] = {}
        default_cap: dict[str, str] = {}
        if "defaults" in top:
            allowed = ("labels", "allocatable", "capacity")
            defaults = self.mapping(top["defaults"][1], "defaults", allowed)
            if "labels" in defaults:
                default_labels = self.labels(defaults["labels"][1], "defaults.labels")
            if "allocatable" in defaults:
                default_alloc = self.resources(defaults["allocatable"][1], "allocatable")
            if "capacity" in defaults:
                default_cap = self.resources(defaults["capacity"][1], "capacity")
        if "nodes" not in top:
            raise self.fail(root, "missing key 'nodes'")
        nodes_node = top["nodes"][1]
        if not isinstance(nodes_node, yaml.SequenceNode) or not nodes_node.value:
            raise self.fail(nodes_node, "nodes must be a non-empty list")
        nodes: list[NodeSpec] = []
        for item in nodes_node.value:
            node = self.node(item, default_labels, default_alloc, default_cap)
            if any(n.name == node.name for n in nodes):
                raise self.fail(item, f"node {node.name!r} is listed twice")
            nodes.append(node)
        components = self.components(top["components"][1]) if "components" in top else {}
        return Topology(
            name=name, description=description, nodes=tuple(nodes), source=self.path,
            components=components,
        )  # fmt: skip

    def components(self, node: yaml.Node) -> dict[str, dict[str, str]]:
        """`components: {name: {setting: value}}`: each a defined component, each setting known."""
        components: dict[str, dict[str, str]] = {}
        for name, (key_node, value_node) in self.mapping(node, "components").items():
            where = Location(str(self.path), key_node.start_mark.line + 1,
                             key_node.start_mark.column + 1)  # fmt: skip
            spec = find_component(self.path.parent, name, where)
            settings: dict[str, str] = {}
            if not (isinstance(value_node, yaml.ScalarNode) and value_node.tag.endswith(":null")):
                for setting, (s_key, s_value) in self.mapping(
                    value_node, f"{name}'s settings"
                ).items():
                    if setting not in spec.settings:
                        known = ", ".join(sorted(spec.settings)) or "none"
                        raise self.fail(
                            s_key,
                            f"unknown setting {setting!r} of component {name} (known: {known})",
                        )
                    if not isinstance(s_value, yaml.ScalarNode) or s_value.tag.endswith(":null"):
                        raise self.fail(
                            s_value, f"setting {setting} of {name} must be a single value"
                        )
                    settings[setting] = str(s_value.value)
            components[name] = settings
        return components

    def node(
        self,
        item: yaml.Node,
        default_labels: dict[str, str],
        default_alloc: dict[str, str],
        default_cap: dict[str, str],
    ) -> NodeSpec:
        allowed = ("name", "labels", "taints", "allocatable", "capacity")
        fields = self.mapping(item, "a node", allowed)
        if "name" not in fields:
            raise self.fail(item, "a node needs a name")
        name_node = fields["name"][1]
        name = self.string(name_node, "node name")
        if len(name) > 63 or not _DNS_SUBDOMAIN.match(name) or "." in name:
            raise self.fail(name_node, f"node name {name!r} must be a DNS label (a-z, 0-9, -)")
        labels = dict(default_labels)
        if "labels" in fields:
            labels.update(self.labels(fields["labels"][1], f"labels of {name}"))
        for reserved in (HOSTNAME_LABEL, TOPOLOGY_NODE_LABEL):
            if reserved in labels and labels[reserved] != name:
                own = self.mapping(fields["labels"][1], "labels") if "labels" in fields else {}
                where = own[reserved][1] if reserved in own else item
                raise self.fail(where, f"label {reserved} of {name} must be {name!r} or left out")
        labels[HOSTNAME_LABEL] = name
        labels[TOPOLOGY_NODE_LABEL] = name
        taints = self.taints(fields["taints"][1]) if "taints" in fields else ()
        allocatable = dict(default_alloc)
        if "allocatable" in fields:
            allocatable.update(self.resources(fields["allocatable"][1], "allocatable"))
        capacity = dict(default_cap)
        if "capacity" in fields:
            capacity.update(self.resources(fields["capacity"][1], "capacity"))
        for resource in ("cpu", "memory", "pods"):
            if resource not in allocatable:
                reason = f"node {name} has no allocatable {resource} (set it here or in defaults)"
                raise self.fail(item, reason)
        # Capacity defaults to allocatable: what the scheduler sees is allocatable anyway.
        capacity = {**allocatable, **capacity}
        return NodeSpec(
            name=name, labels=labels, taints=taints, allocatable=allocatable, capacity=capacity
        )


def _label_key_problem(key: str) -> str | None:
    """Why `key` is not a valid label (or taint) key, or None."""
    prefix, _, name = key.rpartition("/")
    if "/" in name or not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return "the name part must be 1-63 characters of [A-Za-z0-9-_.], alphanumeric at both ends"
    if "/" in key and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return "the prefix must be a DNS subdomain"
    return None


def choose_topology(requested: str | None, clusters_dir: Path) -> str:
    """The topology asked for, or the only one there is; else say which exist."""
    if requested:
        return str(requested)
    known = available_topologies(clusters_dir)
    if len(known) == 1:
        return known[0]
    listed = ", ".join(known) or f"none in {clusters_dir}"
    raise UnusableInputError(None, f"--topology is needed (available: {listed})")
