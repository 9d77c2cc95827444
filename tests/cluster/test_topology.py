"""Topology files: the shipped one says what the guide says, and broken ones fail on their line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kdocs.cluster.topology import (
    TOPOLOGY_NODE_LABEL,
    Taint,
    available_topologies,
    find_topology,
    load_topology,
)
from kdocs.errors import ExitCode, UnusableInputError

ROOT = Path(__file__).resolve().parents[2]
CLUSTERS = ROOT / "clusters"


def write(tmp_path: Path, text: str, name: str = "t") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


VALID = """\
name: t
defaults:
  labels: {kubernetes.io/os: linux}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
nodes:
  - name: a
    labels: {team: x}
  - name: b
    taints:
      - {key: only/key, effect: NoSchedule}
    allocatable: {cpu: 500m}
"""


class TestKarpenterTopology:
    """The guide's cluster: its claims are only meaningful if these nodes are exactly so."""

    @pytest.fixture(scope="class")
    @classmethod
    def topology(cls):
        return find_topology(CLUSTERS, "karpenter")

    def test_nodes(self, topology):
        assert [n.name for n in topology.nodes] == [
            "default-1",
            "default-2",
            "stable-1",
            "fargate-1",
        ]

    def test_nodepools(self, topology):
        pools = {n.name: n.labels.get("karpenter.sh/nodepool") for n in topology.nodes}
        assert pools == {
            "default-1": "default",
            "default-2": "default",
            "stable-1": "stable",
            "fargate-1": None,
        }

    def test_stable_taint_has_no_value(self, topology):
        assert topology.node("stable-1").taints == (Taint("nodepool/stable", "NoSchedule"),)
        assert topology.node("stable-1").taints[0].as_kubernetes() == {
            "key": "nodepool/stable",
            "effect": "NoSchedule",
        }

    def test_stable_carries_the_nodepool_template_label(self, topology):
        # snippets/karpenter-daemonset/nodepool-stable.yaml labels its nodes nodepool=stable
        assert topology.node("stable-1").labels["nodepool"] == "stable"

    def test_fargate(self, topology):
        fargate = topology.node("fargate-1")
        assert fargate.labels["eks.amazonaws.com/compute-type"] == "fargate"
        assert fargate.taints == (Taint("eks.amazonaws.com/compute-type", "NoSchedule", "fargate"),)
        others = [n for n in topology.nodes if n.name != "fargate-1"]
        assert all("eks.amazonaws.com/compute-type" not in n.labels for n in others)

    def test_untainted_default_nodes(self, topology):
        assert topology.node("default-1").taints == ()
        assert topology.node("default-2").taints == ()

    def test_small_allocatable_and_standard_labels(self, topology):
        for node in topology.nodes:
            assert node.allocatable == {"cpu": "2", "memory": "4Gi", "pods": "110"}
            assert node.capacity == node.allocatable
            assert node.labels["kubernetes.io/hostname"] == node.name
            assert node.labels[TOPOLOGY_NODE_LABEL] == node.name
            assert node.labels["kubernetes.io/os"] == "linux"
            assert node.labels["kubernetes.io/arch"] == "amd64"
            assert node.labels["node.kubernetes.io/instance-type"]

    def test_digest_is_stable_and_content_based(self, topology, tmp_path):
        copy = tmp_path / "karpenter.yaml"
        copy.write_text(
            "# a comment changes nothing\n" + topology.source.read_text(), encoding="utf-8"
        )
        assert load_topology(copy).digest == topology.digest
        copy.write_text(topology.source.read_text().replace('cpu: "2"', 'cpu: "3"'))
        assert load_topology(copy).digest != topology.digest


def test_available_topologies():
    assert "karpenter" in available_topologies(CLUSTERS)
    assert available_topologies(CLUSTERS / "does-not-exist") == []


def test_defaults_merge_and_capacity_follows_allocatable(tmp_path):
    topology = load_topology(write(tmp_path, VALID))
    a, b = topology.nodes
    assert a.labels == {
        "kubernetes.io/os": "linux",
        "team": "x",
        "kubernetes.io/hostname": "a",
        TOPOLOGY_NODE_LABEL: "a",
    }
    assert b.allocatable == {"cpu": "500m", "memory": "4Gi", "pods": "110"}
    assert b.capacity == b.allocatable
    assert str(b.taints[0]) == "only/key:NoSchedule"


def test_unknown_topology_lists_the_known_ones():
    with pytest.raises(UnusableInputError) as caught:
        find_topology(CLUSTERS, "nope")
    assert "karpenter" in str(caught.value)
    assert caught.value.exit_code == ExitCode.UNUSABLE


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "", "x.yaml"])
def test_topology_names_are_not_paths(name):
    with pytest.raises(UnusableInputError):
        find_topology(CLUSTERS, name)


BROKEN = [
    # (text, line, words expected in the message)
    ("name: t\nnodes: [\n", 3, "invalid YAML"),
    ("", None, "empty"),
    ("- a\n", 1, "must be a mapping"),
    ("name: other\nnodes: []\n", 1, "must match the file name"),
    ("name: t\n", 1, "missing key 'nodes'"),
    ("name: t\nnodes: []\n", 2, "non-empty list"),
    ("name: t\nnode: []\n", 2, "unknown key 'node' in the topology; did you mean 'nodes'?"),
    ("name: t\nname: t\nnodes: []\n", 2, "duplicate key"),
    (
        "name: t\nnodes:\n  - name: a\n    allocatable: {cpu: '1', memory: 1Gi}\n",
        3,
        "no allocatable pods",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: A_1\n",
        5,
        "DNS label",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n  - name: a\n",
        6,
        "listed twice",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: 'two', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n",
        3,
        "not a Kubernetes quantity",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {gpu: '1', cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n",
        3,
        "unknown resource",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n    labels:\n      arch: true\n",
        7,
        "must be a string",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n    labels:\n      bad key!: x\n",
        7,
        "label key",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n    labels:\n      kubernetes.io/hostname: b\n",
        7,
        "kubernetes.io/hostname",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n    taints:\n      - {key: k, effect: NoScheduled}\n",
        7,
        "is not one of",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n    taints:\n      - {key: k}\n",
        7,
        "needs a key and an effect",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n    taints:\n      - {key: k, effect: NoSchedule}\n"
        "      - {key: k, value: v, effect: NoSchedule}\n",
        8,
        "listed twice",
    ),
    (
        "name: t\ndefaults:\n  allocatable: {cpu: '1', memory: 1Gi, pods: '1'}\n"
        "nodes:\n  - name: a\n    taints:\n      - {key: k, effect: NoSchedule, operator: x}\n",
        7,
        "unknown key 'operator'",
    ),
]


@pytest.mark.parametrize(("text", "line", "words"), BROKEN)
def test_broken_topologies_fail_on_their_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(UnusableInputError) as caught:
        load_topology(path)
    error = caught.value
    assert error.exit_code == ExitCode.UNUSABLE
    assert words in error.reason
    assert error.location.file == str(path)
    assert error.location.line == line
    assert "\n" not in str(error)


def test_unreadable_topology(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(UnusableInputError, match="cannot read"):
        load_topology(path)
