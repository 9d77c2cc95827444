"""kdocs.resource.crds: one rule for which CRDs the schema and cluster stages see."""

from __future__ import annotations

import pytest

from kdocs.errors import UnusableInputError
from kdocs.resource.crds import find_crds

CRD = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: %s}\n"


def test_recursive_yaml_yml_and_json_other_kinds_ignored(tmp_path):
    (tmp_path / "a.yaml").write_text(
        CRD % "a.example.com" + "---\napiVersion: v1\nkind: ConfigMap\n"
    )
    (tmp_path / "group").mkdir()
    (tmp_path / "group" / "b.yml").write_text(CRD % "b.example.com")
    (tmp_path / "group" / "c.json").write_text(
        '{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",'
        ' "metadata": {"name": "c.example.com"}}'
    )
    (tmp_path / "notes.txt").write_text(CRD % "ignored.example.com")
    names = [crd.name for crd in find_crds([tmp_path])]
    assert names == ["a.example.com", "b.example.com", "c.example.com"]


def test_missing_folder_and_bad_file_are_unusable(tmp_path):
    with pytest.raises(UnusableInputError, match="CRD folder does not exist"):
        find_crds([tmp_path / "missing"])
    (tmp_path / "b.yaml").write_text("kind: [\n")
    with pytest.raises(UnusableInputError, match=r"b.yaml:2:1: unusable CRD file"):
        find_crds([tmp_path])


def test_a_crd_without_a_name_is_unusable(tmp_path):
    (tmp_path / "a.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {}\n"
    )
    with pytest.raises(
        UnusableInputError, match="a.yaml:3:11: a CustomResourceDefinition has no name"
    ):
        find_crds([tmp_path])
