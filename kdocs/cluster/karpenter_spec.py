"""The `karpenter:` section of a topology: which Karpenter provisions the cluster's nodes.

A guide about Karpenter only proves something when Karpenter itself decides
which nodes exist. The section names the release (built from its Go module),
the instance types its KWOK cloud provider may launch, and the few operator
settings a scenario's timing depends on. Everything is checked when the
topology is read: a misspelt setting would otherwise silently keep Karpenter's
default and change what a scenario proves.

    karpenter:
      version: v1.14.1              # sigs.k8s.io/karpenter, built by clusters/build/
      nodeClass: default            # the KWOKNodeClass the cluster provides
      instanceTypes:
        - name: m6i.large
          cpu: "2"
          memory: 8Gi
          pods: "110"               # optional (default 110)
          architecture: amd64       # optional (default amd64)
          zones: [eu-west-3a]
          capacityTypes: [spot, on-demand]
          price: 0.096              # optional, per hour (Karpenter picks the cheapest)
      settings:                     # optional; Karpenter's own names
        batchIdleDuration: 1s
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

VERSION = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+$")
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$")
# Karpenter's operator settings a topology may set (the settings of
# clusters/components/karpenter/component.yaml, which maps each to a flag), and what
# their values must look like.
SETTINGS: dict[str, str] = {
    "batchMaxDuration": "duration",
    "batchIdleDuration": "duration",
    "logLevel": "debug|info|error",
    "preferencePolicy": "Respect|Ignore",
    "minValuesPolicy": "Strict|BestEffort",
}
CAPACITY_TYPES = ("on-demand", "spot", "reserved")
_INSTANCE_KEYS = (
    "name", "cpu", "memory", "pods", "architecture", "zones", "capacityTypes", "price",
)  # fmt: skip


class TopologyReader(Protocol):
    """What the topology reader offers: typed values, each error naming file:line:col."""

    def fail(self, node: yaml.Node | None, reason: str) -> Exception: ...

    def mapping(
        self, node: yaml.Node | None, what: str, allowed: tuple[str, ...] | None = None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]: ...

    def string(self, node: yaml.Node, what: str) -> str: ...

    def quantity(self, node: yaml.Node, what: str) -> str: ...


@dataclass(frozen=True)
class InstanceType:
    """One instance type the KWOK cloud provider can launch (one node each)."""

    name: str
    cpu: str
    memory: str
    pods: str
    architecture: str
    zones: tuple[str, ...]
    capacity_types: tuple[str, ...]
    price: float

    def as_kwok(self) -> dict[str, Any]:
        """The entry of the provider's instance-types file (kwok/cloudprovider's JSON shape)."""
        offerings = [
            {
                "Price": self.price if capacity != "spot" else round(self.price * 0.7, 6),
                "Available": True,
                "Requirements": [
                    {"key": "karpenter.sh/capacity-type", "operator": "In", "values": [capacity]},
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]},
                ],
            }
            for zone in self.zones
            for capacity in self.capacity_types
        ]
        return {
            "name": self.name,
            "offerings": offerings,
            "architecture": self.architecture,
            "operatingSystems": ["linux"],
            "resources": {"cpu": self.cpu, "memory": self.memory, "pods": self.pods},
        }


@dataclass(frozen=True)
class KarpenterSpec:
    version: str
    node_class: str
    instance_types: tuple[InstanceType, ...]
    settings: tuple[tuple[str, str], ...]  # (name, value) in file order

    def canonical(self) -> dict[str, Any]:
        """What the topology digest hashes: any change makes a new cluster."""
        return {
            "version": self.version,
            "nodeClass": self.node_class,
            "instanceTypes": [t.as_kwok() for t in self.instance_types],
            "settings": dict(self.settings),
        }


def read_karpenter(reader: TopologyReader, node: yaml.Node) -> KarpenterSpec:
    """Parse and check the `karpenter:` mapping; the first problem raises (exit code 2)."""
    allowed = ("version", "nodeClass", "instanceTypes", "settings")
    fields = reader.mapping(node, "karpenter", allowed)
    for key in ("version", "instanceTypes"):
        if key not in fields:
            raise reader.fail(node, f"karpenter needs `{key}`")
    version_node = fields["version"][1]
    version = reader.string(version_node, "karpenter.version")
    if not VERSION.match(version):
        raise reader.fail(version_node, f"karpenter.version {version!r} must look like v1.14.1")
    node_class = "default"
    if "nodeClass" in fields:
        node_class = reader.string(fields["nodeClass"][1], "karpenter.nodeClass")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", node_class):
            raise reader.fail(fields["nodeClass"][1], f"invalid node class name {node_class!r}")
    types_node = fields["instanceTypes"][1]
    if not isinstance(types_node, yaml.SequenceNode) or not types_node.value:
        raise reader.fail(types_node, "karpenter.instanceTypes must be a non-empty list")
    types: list[InstanceType] = []
    for item in types_node.value:
        instance = _instance_type(reader, item)
        if any(t.name == instance.name for t in types):
            raise reader.fail(item, f"instance type {instance.name!r} is listed twice")
        types.append(instance)
    settings: list[tuple[str, str]] = []
    if "settings" in fields:
        for name, (key_node, value_node) in reader.mapping(
            fields["settings"][1], "karpenter.settings"
        ).items():
            if name not in SETTINGS:
                known = ", ".join(SETTINGS)
                raise reader.fail(key_node, f"unknown Karpenter setting {name!r} (known: {known})")
            settings.append((name, _setting(reader, name, value_node)))
    return KarpenterSpec(version, node_class, tuple(types), tuple(settings))


def _setting(reader: TopologyReader, name: str, node: yaml.Node) -> str:
    value = reader.string(node, f"karpenter.settings.{name}")
    kind = SETTINGS[name]
    if kind == "duration" and not _DURATION.match(value):
        raise reader.fail(node, f"{name} {value!r} is not a duration such as 1s or 500ms")
    if kind != "duration" and value not in kind.split("|"):
        raise reader.fail(node, f"{name} must be one of {kind.replace('|', ', ')}, not {value!r}")
    return value


def _instance_type(reader: TopologyReader, item: yaml.Node) -> InstanceType:
    fields = reader.mapping(item, "an instance type", _INSTANCE_KEYS)
    for key in ("name", "cpu", "memory", "zones", "capacityTypes"):
        if key not in fields:
            raise reader.fail(item, f"an instance type needs `{key}`")
    name = reader.string(fields["name"][1], "instance type name")
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name):
        raise reader.fail(fields["name"][1], f"invalid instance type name {name!r}")
    zones = _strings(reader, fields["zones"][1], "zones")
    capacity_types = _strings(reader, fields["capacityTypes"][1], "capacityTypes")
    for value in capacity_types:
        if value not in CAPACITY_TYPES:
            where = fields["capacityTypes"][1]
            raise reader.fail(where, f"capacity type {value!r} is not one of {CAPACITY_TYPES}")
    price = 1.0
    if "price" in fields:
        price_node = fields["price"][1]
        try:
            price = float(price_node.value) if isinstance(price_node, yaml.ScalarNode) else -1
        except ValueError:
            price = -1
        if price <= 0:
            raise reader.fail(price_node, "price must be a positive number")
    pods = reader.quantity(fields["pods"][1], "pods") if "pods" in fields else "110"
    architecture = "amd64"
    if "architecture" in fields:
        architecture = reader.string(fields["architecture"][1], "architecture")
        if architecture not in ("amd64", "arm64"):
            raise reader.fail(fields["architecture"][1], "architecture must be amd64 or arm64")
    return InstanceType(
        name=name,
        cpu=reader.quantity(fields["cpu"][1], "cpu"),
        memory=reader.quantity(fields["memory"][1], "memory"),
        pods=pods,
        architecture=architecture,
        zones=zones,
        capacity_types=capacity_types,
        price=price,
    )


def _strings(reader: TopologyReader, node: yaml.Node, what: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise reader.fail(node, f"{what} must be a non-empty list")
    values = tuple(reader.string(item, what) for item in node.value)
    if len(set(values)) != len(values):
        raise reader.fail(node, f"{what} lists a value twice")
    return values
