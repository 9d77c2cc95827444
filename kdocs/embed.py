"""Fragments: snippets that are only part of a manifest, such as Helm values.

A fragment `x.yaml` has a sidecar `x.embed.yaml` saying where it goes:

    at: spec.template.spec      # dotted path inside the host manifest
    into: {apiVersion: ..., kind: ..., ...}   # the host manifest

The fragment's mapping is deep-merged at `at` (fragment keys win), the way a
chart renders its values into a pod spec. The schema stage validates the
result and the cluster stage applies it, so the fragment is tested in the
context a reader will use it in.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kdocs.catalog import EMBED_SUFFIXES
from kdocs.errors import InvalidInputError, Location


@dataclass(frozen=True)
class EmbedSpec:
    source: Path  # the sidecar file
    at: tuple[str, ...]
    into: dict[str, Any]


def spec_path(fragment: Path) -> Path | None:
    """The sidecar of `fragment`, if it has one."""
    stem = fragment.name.rsplit(".", 1)[0]
    for suffix in EMBED_SUFFIXES:
        candidate = fragment.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def load_spec(fragment: Path) -> EmbedSpec | None:
    """Read the sidecar of `fragment`; None when the snippet is a whole manifest."""
    path = spec_path(fragment)
    if path is None:
        return None
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise InvalidInputError(Location(str(path), line), f"invalid YAML: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("into"), dict):
        raise InvalidInputError(Location(str(path)), "an embed spec needs a mapping `into`")
    at = raw.get("at")
    if not isinstance(at, str) or not at:
        raise InvalidInputError(Location(str(path)), "an embed spec needs a dotted path `at`")
    return EmbedSpec(source=path, at=tuple(at.split(".")), into=raw["into"])


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
                Location(str(spec.source)), f"`at` crosses {key!r}, which is not a mapping"
            )
        target = nxt
    _merge(target, fragment)
    return host


def _merge(target: dict[str, Any], overlay: dict[str, Any]) -> None:
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
