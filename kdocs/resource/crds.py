"""The one CRD finder: which CustomResourceDefinitions a project has, for every stage.

The schema stage turns them into schemas and the cluster stage installs them;
both ask here, so they can never see different CRDs. The rule, chosen to
take upstream CRD bundles as they come (Karpenter ships a folder per API group,
some projects ship JSON): every ``*.yaml``, ``*.yml`` and ``*.json`` file below
each folder, recursively, in sorted order; every document whose kind is
``CustomResourceDefinition`` (other documents are ignored). A folder that does
not exist is an error: callers drop the default folder first when it is absent.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kdocs.errors import UnusableInputError
from kdocs.resource.limits import DEFAULT_LIMITS, Limits
from kdocs.resource.manifest import Document, read_manifests

CRD_SUFFIXES = (".yaml", ".yml", ".json")


def crd_files(folders: Iterable[Path]) -> list[Path]:
    """The files the CRDs are read from, folder by folder, each folder sorted."""
    files: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise UnusableInputError(str(folder), "CRD folder does not exist")
        files += sorted(p for p in folder.rglob("*") if p.suffix in CRD_SUFFIXES and p.is_file())
    return files


def find_crds(folders: Iterable[Path], limits: Limits = DEFAULT_LIMITS) -> list[Document]:
    """Every CustomResourceDefinition document below `folders`; a bad file is exit 2."""
    found: list[Document] = []
    for path in crd_files(folders):
        loaded = read_manifests(path, limits)
        if loaded.errors:
            first = loaded.errors[0]
            raise UnusableInputError(first.location, f"unusable CRD file: {first.reason}")
        for document in loaded.documents:
            if document.kind != "CustomResourceDefinition":
                continue
            if not document.name:
                raise UnusableInputError(
                    document.location(("metadata",)), "a CustomResourceDefinition has no name"
                )
            found.append(document)
    return found
