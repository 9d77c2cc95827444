"""Project settings, read from `[tool.kdocs]` in pyproject.toml.

The engine reads its settings from a plain TOML table rather than from
mkdocs.yml so that it stays usable without MkDocs (the site generator may
change; the snippets, schemas and results must not care).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kdocs.errors import Location, UnusableInputError

DEFAULT_KUBERNETES_VERSIONS = tuple(f"1.{minor}" for minor in range(30, 38))


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
    extra: dict = field(default_factory=dict)


def find_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` holding a pyproject.toml with [tool.kdocs]."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.kdocs]" in candidate.read_text(encoding="utf-8"):
            return folder
    return None


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
        try:
            table = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["kdocs"]
        except tomllib.TOMLDecodeError as error:
            raise UnusableInputError(Location(str(pyproject)), f"invalid TOML: {error}") from None
    versions = tuple(str(v) for v in table.get("kubernetes-versions", DEFAULT_KUBERNETES_VERSIONS))
    return Settings(
        root=root,
        docs_dir=root / table.get("docs-dir", "docs"),
        snippets_dir=root / table.get("snippets-dir", "snippets"),
        crd_dirs=tuple(root / d for d in table.get("crd-dirs", ["schemas/crds"])),
        clusters_dir=root / table.get("clusters-dir", "clusters"),
        results_file=root / table.get("results-file", ".kdocs/results.json"),
        kubernetes_versions=versions,
        extra=dict(table.get("extra", {})),
    )
