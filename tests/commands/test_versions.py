"""The version matrix's own logic: settings, per-version results, what the badge says."""

from __future__ import annotations

import argparse
import hashlib
import re
from pathlib import Path

import pytest

from kdocs.cluster.providers.kwok import version_override, versioned_name
from kdocs.config import CLUSTER_RELEASES, DEFAULT_CLUSTER_VERSIONS, load_settings
from kdocs.errors import UnusableInputError
from kdocs.results import ResultStore, UnitRecord, minor_of
from kdocs.site.badges import cluster_badge

ROOT = Path(__file__).resolve().parents[2]


def project(tmp_path: Path, body: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.kdocs]\n" + body, encoding="utf-8")
    return tmp_path


def test_cluster_versions_default_to_the_one_pinned_release(tmp_path: Path) -> None:
    assert load_settings(project(tmp_path)).cluster_versions == DEFAULT_CLUSTER_VERSIONS
    assert load_settings(ROOT).cluster_versions == ("1.34", "1.36")  # this project: both


def test_the_default_release_is_the_build_scripts_pin() -> None:
    script = (ROOT / "clusters" / "build" / "build-binaries.sh").read_text()
    pinned = re.search(r"K8S_VERSION=\$\{K8S_VERSION:-(v[\d.]+)\}", script)[1]
    assert CLUSTER_RELEASES[DEFAULT_CLUSTER_VERSIONS[0]] == pinned
    assert all(minor_of(release) == minor for minor, release in CLUSTER_RELEASES.items())


@pytest.mark.parametrize(
    ("value", "message"),
    [('["1.35"]', "'1.35' is not a version kdocs builds; did you mean"),
     ('["1.34", "1.34"]', "lists a version twice"), ("[]", "at least one version"),
     ('"1.34"', "cluster-versions must be a list of versions the cluster stage builds")],
)  # fmt: skip
def test_bad_cluster_versions_are_one_line_naming_the_line(tmp_path, value, message) -> None:
    root = project(tmp_path, f'docs-dir = "docs"\ncluster-versions = {value}\n')
    with pytest.raises(UnusableInputError) as caught:
        load_settings(root)
    assert str(caught.value).startswith(f"{root / 'pyproject.toml'}:3: ")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_another_release_gets_a_cluster_of_its_own() -> None:
    assert version_override("v1.36.3") is None and version_override(None) is None
    assert version_override("v1.34.4") == "v1.34.4"
    assert versioned_name("kdocs-x-1234abcd", None) == "kdocs-x-1234abcd"
    assert versioned_name("kdocs-x-1234abcd", "v1.34.4") == "kdocs-x-1234abcd-v1-34"


def store_with(tmp_path: Path, *verdicts: tuple[str, bool]) -> tuple[ResultStore, str]:
    snippet = tmp_path / "snippets" / "app.yaml"
    snippet.parent.mkdir(parents=True, exist_ok=True)
    snippet.write_text("kind: ConfigMap\n")
    sha = hashlib.sha256(snippet.read_bytes()).hexdigest()
    store = ResultStore(tmp_path / "results.json", tmp_path)
    for second, (version, passed) in enumerate(verdicts):
        store.record(UnitRecord(
            snippet="app.yaml", sha256=sha, kind="scenario", unit="app",
            source="snippets/app.scenario.yaml", passed=passed, provider="kwok",
            kubernetes_version=version, date=f"2026-11-29T10:00:0{second}+00:00",
            checks=("server-side apply", "scenario") if passed else (),
            message="" if passed else "assert timed out", inputs={"snippets/app.yaml": sha},
            cluster="kwok + Karpenter v1.14.1",
        ))  # fmt: skip
    store.save()
    return ResultStore(tmp_path / "results.json", tmp_path), sha


def test_each_version_is_its_own_record_and_a_pass_lists_every_version(tmp_path: Path) -> None:
    store, sha = store_with(tmp_path, ("v1.36.3", True), ("v1.34.4", True))
    assert len(store.records(sha)) == 2
    result = store.lookup(sha)
    assert result.passed and result.kubernetes_version == "v1.34.4, v1.36.3"
    badge = cluster_badge(result)
    assert badge.state == "passed"
    assert "Kubernetes v1.34.4, v1.36.3" in badge.text, badge.text
    inputs = {"snippets/app.yaml": sha}
    assert store.proven(sha, "scenario", "app", "kwok", inputs, "1.34") is not None
    assert store.proven(sha, "scenario", "app", "kwok", inputs, "1.35") is None


def test_a_failure_on_one_version_fails_the_snippet_naming_that_version(tmp_path: Path) -> None:
    store, sha = store_with(tmp_path, ("v1.36.3", True), ("v1.34.4", False))
    result = store.lookup(sha)
    assert not result.passed
    assert result.message == "on Kubernetes v1.34.4: assert timed out"
    assert result.kubernetes_version == "v1.34.4"
    badge = cluster_badge(result)
    assert badge.state == "failed" and "Kubernetes v1.34.4" in badge.text
    assert "v1.36.3" not in badge.text  # the badge never claims the failing snippet passed
    assert [(s.name, s.passed) for s in result.scenarios] == [("app", False)]
    inputs = {"snippets/app.yaml": sha}
    assert store.proven(sha, "scenario", "app", "kwok", inputs, "1.34") is None  # reruns
    assert store.proven(sha, "scenario", "app", "kwok", inputs, "1.36") is not None


def test_require_complete_names_the_versions_a_unit_lacks(tmp_path: Path) -> None:
    from kdocs.recording import unrecorded_units

    root = project(tmp_path, 'cluster-versions = ["1.34", "1.36"]\nresults-file = "results.json"\n')
    (root / "snippets").mkdir()
    (root / "snippets" / "app.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"
    )
    settings = load_settings(root)
    (line,) = unrecorded_units(settings)
    assert "'snippets/app.yaml' has no result" in line and "Kubernetes 1.34, 1.36" in line


def test_a_version_kwok_does_not_build_is_one_line_and_exit_2(tmp_path: Path, monkeypatch,
                                                              capsys) -> None:  # fmt: skip
    from kdocs.cli import main

    monkeypatch.chdir(project(tmp_path, 'results-file = "results.json"\n'))
    assert main(["test", "--provider", "kwok", "--cluster-version", "1.35"]) == 2
    err = capsys.readouterr().err
    assert err == "kdocs: --cluster-version: kwok builds 1.34, 1.36, not 1.35\n", err


def test_cluster_up_brings_up_the_clusters_kdocs_test_uses_the_pinned_one_first(
    tmp_path: Path,
) -> None:
    """`kdocs cluster up` readies every version's cluster, so that the next `kdocs test` finds
    them all warm; the build script's version first (a Ctrl-C stops there, nothing after)."""
    from kdocs.cluster.providers.kwok import KwokProvider
    from kdocs.commands.cluster import _per_version

    settings = load_settings(project(tmp_path, 'cluster-versions = ["1.34", "1.36"]\n'))
    args = argparse.Namespace(cluster_version=None)
    default = KwokProvider(settings)
    chosen = _per_version(default, "kwok", settings, args, {})
    assert [p.cluster_name for p in chosen] == [
        default.cluster_name, versioned_name(default.cluster_name, "v1.34.4")
    ]  # fmt: skip
    args.cluster_version = "1.34"
    (only,) = _per_version(default, "kwok", settings, args, {})
    assert only.kubernetes_version == "v1.34.4"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--cluster-version", "1.35"], "--cluster-version: kwok builds 1.34, 1.36, not 1.35"),
        (["--provider", "kubeconfig", "--cluster-version", "1.34"],
         "--cluster-version: applies to the kwok provider only"),
    ],
)  # fmt: skip
def test_cluster_up_refuses_a_version_it_cannot_bring_up_in_one_line(
    tmp_path: Path, monkeypatch, capsys, argv: list[str], message: str
) -> None:
    from kdocs.cli import main

    monkeypatch.chdir(project(tmp_path))
    assert main(["cluster", "up", "--provider", "kwok", *argv]) == 2
    assert capsys.readouterr().err == f"kdocs: {message}\n"


def test_cluster_status_names_each_version_cluster_that_does_not_run(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """Nothing runs for this new project: status says so for every version kdocs test uses
    (exit 1), or for the one --cluster-version names, each with its cluster's name."""
    from kdocs.cli import main
    from kdocs.cluster.providers.kwok import KwokProvider

    root = project(tmp_path, 'cluster-versions = ["1.34", "1.36"]\n')
    monkeypatch.chdir(root)
    monkeypatch.setenv("KDOCS_CACHE", str(tmp_path / "cache"))
    name = KwokProvider(load_settings(root)).cluster_name
    assert main(["cluster", "status", "--provider", "kwok"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        f"no kwok cluster of this checkout is running (Kubernetes 1.36: {name})",
        f"no kwok cluster of this checkout is running (Kubernetes 1.34: {name}-v1-34)",
        f"this checkout's clusters: {name}, {name}-v1-34",
    ], out
    assert main(["cluster", "status", "--provider", "kwok", "--cluster-version", "1.34"]) == 1
    assert capsys.readouterr().out.splitlines()[0].endswith(f"(Kubernetes 1.34: {name}-v1-34)")
