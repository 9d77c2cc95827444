"""A full build checks every page's snippets in one batch (versions outermost, in a child
process from `FORK_FROM` files on, or beside the build where a second CPU can run it);
what it reports, and in which order, is what the file-by-file checks report, in the
child or not."""

from __future__ import annotations

import threading

import pytest

from kdocs import pipeline
from kdocs.config import load_settings
from kdocs.schema import apart as schema_snippet
from tests.site.conftest import CONFIGMAP, Project

DEPLOYMENT_BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: many
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx, portz: []}]
"""
CONFIGMAP_TYPO = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labells: {}}\n"
YAML_ERROR = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n"
DEVICECLASS = "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: gpu}\nspec: {}\n"


def _problems(project: Project, batch: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setattr(pipeline, "_STATIC_CHECKS", {})  # no verdict kept by another run
    (project.root / ".kdocs" / "schema-checks.json").unlink(missing_ok=True)
    site = pipeline.SitePipeline(load_settings(project.root))
    if not batch:
        monkeypatch.setattr(site, "_check_in_batch", lambda rels: None)
    return [str(p) for p in site.check_references()]


@pytest.mark.parametrize(
    ("large", "spare_cpu", "threaded", "forked"),
    [
        (False, False, False, False),
        (False, True, False, True),
        (True, False, False, True),
        (True, True, True, False),
    ],
    ids=["small-site-one-cpu-here", "small-site-beside", "large-site-child", "threads-so-here"],
)
def test_batch_reports_what_file_by_file_reports(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    large: bool,
    spare_cpu: bool,
    threaded: bool,
    forked: bool,
    forks: list[int],
) -> None:
    """`large`: from FORK_FROM files on a child checks, for memory, even on one CPU; below
    it only a spare CPU makes a child worth it. `threaded`: another thread runs (as `kdocs
    serve`'s preview server does), so even a large site's batch is checked here: a child
    forked beside a thread could hang."""
    files = {
        "a/cm.yaml": CONFIGMAP,
        "a/deploy-bad.yaml": DEPLOYMENT_BAD,
        "b/cm-typo.yaml": CONFIGMAP_TYPO,
        "b/broken.yaml": YAML_ERROR,
        "b/deviceclass.yaml": DEVICECLASS,
        "c/binary.yaml": b"\x00\x01binary",
    }
    (project.root / "pyproject.toml").write_text(
        '[tool.kdocs]\nkubernetes-versions = ["1.30", "1.34", "1.35", "1.37"]\n'
    )
    for rel, body in files.items():
        project.snippet(rel, body)
    project.page("one.md", '# One\n\n{{ snippet("b/cm-typo.yaml") }}\n{{ snippet("a/cm.yaml") }}\n')
    project.page(
        "two.md",
        '# Two\n\n{{ snippet("a/deploy-bad.yaml") }}\n\n{{ snippet("c/binary.yaml") }}\n'
        '{{ snippet("b/broken.yaml") }}\n{{ snippet("b/deviceclass.yaml") }}\n'
        '{{ snippet("a/cm.yaml") }}\n{{ snippet("b/cm-typo.yaml") }}\n',
    )
    batches: list[int] = []
    apart = schema_snippet.start_checks_apart

    def counting(settings, files):  # type: ignore[no-untyped-def]
        batches.append(len(files))
        return apart(settings, files)

    monkeypatch.setattr(schema_snippet, "start_checks_apart", counting)
    monkeypatch.setattr(schema_snippet, "_spare_cpu", lambda: spare_cpu)
    if large:  # five files: a small site's batch unless told otherwise
        monkeypatch.setattr(schema_snippet, "FORK_FROM", 2)
    one_by_one = _problems(project, batch=False, monkeypatch=monkeypatch)
    assert not batches and not forks
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    if threaded:
        other.start()
    else:  # what a fork needs; a thread left by another test would be this test's failure
        assert threading.active_count() == 1, threading.enumerate()
    try:
        batched = _problems(project, batch=True, monkeypatch=monkeypatch)
    finally:
        stop.set()
    assert batches == [5]  # every readable manifest, once (the binary file cannot be read)
    assert len(forks) == (1 if forked else 0)
    assert batched == one_by_one
    text = "\n".join(batched)
    for expected in ("labells", "replicas", "no schema for resource.k8s.io/v1", "binary"):
        assert expected in text
    assert "DeviceClass in Kubernetes 1.30 [k8s 1.30]" in text  # schemas differ by version
    assert len(batched) == 6  # cm-typo twice (two pages), deploy, binary, broken, deviceclass


def test_kept_verdicts_skip_the_batch(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.snippet("cm2.yaml", CONFIGMAP.replace("demo", "other"))
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n{{ snippet("cm2.yaml") }}\n')
    monkeypatch.setattr(pipeline, "_STATIC_CHECKS", {})
    first = pipeline.SitePipeline(load_settings(project.root))
    assert first.check_references() == []
    first.checks.save()  # what the plugin does at the end of a build
    called: list[object] = []
    monkeypatch.setattr(schema_snippet, "start_checks_apart", lambda *a: called.append(a))
    monkeypatch.setattr(pipeline, "_STATIC_CHECKS", {})
    again = pipeline.SitePipeline(load_settings(project.root))
    assert again.check_references() == [] and not called


def test_a_small_site_checked_here_releases_its_schemas(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below FORK_FROM on one CPU the compiled schemas live in the build's own process: the
    plugin drops them once every page is checked, before MkDocs renders."""
    from kdocs.schema import api

    monkeypatch.setattr(schema_snippet, "_spare_cpu", lambda: False)

    project.snippet("cm.yaml", CONFIGMAP)
    project.snippet("cm2.yaml", CONFIGMAP.replace("demo", "other"))
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n{{ snippet("cm2.yaml") }}\n')
    monkeypatch.setattr(pipeline, "_STATIC_CHECKS", {})
    api.release_engines()
    site = pipeline.SitePipeline(load_settings(project.root))
    assert site.check_references() == []
    assert api.cached_engines() == 1  # checked here, not in a child
    site.release_schemas()
    assert api.cached_engines() == 0
