"""What the cluster stage sends for an apply: the snippet's own bytes, or the reader's JSON.

A `Payload` is one YAML document. Without a patch or an embed it carries the
document's exact text, as kubectl cuts the file, so "these exact bytes were
applied" holds to the byte; with one (or for an inline scenario object) it
carries the one reader's objects, sent as JSON. A list of payloads is what
`Session.apply` takes, so apply order is decided by sorting that list.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.errors import InvalidInputError
from kdocs.resource.embed import read_snippet
from kdocs.resource.manifest import Document
from kdocs.scenario.model import Apply, display, merge_patch

OWNER_FIELD_MANAGER = "kdocs-owner"  # adds the owner label to what was applied as is


@dataclass(frozen=True)
class Payload:
    """One YAML document for `Session.apply` to send (a list of them may be reordered).

    `text` is the document's own bytes, as kubectl cuts the file, when they are sent
    unchanged: the badge's "these bytes were applied" then holds to the byte. It is
    None when a patch or an embed changed the objects (or for an inline object):
    then the one reader's objects are sent as JSON.
    """

    objects: tuple[dict[str, Any], ...]  # what the one reader read (a List's items together)
    text: str | None = None


def read_objects(path: Path, root: Path) -> list[Document]:
    """Every object of a manifest file, through the one reader (a fragment embedded first)."""
    where = display(path, root)
    loaded = read_snippet(path, name=where)
    if loaded.errors:
        raise loaded.errors[0]
    if not loaded.documents:
        raise InvalidInputError(where, "no Kubernetes object in the file")
    return loaded.documents


def load_manifest(path: Path, root: Path) -> list[dict[str, Any]]:
    """The objects of a manifest file, as the schema stage validated them."""
    return [copy.deepcopy(doc.obj) for doc in read_objects(path, root)]


def file_payloads(docs: list[Document]) -> list[Payload]:
    """One payload per YAML document of a file: its own text, or JSON for a fragment."""
    out: list[Payload] = []
    last_index = None
    for doc in docs:
        obj = copy.deepcopy(doc.obj)
        if doc.text and doc.index == last_index:  # another item of the same List
            out[-1] = Payload((*out[-1].objects, obj), out[-1].text)
        else:
            out.append(Payload((obj,), doc.text or None))
        last_index = doc.index
    return out


def payloads(step: Apply, root: Path) -> list[Payload]:
    """What an apply step sends: the file's own documents, or JSON of what was changed."""
    if step.inline is not None:
        return [Payload((copy.deepcopy(step.inline),))]
    assert step.file is not None
    docs = read_objects(step.file, root)
    if step.patch is None:
        return file_payloads(docs)
    return [Payload((merge_patch(doc.obj, step.patch),)) for doc in docs]


def documents(step: Apply, root: Path) -> list[dict[str, Any]]:
    """The objects an apply step sends: inline, or the file's (embedded, then patched)."""
    return [obj for payload in payloads(step, root) for obj in payload.objects]


def payload_stream(texts: list[str]) -> str:
    """One `kubectl apply -f -` input: YAML documents, JSON ones among them.

    The leading ``---`` keeps kubectl in YAML mode even when the first document
    is JSON (it would read the whole stream as JSON otherwise).
    """
    return "---\n" + "\n---\n".join(texts)


def as_json(obj: dict[str, Any]) -> str:
    """An object as a document of `payload_stream`: JSON, which YAML reads as written.

    Non-ASCII text stays as is: YAML refuses the \\u surrogate pairs JSON would use.
    """
    return json.dumps(obj, ensure_ascii=False)


def owner_labels(items: list[dict[str, Any]], label: str, value: str) -> str:
    """A `payload_stream` that puts `label: value` on applied objects and touches nothing else
    (a server-side apply of just that label, under `OWNER_FIELD_MANAGER`)."""
    partial = []
    for item in items:
        meta = item.get("metadata") or {}
        where = {"namespace": meta["namespace"]} if meta.get("namespace") else {}
        partial.append({
            "apiVersion": item.get("apiVersion"), "kind": item.get("kind"),
            "metadata": {"name": meta.get("name"), **where, "labels": {label: value}},
        })  # fmt: skip
    return payload_stream([as_json(obj) for obj in partial])


def statefulset_claims(spec: dict[str, Any], name: str) -> list[str]:
    """The claims a StatefulSet's controller makes: `<template>-<statefulset>-<ordinal>`."""
    return [
        f"{(template.get('metadata') or {}).get('name')}-{name}-{index}"
        for template in spec.get("volumeClaimTemplates") or []
        for index in range(int(spec.get("replicas", 1) or 0))
    ]
