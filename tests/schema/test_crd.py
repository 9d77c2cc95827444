"""CRD -> strict JSON schema translation, and the pinned fetch of the real CRDs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema_rs
import pytest

from kdocs.errors import UnusableInputError
from kdocs.schema import bundle
from kdocs.schema.api import validate_paths
from kdocs.schema.crd import convert, load_crd_dirs
from kdocs.schema.registry import GVK
from tests.schema.conftest import CRDS, REPO


def valid(schema: dict, instance: object) -> bool:
    return jsonschema_rs.validator_for(schema).is_valid(instance)


def test_objects_with_properties_are_strict_unless_they_preserve_unknown_fields() -> None:
    node = {"type": "object", "properties": {"a": {"type": "string"}}}
    strict = convert(node, strict=True)
    assert valid(strict, {"a": "x"}) and not valid(strict, {"a": "x", "b": 1})
    loose = convert({**node, "x-kubernetes-preserve-unknown-fields": True}, strict=True)
    assert valid(loose, {"a": "x", "b": 1})
    assert valid(convert(node, strict=False), {"b": 1})


def test_int_or_string_nullable_and_exclusive_bounds() -> None:
    ios = convert({"x-kubernetes-int-or-string": True}, strict=True)
    assert valid(ios, 3) and valid(ios, "25%") and not valid(ios, 1.5) and not valid(ios, [])
    generated = {"anyOf": [{"type": "integer"}, {"type": "string"}],
                 "x-kubernetes-int-or-string": True}  # fmt: skip
    assert valid(convert(generated, strict=True), "5m")
    nullable = convert({"type": "string", "nullable": True}, strict=True)
    assert valid(nullable, None) and not valid(convert({"type": "string"}, strict=True), None)
    bounded = convert({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, strict=True)
    assert not valid(bounded, 0) and valid(bounded, 1)


def test_formats_are_not_asserted() -> None:
    duration = convert({"type": "string", "format": "duration"}, strict=True)
    assert valid(duration, "5m")  # Go's duration, not ISO 8601
    assert valid(convert({"type": "integer", "format": "int32"}, strict=True), 2**40)


def test_embedded_resources_accept_their_type_and_metadata() -> None:
    node = {"type": "object", "x-kubernetes-embedded-resource": True,
            "properties": {"spec": {"type": "object"}}}  # fmt: skip
    schema = convert(node, strict=True)
    assert valid(schema, {"apiVersion": "v1", "kind": "Pod", "metadata": {}, "spec": {}})
    assert not valid(schema, {"spec": {}, "other": 1})


def test_only_v1_crds_with_schemas_are_usable(tmp_path: Path) -> None:
    (tmp_path / "old.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\n"
        "metadata: {name: x}\nspec: {}\n"
    )
    with pytest.raises(UnusableInputError, match="unsupported CRD apiVersion"):
        load_crd_dirs([tmp_path])
    with pytest.raises(UnusableInputError, match="does not exist"):
        load_crd_dirs([tmp_path / "missing"])


def test_a_broken_crd_folder_makes_the_run_unusable(tmp_path: Path, write) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "bad.yaml").write_text("a: [\n")
    report = validate_paths([write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\n")], None,
                            [tmp_path / "crds"])  # fmt: skip
    (line,) = report.lines()
    assert report.exit_code == 2 and "unusable CRD file" in line and "bad.yaml:2:1" in line


def test_the_crd_folder_has_the_karpenter_nodepool() -> None:
    schemas = load_crd_dirs([CRDS])
    assert GVK("karpenter.sh", "v1", "NodePool") in schemas


def test_fetch_script_reproduces_the_committed_crds_byte_for_byte(tmp_path: Path) -> None:
    """A real run of the pinned command (Go is part of every machine of this project)."""
    done = subprocess.run(
        ["bash", str(REPO / "schemas" / "fetch-crds.sh"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    fetched = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in CRDS.iterdir())
    assert fetched == committed
    for name in committed:
        assert (tmp_path / name).read_bytes() == (CRDS / name).read_bytes(), name


def test_fetch_script_refuses_a_module_whose_hash_differs(tmp_path: Path) -> None:
    script = (REPO / "schemas" / "fetch-crds.sh").read_text()
    tampered = tmp_path / "fetch.sh"
    tampered.write_text(script.replace("h1:GjqvOHLjl2", "h1:AAAAAAAAAA"))
    done = subprocess.run(
        ["bash", str(tampered), str(tmp_path / "out")], capture_output=True, text=True, timeout=600
    )
    assert done.returncode != 0 and "!= pinned" in done.stderr
    assert not list((tmp_path / "out").glob("*.yaml"))


# --- what CRD folders compile to is cached on disk --------------------------------------


def _crd_text(kind: str, field: str) -> str:
    return (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata: {{name: {kind.lower()}s.cache.kdocs.dev}}\n"
        f"spec:\n  group: cache.kdocs.dev\n  names: {{kind: {kind}, plural: {kind.lower()}s}}\n"
        "  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n"
        "    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n"
        f"          spec:\n            type: object\n            properties:\n"
        f"              {field}: {{type: string, pattern: '^a\\/b$'}}\n"
    )


def _spec_fields(schemas: dict) -> set[str]:
    (schema,) = schemas.values()
    return set(schema["properties"]["spec"]["properties"])


@pytest.fixture
def crd_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KDOCS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("KDOCS_SCHEMA_CACHE", raising=False)
    return tmp_path / "cache"


def test_the_cached_crd_schemas_are_the_ones_read(crd_cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("KDOCS_SCHEMA_CACHE", "off")
    fresh = load_crd_dirs([CRDS])
    assert not crd_cache.exists(), "a disabled cache wrote an entry"
    monkeypatch.delenv("KDOCS_SCHEMA_CACHE")
    assert load_crd_dirs([CRDS]) == fresh  # cold: made and stored
    (entry,) = (crd_cache / "schemas").rglob("*.json")
    stored = entry.read_bytes()
    assert load_crd_dirs([CRDS]) == fresh  # warm: read back
    assert entry.read_bytes() == stored


def test_an_edit_of_the_same_size_in_the_same_instant_rebuilds(tmp_path: Path, crd_cache) -> None:
    folder = tmp_path / "crds"
    folder.mkdir()
    crd = folder / "thing.yaml"
    crd.write_text(_crd_text("Thing", "colour"))
    stamp = crd.stat().st_mtime_ns
    assert _spec_fields(load_crd_dirs([folder])) == {"colour"}
    crd.write_text(_crd_text("Thing", "colouR"))  # same size; mtime set back below
    os.utime(crd, ns=(stamp, stamp))
    assert _spec_fields(load_crd_dirs([folder])) == {"colouR"}
    (folder / "other.yaml").write_text(_crd_text("Other", "size"))  # a new file counts too
    assert len(load_crd_dirs([folder])) == 2


def test_a_stored_crd_entry_is_what_is_used(tmp_path: Path, crd_cache) -> None:
    """The warm path really reads the entry (so the comparisons above test two paths)."""
    folder = tmp_path / "crds"
    folder.mkdir()
    (folder / "thing.yaml").write_text(_crd_text("Thing", "colour"))
    load_crd_dirs([folder])
    (entry,) = (crd_cache / "schemas").rglob("*.json")
    header, _, body = entry.read_bytes().partition(b"\n")
    signature = json.loads(header)["sources"]
    bundle.write_entry(entry, signature, json.loads(body.replace(b'"colour"', b'"stored"')))
    assert _spec_fields(load_crd_dirs([folder])) == {"stored"}


def test_a_broken_crd_is_reported_every_time_never_cached(tmp_path: Path, crd_cache) -> None:
    folder = tmp_path / "crds"
    folder.mkdir()
    (folder / "bad.yaml").write_text(_crd_text("Thing", "colour").replace("kind: Thing", "kind: ["))
    for _ in range(2):
        with pytest.raises(UnusableInputError, match="unusable CRD file"):
            load_crd_dirs([folder])
    assert not list(crd_cache.rglob("*.json"))
