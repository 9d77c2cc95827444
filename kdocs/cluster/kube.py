"""kubectl access: the API server's kinds, its answers as one line, its events.

A failed check is only useful when it carries the reason the API server or a
controller gave ("FailedCreate: ... no PriorityClass with name x was found"),
so every call to the cluster goes through `kubectl` here, which also tells an
interrupted or unreachable cluster apart from an answer about a snippet. Reads
(`get_json`), and the namespace each unit opens and deletes (`apply_own`,
`delete_own`), go straight to the API server when `kdocs.cluster.direct` can make
them exactly as kubectl would, and to kubectl otherwise.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.cluster.base import Cluster, ClusterUnavailableError
from kdocs.cluster.connect import client_for
from kdocs.cluster.direct import LeftToKubectl, Query
from kdocs.cluster.model import Cancelled, StepFailed
from kdocs.cluster.payload import payload_stream

_SERVER_PREFIX = re.compile(r"^Error from server(?: \([A-Za-z]+\))?: ")
# kubectl could not talk to the API server at all (or was not let in): no verdict on a snippet.
_UNREACHABLE = re.compile(
    r"connection refused|Unable to connect to the server|The connection to the server"
    r"|no route to host|i/o timeout|TLS handshake timeout|connection reset by peer|dial tcp"
    r"|unable to read client-(?:key|cert)|unable to load root certificates|x509: "
    r"|provide credentials|the server is currently unable to handle the request"
)
_CLIENT_PREFIX = re.compile(r'^error when [a-z]+ [^:]*"STDIN": ')


# When each cluster (by kubeconfig) last stored a write: its API server and etcd answered.
_written: dict[Path, float] = {}


def wrote_within(cluster: Cluster, seconds: float) -> bool:
    """Whether an apply or create to `cluster` succeeded in the last `seconds` (etcd took it),
    which the health probe counts as a passed /readyz instead of starting one more kubectl."""
    return time.monotonic() - _written.get(cluster.kubeconfig, float("-inf")) < seconds


def kubectl(cluster: Cluster, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """`cluster.kubectl`, but a kubectl killed by a signal (Ctrl-C reaches it too) cancels,
    and an unreachable API server is a ClusterUnavailableError (exit code 2).

    Without this, an interrupted run or a dead cluster would read as the API
    server's answer and record a failure that never happened.
    """
    done = cluster.kubectl(*args, **options)
    if (
        done.returncode == 0
        and args[:1] in (("apply",), ("create",))
        and not any(arg.startswith("--dry-run") for arg in args)
    ):
        _written[cluster.kubeconfig] = time.monotonic()
    if done.returncode < 0:
        raise Cancelled()
    if done.returncode and (_UNREACHABLE.search(done.stderr) or not cluster.kubeconfig.exists()):
        # Not the API server's answer about a snippet: nothing may be recorded from it.
        raise ClusterUnavailableError(None, f"the API server is unreachable: {reason(done.stderr)}")
    return done


@dataclass(frozen=True)
class Resource:
    """How kubectl names a kind (`daemonsets.v1.apps`), and whether it lives in a namespace."""

    arg: str
    namespaced: bool


class ApiCatalog:
    """The cluster's kinds, as `kubectl api-resources` lists them (from the direct client's
    discovery where it speaks the kubeconfig), read again when a kind is unknown."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._lock = threading.Lock()
        self._kinds: dict[tuple[str, str], tuple[str, bool]] | None = None

    def _load(self) -> dict[tuple[str, str], tuple[str, bool]]:
        client = client_for(self.cluster)
        if client is not None:  # the discovery the direct reads use: no second one
            try:
                return client.served_kinds()
            except LeftToKubectl:
                pass
        done = kubectl(self.cluster, "api-resources", "--no-headers", timeout=60)
        kinds: dict[tuple[str, str], tuple[str, bool]] = {}
        for line in done.stdout.splitlines():
            parts = line.split()
            if len(parts) < 4 or parts[-2] not in ("true", "false"):
                continue
            name, api_version, namespaced, kind = parts[0], parts[-3], parts[-2], parts[-1]
            group = api_version.split("/")[0] if "/" in api_version else ""
            kinds[(group, kind)] = (name, namespaced == "true")
        if not kinds:
            raise ClusterUnavailableError(None, f"kubectl api-resources: {reason(done.stderr)}")
        return kinds

    def lookup(self, api_version: str, kind: str) -> Resource | None:
        """The resource of apiVersion/kind, or None when the API server does not serve it."""
        group, _, version = api_version.rpartition("/")
        with self._lock:
            for attempt in range(2):
                if self._kinds is None or attempt:
                    self._kinds = self._load()
                found = self._kinds.get((group, kind))
                if found is not None:
                    name, namespaced = found
                    arg = f"{name}.{version}.{group}" if group else name
                    return Resource(arg, namespaced)
        return None

    def resource(self, obj: dict[str, Any]) -> Resource:
        """Like lookup, but an unknown kind fails the step with the reason."""
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        found = self.lookup(api_version, kind)
        if found is None:
            raise StepFailed(
                f"the API server does not serve {kind} in {api_version} (is its CRD installed?)"
            )
        return found


def reason(stderr: str) -> str:
    """kubectl's error output as one line, without the `Error from server (X):` noise."""
    text, seen = "", set()
    for raw in stderr.splitlines():
        line = _CLIENT_PREFIX.sub("", _SERVER_PREFIX.sub("", raw.strip()))
        line = line.removeprefix("error: ").removeprefix("* ")
        if not line or line in seen:
            continue
        seen.add(line)
        text = f"{text} {line}" if text.endswith(":") else f"{text}; {line}" if text else line
    return text or "kubectl failed without a message"


def get_json(cluster: Cluster, *args: str) -> dict[str, Any] | None:
    """`kubectl get ... -o json`, None when not found; other failures fail the step."""
    query, client = Query.parse(args), client_for(cluster)
    if query is not None and client is not None:
        try:
            return client.get(query)
        except LeftToKubectl:
            pass  # kubectl answers, with its own wording
    done = kubectl(cluster, "get", *args, "-o", "json", timeout=30)
    if done.returncode != 0:
        if "(NotFound)" in done.stderr:
            return None
        raise StepFailed(reason(done.stderr))
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise StepFailed(f"kubectl get {' '.join(args)}: unreadable answer") from None


def apply_own(cluster: Cluster, objects: list[dict[str, Any]]) -> None:
    """Server-side apply kdocs' own objects (a unit's namespace and its account): directly
    when `kdocs.cluster.direct` can, else with kubectl, which raises on a refusal."""
    client = client_for(cluster)
    try:
        if client is not None:
            client.apply_own(objects)
            _written[cluster.kubeconfig] = time.monotonic()
            return
    except LeftToKubectl:
        pass
    texts = [json.dumps(obj) for obj in objects]
    kubectl(
        cluster, "apply", "--server-side", "--field-manager=kdocs", "--validate=false",
        "-o", "name", "-f", "-", check=True, input=payload_stream(texts),
    )  # fmt: skip


def delete_own(cluster: Cluster, resource: str, name: str) -> None:
    """Delete a cluster-scoped object kdocs made (a unit's namespace; missing is fine, its
    contents go in the background): directly when `kdocs.cluster.direct` can, else with
    kubectl, whose refusal raises StepFailed."""
    client = client_for(cluster)
    try:
        if client is not None:
            client.delete_own(resource, name)
            return
    except LeftToKubectl:
        pass
    done = kubectl(cluster, "delete", resource, name, "--ignore-not-found", "--wait=false",
                   timeout=90)  # fmt: skip
    if done.returncode:
        raise StepFailed(reason(done.stderr))


def get_json_or_none(cluster: Cluster, *args: str) -> dict[str, Any] | None:
    """`get_json`, but None for any failure too: for waits that poll again anyway."""
    try:
        return get_json(cluster, *args)
    except (StepFailed, ClusterUnavailableError, Cancelled):
        return None


def condition_entry(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The status condition of type `kind` (status, reason, message), if the object has it."""
    for item in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(item, dict) and item.get("type") == kind:
            return item
    return None


def condition(obj: dict[str, Any], kind: str) -> str | None:
    """The status ("True", "False", "Unknown") of the condition of type `kind`, if any."""
    return (condition_entry(obj, kind) or {}).get("status")


def condition_reason(entry: dict[str, Any]) -> str:
    """`Reason: message` of a condition, as one line."""
    return f"{entry.get('reason', entry.get('type', ''))}: {entry.get('message', '')}".rstrip(": ")


def events(cluster: Cluster, namespace: str | None, **field: str) -> list[dict[str, Any]]:
    """Events of a namespace (all namespaces when None), oldest first."""
    args = ["events", "-n", namespace] if namespace else ["events", "-A"]
    if field:
        args.append("--field-selector=" + ",".join(f"{k}={v}" for k, v in field.items()))
    try:
        found = get_json(cluster, *args)
    except StepFailed:
        return []
    items = (found or {}).get("items") or []
    return sorted(items, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))


def event_line(event: dict[str, Any]) -> str:
    """`Warning FailedCreate DaemonSet/x: message (x3)`."""
    involved = event.get("involvedObject") or {}
    count = event.get("count") or (event.get("series") or {}).get("count") or 1
    times = f" (x{count})" if count > 1 else ""
    what = f"{involved.get('kind')}/{involved.get('name')}"
    message = " ".join(str(event.get("message", "")).split())
    return f"{event.get('type', '')} {event.get('reason', '')} {what}: {message}{times}"
