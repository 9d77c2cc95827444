"""What was validated is what was applied is what the reader's kubectl reads.

The differential test: every scalar and construct of the corpus is written into a
snippet where the schema wants a string (ConfigMap data, an annotation), where it
wants an integer (PriorityClass value) and where nothing is typed (a custom
resource field under x-kubernetes-preserve-unknown-fields, so the raw type shows).
Each snippet is then read three ways:

* what the schema stage saw: the one reader's value and the validator's verdict;
* what the cluster stage sent: its payloads for the file as is (the file's own
  bytes), patched (the one reader's JSON), and as an inline scenario object;
* for ``format: byte`` fields (Secret data, ConfigMap binaryData), whether the
  value is base64 the API server decodes, offline as on the server;
* what kubectl sends for the same bytes: ``kubectl apply --server-side
  --dry-run=server -o json -f FILE`` against the real API server.

They agree, or the schema stage refused the snippet offline with a one-line error
naming file:line:col. An offline refusal of something kubectl accepts is only
allowed for the reader's deliberate refusals (`DELIBERATE`), so changing how the
schema stage resolves any one scalar of the corpus, either way, fails this test.
"""

from __future__ import annotations

import json
import re
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kdocs.cluster.base import Cluster
from kdocs.cluster.payload import as_json, file_payloads, payload_stream, payloads, read_objects
from kdocs.resource.embed import read_snippet
from kdocs.scenario.model import Apply
from kdocs.scenario.parse import load_scenario
from kdocs.schema.api import engine_for, validate_file
from tests.crd_fixture import crd

pytestmark = pytest.mark.cluster

GROUP = "differential.kdocs.dev"
CRD = crd(GROUP, "Probe", {"type": "object", "x-kubernetes-preserve-unknown-fields": True})

# Scalars as written after `key: ` (block scalars continue on the next lines).
SCALARS = [
    "on", "off", "yes", "no", "y", "n", "Y", "NO", "~", "null", "", "true", "False",
    "1:30", "017", "0o17", "0x1F", "0b101", "1e3", "1.5", ".5", "1.", "08", "1_000", "+1",
    "-0", ".inf", "-.inf", ".nan", "1e400", "123456789012345678901234567890",
    "2024-01-01", "2024-01-01T10:00:00Z", "2001-12-14 21:59:43.10", "=", "<<",
    '"it\\\'s"', '"a\\/b"', '"\\x41\\u00e9"', '"tab\\there"', "'single ''quoted'''",
    "|\n    line one\n    line two\n", ">-\n    folded\n    text\n",
    "!!str 1", "!!int '7'", "!!float 2", "!!binary aGk=",
]  # fmt: skip

# Values of `format: byte` fields (Secret data, ConfigMap binaryData): base64 as Go decodes it.
BYTES = [
    "aGVsbG8=", "''", "REPLACE_WITH_BASE64_CERT", "aGVsbG8", "aGVsbG8==", "aGVs bG8=",
    "|\n    aGVs\n    bG8=\n", "YQ==", "YR==", "YWJj", "-_8=", "+/8=", "a===",
]  # fmt: skip

# Whole documents: constructs, and keys that are numbers or booleans.
CONSTRUCTS = {
    "anchor-alias": "data:\n  a: &v hello\n  b: *v\n",
    "merge-first": "metadata:\n  name: NAME\n  labels: &l {app: a, tier: b}\n"
    "  annotations:\n    <<: *l\n    tier: c\n",
    "merge-after-key": "metadata:\n  name: NAME\n  labels: &l {app: a, tier: b}\n"
    "  annotations:\n    tier: c\n    <<: *l\n",
    "merge-list": "metadata:\n  name: NAME\n  labels: &l {app: a}\n  annotations:\n"
    "    <<: [*l, {app: z, more: m}]\n",
    "key-int": "data:\n  1: a\n",
    "key-bool": "data:\n  yes: a\n",
    "key-hex": "data:\n  0x1F: a\n",
    "key-float": "data:\n  1e3: a\n",
    "key-null": "data:\n  ~: a\n",
    "key-date": "data:\n  2024-01-01: a\n",
    "key-collision": "data:\n  1: a\n  '1': b\n",
}

# Refused offline although kubectl sends something: where we would have to copy a
# quirk of kubectl's that a reader cannot see (see kdocs.resource.scalars).
DELIBERATE = {
    "key-float": "a fractional or exponent key becomes a JSON key by Go's float32 formatting",
    "merge-after-key": "kubectl lets a merge replace the key written before it, YAML does not",
    "!!binary aGk=": "kubectl sends the decoded bytes, not the text",
    "1e400": "kubectl sends a string here, but a snippet meaning a number is better refused",
    "123456789012345678901234567890": "kubectl sends a rounded number",
    "key-collision": "two keys kubectl writes as one JSON key: which one wins is random",
}


@dataclass(frozen=True)
class Case:
    name: str  # also the object's name
    placement: str  # string | annotation | integer | untyped | construct
    scalar: str
    text: str  # the snippet
    path: tuple[str, ...]  # where the scalar lands in the object


def _value_yaml(scalar: str, indent: int) -> str:
    if "\n" in scalar:  # a block scalar: its lines go one level deeper than the key
        head, *rest = scalar.rstrip("\n").split("\n")
        lines = [" " * indent + line.strip() for line in rest]
        return head + "\n" + "\n".join(lines) + "\n"
    return (" " + scalar if scalar else "") + "\n"


# Where a scalar goes: (kind of place, the document up to the value, indent of a block, path).
PLACES = {
    "string": ("string", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v:",
               4, ("data", "v")),
    "annotation": ("annotation", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
                   "  annotations:\n    v:", 6, ("metadata", "annotations", "v")),
    "integer": ("integer", "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n"
                "  name: {name}\nvalue:", 2, ("value",)),
    "untyped": ("untyped", f"apiVersion: {GROUP}/v1\nkind: Probe\nmetadata:\n  name: {{name}}\n"
                "spec:\n  v:", 4, ("spec", "v")),
    "secret": ("byte", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ndata:\n  v:",
               4, ("data", "v")),
    "binarydata": ("byte", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
                   "binaryData:\n  v:", 4, ("binaryData", "v")),
}  # fmt: skip


def cases() -> list[Case]:
    out: list[Case] = []
    for prefix, values, places in (
        ("s", SCALARS, ("string", "annotation", "integer", "untyped")),
        ("b", BYTES, ("secret", "binarydata")),
    ):
        for i, scalar in enumerate(values):
            for place in places:
                kind, head, indent, path = PLACES[place]
                name = f"{prefix}{i:02d}-{place}"
                text = head.format(name=name) + _value_yaml(scalar, indent)
                out.append(Case(name, kind, scalar, text, path))
    for key, body in CONSTRUCTS.items():
        name = f"c-{key}"
        head = "apiVersion: v1\nkind: ConfigMap\n"
        text = head + (body if "NAME" in body else f"metadata:\n  name: {name}\n" + body)
        out.append(Case(name, "construct", key, text.replace("NAME", name), ()))
    return out


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


_MISSING = object()


def _compared(case: Case, obj: Any) -> Any:
    """The part of an object the case is about: its value, or data + annotations."""
    if case.placement != "construct":
        return _at(obj, case.path)
    meta = obj.get("metadata") or {}
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if "kdocs" not in k}
    return {"data": obj.get("data"), "annotations": annotations or None}


def _same(case: Case, seen: Any, stored: Any) -> bool:
    """Equal, type included; a null in a typed field is stored as the type's zero value
    (kubectl sent the null we read; the API server's Go types make it "" or 0)."""
    if seen is None and case.placement in ("string", "annotation", "integer"):
        return stored in ("", 0) and not isinstance(stored, bool)
    return stored == seen and type(stored) is type(seen)


@dataclass
class Outcome:
    case: Case
    problems: list[str]


def _kubectl_reads(cluster: Cluster, namespace: str, *, file: Path | None = None,
                   stream: str | None = None) -> tuple[Any, str]:  # fmt: skip
    """What the API server got from kubectl (dry run): the object, or kubectl's error."""
    args = ["apply", "--server-side", "--field-manager=kdocs-differential", "--dry-run=server"]
    args += ["-n", namespace, "-o", "json", "-f", str(file) if file else "-"]
    done = cluster.kubectl(*args, input=stream, timeout=60)
    if done.returncode:
        return None, " ".join(done.stderr.split())
    return json.loads(done.stdout), ""


def _check(case: Case, folder: Path, cluster: Cluster, namespace: str, engine) -> Outcome:
    problems: list[str] = []
    path = folder / f"{case.name}.yaml"
    path.write_text(case.text, encoding="utf-8")
    report = validate_file(path, engine, name=path.name)
    kubectl_obj, kubectl_error = _kubectl_reads(cluster, namespace, file=path)
    label = f"{case.name} ({case.scalar!r})"
    if report.errors:  # refused offline by the reader
        error = str(report.errors[0])
        if "\n" in error or not re.match(rf"{re.escape(path.name)}:\d+:\d+: ", error):
            problems.append(f"{label}: refusal is not one line naming file:line:col: {error}")
        if kubectl_error == "":
            deliberate = DELIBERATE.get(case.scalar)
            if deliberate is None:
                problems.append(
                    f"{label}: refused offline ({error}) but kubectl sends "
                    f"{_compared(case, kubectl_obj)!r}"
                )
        return Outcome(case, problems)
    (result,) = report.documents
    (document,) = read_snippet(path, name=path.name).documents  # what was validated
    seen = _compared(case, document.obj)
    if not result.valid:
        if kubectl_error == "" and case.placement in ("untyped", "construct", "byte"):
            problems.append(f"{label}: invalid offline, but the API server accepts it")
        return Outcome(case, problems)  # refused offline, with the validator's one line
    if kubectl_error:
        problems.append(f"{label}: valid offline as {seen!r}, kubectl refused: {kubectl_error}")
        return Outcome(case, problems)
    if case.placement == "byte":
        return Outcome(case, problems)  # the server stores its own base64 of the bytes
    sent_by_kubectl = _compared(case, kubectl_obj)
    if not _same(case, seen, sent_by_kubectl):
        problems.append(f"{label}: schema stage saw {seen!r}, kubectl sent {sent_by_kubectl!r}")
    # What the cluster stage sends: the file's own bytes, then the one reader's JSON.
    own = file_payloads(read_objects(path, folder))
    if [p.text for p in own] != [case.text]:
        problems.append(f"{label}: the cluster stage would not send the file's own bytes")
    patch = {"metadata": {"annotations": {"kdocs.dev/probe": "patched"}}}
    patched = payloads(Apply(1, file=path, patch=patch), folder)
    streams = {
        "own bytes": payload_stream([p.text or "" for p in own]),
        "patched JSON": payload_stream([as_json(o) for p in patched for o in p.objects]),
    }
    if case.placement == "untyped":
        scenario = folder / f"{case.name}.scenario.yaml"
        scenario.write_text(
            "steps:\n  - apply:\n      object:\n" + textwrap.indent(case.text, " " * 8),
            encoding="utf-8",
        )
        (step,) = load_scenario(scenario, folder, folder).steps
        streams["inline object"] = payload_stream(
            [as_json(o) for p in payloads(step, folder) for o in p.objects]
        )
    for how, stream in streams.items():
        obj, error = _kubectl_reads(cluster, namespace, stream=stream)
        got = error or _compared(case, obj)
        if error or not _same(case, seen, got):
            problems.append(f"{label}: the cluster stage's {how} reached the server as {got!r}")
    return Outcome(case, problems)


@pytest.fixture(scope="module")
def probe_crd(cluster: Cluster, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("crds")
    (folder / "probe.yaml").write_text(CRD, encoding="utf-8")
    cluster.kubectl("apply", "--server-side", "-f", str(folder / "probe.yaml"), check=True)
    cluster.kubectl(
        "wait", "--for=condition=Established", f"crd/probes.{GROUP}", "--timeout=60s",
        check=True, timeout=90,
    )  # fmt: skip
    yield folder
    cluster.kubectl("delete", f"crd/probes.{GROUP}", "--ignore-not-found", "--wait=false")


def test_schema_stage_cluster_stage_and_kubectl_read_the_corpus_alike(
    cluster: Cluster, probe_crd: Path, tmp_path: Path
) -> None:
    minor = ".".join(cluster.kubernetes_version.lstrip("v").split(".")[:2])
    engine = engine_for([minor], [probe_crd])
    all_cases = cases()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(
            pool.map(lambda c: _check(c, tmp_path, cluster, "default", engine), all_cases)
        )
    problems = [p for outcome in outcomes for p in outcome.problems]
    assert len(all_cases) > 150
    assert not problems, f"{len(problems)} disagreements:\n" + "\n".join(problems)


def test_a_snippet_is_applied_as_its_own_bytes_and_labelled_apart(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The issue's cases end to end: `1:30` and a date stay strings on the cluster, the
    snippet's fields belong to the `kdocs` field manager, the owner label to its own. Only
    what outlives the unit's namespace gets that label (a cluster-scoped PriorityClass
    here): what is inside goes with the namespace, and the sweep of a killed run deletes it."""
    from kdocs.cluster.kube import get_json
    from kdocs.cluster.session import OWNER_LABEL, RunContext, Session

    path = tmp_path / "cm.yaml"
    path.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own-bytes\n"
        'data:\n  t: 1:30\n  d: 2024-01-01\n  q: "it\\\'s"\n',
        encoding="utf-8",
    )
    session = Session(RunContext(cluster, tmp_path), "own-bytes")
    try:
        session.open()
        assert session.apply(file_payloads(read_objects(path, tmp_path))) is None
        live = get_json(cluster, "configmap", "own-bytes", "-n", session.namespace,
                        "--show-managed-fields")  # fmt: skip
        assert live is not None
        assert live["data"] == {"t": "1:30", "d": "2024-01-01", "q": "it's"}
        assert "labels" not in live["metadata"]
        managers = {m["manager"]: json.dumps(m.get("fieldsV1")) for m in
                    live["metadata"]["managedFields"]}  # fmt: skip
        assert '"f:t"' in managers["kdocs"] and set(managers) == {"kdocs"}
        scoped = tmp_path / "pc.yaml"
        name = f"kdocs-own-bytes-{session.namespace[-6:]}"
        scoped.write_text(
            f"apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: {name}\n"
            "value: 1000\ndescription: 1:30\n",
            encoding="utf-8",
        )
        assert session.apply(file_payloads(read_objects(scoped, tmp_path))) is None
        live = get_json(cluster, "priorityclass", name, "--show-managed-fields")
        assert live is not None and live["description"] == "1:30"
        assert live["metadata"]["labels"] == {OWNER_LABEL: session.namespace}
        managers = {m["manager"]: json.dumps(m.get("fieldsV1")) for m in
                    live["metadata"]["managedFields"]}  # fmt: skip
        assert '"f:value"' in managers["kdocs"] and OWNER_LABEL not in managers["kdocs"]
        assert OWNER_LABEL in managers["kdocs-owner"]
        assert '"f:value"' not in managers["kdocs-owner"]
    finally:
        assert session.close() == []
