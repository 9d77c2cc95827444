"""The order objects are applied in: what others refer to comes before what refers to it.

A snippet (or a scenario step) may list a Deployment before the ServiceAccount,
ConfigMap or Namespace it uses; applied in file order, the API server refuses
or the controller retries until the reference exists. Helm's install order
(`releaseutil.InstallOrder`) is the reference, with CustomResourceDefinitions
moved next to namespaces because a custom resource can only be applied once
its CRD is served. Kinds it does not know (custom resources) go last, in file
order. The function is pure over documents so it composes with whatever
payload the cluster stage sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

INSTALL_ORDER = (
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
)
_RANK = {kind: rank for rank, kind in enumerate(INSTALL_ORDER)}
# Kinds that must exist before anything else can even be sent (a namespace, a served kind).
FOUNDATION = frozenset({"Namespace", "CustomResourceDefinition"})

T = TypeVar("T")


def rank(kind: str) -> int:
    """Where `kind` goes in the install order; unknown kinds (custom resources) last."""
    return _RANK.get(kind, len(INSTALL_ORDER))


def ordered(items: Iterable[T], kind_of: Callable[[T], Any] | None = None) -> list[T]:
    """`items` in install order, stable: objects of one kind keep their file order."""
    kind = kind_of or _kind
    return sorted(items, key=lambda item: rank(str(kind(item) or "")))


def _kind(doc: Any) -> Any:
    return doc.get("kind") if isinstance(doc, dict) else None
