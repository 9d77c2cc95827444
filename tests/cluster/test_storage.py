"""What kind has, the session's cluster has: default storage, completing pods, cluster DNS objects.

Each test applies plain manifests in a namespace of its own and asks the API
server (kubectl is the oracle) what became of them: a claim of the default
class is provisioned by the real local-path provisioner and bound, a pod using
it runs on the claim's node, a StatefulSet's claims bind and it rolls out,
pods with restartPolicy Never/OnFailure end Succeeded (and one with Always
does not), and the objects guides name (namespaces, default ServiceAccount,
kube-system/kube-dns) exist.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.components import always_on, load_component
from kdocs.cluster.providers.component_process import check_provided
from tests.cluster.conftest import ROOT

pytestmark = pytest.mark.cluster

WAIT = 90.0  # generous for a loaded machine; measured times go to the timings summary


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    name = f"kdocs-env-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name, check=True)
    try:
        yield name
    finally:
        cluster.kubectl("delete", "namespace", name, "--wait=false")


def apply(cluster: Cluster, namespace: str, text: str) -> None:
    cluster.kubectl("apply", "-n", namespace, "-f", "-", input=text, check=True)


def get(cluster: Cluster, namespace: str, *what: str) -> dict[str, Any]:
    done = cluster.kubectl("get", *what, "-n", namespace, "-o", "json", check=True)
    return dict(json.loads(done.stdout))


def wait_for(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` and the last value."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.5)
    pytest.fail(f"{what} not within {timeout:.0f}s (last: {last!r})")


# Every pod tolerates every taint: the guide's topology has one static node, the tainted
# Fargate one (Karpenter launches the others on demand, for NodePools these tests lack).
CLAIM_AND_POD = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  tolerations: [{operator: Exists}]
  containers:
    - name: app
      image: registry.k8s.io/pause:3.10
      volumeMounts: [{name: data, mountPath: /data}]
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: data}
"""


def test_a_claim_of_the_default_class_binds_and_its_pod_runs_on_the_volumes_node(
    cluster: Cluster, namespace: str, timing
) -> None:
    started = time.monotonic()
    apply(cluster, namespace, CLAIM_AND_POD)
    claim = wait_for(
        "the claim Bound",
        lambda: (
            (c := get(cluster, namespace, "pvc", "data"))["status"].get("phase") == "Bound" and c
        ),
    )
    pod = wait_for(
        "the pod Running",
        lambda: (
            (p := get(cluster, namespace, "pod", "user"))["status"].get("phase") == "Running" and p
        ),
    )
    timing("claim bound + pod running (local-path)", time.monotonic() - started)
    assert claim["spec"]["storageClassName"] == "standard"  # the default class, filled in
    volume = json.loads(
        cluster.kubectl("get", "pv", claim["spec"]["volumeName"], "-o", "json", check=True).stdout
    )
    # What a local-path PV on a KWOK node is: a hostPath directory on that node, pinned to it.
    assert volume["spec"]["hostPath"]["path"].startswith("/var/local-path-provisioner/")
    (term,) = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
    (rule,) = term["matchExpressions"]
    assert rule["key"] == "kubernetes.io/hostname"
    assert rule["values"] == [pod["spec"]["nodeName"]]
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    annotations = volume["metadata"]["annotations"]
    assert annotations["pv.kubernetes.io/provisioned-by"] == "rancher.io/local-path"

    # reclaimPolicy Delete: the provisioner's teardown helper pod completes, the PV goes.
    cluster.kubectl("delete", "pod", "user", "-n", namespace, "--wait=true", check=True)
    cluster.kubectl("delete", "pvc", "data", "-n", namespace, "--wait=true", check=True)
    wait_for(
        "the released volume deleted",
        lambda: cluster.kubectl("get", "pv", volume["metadata"]["name"]).returncode != 0,
    )


STATEFULSET = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      tolerations: [{operator: Exists}]
      containers:
        - name: nginx
          image: registry.k8s.io/nginx-slim:0.27
          volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]
  volumeClaimTemplates:
    - metadata: {name: www}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 1Gi}}
"""


def test_a_statefulset_with_volume_claim_templates_rolls_out(
    cluster: Cluster, namespace: str, timing
) -> None:
    started = time.monotonic()
    apply(cluster, namespace, STATEFULSET)
    done = cluster.kubectl(
        "rollout", "status", "statefulset/web", "-n", namespace, f"--timeout={int(WAIT)}s",
        timeout=WAIT + 30,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    timing("StatefulSet with 2 claims rolled out", time.monotonic() - started)
    claims = get(cluster, namespace, "pvc")["items"]
    assert sorted(c["metadata"]["name"] for c in claims) == ["www-web-0", "www-web-1"]
    assert all(c["status"]["phase"] == "Bound" for c in claims), claims
    statefulset = get(cluster, namespace, "statefulset", "web")
    assert statefulset["status"]["readyReplicas"] == 2


ONE_SHOT = """\
apiVersion: v1
kind: Pod
metadata: {{name: {name}}}
spec:
  restartPolicy: {policy}
  tolerations: [{{operator: Exists}}]
  containers:
    - name: task
      image: registry.k8s.io/busybox:1.36
      command: [sh, -c, "echo done"]
"""


@pytest.mark.parametrize("policy", ["Never", "OnFailure"])
def test_a_pod_that_does_not_restart_completes_as_a_kubelet_reports_it(
    cluster: Cluster, namespace: str, policy: str
) -> None:
    apply(cluster, namespace, ONE_SHOT.format(name="once", policy=policy))
    pod = wait_for(
        "the pod Succeeded",
        lambda: (
            (p := get(cluster, namespace, "pod", "once"))["status"].get("phase") == "Succeeded"
            and p
        ),
    )
    (status,) = pod["status"]["containerStatuses"]
    assert status["state"]["terminated"]["exitCode"] == 0
    assert status["state"]["terminated"]["reason"] == "Completed"
    assert pod["spec"]["nodeName"], "it ran on a node"


def test_a_pod_that_restarts_always_keeps_running(cluster: Cluster, namespace: str) -> None:
    """The negative control: the completion stage must not end every pod."""
    apply(cluster, namespace, ONE_SHOT.format(name="server", policy="Always"))
    wait_for(
        "the pod Running",
        lambda: get(cluster, namespace, "pod", "server")["status"].get("phase") == "Running",
    )
    time.sleep(3)  # the other pods of this file complete within ~1 s of running
    assert get(cluster, namespace, "pod", "server")["status"]["phase"] == "Running"


def test_the_objects_guides_take_for_granted_exist(cluster: Cluster) -> None:
    for namespace in ("default", "kube-system", "kube-public"):
        cluster.kubectl("get", "namespace", namespace, check=True)
        cluster.kubectl("get", "serviceaccount", "default", "-n", namespace, check=True)
    service = get(cluster, "kube-system", "service", "kube-dns")
    assert {(p["name"], p["port"], p["protocol"]) for p in service["spec"]["ports"]} >= {
        ("dns", 53, "UDP"),
        ("dns-tcp", 53, "TCP"),
    }
    assert service["spec"].get("clusterIP"), "a ClusterIP Service, as kind's"
    slices = wait_for(
        "an EndpointSlice of kube-dns",
        lambda: get(
            cluster, "kube-system", "endpointslices", "-l", "kubernetes.io/service-name=kube-dns"
        )["items"],
    )
    assert any(endpoint["addresses"] for s in slices for endpoint in s.get("endpoints") or [])
    classes = json.loads(cluster.kubectl("get", "storageclass", "-o", "json", check=True).stdout)
    defaults = [
        c["metadata"]["name"]
        for c in classes["items"]
        if (c["metadata"].get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    assert defaults == ["standard"]


def test_the_kind_parity_check_sees_what_is_there_and_names_what_is_not(
    cluster: Cluster, tmp_path
) -> None:
    """What `cluster up` on kind runs (kind ships these objects itself): tried here on the
    kwok cluster, which has them, and on a definition naming an object nobody made."""
    check_provided(cluster, always_on(ROOT / "clusters"))  # every object found: no error
    folder = tmp_path / "components" / "extra"
    folder.mkdir(parents=True)
    (folder / "component.yaml").write_text(
        "name: extra\nalways: true\nkind: provided\nmanifests: [extra.yaml]\n", encoding="utf-8"
    )
    (folder / "extra.yaml").write_text(
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: premium}\n"
        "provisioner: example.com/none\n",
        encoding="utf-8",
    )
    with pytest.raises(ClusterUnavailableError) as caught:
        check_provided(cluster, [load_component(folder / "component.yaml")], timeout=1)
    message = str(caught.value)
    assert "the cluster lacks StorageClass premium" in message and "component extra" in message
    assert "\n" not in message
