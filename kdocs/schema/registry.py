"""Where schemas are and how they are compiled: one compiled validator per (k8s, GVK).

Like kubeconform's ``pkg/registry``: schema locations are path templates, tried in
order, the first existing file wins.  The default points into the strict schemas
that kubernetes-validate ships (``v1.NN.0-local-strict/{kind}-{group}-{version}.json``,
``{kind}-{version}.json`` for the core group, kind lower-cased, group cut at its
first dot: ``rbac.authorization.k8s.io`` -> ``rbac``).  Because that naming is
ambiguous (``apps.example.com/v1 Deployment`` would find ``deployment-apps-v1``),
a found schema is used only if its ``x-kubernetes-group-version-kind`` names the
exact group.  Custom resources come from CRDs (`kdocs.schema.crd`).

Why compile once and cache: compiling a Deployment schema with its references
takes ~3 ms and reading a version's ``_definitions.json`` ~10 ms, while validating
a document takes microseconds.  Nothing is read until a document needs it.  Shipped
schemas are used bundled (`kdocs.schema.bundle`: each kind with the definitions it
reaches, cached on disk), so a run compiles ~0.2 MB a kind, not the 1.4 MB of shared
definitions of each version.
Everything is offline: ``$ref`` to ``/api/_definitions.json`` is served from the
file next to the schema, and any other remote reference is an error, never a fetch.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.errors import UnusableInputError
from kdocs.schema.bundle import BundleCache
from kdocs.schema.bundle import enabled as bundle_enabled
from kdocs.schema.engine import jsonschema_rs
from kdocs.schema.formats import FORMATS


def _package_dir(name: str) -> Path:
    """A package's folder without importing it (kubernetes_validate imports ~60 ms of
    jsonschema we do not use)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"package {name} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


SCHEMA_ROOT = _package_dir("kubernetes_validate") / "kubernetes-json-schema"
DEFAULT_TEMPLATE = str(SCHEMA_ROOT / "v{k8s_version}.0-local-strict" / "{kind}{kind_suffix}.json")
OLDEST_DEFAULT = (1, 30)  # the default matrix: every shipped minor from 1.30 on
_VERSION_DIR = re.compile(r"v(\d+)\.(\d+)\.0-local-strict\Z")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?\Z")
DEFINITIONS = "_definitions.json"


@dataclass(frozen=True)
class GVK:
    """Group, version, kind of a manifest; the core group is ""."""

    group: str
    version: str
    kind: str

    @classmethod
    def of(cls, api_version: str, kind: str) -> GVK:
        group, _, version = api_version.rpartition("/")
        return cls(group, version, kind)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def shipped_versions() -> list[str]:
    """Every Kubernetes minor with strict schemas in kubernetes-validate, oldest first."""
    found = []
    for child in SCHEMA_ROOT.iterdir():
        match = _VERSION_DIR.match(child.name)
        if match:
            found.append((int(match[1]), int(match[2])))
    return [f"{major}.{minor}" for major, minor in sorted(found)]


def default_versions() -> list[str]:
    """1.30 up to the newest shipped minor."""
    return [v for v in shipped_versions() if _key(v) >= OLDEST_DEFAULT]


def normalize_version(text: str) -> str:
    """'v1.31', '1.31.2' -> '1.31'; anything else is unusable input."""
    match = _VERSION.match(text.strip())
    if not match:
        raise UnusableInputError(None, f"not a Kubernetes version: {text!r} (expected like 1.31)")
    return f"{int(match[1])}.{int(match[2])}"


def _key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def _no_network(uri: str) -> Any:
    raise ValueError(f"schema reference {uri} is not available offline")


class SchemaRegistry:
    """Finds, compiles and caches validators for built-in kinds and CRDs."""

    def __init__(
        self,
        templates: Sequence[str] = (DEFAULT_TEMPLATE,),
        crd_schemas: dict[GVK, dict[str, Any]] | None = None,
    ) -> None:
        for template in templates:
            if "://" in template:
                raise UnusableInputError(None, f"schema location {template!r} is remote; "
                                         "only local paths are supported (offline)")  # fmt: skip
        self.templates = tuple(templates)
        self.crd_schemas = dict(crd_schemas or {})
        self._validators: dict[tuple[str, GVK], jsonschema_rs.Validator | None] = {}
        self._registries: dict[Path, jsonschema_rs.Registry | None] = {}
        # schema documents by (k8s version, $id): every version's _definitions.json has the
        # same $id, so the version tells which one an error's location is in
        self._documents: dict[tuple[str, str], dict[str, Any]] = {}
        # A version's _definitions.json (1.4 MB of JSON, ~12 MB as Python objects) lives
        # in its compiled Registry; the Python copy is dropped and read again only to name
        # the allowed fields of an unknown-field error: (version, $id) -> file.
        self._definitions: dict[Path, tuple[str, Path]] = {}
        self._lazy_documents: dict[tuple[str, str], Path] = {}
        self._bundles = BundleCache(SCHEMA_ROOT) if bundle_enabled() else None
        # Many kinds' bundled schemas are byte-identical in several versions (ConfigMap
        # in 7 of 8): one compiled validator serves them all, keyed by the bundled text's
        # digest (`schema_key`); (validator, schema for error lookups or None).
        self._shared: dict[bytes, tuple[jsonschema_rs.Validator | None, dict[str, Any] | None]]
        self._shared = {}
        self._keys: dict[tuple[str, GVK], bytes | None] = {}
        self._named: dict[bytes, Path] = {}  # keys whose schema names its kind: its file
        self._parsed: dict[bytes, dict[str, Any]] = {}  # keyed, read, not compiled yet

    def validator(self, k8s_version: str, gvk: GVK) -> jsonschema_rs.Validator | None:
        """The compiled schema of `gvk` in `k8s_version`; None when there is none."""
        key = (k8s_version, gvk)
        if key not in self._validators:
            self._validators[key] = self._compile(k8s_version, gvk)
        return self._validators[key]

    def subschema(self, k8s_version: str, location: str | None) -> dict[str, Any] | None:
        """The schema object holding the keyword at an error's absolute location."""
        if not location or "#" not in location:
            return None
        uri, _, pointer = location.partition("#")
        node: Any = self._document(k8s_version, uri)
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        for part in parts[:-1]:  # the last part is the keyword itself
            if isinstance(node, dict):
                node = node.get(part)
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node if isinstance(node, dict) else None

    def schema_key(self, k8s_version: str, gvk: GVK) -> bytes | None:
        """Equal for two versions only if `gvk`'s compiled schema is the same in both (the
        digest of its bundled text); None when that is not known (not bundled, a CRD: its
        ObjectMeta comes from each version's definitions), so it is compiled per version."""
        key = (k8s_version, gvk)
        if key not in self._keys:
            self._keys[key] = self._key(k8s_version, gvk)
        return self._keys[key]

    def _key(self, k8s_version: str, gvk: GVK) -> bytes | None:
        if self._bundles is None:
            return None
        for template in self.templates:
            path = Path(template.format(**_fields(k8s_version, gvk)))
            if not path.is_file():
                continue
            if path.parent.parent != SCHEMA_ROOT:
                return None
            body = self._bundles.body(path)
            if body is None:
                return None
            # blake2b from its own module: hashlib would load OpenSSL (5 ms) for one file.
            # The kind is part of the key: `apps.example.com/v1 Deployment` finds the same
            # file as `apps/v1 Deployment`, and must not be given its schema.
            from _blake2 import blake2b

            digest = blake2b(body).digest() + repr(gvk).encode()
            if digest not in self._named:
                schema = json.loads(body)
                if not isinstance(schema, dict) or not _names(schema, gvk):
                    return None  # another template or a CRD decides: compiled per version
                self._named[digest] = path
                self._parsed[digest] = schema  # compiled from it when first needed
            return digest
        return None

    def release(self, k8s_version: str) -> None:
        """Drop what was compiled for one version (the site validates version by version,
        so at most one version's schemas are alive); keys stay, they are a few bytes."""
        for key in [k for k in self._validators if k[0] == k8s_version]:
            del self._validators[key]
        for key in [k for k in self._documents if k[0] == k8s_version]:
            del self._documents[key]
        self._shared.clear()
        self._parsed.clear()
        folder = self._default_dir(k8s_version)
        self._registries.pop(folder, None)
        if self._bundles is not None:
            self._bundles.forget(folder)

    def _compile(self, k8s_version: str, gvk: GVK) -> jsonschema_rs.Validator | None:
        digest = self.schema_key(k8s_version, gvk)
        if digest is not None:
            if digest not in self._shared:
                path = self._named[digest]
                schema = self._parsed.pop(digest, None) or self._bundled(path)
                if schema is not None:  # else its cache entry went away: as unbundled below
                    compiled = self._build(k8s_version, schema, None, path)
                    self._shared[digest] = (compiled, schema if "$id" in schema else None)
            if digest in self._shared:
                compiled, schema = self._shared[digest]
                if schema is not None:
                    self._documents[(k8s_version, schema["$id"])] = schema
                return compiled
        for template in self.templates:
            path = Path(template.format(**_fields(k8s_version, gvk)))
            if not path.is_file():
                continue
            bundled = self._bundled(path)
            schema = bundled if bundled is not None else self._read(path)
            if not _names(schema, gvk):
                continue
            registry = None if bundled is not None else self._registry(path.parent, k8s_version)
            return self._build(k8s_version, schema, registry, path)
        crd = self.crd_schemas.get(gvk)
        if crd is None:
            return None
        registry = self._registry(self._default_dir(k8s_version), k8s_version)
        return self._build(k8s_version, crd, registry, Path(crd.get("$id", str(gvk))))

    def _bundled(self, path: Path) -> dict[str, Any] | None:
        """A shipped schema with its definitions bundled (`kdocs.schema.bundle`), or None."""
        if self._bundles is None or path.parent.parent != SCHEMA_ROOT:
            return None
        return self._bundles.schema(path)

    def _build(
        self,
        k8s_version: str,
        schema: dict[str, Any],
        registry: jsonschema_rs.Registry | None,
        origin: Path,
    ) -> jsonschema_rs.Validator:
        if isinstance(schema.get("$id"), str):
            self._documents[(k8s_version, schema["$id"])] = schema
        try:
            return jsonschema_rs.validator_for(
                schema, registry=registry, retriever=_no_network, formats=FORMATS,
                validate_formats=True,
            )  # fmt: skip
        except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError, ValueError) as err:
            reason = " ".join(str(err).split())[:300]
            raise UnusableInputError(str(origin), f"unusable schema: {reason}") from None

    def _registry(self, folder: Path, k8s_version: str) -> jsonschema_rs.Registry | None:
        """The shared definitions next to a schema (kubernetes-validate's layout)."""
        if folder not in self._registries:
            definitions = folder / DEFINITIONS
            registry = None
            if definitions.is_file():
                document = self._read(definitions)
                uri = document.get("$id", definitions.as_uri())
                self._definitions[folder] = (uri, definitions)
                registry = jsonschema_rs.Registry([(uri, document)])
            self._registries[folder] = registry
        if folder in self._definitions:
            uri, path = self._definitions[folder]
            self._lazy_documents[(k8s_version, uri)] = path
        return self._registries[folder]

    def _document(self, k8s_version: str, uri: str) -> dict[str, Any] | None:
        """A schema document by version and $id, reading dropped definitions again."""
        key = (k8s_version, uri)
        document = self._documents.get(key)
        if document is None and key in self._lazy_documents:
            path = self._lazy_documents[key]
            same_file = [k for k, p in self._lazy_documents.items() if p == path]
            try:
                document = self._read(path)
            except UnusableInputError:  # gone since it was compiled: no suggestion, no crash
                return None
            for other in same_file:  # versions that share the folder share the document
                self._documents[other] = document
        return document

    @staticmethod
    def _default_dir(k8s_version: str) -> Path:
        return SCHEMA_ROOT / f"v{k8s_version}.0-local-strict"

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        try:
            with open(path, "rb") as handle:
                document = json.load(handle)
        except (OSError, ValueError) as err:
            raise UnusableInputError(str(path), f"unreadable schema: {err}") from None
        if not isinstance(document, dict):
            raise UnusableInputError(str(path), "unreadable schema: not a JSON object")
        return document


def _fields(k8s_version: str, gvk: GVK) -> dict[str, str]:
    group = gvk.group.split(".")[0]
    suffix = f"-{group}-{gvk.version}" if group else f"-{gvk.version}"
    return {
        "k8s_version": k8s_version,
        "kind": gvk.kind.lower(),
        "group": group,
        "full_group": gvk.group,
        "version": gvk.version,
        "kind_suffix": suffix,
    }


def _names(schema: dict[str, Any], gvk: GVK) -> bool:
    """Does the schema say it is for exactly this group/version/kind (or say nothing)?"""
    declared = schema.get("x-kubernetes-group-version-kind")
    if not isinstance(declared, list):
        return True
    return any(
        isinstance(d, dict)
        and d.get("group", "") == gvk.group
        and d.get("version") == gvk.version
        and d.get("kind") == gvk.kind
        for d in declared
    )
