"""Reads straight from the API server print what `kubectl get -o json` prints.

`kdocs.cluster.direct` replaces a kubectl process per poll by a GET on a kept
connection. kubectl stays the oracle: for every form of read kdocs makes, the
direct answer must equal kubectl's own output for the same arguments on the real
API server, and every form it does not make exactly so must go to kubectl. The
namespace and account a unit opens directly must be what kubectl's server-side
apply makes of them.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kdocs.cluster import kube
from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.connect import client_for
from kdocs.cluster.direct import LeftToKubectl, Query
from kdocs.cluster.kube import ApiCatalog, get_json
from kdocs.cluster.model import StepFailed

# --- without a cluster: which reads are taken, which kubeconfigs are spoken -----------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("nodes",), Query("nodes")),
        (("pods", "-n", "a", "-l", "x=y"), Query("pods", namespace="a", labels="x=y")),
        (("daemonsets.v1.apps", "web", "-n", "b"), Query("daemonsets.v1.apps", "web", "b")),
        (("events", "-A", "--field-selector=type=Warning"),
         Query("events", all_namespaces=True, fields="type=Warning")),
        (("pods", "--namespace", "a", "--selector", "k in (v)"),
         Query("pods", namespace="a", labels="k in (v)")),
    ],
)  # fmt: skip
def test_the_arguments_kdocs_reads_with_are_taken(args: tuple[str, ...], expected: Query) -> None:
    assert Query.parse(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ("sa/default", "-n", "a"),  # kind/name
        ("pods", "a", "b"),  # two names
        ("pods", "-o", "name"),  # another output
        ("pods", "--show-labels"),  # an option it does not know
        ("pods", "-A", "-n", "a"),  # kubectl refuses both
        ("pods", "-n"),  # a flag without its value
        (),
    ],
)
def test_other_arguments_are_left_to_kubectl(args: tuple[str, ...]) -> None:
    assert Query.parse(args) is None


def _kubeconfig(tmp_path: Path, user: dict[str, Any], server: str = "https://127.0.0.1:1") -> Path:
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": server,
                                               "insecure-skip-tls-verify": True}}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
        "users": [{"name": "u", "user": user}],
    }), encoding="utf-8")  # fmt: skip
    return path


def _cluster(kubeconfig: Path, kubectl: Path = Path("/bin/false"), context: str = "c") -> Cluster:
    return Cluster(
        provider="test", kubeconfig=kubeconfig, context=context, kubernetes_version="",
        kubectl_binary=kubectl, topology="single-node",
    )  # fmt: skip


@pytest.mark.parametrize(
    "user",
    [
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}},
        {"auth-provider": {"name": "oidc"}},
        {"username": "a", "password": "b"},
        {"token": "t", "as": "someone-else"},
    ],
)
def test_credentials_only_kubectl_speaks_leave_every_read_to_it(
    tmp_path: Path, user: dict[str, Any]
) -> None:
    assert client_for(_cluster(_kubeconfig(tmp_path, user))) is None


def test_a_remote_server_behind_a_proxy_is_left_to_kubectl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = _kubeconfig(tmp_path, {"token": "t"}, server="https://10.1.2.3:6443")
    assert client_for(_cluster(remote)) is not None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    (tmp_path / "kubeconfig.yaml").write_text(
        remote.read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )  # another kubeconfig (size), so another client
    assert client_for(_cluster(remote)) is None


@pytest.mark.parametrize("server", ["https://127.0.0.2:6443", "https://localhost:6443",
                                    "https://[::1]:6443"])  # fmt: skip
def test_a_loopback_server_is_read_directly_despite_a_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: str
) -> None:
    """Go never sends a loopback address through a proxy, so kubectl goes direct too."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert client_for(_cluster(_kubeconfig(tmp_path, {"token": "t"}, server=server))) is not None


def test_a_token_is_sent_as_kubectl_sends_it(tmp_path: Path) -> None:
    """A token file relative to the kubeconfig, read as kubectl reads it."""
    (tmp_path / "token").write_text("s3cret\n", encoding="utf-8")
    made = client_for(_cluster(_kubeconfig(tmp_path, {"tokenFile": "token"})))
    assert made is not None and made._headers["Authorization"] == "Bearer s3cret"


def test_a_ca_with_insecure_skip_is_left_to_kubectl_which_refuses_it(tmp_path: Path) -> None:
    config = _kubeconfig(tmp_path, {"token": "t"})
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["clusters"][0]["cluster"]["certificate-authority-data"] = "eA=="
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert client_for(_cluster(config)) is None


@pytest.fixture
def odd_server() -> Iterator[str]:
    """A plain-HTTP server whose discovery is not shaped as the API's (no preferredVersion,
    items that are not objects): what an odd aggregated API server might answer."""
    answers = {
        "/api/v1": {"resources": [{"name": "pods", "kind": "Pod", "namespaced": True}]},
        "/apis": {"groups": [{"name": "odd.example.com", "versions": [{"version": "v1"}]}]},
        "/api/v1/namespaces/default/pods": {"items": ["not an object"]},
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
            body = json.dumps(answers.get(self.path.split("?")[0], {})).encode()
            self.send_response(200 if self.path.split("?")[0] in answers else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_answers_not_shaped_as_the_apis_go_to_kubectl_not_to_a_traceback(
    tmp_path: Path, odd_server: str
) -> None:
    made = client_for(_cluster(_kubeconfig(tmp_path, {"token": "t"}, server=odd_server)))
    assert made is not None
    with pytest.raises(LeftToKubectl):  # a list whose items are not objects
        made.get(Query("pods"))
    with pytest.raises(LeftToKubectl):  # a group without its preferred version
        made.get(Query("widgets.odd.example.com"))
    with pytest.raises(LeftToKubectl):  # ...which the catalog of kinds needs too
        made.served_kinds()
    with pytest.raises(LeftToKubectl):  # ...as do kdocs' own writes: kubectl makes them
        made.apply_own([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}])
    with pytest.raises(LeftToKubectl):
        made.delete_own("namespaces", "x")


def test_a_server_nobody_answers_on_is_unreachable_as_with_kubectl(tmp_path: Path) -> None:
    """The GET fails, kubectl is asked and says why: exit 2, not an answer about a snippet."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    config = _kubeconfig(tmp_path, {"token": "t"}, server=f"https://127.0.0.1:{port}")
    unreachable = tmp_path / "kubectl"
    unreachable.write_text(
        "#!/bin/sh\necho 'The connection to the server 127.0.0.1 was refused' >&2\nexit 1\n",
        encoding="utf-8",
    )
    unreachable.chmod(0o755)
    with pytest.raises(ClusterUnavailableError) as raised:
        get_json(_cluster(config, unreachable), "pods", "-n", "a")
    assert raised.value.exit_code == 2 and "unreachable" in str(raised.value)


# --- on the real API server: the same answer as kubectl -------------------------------------


@pytest.fixture
def objects(cluster: Cluster) -> Iterator[str]:
    """A namespace with two labelled ConfigMaps and a PriorityClass: objects that do not change
    between kubectl's read and the direct one."""
    namespace = f"kdocs-reads-{uuid.uuid4().hex[:8]}"
    name = f"kdocs-reads-{uuid.uuid4().hex[:8]}"
    manifests = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        *({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": f"c{i}", "namespace": namespace, "labels": {"tier": str(i)}},
           "data": {"k": "v"}} for i in (1, 2)),
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
         "metadata": {"name": name, "labels": {"test": namespace}}, "value": 7},
    ]  # fmt: skip
    for manifest in manifests:
        cluster.kubectl("create", "-f", "-", input=json.dumps(manifest), check=True)
    try:
        yield namespace
    finally:
        cluster.kubectl("delete", "priorityclass", name, "--wait=false")
        cluster.kubectl("delete", "namespace", namespace, "--wait=false")


def _kubectl_get(cluster: Cluster, *args: str) -> dict[str, Any] | None:
    done = cluster.kubectl("get", *args, "-o", "json", timeout=30)
    if done.returncode:
        assert "(NotFound)" in done.stderr, done.stderr
        return None
    return json.loads(done.stdout)


def _forms(namespace: str) -> list[tuple[str, ...]]:
    return [
        ("configmaps", "-n", namespace),
        ("configmaps", "c1", "-n", namespace),
        ("configmap", "c2", "--namespace", namespace),  # singular name
        ("configmaps", "-n", namespace, "-l", "tier=2"),
        ("configmaps", "-n", namespace, "-l", "tier in (1,2),tier!=3"),
        ("configmaps", "-n", namespace, "--field-selector=metadata.name=c1"),
        ("configmaps", "missing", "-n", namespace),  # not found: None from both
        ("namespaces", namespace),  # cluster-scoped
        ("namespaces", "-n", namespace, "-l", f"kubernetes.io/metadata.name={namespace}"),
        ("priorityclasses.scheduling.k8s.io", "-l", f"test={namespace}"),  # plural.group
        ("priorityclasses.v1.scheduling.k8s.io", "-l", f"test={namespace}"),  # .version.group
        ("configmaps",),  # no -n: the context's namespace, else default
        ("configmaps", "kube-root-ca.crt"),
        ("nodes",),
        ("nodes", "-l", "kdocs/node"),
        ("nodepools.karpenter.sh",),  # a custom resource
        ("serviceaccounts", "-A", "--field-selector", f"metadata.namespace={namespace}"),
        ("events", "-n", "kube-system", "--field-selector=type=Warning"),
    ]


@pytest.mark.cluster
def test_every_read_form_answers_what_kubectl_prints(cluster: Cluster, objects: str) -> None:
    client = client_for(cluster)
    assert client is not None, "the session cluster's kubeconfig should be spoken"
    direct_only = dataclasses.replace(cluster, kubectl_binary=Path("/bin/false"))
    for args in _forms(objects):
        if Query.parse(args) is None:  # --field-selector VALUE: kubectl's, and still right
            assert get_json(cluster, *args) == _kubectl_get(cluster, *args), args
            continue
        expected = _kubectl_get(cluster, *args)
        # No kubectl to fall back on: the answer is the direct read's own.
        assert get_json(direct_only, *args) == expected, args
        if expected is not None and "items" in expected:
            assert expected["items"] or args[0] in ("events", "nodepools.karpenter.sh"), args


@pytest.mark.cluster
def test_what_discovery_does_not_know_goes_to_kubectl(cluster: Cluster, objects: str) -> None:
    """A short name, a resource the server lacks: kubectl answers, with its own words."""
    client = client_for(cluster)
    assert client is not None
    with pytest.raises(LeftToKubectl):
        client.get(Query("cm", namespace=objects))  # kubectl's short names are its own
    with pytest.raises(LeftToKubectl):
        client.get(Query("widgets.example.com"))
    assert get_json(cluster, "cm", "-n", objects) == _kubectl_get(cluster, "cm", "-n", objects)


def _api_resources(cluster: Cluster) -> dict[tuple[str, str], tuple[str, bool]]:
    """`kubectl api-resources`, read as (group, kind) -> (resource, namespaced)."""
    done = cluster.kubectl("api-resources", "--no-headers", check=True, timeout=60)
    listed = {}
    for line in done.stdout.splitlines():
        name, *_, api_version, namespaced, kind = line.split()
        group = api_version.rpartition("/")[0]
        listed[(group, kind)] = (name, namespaced == "true")
    return listed


@pytest.mark.cluster
def test_the_served_kinds_are_what_kubectl_api_resources_lists(cluster: Cluster) -> None:
    """The run's one discovery (ApiCatalog reads it when the client is spoken): every kind,
    with its resource name and scope, as kubectl lists them, custom resources included."""
    client = client_for(cluster)
    assert client is not None
    served = client.served_kinds()
    assert served == _api_resources(cluster)
    assert served[("karpenter.sh", "NodePool")] == ("nodepools", False)
    # Only in v1alpha1, not in the group's preferred v1: kubectl lists it all the same.
    assert served[("karpenter.sh", "NodeOverlay")] == ("nodeoverlays", False)
    assert served[("apps", "DaemonSet")] == ("daemonsets", True)
    direct_only = dataclasses.replace(cluster, kubectl_binary=Path("/bin/false"))
    found = ApiCatalog(direct_only).lookup("apps/v1", "DaemonSet")  # no kubectl to ask
    assert found is not None and (found.arg, found.namespaced) == ("daemonsets.v1.apps", True)


@pytest.mark.cluster
def test_credentials_embedded_in_the_kubeconfig_are_spoken(
    cluster: Cluster, objects: str, tmp_path: Path
) -> None:
    """As kind writes them, and `kdocs` copies a context (`config view --flatten`): the CA,
    certificate and key as base64 data instead of files."""
    flat = cluster.kubectl("config", "view", "--flatten", "--minify", check=True).stdout
    assert "client-key-data" in flat and "certificate-authority-data" in flat
    copy = tmp_path / "flat.yaml"
    copy.write_text(flat, encoding="utf-8")
    embedded = dataclasses.replace(cluster, kubeconfig=copy, kubectl_binary=Path("/bin/false"))
    assert client_for(embedded) is not None
    args = ("configmaps", "-n", objects)
    assert get_json(embedded, *args) == _kubectl_get(cluster, *args)


@pytest.mark.cluster
def test_a_kubeconfig_written_again_makes_a_new_client(cluster: Cluster, tmp_path: Path) -> None:
    """A cluster brought up again keeps its kubeconfig's path, with new ports and certificates."""
    copy = tmp_path / "kubeconfig.yaml"
    copy.write_bytes(cluster.kubeconfig.read_bytes())
    moved = dataclasses.replace(cluster, kubeconfig=copy)
    first = client_for(moved)
    assert first is not None and first is client_for(moved)
    copy.write_bytes(cluster.kubeconfig.read_bytes() + b"\n")
    assert client_for(moved) is not first



# --- kdocs' own namespace, written directly: what kubectl's server-side apply makes -----------


def _own(name: str) -> list[dict[str, Any]]:
    labels = {"kdocs.dev/run": "test", "app.kubernetes.io/managed-by": "kdocs"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "default", "namespace": name}},
    ]  # fmt: skip


def _as_made(cluster: Cluster, name: str) -> list[Any]:
    """What a namespace and its account look like once made, less what differs by name or time."""
    out = []
    for args in (("namespaces", name), ("serviceaccounts", "default", "-n", name)):
        obj = _kubectl_get(cluster, *args, "--show-managed-fields")
        assert obj is not None, args
        meta = obj["metadata"]
        fields = [(f["manager"], f["operation"], f.get("fieldsV1"))
                  for f in meta.get("managedFields") or [] if f["manager"] == "kdocs"]  # fmt: skip
        labels = {k: v for k, v in (meta.get("labels") or {}).items() if "metadata.name" not in k}
        out.append((obj["kind"], labels, fields))
    return out


@pytest.mark.cluster
def test_a_units_namespace_is_applied_and_deleted_as_kubectl_does(cluster: Cluster) -> None:
    """The namespace and account a unit opens: the same objects, owned by the same field
    manager with the same fields, whether kubectl applied them or the direct client did;
    deleting is kubectl's `--ignore-not-found --wait=false`."""
    client = client_for(cluster)
    assert client is not None
    direct, by_kubectl = (f"kdocs-own-{uuid.uuid4().hex[:8]}" for _ in range(2))
    try:
        client.apply_own(_own(direct))
        client.apply_own(_own(direct))  # applying again changes nothing
        texts = [json.dumps(obj) for obj in _own(by_kubectl)]
        cluster.kubectl("apply", "--server-side", "--field-manager=kdocs", "--validate=false",
                        "-f", "-", input="---\n" + "\n---\n".join(texts), check=True)  # fmt: skip
        made = _as_made(cluster, direct)
        assert made == _as_made(cluster, by_kubectl)
        # The account's apply sets no field beyond its name: the API server records no owner.
        assert [[op for _, op, _ in fields] for _, _, fields in made] == [["Apply"], []]
        client.delete_own("namespaces", direct)
        client.delete_own("namespaces", direct)  # again, while it terminates: as kubectl
        phase = (_kubectl_get(cluster, "namespaces", direct) or {}).get("status", {}).get("phase")
        assert phase in (None, "Terminating")
        client.delete_own("namespaces", f"kdocs-never-{uuid.uuid4().hex[:8]}")  # missing: fine
        with pytest.raises(LeftToKubectl):  # a refusal is kubectl's to word
            client.apply_own([{"apiVersion": "v1", "kind": "Namespace",
                               "metadata": {"name": "Not_A_Name"}}])  # fmt: skip
        with pytest.raises(LeftToKubectl):  # a kind discovery does not list, after a refresh
            client.apply_own([{"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}])
    finally:
        cluster.kubectl("delete", "namespace", direct, by_kubectl, "--ignore-not-found",
                        "--wait=false")  # fmt: skip


@pytest.mark.cluster
def test_own_objects_of_any_served_kind_are_found_by_discovery(cluster: Cluster) -> None:
    """The resource to write comes from discovery, not from a table of kdocs' two kinds:
    a kind of a named group goes to its own path, owned by kdocs as kubectl would make it."""
    client = client_for(cluster)
    assert client is not None
    name = f"kdocs-own-{uuid.uuid4().hex[:8]}"
    priority = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": name}, "value": 3}  # fmt: skip
    try:
        client.apply_own([priority])
        made = _kubectl_get(cluster, "priorityclasses.v1.scheduling.k8s.io", name,
                            "--show-managed-fields")  # fmt: skip
        assert made is not None and made["value"] == 3
        assert [f["manager"] for f in made["metadata"]["managedFields"]] == ["kdocs"]
    finally:
        cluster.kubectl("delete", "priorityclass", name, "--ignore-not-found")


@pytest.mark.cluster
def test_kdocs_own_namespace_is_deleted_by_kubectl_where_the_client_cannot(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kube.delete_own` falls back to kubectl itself, as `apply_own` does: missing is fine,
    and kubectl's refusal is a StepFailed with its reason, for the cleanup to report."""
    monkeypatch.setattr(kube, "client_for", lambda _cluster: None)  # a kubeconfig not spoken
    name = f"kdocs-own-{uuid.uuid4().hex[:8]}"
    kube.apply_own(cluster, _own(name))
    try:
        assert _kubectl_get(cluster, "serviceaccounts", "default", "-n", name) is not None
        kube.delete_own(cluster, "namespaces", name)
        phase = (_kubectl_get(cluster, "namespaces", name) or {}).get("status", {}).get("phase")
        assert phase in (None, "Terminating")
        kube.delete_own(cluster, "namespaces", name)  # again: --ignore-not-found
        with pytest.raises(StepFailed, match="widgets"):
            kube.delete_own(cluster, "widgets.example.com", name)
    finally:
        cluster.kubectl("delete", "namespace", name, "--ignore-not-found", "--wait=false")
