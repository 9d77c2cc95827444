"""CustomResourceDefinitions -> strict JSON schemas, one per served version.

What the API server does with a CRD's ``openAPIV3Schema`` (a structural schema
in OpenAPI 3.0 dialect) is not what a JSON Schema validator does with it, so we
translate, the way kubeconform's ``openapi2jsonschema`` does:

* strict: an object that lists ``properties`` gets ``additionalProperties: false``
  unless it sets ``x-kubernetes-preserve-unknown-fields`` (an unknown field is an
  error, as with ``kubectl apply --validate=strict``);
* ``nullable: true`` adds ``null`` to the type;
* ``x-kubernetes-int-or-string`` becomes "integer or string";
* ``x-kubernetes-embedded-resource`` objects also accept apiVersion/kind/metadata;
* OpenAPI's boolean ``exclusiveMinimum``/``exclusiveMaximum`` become numbers;
* ``format`` (int32, int64, duration, ...) is dropped: the API server's formats
  are not JSON Schema's (its ``duration`` is Go's ``5m``, not ISO 8601 ``PT5M``);
  only ``byte`` (base64) is kept, checked as the server does (`kdocs.schema.formats`);
* CEL rules (``x-kubernetes-validations``), defaults and list/map types are
  server-side behaviour and are left out.

The root gets ``apiVersion``/``kind`` pinned to the CRD's group/version/kind and
``metadata`` checked against the real ``ObjectMeta`` of each Kubernetes version.
Draft 2020-12 is declared so the built-in definitions can be referenced.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

from kdocs.errors import Location, UnusableInputError
from kdocs.resource import crds as _crds_module
from kdocs.resource import events as _events_module
from kdocs.resource import scalars as _scalars_module
from kdocs.resource.crds import crd_files, find_crds
from kdocs.resource.manifest import Document
from kdocs.schema import bundle
from kdocs.schema.registry import GVK

DRAFT = "https://json-schema.org/draft/2020-12/schema"
OBJECT_META = (
    "https://kubernetes.io/api/_definitions.json"
    "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)
_DROP = {"format", "default", "example", "externalDocs", "description", "nullable",
         "x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
         "x-kubernetes-map-type", "x-kubernetes-int-or-string",
         "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource"}  # fmt: skip
_CHILD_LISTS = ("allOf", "anyOf", "oneOf")
CACHE_FORMAT = 1  # bump when a cached entry's layout changes
# The code a cached entry was made by: an edit to the reader or the translation rebuilds it.
_CODE = [__file__, _crds_module.__file__, _events_module.__file__, _scalars_module.__file__]


def load_crd_dirs(folders: list[Path] | tuple[Path, ...]) -> dict[GVK, dict[str, Any]]:
    """Every served version of every CRD in the folders (`kdocs.resource.crds`), as schemas.

    Reading a CRD bundle is most of a one-file validate (Karpenter's: ~80 KB of YAML, a
    few thousand nodes), so what the folders compile to is kept on disk, like the bundled
    schemas (`kdocs.schema.bundle`, same root, same ``KDOCS_SCHEMA_CACHE=off``), keyed by
    every CRD file's path, size and CRC-32 and by the code that reads and converts them.
    Only a clean result is stored: a bad CRD is read, and reported, every time."""
    folders = [Path(folder) for folder in folders]
    entry = signature = None
    if folders and bundle.enabled():
        files = crd_files(folders)
        signature = _signature(files)
        names = "\n".join(str(folder.resolve()) for folder in folders)
        entry = bundle.cache_root() / "schemas" / f"crds-c{CACHE_FORMAT}" / (
            f"{zlib.crc32(names.encode()):08x}.json"
        )
        cached = bundle.read_entry(entry, signature)
        if cached is not None and isinstance(cached.get("schemas"), list):
            return {GVK(*gvk): schema for *gvk, schema in cached["schemas"]}
    schemas: dict[GVK, dict[str, Any]] = {}
    for document in find_crds(folders):
        schemas.update(crd_schemas(document))
    if entry is not None and signature is not None:
        stored = [[g.group, g.version, g.kind, schema] for g, schema in schemas.items()]
        bundle.write_entry(entry, signature, {"schemas": stored})
    return schemas


def _signature(files: list[Path]) -> list[Any]:
    """What a cached CRD entry depends on: each file's bytes (a CRC-32: an edit within the
    file system's timestamp granularity must not hit a stale entry) and this code."""
    sources: list[Any] = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            data = b""  # unreadable: find_crds says so; the key just differs
        sources.append([str(path.resolve()), len(data), zlib.crc32(data)])
    code = [[s.st_size, s.st_mtime_ns] for s in (os.stat(p) for p in _CODE)]
    return [CACHE_FORMAT, code, sources]


def crd_schemas(document: Document) -> dict[GVK, dict[str, Any]]:
    """JSON schemas of a CRD document's served versions; other kinds give nothing."""
    if document.kind != "CustomResourceDefinition":
        return {}
    if document.api_version != "apiextensions.k8s.io/v1":
        raise UnusableInputError(
            document.location(("apiVersion",)),
            f"unsupported CRD apiVersion {document.api_version} (need apiextensions.k8s.io/v1)",
        )
    spec = document.obj.get("spec")
    group = spec.get("group") if isinstance(spec, dict) else None
    names = spec.get("names") if isinstance(spec, dict) else None
    kind = names.get("kind") if isinstance(names, dict) else None
    versions = spec.get("versions") if isinstance(spec, dict) else None
    if not (isinstance(group, str) and isinstance(kind, str) and isinstance(versions, list)):
        raise UnusableInputError(
            document.location(("spec",)), "CRD needs spec.group, spec.names.kind, spec.versions"
        )
    out: dict[GVK, dict[str, Any]] = {}
    for i, entry in enumerate(versions):
        where = document.location(("spec", "versions", i))
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise UnusableInputError(where, "CRD version needs a name")
        if entry.get("served") is False:
            continue
        schema = entry.get("schema")
        root = schema.get("openAPIV3Schema") if isinstance(schema, dict) else None
        if not isinstance(root, dict):
            raise UnusableInputError(where, "CRD version needs schema.openAPIV3Schema")
        gvk = GVK(group, entry["name"], kind)
        out[gvk] = to_json_schema(root, gvk, where)
    return out


def to_json_schema(root: dict[str, Any], gvk: GVK, where: Location | None = None) -> dict[str, Any]:
    """The strict JSON schema of one CRD version's openAPIV3Schema."""
    schema = convert(root, strict=True)
    properties = schema.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "enum": [gvk.api_version]}
    properties["kind"] = {"type": "string", "enum": [gvk.kind]}
    meta = root.get("properties", {}).get("metadata")
    extra = convert(meta, strict=False) if isinstance(meta, dict) else {}
    extra.pop("type", None)
    properties["metadata"] = (
        {"allOf": [{"$ref": OBJECT_META}, extra]} if extra else {"$ref": OBJECT_META}
    )
    schema["type"] = "object"
    schema["$schema"] = DRAFT
    schema["$id"] = f"urn:kdocs:crd:{gvk.group}:{gvk.version}:{gvk.kind}"
    return schema


def convert(node: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """Translate one OpenAPI schema object (see the module docstring)."""
    out = {k: v for k, v in node.items() if k not in _DROP and not k.startswith("x-")}
    if node.get("format") == "byte":  # the one format the API server enforces as we do
        out["format"] = "byte"
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    if node.get("x-kubernetes-int-or-string") is True:
        out.pop("type", None)
        if "anyOf" not in node:
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    out = _children(out, node, strict, preserve)
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif "anyOf" in out or "oneOf" in out:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def _children(
    out: dict[str, Any], node: dict[str, Any], strict: bool, preserve: bool
) -> dict[str, Any]:
    for bound in ("Minimum", "Maximum"):
        flag, limit = node.get(f"exclusive{bound}"), node.get(bound.lower())
        if isinstance(flag, bool):
            del out[f"exclusive{bound}"]
            if flag and isinstance(limit, (int, float)):
                out[f"exclusive{bound}"] = limit
                out.pop(bound.lower(), None)
    properties = node.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {
            k: convert(v, strict=strict) for k, v in properties.items() if isinstance(v, dict)
        }
        if node.get("x-kubernetes-embedded-resource") is True:
            for name, sub in (("apiVersion", "string"), ("kind", "string"), ("metadata", "object")):
                out["properties"].setdefault(name, {"type": sub})
        if strict and not preserve and "additionalProperties" not in node:
            out["additionalProperties"] = False
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = convert(extra, strict=strict)
    items = node.get("items")
    if isinstance(items, dict):
        out["items"] = convert(items, strict=strict)
    for key in _CHILD_LISTS:
        if isinstance(node.get(key), list):
            out[key] = [convert(s, strict=False) for s in node[key] if isinstance(s, dict)]
    if isinstance(node.get("not"), dict):
        out["not"] = convert(node["not"], strict=False)
    return out
