"""CRD -> strict JSON schema translation, and the pinned fetch of the real CRDs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import jsonschema_rs
import pytest

from kdocs.errors import UnusableInputError
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
