"""Fragments: snippets that are only part of a manifest, such as Helm values.

A fragment `x.yaml` has a sidecar `x.embed.yaml` saying where it goes:

    at: spec.template.spec      # dotted path inside the host manifest
    into: {apiVersion: ..., kind: ..., ...}   # the host manifest

The fragment's mapping is deep-merged at `at` (fragment keys win), the way a
chart renders its values into a pod spec. The schema stage validates the
result and the cluster stage applies it, so the fragment is tested in the
context a reader will use it in. Both read it here, through the one reader, so
they see the same object; errors still point at real lines: a node that comes
from the fragment at the fragment's own line, a node of the host at the
sidecar's line.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.errors import InvalidInputError, KdocsError, Location
from kdocs.resource.limits import DEFAULT_LIMITS, Limits
from kdocs.resource.manifest import Document, ManifestFile, read_manifests, read_yaml
from kdocs.resource.positions import JsonPath, Positions
from kdocs.resource.sidecars import spec_path


@dataclass(frozen=True)
class EmbedSpec:
    source: Path  # the sidecar file
    name: str  # what messages call the sidecar
    at: tuple[str, ...]
    into: dict[str, Any]
    positions: Positions


@dataclass(frozen=True)
class EmbeddedDocument(Document):
    """The host manifest with a fragment merged in; locations go to the right file."""

    at: tuple[str, ...] = ()
    fragment: Any = None
    spec_file: str = ""
    spec_positions: Positions | None = None
    obj_from_spec: Any = None  # the sidecar's `into`, before the fragment was merged

    def location(self, path: JsonPath, *, key: bool = False) -> Location:
        path = tuple(path)
        depth = len(self.at)
        rel = path[depth:]
        from_host = self.spec_positions is not None and _has(self.obj_from_spec, path)
        if path[:depth] == self.at and (_has(self.fragment, rel) or not from_host):
            line, col = self.positions.key(rel) if key else self.positions.value(rel)
            return Location(self.file, line, col)
        if self.spec_positions is None:
            return Location(self.spec_file)
        full = ("into", *path)
        line, col = self.spec_positions.key(full) if key else self.spec_positions.value(full)
        return Location(self.spec_file, line, col)


def load_spec(
    fragment: Path, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None
) -> EmbedSpec | None:
    """Read the sidecar of `fragment`; None when the snippet is a whole manifest.

    `name` is what messages call the fragment; the sidecar is named beside it.
    """
    sidecar = spec_path(fragment)
    if sidecar is None:
        return None
    spec_name = str(Path(str(fragment) if name is None else name).with_name(sidecar.name))
    specs = read_yaml(sidecar, limits, name=spec_name)
    raw, positions = specs[0] if specs else (None, Positions())
    if not isinstance(raw, dict) or not isinstance(raw.get("into"), dict):
        raise InvalidInputError(Location(spec_name), "an embed spec needs a mapping `into`")
    at = raw.get("at")
    if not isinstance(at, str) or not at:
        raise InvalidInputError(Location(spec_name), "an embed spec needs a dotted path `at`")
    return EmbedSpec(sidecar, spec_name, tuple(at.split(".")), raw["into"], positions)


def embed(spec: EmbedSpec, fragment: Any, fragment_name: str = "fragment") -> dict[str, Any]:
    """The host manifest with `fragment` merged in at `spec.at`."""
    if not isinstance(fragment, dict):
        raise InvalidInputError(Location(fragment_name), "a fragment must be a mapping")
    host = copy.deepcopy(spec.into)
    target = host
    for key in spec.at:
        nxt = target.setdefault(key, {})
        if not isinstance(nxt, dict):
            raise InvalidInputError(
                Location(spec.name), f"`at` crosses {key!r}, which is not a mapping"
            )
        target = nxt
    _merge(target, fragment)
    return host


def read_snippet(
    path: Path, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None
) -> ManifestFile:
    """A snippet's documents: its own, or for a fragment the embedded host manifest.

    Never raises for bad input: problems land in `.errors`, like `read_manifests`.
    """
    name = str(path) if name is None else name
    if spec_path(path) is None:
        return read_manifests(path, limits, name=name)
    try:
        return ManifestFile(name, [_embedded(path, name, limits)], [])
    except KdocsError as err:
        return ManifestFile(name, [], [err])


def _embedded(path: Path, name: str, limits: Limits) -> EmbeddedDocument:
    spec = load_spec(path, limits, name=name)
    assert spec is not None  # read_snippet checked that the sidecar exists
    fragments = read_yaml(path, limits, name=name)
    if len(fragments) != 1:
        raise InvalidInputError(Location(name), "a fragment must be exactly one YAML document")
    fragment, positions = fragments[0]
    host = embed(spec, fragment, name)
    for field_name in ("apiVersion", "kind"):
        if not isinstance(host.get(field_name), str):
            raise InvalidInputError(Location(spec.name), f"`into` needs {field_name}")
    return EmbeddedDocument(
        file=name,
        index=0,
        prefix=(),
        obj=host,
        positions=positions,
        lines=(1, 1),
        at=spec.at,
        fragment=fragment,
        spec_file=spec.name,
        spec_positions=spec.positions,
        obj_from_spec=spec.into,
    )


def _has(value: Any, path: JsonPath) -> bool:
    """Does `path` exist in `value`?"""
    for part in path:
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_list or (isinstance(value, dict) and part in value)):
            return False
        value = value[part]
    return True


def _merge(target: dict[str, Any], overlay: dict[str, Any]) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
