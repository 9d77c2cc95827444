"""Project settings, read from `[tool.kdocs]` in pyproject.toml.

The engine reads its settings from a plain TOML table rather than from
mkdocs.yml so that it stays usable without MkDocs (the site generator may
change; the snippets, schemas and results must not care).

The table is checked: an unknown key (``snippet-dir``) or a value of the wrong
type (``crd-dirs = "ab"``, which would read as the folders ``a`` and ``b``) is
one line naming pyproject.toml:line and exit 2, never silently ignored. A new
setting is one line in `KEYS`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kdocs.errors import Location, UnusableInputError
from kdocs.projectroot import find_project_root
from kdocs.resource.text import decode_utf8

DEFAULT_KUBERNETES_VERSIONS = tuple(f"1.{minor}" for minor in range(30, 38))
# The Kubernetes releases the cluster stage can prove on, by minor version: the kwok provider
# builds each with clusters/build/build-binaries.sh (K8S_VERSION), pinned here. Others are
# not offered: 1.37 needs a newer Go than the pinned toolchain; 1.35 was not built here.
CLUSTER_RELEASES = {"1.34": "v1.34.4", "1.36": "v1.36.3"}
DEFAULT_CLUSTER_VERSIONS = ("1.36",)
# Every key of [tool.kdocs] and the type of its value.
KEYS: dict[str, str] = {
    "docs-dir": "path",
    "snippets-dir": "path",
    "crd-dirs": "paths",
    "clusters-dir": "path",
    "results-file": "path",
    "kubernetes-versions": "versions",
    "cluster-versions": "cluster-versions",
    "extra": "table",
}
_TYPE_WORDS = {
    "path": 'a path as a string ("docs")',
    "paths": 'a list of paths (["schemas/crds"])',
    "versions": 'a list of version strings (["1.30", "1.31"])',
    "cluster-versions": f"a list of versions the cluster stage builds ({list(CLUSTER_RELEASES)})",
    "table": "a table ([tool.kdocs.extra])",
}


@dataclass(frozen=True)
class Settings:
    """Where things are and what to check them against."""

    root: Path
    docs_dir: Path
    snippets_dir: Path
    crd_dirs: tuple[Path, ...]
    clusters_dir: Path
    results_file: Path
    kubernetes_versions: tuple[str, ...] = DEFAULT_KUBERNETES_VERSIONS
    # Minor versions ("1.34") the cluster stage proves every unit on, one cluster each.
    cluster_versions: tuple[str, ...] = DEFAULT_CLUSTER_VERSIONS
    extra: dict = field(default_factory=dict)


def find_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` holding a pyproject.toml with [tool.kdocs]."""
    found = find_project_root(str(start or Path.cwd()))
    return Path(found) if found is not None else None


def load_settings(root: Path | None = None) -> Settings:
    """Read `[tool.kdocs]`; every path in it is relative to the project root.

    Outside a kdocs project (another repository running `kdocs validate` as a
    pre-commit hook, say) the defaults apply, rooted at the working folder.
    """
    found = find_root(root)
    table: dict = {}
    if found is None:
        root = (root or Path.cwd()).resolve()
    else:
        root = found
        pyproject = root / "pyproject.toml"
        text = decode_utf8(pyproject.read_bytes(), str(pyproject))  # TOML is UTF-8
        try:
            table = tomllib.loads(text).get("tool", {}).get("kdocs", {})
        except tomllib.TOMLDecodeError as error:
            raise UnusableInputError(Location(str(pyproject)), f"invalid TOML: {error}") from None
        check_table(table, text, str(pyproject))
    versions = tuple(str(v) for v in table.get("kubernetes-versions", DEFAULT_KUBERNETES_VERSIONS))
    return Settings(
        root=root,
        docs_dir=root / table.get("docs-dir", "docs"),
        snippets_dir=root / table.get("snippets-dir", "snippets"),
        crd_dirs=tuple(root / d for d in table.get("crd-dirs", ["schemas/crds"])),
        clusters_dir=root / table.get("clusters-dir", "clusters"),
        results_file=root / table.get("results-file", ".kdocs/results.json"),
        kubernetes_versions=versions,
        cluster_versions=tuple(table.get("cluster-versions", DEFAULT_CLUSTER_VERSIONS)),
        extra=dict(table.get("extra", {})),
    )


def check_table(table: Any, text: str, name: str) -> None:
    """Refuse unknown keys (with a did-you-mean) and values of the wrong type, one line each."""
    if not isinstance(table, dict):
        raise UnusableInputError(
            Location(name, _line_of(text, None)), "[tool.kdocs] must be a table"
        )
    for key, value in table.items():
        kind = KEYS.get(key)
        if kind not in (None, "cluster-versions") and _has_type(kind, value):
            continue  # (the line is looked up only for a message: a regex per key costs)
        where = Location(name, _line_of(text, key))
        if kind is None:
            hint = did_you_mean(key, KEYS) or f" (known: {', '.join(KEYS)})"
            raise UnusableInputError(where, f"unknown key {key!r} in [tool.kdocs]{hint}")
        if not _has_type(kind, value):
            raise UnusableInputError(
                where, f"{key} must be {_TYPE_WORDS[kind]}, not {type(value).__name__} {value!r}"
            )
        if kind == "cluster-versions":
            _check_cluster_versions(value, where)


def cluster_release(minor: str) -> str:
    """The release the kwok provider builds for `--cluster-version minor`; one line, exit 2,
    when it builds none."""
    if minor not in CLUSTER_RELEASES:
        known = ", ".join(CLUSTER_RELEASES)
        raise UnusableInputError("--cluster-version", f"kwok builds {known}, not {minor}")
    return CLUSTER_RELEASES[minor]


def _check_cluster_versions(versions: list[str], where: Location) -> None:
    """Only versions the cluster stage can build, each once, at least one."""
    if not versions:
        raise UnusableInputError(where, "cluster-versions must list at least one version")
    for version in versions:
        if version not in CLUSTER_RELEASES:
            hint = did_you_mean(version, CLUSTER_RELEASES) or ""
            known = ", ".join(CLUSTER_RELEASES)
            raise UnusableInputError(
                where, f"cluster-versions: {version!r} is not a version kdocs builds{hint}"
                f" (known: {known})",
            )  # fmt: skip
    if len(set(versions)) != len(versions):
        raise UnusableInputError(where, "cluster-versions lists a version twice")


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest option, or "" when none is close."""
    import difflib  # only a misspelt key needs it: `kdocs validate` on every save does not

    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _has_type(kind: str, value: Any) -> bool:
    if kind == "path":
        return isinstance(value, str) and bool(value.strip())
    if kind in ("paths", "versions", "cluster-versions"):
        return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
    return isinstance(value, dict)


def _line_of(text: str, key: str | None) -> int | None:
    """The line of `key` in the [tool.kdocs] table (or of the table), for messages."""
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            header = stripped.strip("[] ")
            in_table = header == "tool.kdocs" or header.startswith("tool.kdocs.")
            if in_table and (key is None or header == f"tool.kdocs.{key}"):
                return number
            continue
        if (
            in_table
            and key is not None
            and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*[=.]", stripped)
        ):
            return number
    return None


if __name__ == "__main__":  # `python -m kdocs.config --cluster-releases`: for the Makefile
    import sys

    if sys.argv[1:] != ["--cluster-releases"]:
        sys.exit("usage: python -m kdocs.config --cluster-releases")
    print(" ".join(CLUSTER_RELEASES[minor] for minor in load_settings().cluster_versions))
