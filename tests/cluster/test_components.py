"""Cluster component definitions: the shipped ones load, broken ones fail on their line.

These are about the data (clusters/components/*/component.yaml and a topology's
`components:`); running them against a real cluster is tests/cluster/test_storage.py
and tests/faults/test_components.py.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from kdocs.cluster.components import (
    always_on,
    available_components,
    find_component,
    load_component,
    requested,
)
from kdocs.cluster.providers.component_process import expand, free_port, listening
from kdocs.cluster.topology import load_topology
from kdocs.errors import ExitCode, UnusableInputError

ROOT = Path(__file__).resolve().parents[2]
CLUSTERS = ROOT / "clusters"


def component(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "components" / name / "component.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_shipped_components_and_kind_parity():
    assert available_components(CLUSTERS) == ["karpenter", "kube-dns", "local-path-provisioner"]
    karpenter = find_component(CLUSTERS, "karpenter")  # only where a topology declares it
    assert not karpenter.always and karpenter.on_kind == "absent"
    assert karpenter.ready.http_port == "health" and karpenter.ready.http_path == "/readyz"
    assert "--instance-types-file-path={dir}/instance-types.json" in karpenter.args
    provisioner = find_component(CLUSTERS, "local-path-provisioner")
    assert provisioner.always and provisioner.on_kind == "provided"
    assert provisioner.program == "local-path-provisioner"
    assert provisioner.build == "local-path-provisioner"
    assert (ROOT / "clusters" / "build" / provisioner.build / "component.conf").is_file()
    assert "--kubeconfig={kubeconfig}" in provisioner.args
    dns = find_component(CLUSTERS, "kube-dns")
    assert dns.program == "" and dns.manifests == ("kube-dns.yaml",)
    assert {spec.name for spec in always_on(CLUSTERS)} == {"kube-dns", "local-path-provisioner"}


def test_the_default_storage_class_is_kinds():
    import yaml

    path = CLUSTERS / "components" / "local-path-provisioner" / "storage.yaml"
    docs = {d["kind"]: d for d in yaml.safe_load_all(path.read_text(encoding="utf-8"))}
    storage_class = docs["StorageClass"]
    assert storage_class["metadata"]["name"] == "standard"
    annotations = storage_class["metadata"]["annotations"]
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    assert storage_class["provisioner"] == "rancher.io/local-path"
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"


def test_a_topology_lists_components_with_settings(tmp_path):
    component(tmp_path, "ctrl", """\
        name: ctrl
        program: ctrl
        args: ["--batch={setting:batch}", "--metrics=127.0.0.1:{port:metrics}"]
        ports: [metrics]
        settings: {batch: 10s, other: "1"}
        ready: {http: {port: metrics, path: /healthz}, timeout: 5}
    """)  # fmt: skip
    topology = tmp_path / "t.yaml"
    topology.write_text(textwrap.dedent("""\
        name: t
        nodes:
          - {name: a, allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
        components:
          ctrl: {batch: 2s}
    """), encoding="utf-8")  # fmt: skip
    loaded = load_topology(topology)
    assert loaded.components == {"ctrl": {"batch": "2s"}}
    (wanted,) = requested(tmp_path, loaded.components)
    assert wanted.settings == {"batch": "2s", "other": "1"}
    assert wanted.spec.ready.http_port == "metrics" and wanted.spec.ready.timeout == 5.0
    plain = load_topology(topology).digest
    topology.write_text(topology.read_text().replace("2s", "3s"), encoding="utf-8")
    assert load_topology(topology).digest != plain, "a changed setting means another cluster"


@pytest.mark.parametrize(
    ("topology_tail", "line", "words"),
    [
        ("components:\n  nope: {}\n", 4, "no cluster component 'nope'"),
        ("components:\n  ctrl: {speed: 1}\n", 4, "unknown setting 'speed' of component ctrl"),
        ("components:\n  ctrl: {batch: [1]}\n", 4, "must be a single value"),
        ("components: [ctrl]\n", 3, "components must be a mapping"),
    ],
)
def test_broken_topology_components_fail_on_their_line(tmp_path, topology_tail, line, words):
    component(tmp_path, "ctrl", "name: ctrl\nsettings: {batch: 1s}\n")
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: t\nnodes: [{name: a, allocatable: {cpu: '1', memory: 1Gi, pods: '1'}}]\n"
        + topology_tail,
        encoding="utf-8",
    )
    with pytest.raises(UnusableInputError) as caught:
        load_topology(path)
    assert caught.value.exit_code == ExitCode.UNUSABLE
    assert str(caught.value).startswith(f"{path}:{line}:"), caught.value
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: other\n", 1, "name must be the folder's name 'c'"),
        ("name: c\nspeed: 1\n", 2, "unknown key 'speed'"),
        ("name: c\nprogram: p\n", 1, "needs ready.log or ready.http"),
        ("name: c\nargs: ['{nope}']\n", 2, "unknown placeholder {nope}"),
        ("name: c\nargs: ['{port:m}']\n", 1, "{port:m} is used but not declared under ports"),
        ("name: c\nalways: yes please\n", 2, "always must be true or false"),
        ("name: c\nkind: maybe\n", 2, "kind must be provided"),
        ("name: c\nprogram: p\nready: {log: '('}\n", 3, "not a regular expression"),
        ("name: c\nports: [m]\nprogram: p\nready: {http: {port: x}}\n", 4, "is not one of ports"),
        ("name: c\nready: {timeout: soon}\n", 2, "ready.timeout must be a number"),
        ("name: c\n  bad: [\n", 2, "invalid YAML"),
    ],
)
def test_broken_components_fail_on_their_line(tmp_path, text, line, words):
    path = component(tmp_path, "c", text)
    with pytest.raises(UnusableInputError) as caught:
        load_component(path)
    assert str(caught.value).startswith(f"{path}:{line}:"), caught.value
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unknown_component_lists_the_known_ones(tmp_path):
    shutil.copytree(CLUSTERS / "components", tmp_path / "components")
    with pytest.raises(
        UnusableInputError, match="available: karpenter, kube-dns, local-path-provisioner"
    ):
        find_component(tmp_path, "karpenterr")


def test_placeholders_and_ports():
    values = {"kubeconfig": "/k", "port:metrics": "1234", "setting:batch": "2s"}
    assert expand("--kubeconfig={kubeconfig}", values) == "--kubeconfig=/k"
    assert expand("127.0.0.1:{port:metrics}/{setting:batch}", values) == "127.0.0.1:1234/2s"
    port = free_port()
    assert not listening(port)
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert listening(port)
