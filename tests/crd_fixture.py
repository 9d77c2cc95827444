"""A CustomResourceDefinition for tests: one namespaced kind, served as v1."""

from __future__ import annotations

import json
from typing import Any


def crd(group: str, kind: str, spec: dict[str, Any]) -> str:
    """The CRD as JSON (which YAML reads as written), `spec` being the schema of `.spec`."""
    plural = kind.lower() + "s"
    return json.dumps({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group, "scope": "Namespaced",
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind},
            "versions": [{
                "name": "v1", "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}},
            }],
        },
    }, indent=1)  # fmt: skip
