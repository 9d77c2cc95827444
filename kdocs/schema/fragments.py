"""Fragments (see `kdocs.embed`): validate a fragment merged into its host manifest.

A fragment such as Helm values is not a Kubernetes object, so it is validated
the way a reader uses it: merged at ``at`` into the sidecar's ``into``.  Errors
still point at real lines: a node that comes from the fragment at the
fragment's own line, a node of the host at the sidecar's line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.embed import EmbedSpec, embed, spec_path
from kdocs.errors import InvalidInputError, KdocsError, Location
from kdocs.manifest import (
    DEFAULT_LIMITS,
    Document,
    JsonPath,
    Limits,
    ManifestFile,
    Positions,
    read_manifests,
    read_yaml,
)


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


def _has(value: Any, path: JsonPath) -> bool:
    """Does `path` exist in `value`?"""
    for part in path:
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_list or (isinstance(value, dict) and part in value)):
            return False
        value = value[part]
    return True


def read_snippet(
    path: Path, limits: Limits = DEFAULT_LIMITS, *, name: str | None = None
) -> ManifestFile:
    """A snippet's documents: its own, or for a fragment the embedded host manifest."""
    name = str(path) if name is None else name
    sidecar = spec_path(path)
    if sidecar is None:
        return read_manifests(path, limits, name=name)
    spec_name = str(Path(name).with_name(sidecar.name))
    try:
        return ManifestFile(name, [_embedded(path, name, sidecar, spec_name, limits)], [])
    except KdocsError as err:
        return ManifestFile(name, [], [err])


def _embedded(
    path: Path, name: str, sidecar: Path, spec_name: str, limits: Limits
) -> EmbeddedDocument:
    specs = read_yaml(sidecar, limits, name=spec_name)
    raw, spec_positions = specs[0] if specs else (None, Positions())
    if not isinstance(raw, dict) or not isinstance(raw.get("into"), dict):
        raise InvalidInputError(Location(spec_name), "an embed spec needs a mapping `into`")
    at = raw.get("at")
    if not isinstance(at, str) or not at:
        raise InvalidInputError(Location(spec_name), "an embed spec needs a dotted path `at`")
    spec = EmbedSpec(source=sidecar, at=tuple(at.split(".")), into=raw["into"])
    fragments = read_yaml(path, limits, name=name)
    if len(fragments) != 1:
        raise InvalidInputError(Location(name), "a fragment must be exactly one YAML document")
    fragment, positions = fragments[0]
    host = embed(spec, fragment, name)
    for field_name in ("apiVersion", "kind"):
        if not isinstance(host.get(field_name), str):
            raise InvalidInputError(Location(spec_name), f"`into` needs {field_name}")
    return EmbeddedDocument(
        file=name,
        index=0,
        prefix=(),
        obj=host,
        positions=positions,
        lines=(1, 1),
        at=spec.at,
        fragment=fragment,
        spec_file=spec_name,
        spec_positions=spec_positions,
        obj_from_spec=raw["into"],
    )
