"""The API server without a kubectl process: reads, discovery, kdocs' own namespaces.

A run polls the cluster a few hundred times (every assert, every Karpenter wait),
and a kubectl process costs ~0.1 s of CPU to start, load its kubeconfig and
discover the API: on 2 cores that was most of a run's CPU, and it slowed the
applies and controllers being observed. A request on a kept connection answers
in milliseconds. The same goes for the namespace each unit opens and deletes, and
for the run's list of kinds (`served_kinds`, what `kubectl api-resources` lists):
the discovery these requests need already holds it, so a run discovers once.

kubectl stays the oracle: a reader's snippet is only ever sent by kubectl, and
this path only takes what it makes exactly as kubectl would (the same URL from
the same discovery, lists reshaped the way `kubectl get -o json` prints them)
and declines everything else, so the caller runs kubectl:

* a kubeconfig it does not speak (exec plugins, auth providers, basic auth,
  impersonation, an HTTP proxy in the environment for a remote server);
* arguments other than `RESOURCE [NAME] [-n NS | -A] [-l SEL] [--field-selector=SEL]`,
  or a resource name discovery does not know (after one refresh);
* any answer but 200, or a 404 for the object asked by name (or deleted): errors
  keep kubectl's wording, and an unreachable server its exit code (2).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from kdocs.cluster.base import ClusterUnavailableError

# Seconds a request may take before the API server is called unreachable, as kubectl's calls.
TIMEOUT = 30.0

_VALUED = {"-n": "n", "--namespace": "n", "-l": "l", "--selector": "l"}
APPLY_PATCH = "application/apply-patch+yaml"  # JSON is YAML: the body is sent as JSON


class LeftToKubectl(Exception):
    """This read or write is kubectl's to make (see the module docstring)."""


@dataclass(frozen=True)
class Query:
    """`kubectl get RESOURCE [NAME] [-n NS | -A] [-l SEL] [--field-selector=SEL]`."""

    resource: str
    name: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    labels: str | None = None
    fields: str | None = None

    @classmethod
    def parse(cls, args: tuple[str, ...]) -> Query | None:
        """The query of kubectl get's arguments (without `get` and `-o json`), or None when
        they say anything else."""
        words: list[str] = []
        options: dict[str, str] = {}
        all_namespaces, rest = False, list(args)
        while rest:
            arg = rest.pop(0)
            if arg in _VALUED and rest:
                options[_VALUED[arg]] = rest.pop(0)
            elif arg.startswith("--field-selector="):
                options["f"] = arg.partition("=")[2]
            elif arg in ("-A", "--all-namespaces"):
                all_namespaces = True
            elif arg.startswith("-") or "/" in arg or not arg:
                return None
            else:
                words.append(arg)
        if not 1 <= len(words) <= 2 or (all_namespaces and "n" in options):
            return None
        return cls(
            words[0], words[1] if len(words) == 2 else None, options.get("n"), all_namespaces,
            options.get("l"), options.get("f"),
        )  # fmt: skip


@dataclass(frozen=True)
class _Kind:
    group_version: str  # "v1", "apps/v1"
    plural: str
    kind: str
    namespaced: bool

    def path(self, namespace: str | None) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        where = f"/namespaces/{quote(namespace, safe='')}" if namespace else ""
        return f"{base}{where}/{self.plural}"


class DirectClient:
    """Requests to one cluster's API server with its kubeconfig's credentials."""

    def __init__(self, server: str, context: ssl.SSLContext | None, headers: dict[str, str],
                 default_namespace: str) -> None:  # fmt: skip
        split = urlsplit(server)
        self._https = split.scheme == "https"
        self._host, self._port = split.hostname or "", split.port
        self._prefix = split.path.rstrip("/")
        self._tls, self._headers = context, {"Accept": "application/json", **headers}
        self.default_namespace = default_namespace
        self._local = threading.local()
        self._lock = threading.Lock()
        self._core: dict[str, dict[str, Any]] | None = None
        self._groups: dict[str, tuple[str, list[str]]] | None = None  # group -> preferred, all
        self._versions: dict[str, list[dict[str, Any]]] = {}

    def get(self, query: Query) -> dict[str, Any] | None:
        """What `kubectl get ... -o json` prints for `query`, None when the named object is
        not found; LeftToKubectl when kubectl must answer."""
        with _shaped():
            return self._get(query)

    def _get(self, query: Query) -> dict[str, Any] | None:
        kind = self._kind(query.resource)
        namespace = None
        if kind.namespaced and not query.all_namespaces:
            namespace = query.namespace or self.default_namespace
        path = kind.path(namespace)
        if query.name is not None:
            path += "/" + quote(query.name, safe="")
        params = {key: value for key, value in (("labelSelector", query.labels),
                  ("fieldSelector", query.fields)) if value}  # fmt: skip
        status, body = self._request(path + ("?" + urlencode(params) if params else ""))
        if status == 404 and query.name is not None and _names(body, query.name):
            return None
        if status != 200:
            raise LeftToKubectl(f"GET {path}: {status}")
        found = _json(body)
        if query.name is not None:
            return _printed(found)
        # As kubectl prints a list: each item says its apiVersion and kind.
        items = [_printed({"apiVersion": kind.group_version, "kind": kind.kind, **item})
                 for item in found.get("items") or []]  # fmt: skip
        return {"apiVersion": "v1", "items": items, "kind": "List",
                "metadata": {"resourceVersion": ""}}  # fmt: skip

    def _kind(self, resource: str) -> _Kind:
        return self._looked_up(lambda: self._resolve(resource), f"resource {resource!r}")

    def _kind_named(self, api_version: str, kind: str) -> _Kind:
        """The resource discovery lists for `kind` in `api_version`."""
        return self._looked_up(lambda: self._of_kind(api_version, kind), f"{kind} in {api_version}")

    def _looked_up(self, lookup: Callable[[], _Kind | None], what: str) -> _Kind:
        """`lookup`'s answer from discovery, read again once if it has none."""
        for fresh in (False, True):
            with self._lock:
                self._discovered(fresh)
                found = lookup()
            if found is not None:
                return found
        raise LeftToKubectl(f"{what} not in discovery")

    def _resolve(self, resource: str) -> _Kind | None:
        """kubectl's reading of `plural[.version.group | .group]`, for the forms kdocs uses;
        a bare name is the core group's (kubectl prefers it too) or not taken."""
        core, groups = self._discovered(False)
        name, _, rest = resource.partition(".")
        if not rest:
            entry = _find(core.values(), name)
            return _Kind("v1", entry["name"], entry["kind"], entry["namespaced"]) if entry \
                else None  # fmt: skip
        version, _, group = rest.partition(".")
        if group not in groups or version not in groups[group][1]:
            if rest not in groups:
                return None
            version, group = groups[rest][0], rest
        group_version = f"{group}/{version}"
        entry = _find(self._listed(group_version), name)
        if entry is None:
            return None
        return _Kind(group_version, entry["name"], entry["kind"], entry["namespaced"])

    def _of_kind(self, api_version: str, kind: str) -> _Kind | None:
        """The resource of `kind` in `api_version`, as discovery lists it."""
        group, _, version = api_version.rpartition("/")
        _, groups = self._discovered(False)
        if group and (group not in groups or version not in groups[group][1]):
            return None
        for entry in self._listed(api_version):
            if entry.get("kind") == kind:
                return _Kind(api_version, entry["name"], kind, entry["namespaced"])
        return None

    def served_kinds(self) -> dict[tuple[str, str], tuple[str, bool]]:
        """(group, kind) -> (resource, namespaced) of every served kind, from its group's
        preferred version where it has it: what `kubectl api-resources` lists
        (`kdocs.cluster.kube.ApiCatalog`)."""
        with _shaped(), self._lock:
            core, groups = self._discovered(True)
            kinds = {("", r["kind"]): (r["name"], r["namespaced"]) for r in core.values()}
            for group, (preferred, versions) in groups.items():
                # kubectl's preferred resources: a kind the preferred version lacks
                # (karpenter.sh's NodeOverlay, v1alpha1 only) comes from another one
                for version in [preferred, *(v for v in versions if v != preferred)]:
                    for entry in self._listed(f"{group}/{version}"):
                        served = (entry["name"], entry["namespaced"])
                        kinds.setdefault((group, entry["kind"]), served)
        return kinds

    def _discovered(
        self, fresh: bool
    ) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, list[str]]]]:
        """The core group's resources by name, and each group's preferred and served
        versions; read again when `fresh` (a kind met that discovery did not list)."""
        if fresh or self._core is None or self._groups is None:
            self._core = {r["name"]: r for r in self._resources("/api/v1")}
            listed = _json(self._expect("/apis")).get("groups") or []
            self._groups = {
                g["name"]: (g["preferredVersion"]["version"],
                            [v["version"] for v in g.get("versions") or []])
                for g in listed
            }  # fmt: skip
            self._versions.clear()
        return self._core, self._groups

    def _listed(self, group_version: str) -> list[dict[str, Any]]:
        """The resources of one served group version ("v1" is the core group)."""
        if group_version == "v1":
            return list((self._core or {}).values())
        if group_version not in self._versions:
            self._versions[group_version] = self._resources(f"/apis/{group_version}")
        return self._versions[group_version]

    def _resources(self, path: str) -> list[dict[str, Any]]:
        listed = _json(self._expect(path)).get("resources") or []
        return [r for r in listed if "/" not in str(r.get("name", ""))]

    def _expect(self, path: str) -> bytes:
        status, body = self._request(path)
        if status != 200:
            raise LeftToKubectl(f"GET {path}: {status}")
        return body

    def apply_own(self, objects: list[dict[str, Any]]) -> None:
        """Server-side apply of kdocs' own objects (a unit's namespace and its account), as
        `kubectl apply --server-side --field-manager=kdocs --validate=false` sends them."""
        with _shaped():
            for obj in objects:
                self._apply_one(obj)

    def _apply_one(self, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        kind = self._kind_named(obj["apiVersion"], obj["kind"])
        path = kind.path(meta.get("namespace") if kind.namespaced else None)
        options = urlencode({"fieldManager": "kdocs", "fieldValidation": "Ignore"})
        path += f"/{quote(meta['name'], safe='')}?{options}"
        status, _ = self._request(path, "PATCH", json.dumps(obj).encode(), APPLY_PATCH)
        if status not in (200, 201):
            raise LeftToKubectl(f"PATCH {path}: {status}")

    def delete_own(self, resource: str, name: str) -> None:
        """`kubectl delete RESOURCE NAME --ignore-not-found --wait=false` of a cluster-scoped
        object kdocs made (a unit's namespace): its dependents go in the background. One
        already being deleted is fine too (kubectl would report the API server's Conflict)."""
        with _shaped():
            self._delete_one(resource, name)

    def _delete_one(self, resource: str, name: str) -> None:
        path = self._kind(resource).path(None) + "/" + quote(name, safe="")
        body = json.dumps({"kind": "DeleteOptions", "apiVersion": "v1",
                           "propagationPolicy": "Background"}).encode()  # fmt: skip
        status, answer = self._request(path, "DELETE", body, "application/json")
        if status in (200, 202) or (status == 404 and _names(answer, name)):
            return
        if status == 409:  # deleted already, its contents still going: what was asked
            found = self.get(Query(resource, name))
            if found is None or (found.get("metadata") or {}).get("deletionTimestamp"):
                return
        raise LeftToKubectl(f"DELETE {path}: {status}")

    def _request(
        self, path: str, method: str = "GET", body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, bytes]:
        """One request on this thread's connection; a connection found closed before an
        answer is opened again once (each request here may be repeated: GETs, an apply of
        the same object, a delete that ignores not-found)."""
        headers = {**self._headers, "Content-Type": content_type} if content_type else \
            self._headers  # fmt: skip
        for attempt in (0, 1):
            connection = getattr(self._local, "connection", None)
            if connection is None or attempt:
                connection = self._connect()
            try:
                connection.request(method, self._prefix + path, body=body, headers=headers)
                answer = connection.getresponse()
                return answer.status, answer.read()
            except TimeoutError:
                self._drop(connection)
                raise ClusterUnavailableError(
                    None, f"the API server did not answer {method} {path} within {TIMEOUT:.0f}s"
                ) from None
            except (OSError, http.client.HTTPException):
                self._drop(connection)
        raise LeftToKubectl(f"{method} {path}: no connection")  # kubectl then says why

    def _connect(self) -> http.client.HTTPConnection:
        connection = (
            http.client.HTTPSConnection(self._host, self._port, timeout=TIMEOUT, context=self._tls)
            if self._https
            else http.client.HTTPConnection(self._host, self._port, timeout=TIMEOUT)
        )
        self._local.connection = connection
        return connection

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None


@contextlib.contextmanager
def _shaped() -> Iterator[None]:
    """An answer not shaped as the API's (an aggregated server's own): kubectl reads it."""
    try:
        yield
    except (KeyError, TypeError, AttributeError) as error:
        raise LeftToKubectl(f"an unexpected answer ({error!r})") from None


def _printed(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as `kubectl get -o json` prints it: without managedFields (--show-managed-fields)."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return obj


def _find(resources: Any, name: str) -> dict[str, Any] | None:
    for entry in resources:
        if name in (entry.get("name"), entry.get("singularName")):
            return entry
    return None


def _json(body: bytes) -> dict[str, Any]:
    try:
        found = json.loads(body)
    except ValueError:
        raise LeftToKubectl("an answer that is not JSON") from None
    if not isinstance(found, dict):
        raise LeftToKubectl("an answer that is not a JSON object")
    return found


def _names(body: bytes, name: str) -> bool:
    """Whether a 404's Status is about the object `name` (not a resource type the server lacks)."""
    try:
        status = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(status, dict)
        and status.get("reason") == "NotFound"
        and (status.get("details") or {}).get("name") == name
    )
