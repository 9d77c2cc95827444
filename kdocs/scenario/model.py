"""The scenario format's model: the steps a scenario runs and the scenario itself.

A leaf (no kdocs stage imported): the site reads which snippets a scenario
covers, the cluster stage runs the steps, and the lint checks them, all from
these types. The format itself is described in `kdocs.scenario`.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Components a scenario may require (kdocs.cluster.base.Cluster.components).
COMPONENTS = ("karpenter",)


@dataclass(frozen=True)
class Apply:
    """Send documents with server-side apply: a file (maybe patched) or an inline object."""

    line: int
    file: Path | None = None
    patch: dict[str, Any] | None = None
    inline: dict[str, Any] | None = None
    rejected: str | None = None  # the apply must fail with a reason containing this

    def describe(self, root: Path) -> str:
        if self.file is None:
            return f"apply {describe_object(self.inline or {})}"
        patched = " (patched)" if self.patch is not None else ""
        refused = " (must be rejected)" if self.rejected is not None else ""
        return f"apply {display(self.file, root)}{patched}{refused}"


@dataclass(frozen=True)
class Expect:
    """`assert` (the state must appear in time) or `error` (it must not appear for a while)."""

    line: int
    object: dict[str, Any]
    timeout: float
    must_appear: bool
    count: int | None = None
    match: str | None = None  # "any" | "all"; None with count or a name
    during: float = 0.0  # assert only: once it holds, it must keep holding this long

    def describe(self, root: Path) -> str:
        verb = "assert" if self.must_appear else "error"
        how = f" count={self.count}" if self.count is not None else ""
        how += f" match={self.match}" if self.match else ""
        how += f" during={self.during:g}s" if self.during else ""
        return f"{verb} {describe_object(self.object)}{how}"


@dataclass(frozen=True)
class Delete:
    """Delete one object, or every object of a file, and wait until they are gone."""

    line: int
    timeout: float
    file: Path | None = None
    ref: dict[str, Any] | None = None  # apiVersion, kind, metadata.name (and namespace)

    def describe(self, root: Path) -> str:
        if self.file is not None:
            return f"delete {display(self.file, root)}"
        return f"delete {describe_object(self.ref or {})}"


Step = Apply | Expect | Delete


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    description: str
    exclusive: bool
    timeout: float
    steps: tuple[Step, ...]
    files: tuple[Path, ...] = field(default=())  # every file applied or deleted, in order
    requires: tuple[str, ...] = field(default=())  # components, e.g. ("karpenter",)

    def inputs(self, root: Path) -> dict[str, str]:
        """Content hashes of everything this scenario depends on (itself, files, embed specs)."""
        return file_hashes([self.path, *self.files], root)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: mappings merge, `null` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def describe_object(obj: dict[str, Any]) -> str:
    """`DaemonSet node-agent`, or `Pod (app=x)` for a label selection."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    kind = obj.get("kind", "?")
    if meta.get("name"):
        return f"{kind} {meta['name']}"
    labels = meta.get("labels") or {}
    selector = ",".join(f"{k}={v}" for k, v in labels.items())
    return f"{kind} ({selector})" if selector else f"{kind} (any)"


def display(path: Path, root: Path) -> str:
    """A path as messages show it: relative to the project root when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def file_hashes(paths: list[Path], root: Path) -> dict[str, str]:
    return {display(p, root): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
