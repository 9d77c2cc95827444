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
    """The guide's cluster: Karpenter launches the NodePools' nodes; only Fargate is static."""

    @pytest.fixture(scope="class")
    @classmethod
    def topology(cls):
        return find_topology(CLUSTERS, "karpenter")

    def test_only_what_karpenter_does_not_provision_is_static(self, topology):
        # the managed node group Karpenter runs on, and Fargate
        assert [n.name for n in topology.nodes] == ["system-1", "fargate-1"]
        assert topology.node("system-1").taints == ()  # other guides' workloads land here
        fargate = topology.node("fargate-1")
        assert fargate.labels["eks.amazonaws.com/compute-type"] == "fargate"
        assert fargate.taints == (Taint("eks.amazonaws.com/compute-type", "NoSchedule", "fargate"),)

    def test_no_static_node_claims_a_nodepool(self, topology):
        # Measured: static nodes labelled karpenter.sh/nodepool stall Karpenter ("cluster is
        # waiting on sync") and it launches nothing.
        assert all("karpenter.sh/nodepool" not in n.labels for n in topology.nodes)

    def test_karpenter_is_declared_with_small_nodes(self, topology):
        spec = topology.karpenter
        assert spec is not None and spec.version == "v1.14.1" and spec.node_class == "default"
        (instance,) = spec.instance_types
        assert (instance.name, instance.cpu, instance.architecture) == ("m6i.large", "2", "amd64")
        assert set(instance.capacity_types) == {"spot", "on-demand"}  # stable asks on-demand
        # Shorter than Karpenter's default 1s (the proof page says so): every decision a
        # scenario waits for would start with a second of idling.
        assert dict(spec.settings) == {"batchIdleDuration": "200ms", "batchMaxDuration": "5s"}

    def test_its_settings_are_the_components(self, topology):
        from kdocs.cluster.components import find_component
        from kdocs.cluster.karpenter_spec import SETTINGS

        component = find_component(CLUSTERS, "karpenter")
        assert set(SETTINGS) == set(component.settings)
        for name in SETTINGS:  # each reaches Karpenter as a flag
            assert any(f"{{setting:{name}}}" in arg for arg in component.args), name

    def test_the_build_pins_the_same_karpenter(self, topology):
        conf = (ROOT / "clusters/build/karpenter/component.conf").read_text(encoding="utf-8")
        assert f"\nVERSION={topology.karpenter.version}\n" in conf
        crds = (ROOT / "schemas/fetch-crds.sh").read_text(encoding="utf-8")
        assert f"sigs.k8s.io/karpenter {topology.karpenter.version} " in crds

    def test_instance_types_file_is_the_kwok_providers_shape(self, topology):
        (entry,) = [t.as_kwok() for t in topology.karpenter.instance_types]
        assert entry["resources"] == {"cpu": "2", "memory": "8Gi", "pods": "110"}
        offered = {
            (o["Requirements"][0]["values"][0], o["Requirements"][1]["values"][0])
            for o in entry["offerings"]
        }
        assert offered == {
            (c, z) for c in ("spot", "on-demand") for z in ("eu-west-3a", "eu-west-3b")
        }

    def test_digest_is_stable_and_content_based(self, topology, tmp_path):
        copy = tmp_path / "karpenter.yaml"
        copy.write_text(
            "# a comment changes nothing\n" + topology.source.read_text(), encoding="utf-8"
        )
        assert load_topology(copy).digest == topology.digest
        copy.write_text(topology.source.read_text().replace("memory: 8Gi", "memory: 16Gi"))
        assert load_topology(copy).digest != topology.digest
        copy.write_text(
            topology.source.read_text().replace("batchIdleDuration: 200ms", "batchIdleDuration: 2s")
        )
        assert load_topology(copy).digest != topology.digest


KARPENTER_SECTION = """\
name: t
karpenter:
  version: v1.14.1
  instanceTypes:
    - name: m6i.large
      cpu: "2"
      memory: 8Gi
      zones: [a]
      capacityTypes: [on-demand]
  settings:
    batchIdleDuration: 1s
nodes:
  - name: a
    allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
"""


@pytest.mark.parametrize(
    ("old", "new", "where", "reason"),
    [
        (
            "    batchIdleDuration: 1s",
            "    batchIdleDuratoin: 1s",
            "11:5",
            "unknown Karpenter setting 'batchIdleDuratoin' (known: batchMaxDuration,",
        ),
        (
            "    batchIdleDuration: 1s",
            "    batchIdleDuration: soon",
            "11:24",
            "batchIdleDuration 'soon' is not a duration",
        ),
        ("  version: v1.14.1", "  version: latest", "3:12", "must look like v1.14.1"),
        (
            "      capacityTypes: [on-demand]",
            "      capacityTypes: [cheap]",
            "9:22",
            "capacity type 'cheap' is not one of",
        ),
        ('      cpu: "2"', "      cpu: two", "6:12", "is not a Kubernetes quantity"),
        ("  version: v1.14.1\n", "  version: v1.14.1\n  image: x\n", "4:3", "unknown key 'image'"),
    ],
)
def test_a_broken_karpenter_section_is_one_line_naming_its_place(tmp_path, old, new, where, reason):
    assert old in KARPENTER_SECTION
    path = write(tmp_path, KARPENTER_SECTION.replace(old, new, 1))
    with pytest.raises(UnusableInputError) as caught:
        load_topology(path)
    message = str(caught.value)
    assert caught.value.exit_code == ExitCode.UNUSABLE
    assert f"{path}:{where}: " in message and reason in message and "\n" not in message


def test_a_topology_without_karpenter_has_none(tmp_path):
    assert load_topology(write(tmp_path, VALID)).karpenter is None


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
