"""Objects a snippet refers to but does not define, and that the cluster lacks.

Guides often split one install across files (a DaemonSet here, its
ServiceAccount and RBAC there). Applied alone, such a snippet fails with a
controller's event repeated until the timeout ("serviceaccount ... not
found"); on a real kubelet a missing ConfigMap volume keeps the pod from
starting. Found before anything is applied, the error is one line naming the
object, and the file under snippets/ that defines it, if any: the way to test
the pair is a scenario that applies that file first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs.cluster.kube import get_json
from kdocs.cluster.payload import load_manifest
from kdocs.errors import KdocsError
from kdocs.scenario.model import display

if TYPE_CHECKING:
    from kdocs.cluster.session import Session

# Kind -> (kubectl resource, namespaced)
REFERABLE = {
    "ServiceAccount": ("serviceaccounts", True),
    "ConfigMap": ("configmaps", True),
    "Secret": ("secrets", True),
    "PersistentVolumeClaim": ("persistentvolumeclaims", True),
    "PriorityClass": ("priorityclasses.v1.scheduling.k8s.io", False),
    "StorageClass": ("storageclasses.v1.storage.k8s.io", False),
}
# Present in every cluster (the API server makes them), whatever the snippet says.
ALWAYS_THERE = {("ServiceAccount", "default")}


def missing_reference(
    session: Session, docs: list[dict[str, Any]], source: Path, snippets_dir: Path | None
) -> str | None:
    """One line about the first object `docs` need that neither they nor the cluster have."""
    defined = {(d.get("kind"), _name(d), _scope(session, d)) for d in docs}
    for doc in docs:
        namespace = session.where(doc)
        for kind, name in references(doc):
            resource, namespaced = REFERABLE[kind]
            where = namespace if namespaced else None
            if (kind, name) in ALWAYS_THERE or (kind, name, where) in defined:
                continue
            if kind == "StorageClass" and static_volumes(session, name, docs):
                continue  # claims of a class nobody defines bind to its PersistentVolumes
            if where == session.namespace:
                exists = False  # the unit's namespace is new: only what the snippet defines
            else:
                args = [resource, name, *(["-n", where] if where else [])]
                exists = get_json(session.cluster, *args) is not None
            if exists:
                continue
            place = f" in namespace {where}" if where and where != session.namespace else ""
            user = f"{doc.get('kind')} {_name(doc)}"
            found = defining_file(snippets_dir, kind, name, source)
            root = session.ctx.root
            hint = (
                f"{display(found, root)} defines it: test both with a scenario that applies it "
                "first"
                if found
                else "define it in this snippet, or test it with a scenario that applies the "
                "file defining it first"
            )
            return f"{user} needs {kind} {name}{place}, which this snippet does not define and "\
                f"the cluster lacks; {hint}"  # fmt: skip
    return None


def references(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, name) of each object `doc` needs to exist (optional references excluded)."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind == "PersistentVolumeClaim":
        yield from _claim(spec)
        return
    if kind == "StatefulSet":
        for template in spec.get("volumeClaimTemplates") or []:
            yield from _claim(template.get("spec") or {})
    pod = _pod_spec(doc)
    if pod is None:
        return
    account = pod.get("serviceAccountName") or pod.get("serviceAccount")
    if account:
        yield "ServiceAccount", str(account)
    if pod.get("priorityClassName"):
        yield "PriorityClass", str(pod["priorityClassName"])
    claims_from_templates = {
        (t.get("metadata") or {}).get("name") for t in spec.get("volumeClaimTemplates") or []
    }
    for volume in pod.get("volumes") or []:
        yield from _volume(volume, claims_from_templates)
    for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            yield from _named("ConfigMap", source.get("configMapRef"))
            yield from _named("Secret", source.get("secretRef"))
        for variable in container.get("env") or []:
            value_from = variable.get("valueFrom") or {}
            yield from _named("ConfigMap", value_from.get("configMapKeyRef"))
            yield from _named("Secret", value_from.get("secretKeyRef"))


def static_volumes(session: Session, class_name: str, docs: list[dict[str, Any]]) -> bool:
    """Whether PersistentVolumes of `class_name` exist (in `docs` or the cluster).

    A claim naming a class that no StorageClass object defines still binds to a
    volume of that class made by hand, so such a class is not missing.
    """
    if any(
        d.get("kind") == "PersistentVolume"
        and (d.get("spec") or {}).get("storageClassName") == class_name
        for d in docs
    ):
        return True
    found = get_json(session.cluster, "persistentvolumes") or {}
    return any(
        (pv.get("spec") or {}).get("storageClassName") == class_name
        for pv in found.get("items") or []
    )


def defining_file(snippets_dir: Path | None, kind: str, name: str, source: Path) -> Path | None:
    """The first file under snippets/ (other than `source`) that defines kind/name."""
    if snippets_dir is None or not snippets_dir.is_dir():
        return None
    for path in sorted(snippets_dir.rglob("*.y*ml")):
        if path.resolve() == source.resolve() or ".scenario." in path.name:
            continue
        try:
            docs = load_manifest(path, snippets_dir.parent)
        except (KdocsError, ValueError, RecursionError):
            continue
        if any(d.get("kind") == kind and _name(d) == name for d in docs):
            return path
    return None


def _claim(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if spec.get("storageClassName"):
        yield "StorageClass", str(spec["storageClassName"])


def _volume(volume: dict[str, Any], from_templates: set[Any]) -> Iterator[tuple[str, str]]:
    yield from _named("ConfigMap", volume.get("configMap"))
    secret = volume.get("secret") or {}
    if secret.get("secretName") and not secret.get("optional"):
        yield "Secret", str(secret["secretName"])
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if claim and claim not in from_templates:
        yield "PersistentVolumeClaim", str(claim)
    for source in (volume.get("projected") or {}).get("sources") or []:
        yield from _named("ConfigMap", source.get("configMap"))
        yield from _named("Secret", source.get("secret"))


def _named(kind: str, ref: Any) -> Iterator[tuple[str, str]]:
    if isinstance(ref, dict) and ref.get("name") and not ref.get("optional"):
        yield kind, str(ref["name"])


def pod_template(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The pods `doc` makes, as a template (metadata, spec); a Pod is its own; None if none."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind == "Pod":
        return doc
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    elif kind not in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        return None
    return spec.get("template") or {}


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    template = pod_template(doc)
    return None if template is None else template.get("spec") or {}


def _scope(session: Session, doc: dict[str, Any]) -> str | None:
    """The namespace of a namespaced kind we look for, None for a cluster-scoped one."""
    namespaced = REFERABLE.get(str(doc.get("kind")), ("", True))[1]
    return session.where(doc) if namespaced else None


def _name(doc: dict[str, Any]) -> str:
    return str((doc.get("metadata") or {}).get("name") or "")
