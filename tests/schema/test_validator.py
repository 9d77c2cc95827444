"""Strict schema validation: what must fail, where it points, and what must not fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from kdocs.schema.api import validate_paths
from kdocs.schema.registry import default_versions, shipped_versions
from kdocs.schema.validator import json_path
from kdocs.versions import version_span
from tests.schema.conftest import CRDS

ALL = f"[k8s {default_versions()[0]}-{default_versions()[-1]}]"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  replicas: 2
  strategy:
    rollingUpdate:
      maxUnavailable: 1
      maxSurge: 25%
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 80
              name: http
          resources:
            requests: {cpu: 1, memory: 128Mi}
            limits: {cpu: 1.5, memory: 1073741824}
          readinessProbe:
            httpGet: {path: /, port: http}
          livenessProbe:
            tcpSocket: {port: 80}
"""


def problems(path: Path, versions: list[str] | None = None, crds=()) -> list[str]:
    report = validate_paths([path], versions, list(crds))
    return list(report.lines())


def test_a_good_deployment_with_quantities_and_int_or_string_is_valid(write) -> None:
    report = validate_paths([write("d.yaml", DEPLOYMENT)])
    assert list(report.lines()) == [] and report.exit_code == 0
    (result,) = report.documents
    assert result.versions_passed == tuple(default_versions())
    assert (result.document.kind, result.document.name, result.document.lines) == (
        "Deployment",
        "web",
        (1, 32),
    )


def test_no_false_alarm_on_anchors_lists_and_empty_documents(write) -> None:
    path = write(
        "many.yaml",
        """\
        # leading comment only
        ---
        ---
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: ConfigMap
            metadata: &meta {name: one, labels: {team: a}}
            data: {port: "8080"}
          - apiVersion: v1
            kind: Service
            metadata:
              <<: *meta
              name: two
            spec:
              ports:
                - {port: 80, targetPort: http}
                - {port: 81, targetPort: 8081}
        ---
        """,
    )
    report = validate_paths([path])
    assert list(report.lines()) == [] and report.exit_code == 0
    assert [d.document.name for d in report.documents] == ["one", "two"]


def test_unknown_field_points_at_the_key_and_suggests(write) -> None:
    path = write("d.yaml", DEPLOYMENT.replace("imagePullPolicy", "imagePullPolicyy"))
    assert problems(path) == [
        f"{path}:22:11: spec.template.spec.containers[0].imagePullPolicyy: unknown field "
        f"'imagePullPolicyy' (did you mean 'imagePullPolicy'?) {ALL}"
    ]


def test_wrong_type_points_at_the_value(write) -> None:
    path = write("d.yaml", DEPLOYMENT.replace("replicas: 2", 'replicas: "2"'))
    assert problems(path) == [f"{path}:8:13: spec.replicas: expected integer, got string '2' {ALL}"]


def test_wrong_type_for_a_quantity(write) -> None:
    path = write("d.yaml", DEPLOYMENT.replace("cpu: 1.5", "cpu: [1]"))
    (line,) = problems(path)
    assert line.startswith(f"{path}:28:27: spec.template.spec.containers[0].resources.limits.cpu:")
    assert "expected string or number, got array" in line


def test_missing_required_field_points_at_the_object_key(write) -> None:
    path = write("d.yaml", DEPLOYMENT.replace("  selector:\n    matchLabels: {app: web}\n", ""))
    assert problems(path) == [f"{path}:7:1: spec: missing required field 'selector' {ALL}"]


def test_removed_api_version_fails_in_every_version_that_removed_it(write) -> None:
    path = write(
        "ds.yaml", "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: x}\n"
    )
    assert problems(path, ["1.30"]) == [
        f"{path}:2:7: no schema for extensions/v1beta1 DaemonSet in Kubernetes 1.30 [k8s 1.30]"
    ]
    (line,) = problems(path)
    assert f"no schema for extensions/v1beta1 DaemonSet in Kubernetes {ALL[5:-1]}" in line


def test_unknown_kind_is_an_error(write) -> None:
    path = write("x.yaml", "apiVersion: v1\nkind: Deploymnt\nmetadata: {name: x}\n")
    (line,) = problems(path, ["1.31"])
    assert line == f"{path}:2:7: no schema for v1 Deploymnt in Kubernetes 1.31 [k8s 1.31]"


def test_a_look_alike_group_does_not_borrow_a_built_in_schema(write) -> None:
    path = write("x.yaml", "apiVersion: apps.example.com/v1\nkind: Deployment\nmetadata: {}\n")
    (line,) = problems(path, ["1.33"])
    assert "no schema for apps.example.com/v1 Deployment" in line


def test_errors_only_in_some_versions_list_those_versions(write) -> None:
    pod = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      resources: {limits: {cpu: 1}}
      containers: [{name: c, image: busybox}]
    """
    path = write("pod.yaml", pod)
    report = validate_paths([path], ["1.30", "1.31", "1.32", "1.33"])
    (line,) = report.lines()
    assert line.startswith(f"{path}:5:3: spec.resources: unknown field 'resources'")
    assert line.endswith("[k8s 1.30, 1.31]")
    assert report.documents[0].versions_passed == ("1.32", "1.33")


def test_a_kind_that_appears_in_a_later_version(write) -> None:
    path = write(
        "dc.yaml",
        "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: d}\nspec: {}\n",
    )
    (line,) = problems(path)
    assert "no schema for resource.k8s.io/v1 DeviceClass in Kubernetes 1.30-1.33" in line
    assert line.endswith("[k8s 1.30-1.33]")


def test_a_broken_later_document_is_reported_on_its_own_lines(write) -> None:
    path = write(
        "multi.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        + DEPLOYMENT.replace("containerPort: 80", "containerPort: eighty"),
    )
    report = validate_paths([path])
    assert list(report.lines()) == [
        f"{path}:28:30: spec.template.spec.containers[0].ports[0].containerPort: "
        f"expected integer, got string 'eighty' {ALL}"
    ]
    first, second = report.documents
    assert first.valid and not second.valid and second.document.lines == (5, 36)


def test_every_error_of_a_document_is_reported_once_sorted_by_line(write) -> None:
    text = DEPLOYMENT.replace("name: web\n  labels", "nme: web\n  labels").replace(
        "replicas: 2", "replicas: two"
    )
    lines = problems(write("d.yaml", text))
    assert [line.split(": ")[1] for line in lines] == ["metadata.nme", "spec.replicas"]
    assert all(line.endswith(ALL) for line in lines)


def test_yaml_problems_and_schema_problems_in_one_report(write) -> None:
    bad = write("bad.yaml", "a: [\n")
    good = write("good.yaml", DEPLOYMENT)
    report = validate_paths([bad, good])
    assert report.exit_code == 1
    assert [line.split(":")[0] for line in report.lines()] == [str(bad)]


def test_real_nodepool_validates_against_the_real_crd() -> None:
    path = Path(__file__).resolve().parents[2] / "tests/fixtures/schema/nodepool-stable.yaml"
    report = validate_paths([path], None, [CRDS])
    assert list(report.lines()) == [] and report.exit_code == 0
    (result,) = report.documents
    assert (result.document.kind, result.document.name) == ("NodePool", "stable")


def test_nodepool_with_a_typo_fails_at_the_typo(write) -> None:
    text = Path(__file__).resolve().parents[2] / "tests/fixtures/schema/nodepool-stable.yaml"
    path = write("np.yaml", text.read_text().replace("consolidateAfter", "consolidatAfter"))
    assert problems(path, None, [CRDS]) == [
        f"{path}:26:3: spec.disruption: missing required field 'consolidateAfter' {ALL}",
        f"{path}:28:5: spec.disruption.consolidatAfter: unknown field 'consolidatAfter' "
        f"(did you mean 'consolidateAfter'?) {ALL}",
    ]


def test_nodepool_without_its_crd_has_no_schema() -> None:
    path = Path(__file__).resolve().parents[2] / "tests/fixtures/schema/nodepool-stable.yaml"
    (line,) = validate_paths([path], ["1.37"]).lines()
    assert "no schema for karpenter.sh/v1 NodePool in Kubernetes 1.37" in line


@pytest.mark.parametrize(
    ("versions", "span"),
    [(["1.30"], "1.30"), (["1.30", "1.31"], "1.30, 1.31"), (["1.30", "1.31", "1.32"], "1.30-1.32"),
     (["1.30", "1.32", "1.33"], "1.30, 1.32, 1.33")],
)  # fmt: skip
def test_version_span(versions: list[str], span: str) -> None:
    assert version_span(versions) == span


def test_json_path_quotes_keys_that_are_not_identifiers() -> None:
    path = ("metadata", "labels", "app.kubernetes.io/name")
    assert json_path(path) == 'metadata.labels["app.kubernetes.io/name"]'
    assert json_path(("spec", "containers", 0, "image")) == "spec.containers[0].image"


def test_default_matrix_is_1_30_to_newest_shipped() -> None:
    versions = default_versions()
    assert versions[0] == "1.30" and versions[-1] == shipped_versions()[-1]
    assert len(versions) == int(versions[-1].split(".")[1]) - 29


def test_keys_and_kinds_with_newlines_still_give_one_line_each(write) -> None:
    path = write(
        "nl.yaml",
        'apiVersion: v1\nkind: "Con\\nfig"\n---\n'
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, "x\\ny": 2}\n',
    )
    lines = problems(path, ["1.30"])
    assert lines == [
        f"{path}:2:7: no schema for v1 Con fig in Kubernetes 1.30 [k8s 1.30]",
        f"{path}:6:21: metadata[\"x\\ny\"]: unknown field 'x\\ny' [k8s 1.30]",
    ]
