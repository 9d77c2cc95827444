"""The install order: what others refer to is applied before what refers to it."""

from __future__ import annotations

from kdocs.cluster.order import INSTALL_ORDER, ordered, rank


def doc(kind: str, name: str = "x") -> dict:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}


def kinds(docs: list[dict]) -> list[str]:
    return [d["kind"] for d in docs]


def test_references_come_before_the_workloads_that_use_them() -> None:
    snippet = [
        doc("Deployment"),
        doc("ClusterRoleBinding"),
        doc("ConfigMap"),
        doc("ServiceAccount"),
        doc("Namespace"),
        doc("Secret"),
        doc("PersistentVolumeClaim"),
        doc("StorageClass"),
        doc("PriorityClass"),
        doc("ClusterRole"),
        doc("CustomResourceDefinition"),
    ]
    assert kinds(ordered(snippet)) == [
        "Namespace",
        "CustomResourceDefinition",
        "PriorityClass",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "StorageClass",
        "PersistentVolumeClaim",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
    ]


def test_custom_resources_go_last_and_each_kind_keeps_its_file_order() -> None:
    snippet = [doc("NodePool", "a"), doc("Service", "s"), doc("NodePool", "b"), doc("Job", "j")]
    assert [d["metadata"]["name"] for d in ordered(snippet)] == ["s", "j", "a", "b"]


def test_webhooks_come_after_the_services_that_serve_them() -> None:
    assert rank("ValidatingWebhookConfiguration") > rank("Service")
    assert rank("MutatingWebhookConfiguration") > rank("Deployment")


def test_the_order_is_a_pure_function_of_any_item_with_a_kind() -> None:
    items = [("Deployment", 1), ("Namespace", 2)]
    assert ordered(items, kind_of=lambda item: item[0]) == [("Namespace", 2), ("Deployment", 1)]
    assert len(set(INSTALL_ORDER)) == len(INSTALL_ORDER)
