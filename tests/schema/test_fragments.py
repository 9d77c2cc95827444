"""Fragments are validated merged into their host; errors land on the right file and line."""

from __future__ import annotations

from pathlib import Path

from kdocs.config import Settings
from kdocs.schema.api import validate_paths
from kdocs.schema.snippet import check_snippet
from tests.schema.conftest import CRDS, REPO

SIDECAR = """\
at: spec.template.spec
into:
  apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec:
        containers: [{name: agent, image: busybox}]
"""
VALUES = """\
priorityClassName: high
tolerations:
  - operator: Exists
"""


def test_a_fragment_is_valid_in_its_host(write) -> None:
    write("values.embed.yaml", SIDECAR)
    report = validate_paths([write("values.yaml", VALUES)], ["1.33"])
    assert list(report.lines()) == [] and report.exit_code == 0
    assert report.documents[0].document.kind == "DaemonSet"


def test_an_error_in_the_fragment_points_at_the_fragment(write) -> None:
    write("values.embed.yaml", SIDECAR)
    path = write("values.yaml", VALUES.replace("operator: Exists", "operatr: Exists"))
    (line,) = validate_paths([path], ["1.33"]).lines()
    assert line.startswith(f"{path}:3:5: spec.template.spec.tolerations[0].operatr: unknown field")


def test_an_error_in_the_host_points_at_the_sidecar(write) -> None:
    sidecar = write("values.embed.yaml", SIDECAR.replace("image: busybox", "image: 7"))
    (line,) = validate_paths([write("values.yaml", VALUES)], ["1.33"]).lines()
    assert line.startswith(
        f"{sidecar}:11:43: spec.template.spec.containers[0].image: expected string"
    )


def test_folders_skip_sidecars_and_scenarios(tmp_path: Path, write) -> None:
    write("values.embed.yaml", SIDECAR)
    write("values.yaml", VALUES)
    write("demo.scenario.yaml", "steps: []\n")
    report = validate_paths([tmp_path], ["1.33"])
    assert [f.path for f in report.files] == [str(tmp_path / "values.yaml")]


def settings_for(root: Path, versions: tuple[str, ...]) -> Settings:
    return Settings(
        root=root,
        docs_dir=root / "docs",
        snippets_dir=root / "snippets",
        crd_dirs=(CRDS, root / "no-such-dir"),
        clusters_dir=root / "clusters",
        results_file=root / "results.json",
        kubernetes_versions=versions,
    )


def test_check_snippet_for_the_site_pipeline(tmp_path: Path, write) -> None:
    settings = settings_for(tmp_path, ("1.30", "1.33"))
    nodepool = REPO / "tests" / "fixtures" / "schema" / "nodepool-stable.yaml"
    outcome = check_snippet(settings, nodepool, display="snippets/np.yaml")
    assert outcome.valid and outcome.versions_passed == ("1.30", "1.33") and not outcome.first_error

    pod = write("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                "  resources: {}\n  containers: [{name: c, image: i}]\n")  # fmt: skip
    outcome = check_snippet(settings, pod, display="snippets/pod.yaml")
    assert not outcome.valid and outcome.versions_passed == ("1.33",)
    assert outcome.first_error.startswith("snippets/pod.yaml:5:3: spec.resources: unknown field")
    assert outcome.first_error.endswith("[k8s 1.30]")

    broken = write("broken.yaml", "a: [\n")
    outcome = check_snippet(settings, broken, display="snippets/broken.yaml")
    assert not outcome.valid and outcome.versions_passed == ()
    assert outcome.first_error.startswith("snippets/broken.yaml:2:1: invalid YAML")
