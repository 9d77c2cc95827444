"""What the cluster stage sends: a file's own bytes, or the one reader's JSON (no cluster)."""

from __future__ import annotations

import json
from pathlib import Path

from kdocs.cluster.payload import (
    file_payloads,
    owner_labels,
    payload_stream,
    payloads,
    read_objects,
)
from kdocs.scenario.model import Apply
from kdocs.scenario.parse import load_scenario

CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
    "data:\n  t: 1:30\n  d: 2024-01-01\n"
)


def test_a_file_is_sent_as_its_own_documents_byte_for_byte(tmp_path: Path) -> None:
    text = "# head\n" + CM.format(name="a") + "---\n---  # empty\n" + CM.format(name="b")
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    sent = file_payloads(read_objects(path, tmp_path))
    assert [p.text for p in sent] == ["# head\n" + CM.format(name="a"), CM.format(name="b")]
    assert sent[0].objects[0]["data"] == {"t": "1:30", "d": "2024-01-01"}  # as kubectl reads


def test_a_list_is_one_document_with_its_items(tmp_path: Path) -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n"
    )
    path = tmp_path / "l.yaml"
    path.write_text(text, encoding="utf-8")
    (sent,) = file_payloads(read_objects(path, tmp_path))
    assert sent.text == text and [o["metadata"]["name"] for o in sent.objects] == ["a", "b"]


def test_a_patch_sends_the_readers_json_never_pyyamls(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(CM.format(name="a"), encoding="utf-8")
    (sent,) = payloads(Apply(1, file=path, patch={"data": {"extra": "x"}}), tmp_path)
    assert sent.text is None
    assert sent.objects[0]["data"] == {"t": "1:30", "d": "2024-01-01", "extra": "x"}
    stream = payload_stream([json.dumps(o) for o in sent.objects])
    assert stream.startswith("---\n{")  # YAML mode for kubectl, whatever comes first


def test_an_inline_scenario_object_resolves_scalars_as_kubectl(tmp_path: Path) -> None:
    scenario = tmp_path / "s.scenario.yaml"
    scenario.write_text(
        "steps:\n  - apply:\n      object:\n        apiVersion: v1\n        kind: ConfigMap\n"
        "        metadata: {name: a}\n        data: {t: 1:30, b: y, h: 0x1F}\n",
        encoding="utf-8",
    )
    (step,) = load_scenario(scenario, tmp_path, tmp_path).steps
    (sent,) = payloads(step, tmp_path)
    assert sent.objects[0]["data"] == {"t": "1:30", "b": True, "h": 31}


def test_owner_labels_touch_only_the_label() -> None:
    applied = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n",
                "uid": "u"}, "data": {"k": "v"}}]  # fmt: skip
    stream = owner_labels(applied, "o", "ns")
    assert stream.startswith("---\n")
    doc = json.loads(stream.removeprefix("---\n"))
    assert doc == {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "a", "namespace": "n", "labels": {"o": "ns"}},
    }  # fmt: skip
