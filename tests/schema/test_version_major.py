"""`check_snippets` (versions outermost, one version's schemas alive at a time, one check
per distinct schema) gives exactly what `check_snippet` gives file by file."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kdocs.schema import api
from kdocs.schema.registry import GVK, default_versions
from kdocs.schema.snippet import SchemaOutcome, check_snippet, check_snippets

from .conftest import CRDS, REPO

VERSIONS = tuple(default_versions())

CORPUS = {
    # ConfigMap's schema is the same text in most versions: checked once per text
    "configmap-typo.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a, labells: {x: y}}
        data: {k: 1}
        """,
    # Deployment's differs in every version: a finding per version, merged into one line
    "deployment-bad.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: "3"
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: web
                  image: nginx
                  imagePullPolicy: Sometimes
                  portz: []
        """,
    "service-and-configmap.yaml": """\
        apiVersion: v1
        kind: Service
        metadata: {name: s}
        spec:
          type: Nowhere
          ports: [{port: http}]
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: ok}
        data: {k: v}
        ---
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: d}
        spec: {selector: {}, template: {spec: {containers: [{name: c}]}}}
        """,
    # a kind some versions lack: "no schema" in those versions only
    "deviceclass.yaml": """\
        apiVersion: resource.k8s.io/v1
        kind: DeviceClass
        metadata: {name: gpu}
        spec: {selectors: []}
        """,
    # same file name as a built-in schema, another group: must not get apps/v1's schema
    "other-group.yaml": """\
        apiVersion: apps.example.com/v1
        kind: Deployment
        metadata: {name: x}
        """,
    "nodepool-bad.yaml": """\
        apiVersion: karpenter.sh/v1
        kind: NodePool
        metadata: {name: np}
        spec:
          template:
            spec:
              nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: x}
              requirements: [{key: k, operator: Maybe}]
          disruption: {consolidateAfter: soon}
        """,
    "valid.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: fine}
        data: {k: v}
        """,
    "broken-yaml.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n",
}


def _settings(versions=VERSIONS) -> SimpleNamespace:
    return SimpleNamespace(kubernetes_versions=versions, crd_dirs=(CRDS,))


def _seen(outcome: SchemaOutcome) -> tuple:
    report = outcome.report
    problems = [(p.text(), p.versions) for d in report.documents for p in d.problems]
    return (
        outcome.valid,
        outcome.versions_passed,
        outcome.first_error,
        [str(e) for e in report.errors],
        [(d.document, d.versions_failed) for d in report.documents],
        problems,
    )


def _corpus(tmp_path: Path) -> list[tuple[Path, str]]:
    import textwrap

    files = []
    for name, text in CORPUS.items():
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        files.append((path, f"snippets/{name}"))
    repo = sorted((REPO / "snippets").rglob("*.yaml"))
    files += [(p, str(p.relative_to(REPO))) for p in repo if not p.name.endswith(".scenario.yaml")]
    return files


def test_batch_gives_what_file_by_file_gives(tmp_path: Path) -> None:
    files = _corpus(tmp_path)
    api.release_engines()
    one_by_one = {path: _seen(check_snippet(_settings(), path, display=name))
                  for path, name in files}  # fmt: skip
    api.release_engines()
    batch = check_snippets(_settings(), files)
    assert list(batch) == [path for path, _ in files]
    assert {path: _seen(outcome) for path, outcome in batch.items()} == one_by_one
    # the corpus really has what the batch must keep apart
    first = {path.name: seen[2] for path, seen in one_by_one.items()}
    assert "labells" in first["configmap-typo.yaml"]
    assert "no schema for resource.k8s.io/v1 DeviceClass in Kubernetes" in first["deviceclass.yaml"]
    bad = one_by_one[tmp_path / "deployment-bad.yaml"]
    assert bad[5] and all(versions == VERSIONS for _, versions in bad[5])
    assert one_by_one[tmp_path / "valid.yaml"][1] == VERSIONS


def test_versions_share_a_schema_only_when_its_text_is_the_same() -> None:
    api.release_engines()
    registry = api.engine_for(VERSIONS, [CRDS]).registry
    configmap = {registry.schema_key(v, GVK("", "v1", "ConfigMap")) for v in VERSIONS}
    deployment = {registry.schema_key(v, GVK("apps", "v1", "Deployment")) for v in VERSIONS}
    assert None not in configmap and len(configmap) < len(VERSIONS)
    assert len(deployment) == len(VERSIONS)
    other = registry.schema_key(VERSIONS[0], GVK("apps.example.com", "v1", "Deployment"))
    assert other is None
    assert registry.schema_key(VERSIONS[0], GVK("karpenter.sh", "v1", "NodePool")) is None
    keys = {v: registry.schema_key(v, GVK("", "v1", "ConfigMap")) for v in VERSIONS}
    common = max(configmap, key=list(keys.values()).count)
    shared = [v for v, key in keys.items() if key == common]
    compiled = {id(registry.validator(v, GVK("", "v1", "ConfigMap"))) for v in shared}
    assert len(shared) > 1 and len(compiled) == 1
    api.release_engines()


def test_batch_leaves_no_version_compiled(tmp_path: Path) -> None:
    api.release_engines()
    check_snippets(_settings(), _corpus(tmp_path)[:3])
    registry = api.engine_for(VERSIONS, [CRDS]).registry
    assert not registry._validators and not registry._shared and not registry._registries
    api.release_engines()


def test_bad_settings_are_every_file_s_error(tmp_path: Path) -> None:
    files = _corpus(tmp_path)[:2]
    with pytest.raises(Exception) as raised:
        check_snippet(_settings(("9.99",)), files[0][0])
    batch = check_snippets(_settings(("9.99",)), files)
    assert [str(e) for e in batch.values()] == [str(raised.value)] * 2
