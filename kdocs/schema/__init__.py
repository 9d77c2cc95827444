"""Offline schema validation of Kubernetes manifests (what kubeconform does).

The public entry is `kdocs.schema.api` (``validate_paths`` -> ``Report``, with
``Report.exit_code``), re-exported here lazily: `kdocs.manifest` imports
`kdocs.schema.yaml_events`, and an eager import of the engine here would make that
a cycle (and slow every import of the package).

Modules, one job each: `yaml_events` (YAML -> values + positions), `registry`
(where schemas are, compiled once), `crd` (CRD -> JSON schema), `validator`
(documents x versions -> problems), `fragments` (embedded snippets), `api`,
`cli` (``kdocs validate``), `snippet` (the site pipeline's per-snippet check).
"""

from __future__ import annotations

from typing import Any

_API = ("validate_paths", "validate_file", "engine_for", "Report", "FileReport")
__all__ = list(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        from kdocs.schema import api

        return getattr(api, name)
    raise AttributeError(f"module 'kdocs.schema' has no attribute {name!r}")
