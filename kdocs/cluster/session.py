"""One unit's namespace: `${...}` substitution, applies into it, and tracked cleanup.

A `Session` is one unit's namespace plus everything the unit applied, so that
cleanup can delete exactly that, newest first, whatever ended the unit; a
`RunContext` is what every unit of one run shares.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from kdocs.cluster import karpenter, namespaces
from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.kube import ApiCatalog, apply_own, delete_own, get_json, kubectl, reason
from kdocs.cluster.model import Cancelled, StepFailed
from kdocs.cluster.order import ordered
from kdocs.cluster.owner import owner_annotations
from kdocs.cluster.payload import (
    OWNER_FIELD_MANAGER,
    Payload,
    as_json,
    owner_labels,
    payload_stream,
    statefulset_claims,
)
from kdocs.errors import BrokenScenarioError
from kdocs.scenario import variables

RUN_LABEL = "kdocs.dev/run"
OWNER_LABEL = "kdocs.dev/owner"  # on what outlives a unit's namespace: that namespace's name
MANAGED_BY = ("app.kubernetes.io/managed-by", "kdocs")


@dataclass
class RunContext:
    """What every unit of one run shares: the cluster, the cancel switch, the run id."""

    cluster: Cluster
    root: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    rollout_timeout: float = 60.0
    poll: float = 0.2  # between an assert's looks: each a GET of a few ms (kdocs.cluster.direct)
    snippets_dir: Path | None = None  # where the default check looks for files a snippet needs
    # Set (with cancel) when the health probe finds the cluster dead: the run ends as exit 2.
    unhealthy: str | None = None

    def __post_init__(self) -> None:
        self.api = ApiCatalog(self.cluster)
        self._nodes: dict[str, str] | None = None

    def node(self, name: str) -> str:
        """The real name of topology node `name` (label kdocs/node), for `${node:NAME}`;
        for `${node:KEY=VALUE}`, of the one node labelled so right now."""
        if "=" in name:
            return self._node_labelled(name)
        if self._nodes is None:
            found = get_json(self.cluster, "nodes") or {}
            self._nodes = {}
            for item in found.get("items") or []:
                real = item["metadata"]["name"]
                label = (item["metadata"].get("labels") or {}).get("kdocs/node", real)
                self._nodes[label] = real
        if name not in self._nodes:  # a typo in the scenario, not a false claim of the guide
            known = ", ".join(sorted(self._nodes)) or "none"
            raise BrokenScenarioError(
                None, f"no node {name!r} (label kdocs/node) in this cluster (nodes: {known})"
            )
        return self._nodes[name]

    def _node_labelled(self, selector: str) -> str:
        # Never cached: such nodes come and go during a run (Karpenter launches them).
        found = get_json(self.cluster, "nodes", "-l", selector) or {}
        names = sorted(item["metadata"]["name"] for item in found.get("items") or [])
        if len(names) != 1:
            listed = f": {', '.join(names)}" if names else ""
            raise StepFailed(
                f"${{node:{selector}}} needs exactly one such node, found {len(names)}{listed}"
            )
        return names[0]


class Session:
    """One unit's namespace and everything it applied, to delete again in reverse order."""

    def __init__(self, ctx: RunContext, label: str) -> None:
        self.ctx, self.cluster = ctx, ctx.cluster
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:40].strip("-") or "unit"
        self.namespace = f"kdocs-{slug}-{secrets.token_hex(3)}"
        self.created: list[tuple[str, str, str | None]] = []  # (resource, name, namespace)
        self.seen: list[dict[str, Any]] = []  # objects the last assertion looked at
        self.named: list[str] = []  # namespaces the unit's files name themselves
        self.opened = False

    def open(self) -> None:
        manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {
            "name": self.namespace,
            "labels": {RUN_LABEL: self.ctx.run_id, MANAGED_BY[0]: MANAGED_BY[1]},
            # Who to ask whether the run still lives, should it be killed (SIGKILL).
            "annotations": owner_annotations(),
        }}  # fmt: skip
        # Pods are refused until the namespace's default ServiceAccount exists: sent with the
        # namespace, not polled for. Our own objects: no validation (its OpenAPI parse ~2/3 CPU).
        account = {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "default", "namespace": self.namespace}}  # fmt: skip
        self.opened = True  # before sending: an interrupted create is still deleted
        apply_own(self.cluster, [manifest, account])

    def pause(self, seconds: float) -> None:
        if self.ctx.cancel.wait(seconds):
            raise Cancelled()

    def substitute(self, value: Any) -> Any:
        """The variables of kdocs.scenario.variables in every string of `value`."""
        if isinstance(value, dict):
            return {k: self.substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        if isinstance(value, str) and "${" in value:
            return variables.KNOWN.sub(self._value_of, value)
        return value

    def _value_of(self, found: re.Match[str]) -> str:
        kind, ref = found.group("kind"), found.group("ref")
        if kind == variables.NODE:
            return self.ctx.node(ref)
        if kind == variables.POD:
            return self._pod_labelled(ref)
        return self.namespace

    def _pod_labelled(self, selector: str) -> str:
        """`${pod:KEY=VALUE}`: the one pod of this unit so labelled now (names are generated)."""
        names: list[str] = []
        for space in self.namespaces():
            found = get_json(self.cluster, "pods", "-n", space, "-l", selector) or {}
            names += sorted(str(item["metadata"]["name"]) for item in found.get("items") or [])
        if len(names) != 1:
            found = f"{len(names)}{': ' if names else ''}{', '.join(names)}"
            raise StepFailed(f"${{pod:{selector}}} needs exactly one such pod, found {found}")
        return names[0]

    def where(self, doc: dict[str, Any]) -> str:
        """The namespace `doc` goes to: the one it names, else the unit's own."""
        return str(self.substitute((doc.get("metadata") or {}).get("namespace") or self.namespace))

    def namespaces(self) -> list[str]:
        return [self.namespace, *self.named]

    def enter(self, namespace: str) -> None:
        """Take this unit's turn on a namespace a file names (see kdocs.cluster.namespaces)."""
        if namespace in self.named:
            return
        self.named.append(namespace)
        labels = {RUN_LABEL: self.ctx.run_id, OWNER_LABEL: self.namespace}
        run = lambda *args, **options: kubectl(self.cluster, *args, **options)  # noqa: E731
        problem = namespaces.enter(self, namespace, run, labels)
        if problem:
            raise StepFailed(problem)

    def located(self, resource: str, name: str) -> str | None:
        """The namespace this unit applied resource/name into, if it did."""
        return next((ns for r, n, ns in reversed(self.created) if (r, n) == (resource, name)), None)

    def track(self, resource: str, name: str, namespace: str | None) -> None:
        entry = (resource, name, namespace)
        if entry in self.created:
            self.created.remove(entry)
        self.created.append(entry)

    def apply(self, payloads: list[Payload], dry_run: bool = False) -> str | None:
        """Server-side apply in install order, each object into the namespace it names (else
        the unit's); the API server's reason when it refuses.

        A document's own bytes are sent as they are when nothing in them must change
        (no `${...}`); the owner label is then added (outside the unit's namespace) by
        a second apply under a field manager of its own, which never touches the
        snippet's fields. Anything else is sent as the one reader's JSON, labelled.
        kubectl refuses a document naming a namespace other than `-n`, so consecutive
        documents bound for one namespace go in one call, in install order.
        """
        batches: list[tuple[str, list[str]]] = []  # (namespace for -n, documents)
        for payload in ordered(payloads, lambda p: p.objects[0].get("kind") if p.objects else None):
            if payload.text is not None and not variables.KNOWN.search(payload.text):
                target, text = self._prepare(list(payload.objects), dry_run), payload.text
                texts = [text]
            else:
                docs = self.substitute(list(payload.objects))
                target = self._prepare(docs, dry_run, label=True)
                texts = [as_json(doc) for doc in docs]
            if batches and batches[-1][0] == target:
                batches[-1][1].extend(texts)
            else:
                batches.append((target, texts))
        for target, texts in batches:
            done = kubectl(
                self.cluster, "apply", "--server-side", "--field-manager=kdocs", "-n", target,
                *(["--dry-run=server"] if dry_run else []), "-o", "json", "-f", "-",
                input=payload_stream(texts), timeout=120,
            )  # fmt: skip
            if not dry_run:
                applied = self._track_applied(done.stdout)
                unlabelled = [i for i in applied if _unowned(i, self.namespace)]
                if unlabelled:
                    self._label(unlabelled)
            if done.returncode:
                return reason(done.stderr)
        return None

    def _prepare(self, docs: list[dict[str, Any]], dry_run: bool, label: bool = False) -> str:
        """Track (and, for JSON, label and place) the objects of one document; its namespace.

        Namespaces it names are entered (made for the run when the cluster lacks them).
        """
        target = self.namespace
        for doc in docs:
            meta = doc.setdefault("metadata", {}) if label else (doc.get("metadata") or {})
            if not isinstance(meta, dict):
                continue
            if label and doc.get("kind") != "Namespace":  # `enter` labels the namespaces it makes
                meta.setdefault("labels", {})[OWNER_LABEL] = self.namespace
            found = self.ctx.api.lookup(str(doc.get("apiVersion")), str(doc.get("kind")))
            namespace = None
            if found is not None and found.namespaced:
                namespace = target = self.where(doc)
                if label:
                    meta["namespace"] = namespace
                if namespace != self.namespace:
                    self.enter(namespace)
            if (doc.get("kind"), doc.get("apiVersion")) == ("Namespace", "v1") and meta.get("name"):
                self.enter(str(meta["name"]))  # made (and deleted) only when the cluster lacks it
            elif found is not None and meta.get("name") and not dry_run:
                self._track_claims(doc, namespace)  # deleted after the StatefulSet, before volumes
                self.track(found.arg, str(meta["name"]), namespace)
        return target

    def _track_claims(self, doc: dict[str, Any], namespace: str | None) -> None:
        """The claims a StatefulSet makes: they outlive it and hold their volumes."""
        if doc.get("kind") != "StatefulSet":
            return
        for name in statefulset_claims(doc.get("spec") or {}, str(doc["metadata"]["name"])):
            self.track("persistentvolumeclaims", name, namespace)

    def _label(self, items: list[dict[str, Any]]) -> None:
        """Owner-label what was applied from its own bytes (cleanup finds it); our labels only."""
        done = kubectl(
            self.cluster, "apply", "--server-side", f"--field-manager={OWNER_FIELD_MANAGER}",
            "--validate=false", "-o", "name", "-f", "-", timeout=120,
            input=owner_labels(items, OWNER_LABEL, self.namespace),
        )  # fmt: skip
        if done.returncode:
            raise StepFailed(f"labelling what was applied: {reason(done.stderr)}")

    def _track_applied(self, stdout: str) -> list[dict[str, Any]]:
        """Objects the API server made (generateName, kinds unknown before this apply)."""
        try:
            answer = json.loads(stdout) if stdout.strip() else {}
        except ValueError:
            return []
        items = answer.get("items", [answer]) if answer.get("kind") == "List" else [answer]
        items = [item for item in items if isinstance(item, dict) and item.get("kind")]
        for item in items:
            meta = item.get("metadata") or {}
            found = self.ctx.api.lookup(str(item.get("apiVersion")), str(item.get("kind")))
            if found is None or not meta.get("name") or item.get("kind") == "Namespace":
                continue  # a namespace is deleted only when `enter` made it
            entry = (found.arg, meta["name"], meta.get("namespace"))
            if entry not in self.created:  # tracked before sending: keep that order
                self.track(*entry)
        return items

    def select(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        """The live objects `obj` designates: by name, else by labels (else all of its kind)."""
        resource = self.ctx.api.resource(obj)
        meta = obj.get("metadata") or {}
        spaces: list[str | None] = [None]
        if resource.namespaced:  # where the objects really are: named, applied, else anywhere ours
            named = meta.get("namespace") or self.located(resource.arg, str(meta.get("name")))
            spaces = [named] if named else list(self.namespaces())
        labels = meta.get("labels") or {}
        selector = ",".join(f"{k}={v}" if v is not None else f"!{k}" for k, v in labels.items())
        items: list[dict[str, Any]] = []
        for space in spaces:
            where = ["-n", space] if space else []
            if meta.get("name"):
                found = get_json(self.cluster, resource.arg, meta["name"], *where)
                if found:
                    return [found]
                continue
            found = get_json(
                self.cluster, resource.arg, *where, *(["-l", selector] if selector else [])
            )
            items += (found or {}).get("items") or []
        return items

    def delete(self, obj: dict[str, Any], timeout: float) -> None:
        """Delete and wait until it and its dependents are gone (foreground cascade)."""
        resource = self.ctx.api.resource(obj)
        meta = obj.get("metadata") or {}
        named = meta.get("namespace") or self.located(resource.arg, str(meta.get("name")))
        where = ["-n", named or self.namespace] if resource.namespaced else []
        done = kubectl(
            self.cluster, "delete", resource.arg, str(meta.get("name")), *where,
            "--cascade=foreground", "--wait=true", f"--timeout={max(1, int(timeout))}s",
            timeout=timeout + 30,
        )  # fmt: skip
        if done.returncode:
            raise StepFailed(reason(done.stderr))

    def close(self) -> list[str]:
        """Delete what was applied, newest first, and the namespace; never raises.

        Each object in the foreground, waited for (its pods are gone when this returns:
        an exclusive unit may come next), neighbours of one kind and namespace together.
        NodePools (until Karpenter taints their nodes) and the namespace go first: both
        end after a fixed 5 s (MinDrainTime; namespaceDeletionGracePeriod), run meanwhile.
        """
        if self.ctx.unhealthy:  # a dead cluster answers nothing; the next run sweeps this one
            return [self.ctx.unhealthy] if self.opened else []
        problems: list[str] = []
        newest_first, stop = list(reversed(self.created)), self.ctx.cancel
        nodepools = [entry for entry in newest_first if karpenter.drains(entry[0])]
        for resource, names, _ in _runs_of_one_kind(nodepools):  # cluster-scoped
            args = ["delete", resource, *names, "--ignore-not-found", "--cascade=background"]
            problems += self._quietly([*args, "--wait=true", "--timeout=60s"])
            problems += filter(None, [karpenter.await_cordoned(self.cluster, names, stop=stop)])
        if self.opened:
            delete = partial(delete_own, self.cluster, "namespaces", self.namespace)
            problems += _reported(f"delete namespace {self.namespace}", delete)
        rest = [entry for entry in newest_first if entry not in nodepools]
        for resource, names, namespace in _runs_of_one_kind(rest):
            args = ["delete", resource, *names, "--ignore-not-found", "--cascade=foreground"]
            args += ["--wait=true", "--timeout=60s", *(["-n", namespace] if namespace else [])]
            problems += self._quietly(args)
        return problems

    def _quietly(self, args: list[str], timeout: float = 90) -> list[str]:
        def run() -> None:
            done = kubectl(self.cluster, *args, timeout=timeout)
            if done.returncode:
                raise StepFailed(reason(done.stderr))

        return _reported(" ".join(args[:3]), run)


def _reported(what: str, action: Callable[[], None]) -> list[str]:
    """A cleanup action's failure as one line of the report: the cleanup goes on."""
    try:
        action()
    except ClusterUnavailableError as error:
        return [str(error)]
    except Cancelled:
        return [f"{what}: kubectl was interrupted"]
    except StepFailed as error:
        return [f"{what}: {error}"]
    return []


def _runs_of_one_kind(
    created: Iterable[tuple[str, str, str | None]],
) -> list[tuple[str, list[str], str | None]]:
    """Consecutive entries of one resource and namespace merged; the order is kept."""
    runs: list[tuple[str, list[str], str | None]] = []
    for resource, name, namespace in created:
        if runs and runs[-1][0] == resource and runs[-1][2] == namespace:
            runs[-1][1].append(name)
        else:
            runs.append((resource, [name], namespace))
    return runs


def _unowned(item: dict[str, Any], own: str) -> bool:
    """Whether `item` needs the owner label: it is not in namespace `own` (the sweep of a
    killed run deletes that with its contents), not a namespace, and not labelled yet."""
    meta, kind = item.get("metadata") or {}, item.get("kind")
    labels = meta.get("labels") or {}
    return meta.get("namespace") != own and kind != "Namespace" and OWNER_LABEL not in labels
