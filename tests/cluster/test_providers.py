"""Providers: the kind config and the kubeconfig safety decision (unit), and real kwok clusters.

The real-cluster tests are marked `cluster`. Those on the shared `cluster`
fixture check what every scenario relies on; the lifecycle tests (warm reuse,
a killed API server, down) use a second kwok cluster of their own so that they
can break it without disturbing the shared one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest
import yaml

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.match import parse_quantity
from kdocs.cluster.providers import get_provider
from kdocs.cluster.providers._common import (
    CRD_DIGEST_ANNOTATION,
    cache_root,
    default_provider_name,
    install_crds,
)
from kdocs.cluster.providers.kind import HostCapacity, kind_config, kubelet_label_problem
from kdocs.cluster.providers.kubeconfig import KubeconfigProvider, context_decision, match_nodes
from kdocs.cluster.topology import TOPOLOGY_NODE_LABEL, find_topology, load_topology
from kdocs.config import load_settings
from kdocs.errors import UnusableInputError
from kdocs.resource.crds import find_crds

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = load_settings(ROOT)
KARPENTER = find_topology(SETTINGS.clusters_dir, "karpenter")
# Static default/stable nodes as EKS + Karpenter leave them: the richest shape for kind's config.
STATIC = load_topology(ROOT / "tests" / "fixtures" / "topologies" / "eks-static.yaml")
GiB = 2**30


# -- kind: the generated config ---------------------------------------------------------


def patch_of(node: dict) -> dict:
    (patch,) = node["kubeadmConfigPatches"]
    return yaml.safe_load(patch)


class TestKindConfig:
    def test_one_control_plane_then_one_worker_per_node_in_order(self):
        config = kind_config(STATIC, "kdocs")
        assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
        assert config["name"] == "kdocs"
        roles = [n["role"] for n in config["nodes"]]
        assert roles == ["control-plane"] + ["worker"] * len(STATIC.nodes)
        assert config["nodes"][0] == {"role": "control-plane"}
        named = [n["labels"][TOPOLOGY_NODE_LABEL] for n in config["nodes"][1:]]
        assert named == ["default-1", "default-2", "stable-1", "fargate-1"]

    def test_labels_are_the_topologys_except_what_the_kubelet_sets(self):
        workers = kind_config(STATIC)["nodes"][1:]
        for spec, worker in zip(STATIC.nodes, workers, strict=True):
            expected = {
                k: v
                for k, v in spec.labels.items()
                if k not in ("kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch")
            }
            assert worker["labels"] == expected
        stable = workers[2]["labels"]
        assert stable["karpenter.sh/nodepool"] == "stable" and stable["nodepool"] == "stable"
        assert workers[3]["labels"]["eks.amazonaws.com/compute-type"] == "fargate"

    def test_taints_go_into_the_join_configuration(self):
        workers = kind_config(STATIC)["nodes"][1:]
        patches = [patch_of(w) for w in workers]
        assert all(p["kind"] == "JoinConfiguration" for p in patches)
        assert "apiVersion" not in patches[0]  # kind then converts kubeletExtraArgs for v1beta4
        taints = [p["nodeRegistration"]["taints"] for p in patches]
        assert taints == [
            [],
            [],
            [{"key": "nodepool/stable", "effect": "NoSchedule"}],
            [{"key": "eks.amazonaws.com/compute-type", "effect": "NoSchedule", "value": "fargate"}],
        ]

    def test_allocatable_is_staged_with_system_reserved(self):
        host = HostCapacity(cpu_millis=8000, memory_bytes=16 * GiB)
        for worker in kind_config(STATIC, host=host)["nodes"][1:]:
            args = patch_of(worker)["nodeRegistration"]["kubeletExtraArgs"]
            assert args == {"max-pods": "110", "system-reserved": "cpu=6000m,memory=12288Mi"}

    def test_small_hosts_reserve_nothing_they_do_not_have(self):
        host = HostCapacity(cpu_millis=2000, memory_bytes=2 * GiB)
        worker = kind_config(STATIC, host=host)["nodes"][1]
        assert patch_of(worker)["nodeRegistration"]["kubeletExtraArgs"] == {"max-pods": "110"}
        assert "kubeletExtraArgs" in patch_of(kind_config(STATIC)["nodes"][1])["nodeRegistration"]

    def test_the_config_round_trips_as_yaml(self):
        config = kind_config(STATIC, host=HostCapacity(4000, 8 * GiB))
        assert yaml.safe_load(yaml.safe_dump(config)) == config

    def test_labels_a_kubelet_may_not_set_are_refused_early(self, tmp_path):
        source = STATIC.source.read_text()
        bad = source.replace(
            "nodepool: stable\n", "nodepool: stable\n      kubernetes.io/role: x\n", 1
        )
        path = tmp_path / "eks-static.yaml"
        path.write_text(bad)
        with pytest.raises(ClusterUnavailableError, match="kubernetes.io/role"):
            kind_config(load_topology(path))

    @pytest.mark.parametrize(
        ("key", "allowed"),
        [
            ("karpenter.sh/nodepool", True),
            ("nodepool", True),
            ("node.kubernetes.io/instance-type", True),
            ("topology.kubernetes.io/zone", True),
            ("kubelet.kubernetes.io/anything", True),
            ("x.node.kubernetes.io/anything", True),
            ("kubernetes.io/role", False),
            ("node-role.kubernetes.io/worker", False),
            ("k8s.io/x", False),
            ("foo.k8s.io/x", False),
        ],
    )
    def test_kubelet_label_rules(self, key, allowed):
        assert (kubelet_label_problem(key) is None) is allowed

    @pytest.mark.parametrize(
        ("text", "value"), [("2", 2), ("500m", 0.5), ("4Gi", 4 * GiB), ("1k", 1000), ("1.5", 1.5)]
    )
    def test_quantities(self, text, value):
        assert parse_quantity(text) == value


# -- kubeconfig: the safety decision ------------------------------------------------------

ALLOWED = [
    ("kind-kdocs", "https://127.0.0.1:40000"),
    ("kind-ci", "https://172.18.0.2:6443"),
    ("kwok-kdocs", "https://10.1.2.3:6443"),
    ("k3d-dev", "https://0.0.0.0:6550"),
    ("minikube", "https://192.168.49.2:8443"),
    ("docker-desktop", "https://kubernetes.docker.internal:6443"),
    ("rancher-desktop", "https://127.0.0.1:6443"),
    ("anything", "https://127.0.0.1:6443"),
    ("anything", "https://127.3.4.5:6443"),
    ("anything", "https://localhost:6443"),
    ("anything", "https://LOCALHOST.:6443"),
    ("anything", "https://[::1]:6443"),
]
REFUSED = [
    ("prod", "https://10.0.0.1:6443"),
    ("arn:aws:eks:eu-west-3:123:cluster/prod", "https://ABC.gr7.eu-west-3.eks.amazonaws.com"),
    ("gke_project_zone_prod", "https://34.1.2.3"),
    ("kind-", "https://10.0.0.1:6443"),  # the prefix alone is not a kind cluster
    ("kind-prod", "https://abc.hcp.westeurope.azmk8s.io:443"),  # managed cloud wins over name
    ("mykind-x", "https://10.0.0.1"),
    ("minikube-prod", "https://10.0.0.1"),
    ("Minikube", "https://10.0.0.1"),
    ("anything", "https://127.0.0.1.nip.io:6443"),
    ("anything", "https://localhost.example.com:6443"),
    ("anything", "https://127.0.0.1@evil.example.com:6443"),
    ("anything", "https://0.0.0.0:6443"),
    ("anything", ""),
    ("anything", "https://[::1:6443"),
]


class TestContextDecision:
    @pytest.mark.parametrize(("context", "server"), ALLOWED)
    def test_throwaway_clusters_are_allowed(self, context, server):
        assert context_decision(context, server, None).allowed

    @pytest.mark.parametrize(("context", "server"), REFUSED)
    def test_anything_else_is_refused_naming_the_context_and_the_flag(self, context, server):
        decision = context_decision(context, server, None)
        assert not decision.allowed
        assert repr(context) in decision.reason
        assert f"--allow-context {context}" in decision.reason

    @pytest.mark.parametrize(("context", "server"), REFUSED)
    def test_allow_context_naming_exactly_that_context_allows_it(self, context, server):
        assert context_decision(context, server, context).allowed

    @pytest.mark.parametrize("other", ["prod ", "Prod", "prod-eu", "", "kind-kdocs"])
    def test_allow_context_naming_another_context_allows_nothing(self, other):
        for context, server in [("prod", "https://10.0.0.1"), ("kind-kdocs", "https://127.0.0.1")]:
            if other == context:
                continue
            decision = context_decision(context, server, other)
            assert not decision.allowed
            assert "--allow-context" in decision.reason and repr(context) in decision.reason


def write_kubeconfig(path: Path, contexts: dict[str, str], current: str = "") -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": current,
                "clusters": [
                    {"name": f"c-{n}", "cluster": {"server": s}} for n, s in contexts.items()
                ],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [
                    {"name": n, "context": {"cluster": f"c-{n}", "user": "u"}} for n in contexts
                ],
            }
        )
    )
    return path


class TestKubeconfigProviderRefuses:
    """Refusals happen before anything is contacted: nothing listens on these servers."""

    def test_current_context_of_production_is_refused(self, tmp_path):
        path = write_kubeconfig(tmp_path / "config", {"prod": "https://10.0.0.1:6443"}, "prod")
        provider = KubeconfigProvider(SETTINGS, kubeconfig=path, workdir=tmp_path / "w")
        with pytest.raises(UnusableInputError) as caught:
            provider.up("karpenter")
        assert "'prod'" in str(caught.value) and "--allow-context prod" in str(caught.value)
        assert caught.value.exit_code == 2
        assert not (tmp_path / "w").exists()  # no copy of the credentials was made

    def test_kubeconfig_env_path_list_is_merged_like_kubectl(self, tmp_path, monkeypatch):
        first = write_kubeconfig(tmp_path / "a", {"prod": "https://10.0.0.1"}, "prod")
        second = write_kubeconfig(tmp_path / "b", {"prod": "https://127.0.0.1", "kind-x": ""})
        monkeypatch.setenv("KUBECONFIG", f"{first}{os.pathsep}{second}")
        provider = KubeconfigProvider(SETTINGS, workdir=tmp_path / "w")
        with pytest.raises(UnusableInputError, match="refusing context 'prod'"):
            provider.resolve()  # the first file's "prod" wins, as with kubectl
        assert KubeconfigProvider(SETTINGS, context="kind-x").resolve()[0] == "kind-x"

    def test_unknown_and_missing_contexts(self, tmp_path):
        path = write_kubeconfig(tmp_path / "config", {"kind-a": "https://127.0.0.1"})
        with pytest.raises(UnusableInputError, match="no --context given"):
            KubeconfigProvider(SETTINGS, kubeconfig=path).resolve()
        with pytest.raises(UnusableInputError, match="no context 'kind-b'"):
            KubeconfigProvider(SETTINGS, kubeconfig=path, context="kind-b").resolve()

    def test_allow_context_must_name_the_context_in_use(self, tmp_path):
        path = write_kubeconfig(tmp_path / "config", {"prod": "https://10.0.0.1"}, "prod")
        wrong = KubeconfigProvider(SETTINGS, kubeconfig=path, allow_context="staging")
        with pytest.raises(UnusableInputError, match="does not name the context in use"):
            wrong.resolve()
        right = KubeconfigProvider(SETTINGS, kubeconfig=path, allow_context="prod")
        assert right.resolve() == ("prod", "https://10.0.0.1")


def test_match_nodes_needs_labels_and_exact_taints():
    def node(name, labels, taints=()):
        return {"metadata": {"name": name, "labels": labels}, "spec": {"taints": list(taints)}}

    stable = STATIC.node("stable-1")
    labels = {k: v for k, v in stable.labels.items() if k != TOPOLOGY_NODE_LABEL}
    taint = {"key": "nodepool/stable", "effect": "NoSchedule"}
    assert match_nodes(STATIC, [node("n1", labels, [taint])]) == {"stable-1": "n1"}
    assert match_nodes(STATIC, [node("n1", labels)]) == {}
    assert match_nodes(STATIC, [node("n1", {**labels, "nodepool": "x"}, [taint])]) == {}


def test_unknown_provider_and_options():
    with pytest.raises(UnusableInputError, match="unknown cluster provider"):
        get_provider("docker", SETTINGS)
    with pytest.raises(UnusableInputError, match="provider kwok"):
        get_provider("kwok", SETTINGS, context="x")


# -- kdocs cluster (the CLI) without a cluster ----------------------------------------------


def cli(*argv: str) -> int:
    """`kdocs cluster ...` through the one place that turns errors into exit codes."""
    import contextlib

    from kdocs.cli import main

    with contextlib.chdir(SETTINGS.root):
        return main(["cluster", *argv])


def test_cli_refuses_a_production_context_in_one_line(tmp_path, capsys):
    path = write_kubeconfig(tmp_path / "config", {"prod": "https://10.0.0.1:6443"}, "prod")
    assert cli("up", "--provider", "kubeconfig", "--kubeconfig", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'prod'" in err and "--allow-context prod" in err


def test_cli_flags_that_do_not_apply_and_missing_tools(capsys, monkeypatch):
    assert cli("up", "--provider", "kwok", "--context", "kind-x") == 2
    assert "--context only applies to --provider kubeconfig" in capsys.readouterr().err
    monkeypatch.setenv("KDOCS_KIND", "/nonexistent/kind")
    assert cli("status", "--provider", "kind") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot run /nonexistent/kind" in err


# -- real clusters --------------------------------------------------------------------------

ON_KWOK = default_provider_name() == "kwok"
kwok_only = pytest.mark.skipif(not ON_KWOK, reason="needs the kwok provider (KDOCS_PROVIDER)")


def topology_nodes(cluster: Cluster) -> dict[str, dict]:
    """Topology node name -> the cluster's Node, matched by the kdocs/node label."""
    items = json.loads(cluster.kubectl("get", "nodes", "-o", "json", check=True).stdout)["items"]
    return {
        n["metadata"]["labels"][TOPOLOGY_NODE_LABEL]: n
        for n in items
        if TOPOLOGY_NODE_LABEL in n["metadata"].get("labels", {})
    }


@pytest.fixture
def namespace(cluster, request):
    name = f"kdocs-test-{os.getpid()}-{request.node.name[5:30].replace('_', '-')}".rstrip("-")
    cluster.kubectl("create", "namespace", name, check=True)
    deadline = time.monotonic() + 60
    while cluster.kubectl("get", "serviceaccount", "default", "-n", name).returncode != 0:
        assert time.monotonic() < deadline, "no default service account in the new namespace"
        time.sleep(0.3)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false")


@pytest.mark.cluster
class TestSessionCluster:
    """What every scenario relies on, on the shared cluster of whichever provider runs."""

    def test_every_topology_node_is_there_ready_with_its_labels_and_taints(self, cluster):
        nodes = topology_nodes(cluster)
        assert sorted(nodes) == sorted(n.name for n in KARPENTER.nodes)
        assert len(cluster.node_names) == len(KARPENTER.nodes)
        ignored = () if ON_KWOK else ("kubernetes.io/hostname", "kubernetes.io/arch")
        for spec in KARPENTER.nodes:
            node = nodes[spec.name]
            labels = node["metadata"]["labels"]
            assert {k: labels.get(k) for k in spec.labels if k not in ignored} == {
                k: v for k, v in spec.labels.items() if k not in ignored
            }
            taints = [
                t
                for t in node["spec"].get("taints", [])
                if not t["key"].startswith("node.kubernetes.io/")
            ]
            assert taints == [t.as_kubernetes() for t in spec.taints]
            ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
            assert ready and ready[0]["status"] == "True"
            if ON_KWOK:
                assert node["metadata"]["name"] == spec.name
                assert node["status"]["allocatable"] == spec.allocatable

    def test_version_is_what_the_api_server_reports(self, cluster):
        reported = json.loads(cluster.kubectl("get", "--raw", "/version", check=True).stdout)
        assert cluster.kubernetes_version == reported["gitVersion"]
        if ON_KWOK:
            assert cluster.kubernetes_version == "v1.36.3"

    def test_a_pod_naming_an_unknown_priority_class_is_rejected(self, cluster, namespace):
        def pod(name: str, priority_class: str | None) -> str:
            spec = {"containers": [{"name": "c", "image": "registry.invalid/x:1"}]}
            if priority_class:
                spec["priorityClassName"] = priority_class
            return json.dumps(
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}
            )

        refused = cluster.kubectl(
            "create", "-n", namespace, "-f", "-", input=pod("a", "no-such-class")
        )
        assert refused.returncode != 0
        assert "no PriorityClass with name no-such-class was found" in refused.stderr
        accepted = cluster.kubectl("create", "-n", namespace, "-f", "-", input=pod("b", None))
        assert accepted.returncode == 0, accepted.stderr  # the refusal was the priority class

    def test_plain_pods_only_land_on_the_untainted_static_node(self, cluster, namespace):
        """The system node; Fargate is tainted, the rest is Karpenter's to launch."""
        for index in range(3):
            cluster.kubectl(
                "run", f"p{index}", "-n", namespace, "--image=registry.invalid/x:1", check=True
            )
        cluster.kubectl(
            "wait", "-n", namespace, "--for=condition=PodScheduled", "pod", "--all",
            "--timeout=60s", timeout=90, check=True,
        )  # fmt: skip
        placed = cluster.kubectl(
            "get", "pods", "-n", namespace, "-o", "jsonpath={.items[*].spec.nodeName}", check=True
        ).stdout.split()
        nodes = topology_nodes(cluster)
        # system-1, or a node Karpenter launched for a scenario running meanwhile (xdist)
        assert len(placed) == 3 and nodes["fargate-1"]["metadata"]["name"] not in placed
        assert nodes["system-1"]["metadata"]["name"] in placed or all(
            p.startswith("kwok-") for p in placed
        )

    def test_crds_of_schemas_crds_are_established(self, cluster):
        for crd in find_crds(d for d in SETTINGS.crd_dirs if d.is_dir()):
            name = crd.name
            done = cluster.kubectl(
                "get", f"crd/{name}", "-o",
                "jsonpath={.status.conditions[?(@.type=='Established')].status}", check=True,
            )  # fmt: skip
            assert done.stdout == "True"

    def test_crds_are_sent_again_only_when_one_differs_from_its_file(self, cluster):
        """A reused cluster is not sent its CRDs again; one whose applied digest differs is."""
        said: list[str] = []
        install_crds(cluster, SETTINGS.crd_dirs)  # stamped, whoever made the cluster
        names = install_crds(cluster, SETTINGS.crd_dirs, said.append)
        assert names and said[-1].startswith("CRDs unchanged and Established"), said
        name = names[0]
        cluster.kubectl(
            "annotate", f"crd/{name}", f"{CRD_DIGEST_ANNOTATION}=edited", "--overwrite", check=True
        )
        install_crds(cluster, SETTINGS.crd_dirs, said.append)
        assert said[-1].startswith("CRDs installed and Established"), said
        digest = cluster.kubectl(
            "get", f"crd/{name}", "-o", "jsonpath={.metadata.annotations}", check=True
        ).stdout
        assert CRD_DIGEST_ANNOTATION in digest and "edited" not in digest, digest

    def test_the_kubeconfig_provider_accepts_and_matches_the_running_cluster(
        self, cluster, tmp_path
    ):
        provider = KubeconfigProvider(
            SETTINGS, kubeconfig=cluster.kubeconfig, context=cluster.context, workdir=tmp_path,
            kubectl=str(cluster.kubectl_binary),
        )  # fmt: skip
        found = provider.up("karpenter")
        assert found.kubernetes_version == cluster.kubernetes_version
        assert found.node_names == cluster.node_names
        assert (
            found.kubeconfig.parent == tmp_path and (found.kubeconfig.stat().st_mode & 0o077) == 0
        )
        provider.down()  # leaves the cluster alone
        assert cluster.kubectl("get", "--raw", "/readyz").returncode == 0


# -- the kwok lifecycle, on a cluster of its own ---------------------------------------------


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def ps_lines_naming(folder: Path) -> list[str]:
    """`ps` rows whose command names `folder` (what a user would look at)."""
    import subprocess

    rows = subprocess.run(["ps", "-eo", "pid,stat,args"], capture_output=True, text=True).stdout
    return [
        row for row in rows.splitlines()[1:]
        if f"{folder}/" in row and row.split()[1][0] != "Z"
    ]  # fmt: skip


def listening_addresses(pids: list[int]) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) that `pids` listen on."""
    inodes = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                found.add(fields[1].rsplit(":", 1)[0])
    return found


LOOPBACK_HEX = {"0100007F", "00000000000000000000000001000000"}


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "absent"


@pytest.fixture(scope="module")
def lifecycle():
    """A second kwok cluster ("kdocs-life-<pid>") that the lifecycle tests may break.

    Named after this process so that concurrent test runs never share it; those
    of runs that died (their pid is gone) are removed first.
    """
    from kdocs.cluster.providers.kwok import KwokProvider

    provider = KwokProvider(SETTINGS, cluster_name=f"kdocs-life-{os.getpid()}")
    for stale in (provider.workdir / "clusters").glob("kdocs-life-*"):
        pid = stale.name.removeprefix("kdocs-life-")
        if pid.isdigit() and not alive(int(pid)):
            KwokProvider(SETTINGS, cluster_name=stale.name).down()
    user_kubeconfig = Path.home() / ".kube" / "config"
    before = fingerprint(user_kubeconfig)
    provider.down()  # a clean start, whatever an interrupted run left
    yield provider
    provider.down()
    assert fingerprint(user_kubeconfig) == before, "~/.kube/config was modified"


def apiserver_pid(provider) -> int:
    return int((provider.cluster_dir / "pids" / "kube-apiserver.pid").read_text())


@pytest.mark.cluster
@kwok_only
class TestKwokLifecycle:
    def test_cold_up_then_warm_reuse_of_the_same_processes(self, lifecycle, timing):
        started = time.monotonic()
        cold = lifecycle.up("karpenter")
        timing("kwok cold up (binaries cached)", time.monotonic() - started)
        pids = lifecycle.processes()
        # etcd, apiserver, controller manager, scheduler, kwok, and the cluster components:
        # the local-path provisioner, and Karpenter (the topology declares it)
        components = {c.name: c.pid for c in cold.components}
        assert list(components) == ["local-path-provisioner", "karpenter"]
        assert len(pids) == 5 + len(components) and set(components.values()) <= set(pids)
        assert [c.version for c in cold.components] == ["v0.0.30", "v1.14.1"]
        assert cold.label == "kwok + Karpenter v1.14.1"
        listening = listening_addresses(pids)
        assert listening and listening <= LOOPBACK_HEX  # nothing reachable from the network
        bin_dir = lifecycle.binaries()
        built = (cache_root() / "components").resolve()
        for link in (lifecycle.cluster_dir / "bin").iterdir():  # nothing was downloaded
            if link.name not in components:  # those are built by build-component.sh
                assert link.resolve().parent == bin_dir.resolve(), link
            else:
                assert link.resolve().parent.parent == built, link
        assert not [p for p in (lifecycle.workdir / "cache").rglob("*") if p.is_file()]
        started = time.monotonic()
        warm = lifecycle.up("karpenter")
        timing("kwok warm up (reuse)", time.monotonic() - started)
        assert lifecycle.processes() == pids
        assert warm == cold
        assert lifecycle.current() is not None
        assert lifecycle.reusable("karpenter") == cold

    def test_the_kubeconfig_and_the_state_stay_private(self, lifecycle):
        cluster = lifecycle.up("karpenter")
        assert cluster.kubeconfig == lifecycle.cluster_dir / "kubeconfig.yaml"
        assert cluster.context == f"kwok-{lifecycle.cluster_name}"
        assert cluster.kubectl_binary.parent == lifecycle.binaries()
        assert Path.home() / ".kube" not in cluster.kubeconfig.parents

    def test_a_killed_api_server_is_detected_and_the_next_up_recreates(self, lifecycle, timing):
        lifecycle.up("karpenter")
        old = lifecycle.processes()
        victim = apiserver_pid(lifecycle)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while alive(victim):
            assert time.monotonic() < deadline, "kube-apiserver survived SIGKILL"
            time.sleep(0.1)
        assert lifecycle.current() is None
        assert lifecycle.reusable("karpenter") is None  # and nothing removed or started yet
        assert lifecycle.cluster_dir.is_dir() and lifecycle.processes() == [
            pid for pid in old if pid != victim
        ]
        started = time.monotonic()
        cluster = lifecycle.up("karpenter")
        timing("kwok up after a killed kube-apiserver", time.monotonic() - started)
        assert apiserver_pid(lifecycle) != victim
        assert not any(alive(pid) for pid in old)  # the rest of the old cluster was stopped
        assert cluster.kubectl("get", "--raw", "/readyz").returncode == 0
        assert len(topology_nodes(cluster)) == len(KARPENTER.nodes)

    def test_a_corrupt_state_folder_is_detected_and_the_next_up_recreates(self, lifecycle):
        lifecycle.up("karpenter")
        old = lifecycle.processes()
        (lifecycle.cluster_dir / "kwok.yaml").write_text("components: [\n")
        assert lifecycle.current() is None
        cluster = lifecycle.up("karpenter")
        assert not any(alive(pid) for pid in old)
        assert cluster.kubectl("get", "--raw", "/readyz").returncode == 0

    def test_another_topology_means_another_cluster(self, lifecycle, tmp_path):
        from dataclasses import replace

        from kdocs.cluster.providers.kwok import KwokProvider

        lifecycle.up("karpenter")
        old = lifecycle.processes()
        clusters = tmp_path / "clusters"  # its components and stages too
        shutil.copytree(SETTINGS.clusters_dir, clusters, ignore=shutil.ignore_patterns("build"))
        (clusters / "karpenter.yaml").write_text(
            KARPENTER.source.read_text().replace('cpu: "2"', 'cpu: "3"')
        )
        changed = KwokProvider(
            replace(SETTINGS, clusters_dir=clusters), cluster_name=lifecycle.cluster_name
        )
        assert changed.reusable("karpenter") is None  # another topology: not this cluster
        assert lifecycle.processes() == old  # and `reusable` stopped nothing
        cluster = changed.up("karpenter")
        assert not any(alive(pid) for pid in old)
        assert topology_nodes(cluster)["fargate-1"]["status"]["allocatable"]["cpu"] == "3"

    def test_down_leaves_no_process_and_no_state(self, lifecycle, timing):
        lifecycle.up("karpenter")
        pids = lifecycle.processes()
        assert pids and ps_lines_naming(lifecycle.cluster_dir)
        started = time.monotonic()
        lifecycle.down()
        timing("kwok down", time.monotonic() - started)
        assert lifecycle.processes() == []
        assert not any(alive(pid) for pid in pids)
        assert ps_lines_naming(lifecycle.cluster_dir) == []
        assert not lifecycle.cluster_dir.exists()
        # Nothing named after the cluster stays in the cache (kwokctl's options file leaked once).
        left = [*lifecycle.workdir.glob(f"{lifecycle.cluster_name}*"), lifecycle.owner_file]
        assert [p for p in left if p.exists()] == []
        assert lifecycle.current() is None
        assert lifecycle.reusable("karpenter") is None and not lifecycle.cluster_dir.exists()
        lifecycle.down()  # twice is fine
