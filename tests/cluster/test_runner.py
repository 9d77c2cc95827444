"""The guide's scenarios on the session's cluster: they pass, are recorded, and clean up.

Also: an unchanged rerun skips everything without a cluster, a changed input
reruns, a step that times out says where and why, a failure is recorded (it
ran to the end) while an unreachable cluster records nothing.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from kdocs.cluster.base import Cluster
from kdocs.config import Settings, load_settings
from kdocs.results import ResultStore
from tests.cluster.conftest import record_timing
from tests.cluster.test_runner_helpers import (
    NoClusterProvider,
    StaticProvider,
    failures,
    kdocs_test,
    leftovers,
    make_project,
    outcomes,
    units_lock,
    write,
)

pytestmark = pytest.mark.cluster

GUIDE_SCENARIOS = {"daemonset-placement", "daemonset-preemption", "helm-values", "nodepool-stable"}
# The scenarios that need Karpenter: a provider without it shows them as not provable.
NEED_KARPENTER = {"daemonset-placement", "daemonset-preemption", "helm-values"}
# Which scenarios prove each snippet of the guide (what its badge lists).
PROVEN_BY = {
    "daemonset.yaml": {"daemonset-placement", "daemonset-preemption"},
    "priorityclass.yaml": {"daemonset-placement", "daemonset-preemption", "helm-values"},
    "helm-values.yaml": {"helm-values"},
    "nodepool-stable.yaml": {"nodepool-stable", "daemonset-placement", "helm-values"},
    "nodepool-default.yaml": {"daemonset-placement", "daemonset-preemption", "helm-values"},
    "workload-stable.yaml": {"daemonset-placement", "helm-values"},
}


def provable(cluster: Cluster) -> set[str]:
    """The guide's scenarios this cluster can prove."""
    if cluster.has_component("karpenter"):
        return set(GUIDE_SCENARIOS)
    return GUIDE_SCENARIOS - NEED_KARPENTER


@dataclass
class SiteRun:
    settings: Settings
    code: int
    report: dict
    ups: int
    leftovers: list[str]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def site_run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> SiteRun:
    """`kdocs test` with no PATH in a copy of the site: every scenario of the guide, once."""
    settings = make_project(tmp_path_factory.mktemp("site"))
    provider = StaticProvider(cluster)
    with units_lock():
        started = time.monotonic()
        code, report = kdocs_test(settings, provider=provider)
        record_timing("kdocs test, whole guide (jobs 4)", time.monotonic() - started)
        namespaces = [o["namespace"] for o in report.get("outcomes", [])]
        left = leftovers(cluster, namespaces)
    for outcome in report.get("outcomes", []):
        record_timing(f"  scenario {outcome['name']}", outcome["seconds"])
    return SiteRun(settings, code, report, provider.ups, left)


def test_every_scenario_of_the_guide_passes(site_run: SiteRun, cluster: Cluster) -> None:
    assert site_run.code == 0, failures(site_run.report)
    statuses = {name: o["status"] for name, o in outcomes(site_run.report).items()}
    expected = {name: "passed" if name in provable(cluster) else "skipped" for name in statuses}
    assert statuses == expected and set(statuses) == GUIDE_SCENARIOS
    for name in GUIDE_SCENARIOS - provable(cluster):  # visibly not provable, never passed
        assert "not provable on" in outcomes(site_run.report)[name]["message"]
    assert site_run.ups == 1


def test_every_snippet_of_the_guide_is_recorded_with_the_scenarios_that_prove_it(
    site_run: SiteRun, cluster: Cluster
) -> None:
    store = ResultStore(site_run.settings.results_file)
    guide = site_run.settings.snippets_dir / "karpenter-daemonset"
    for name, scenarios in PROVEN_BY.items():
        entry = store.lookup(sha256(guide / name))
        proven = scenarios & provable(cluster)
        if not proven:  # a scenario that was not provable here records nothing
            assert entry is None, name
            continue
        assert entry is not None, name
        assert entry.passed and entry.message == ""
        assert entry.snippet == f"karpenter-daemonset/{name}"
        assert {s.name for s in entry.scenarios} == proven
        assert all(s.passed and s.inputs for s in entry.scenarios)
        # The cluster as the badge says it: "kwok + Karpenter v1.14.1" where Karpenter ran.
        assert (entry.provider, entry.kubernetes_version) == (
            cluster.label, cluster.kubernetes_version,
        )  # fmt: skip
        assert datetime.fromisoformat(entry.date).utcoffset().total_seconds() == 0


def test_a_run_leaves_no_namespace_and_no_object_it_applied(site_run: SiteRun) -> None:
    namespaces = [o["namespace"] for o in site_run.report["outcomes"]]
    assert len(set(namespaces)) == len(GUIDE_SCENARIOS)
    assert all(ns.startswith("kdocs-") for ns in namespaces)
    assert site_run.leftovers == []


def test_an_unchanged_rerun_skips_everything_without_a_cluster(
    site_run: SiteRun, cluster: Cluster
) -> None:
    if provable(cluster) != GUIDE_SCENARIOS:
        pytest.skip(f"{cluster.label} records no result for the scenarios that need Karpenter")
    before = site_run.settings.results_file.read_bytes()
    code, report = kdocs_test(site_run.settings, provider=NoClusterProvider(cluster.provider))
    assert code == 0, report
    statuses = {name: o["status"] for name, o in outcomes(report).items()}
    assert statuses == dict.fromkeys(GUIDE_SCENARIOS, "skipped")
    assert site_run.settings.results_file.read_bytes() == before


def test_a_changed_input_reruns_that_scenario_only(
    site_run: SiteRun, cluster: Cluster, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(site_run.settings.root, copy)
    settings = load_settings(copy)
    scenario = settings.snippets_dir / "karpenter-daemonset" / "nodepool-stable.scenario.yaml"
    scenario.write_text(scenario.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    provider = StaticProvider(cluster)
    with units_lock():
        code, report = kdocs_test(settings, provider=provider)
    assert code == 0, failures(report)
    statuses = {name: o["status"] for name, o in outcomes(report).items()}
    assert statuses == {**dict.fromkeys(GUIDE_SCENARIOS, "skipped"), "nodepool-stable": "passed"}
    assert provider.ups == 1


def test_force_reruns_what_is_unchanged(
    site_run: SiteRun, cluster: Cluster, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(site_run.settings.root, copy)
    settings = load_settings(copy)
    scenario = settings.snippets_dir / "karpenter-daemonset" / "nodepool-stable.scenario.yaml"
    provider = StaticProvider(cluster)
    with units_lock():
        code, report = kdocs_test(settings, str(scenario), "--force", provider=provider)
    assert code == 0, failures(report)
    assert [o["status"] for o in report["outcomes"]] == ["passed"]


IMPOSSIBLE = """\
name: impossible
description: asserts a value the PriorityClass does not have
timeout: 2s
steps:
  - apply: priorityclass.yaml
  - assert:
      object:
        apiVersion: scheduling.k8s.io/v1
        kind: PriorityClass
        metadata:
          name: qovery-standard-priority
        value: 5
"""


def test_a_step_that_times_out_names_file_line_step_and_difference(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = make_project(tmp_path)
    guide = settings.snippets_dir / "karpenter-daemonset"
    scenario = write(guide / "impossible.scenario.yaml", IMPOSSIBLE)
    with units_lock():
        code, report = kdocs_test(settings, str(scenario), provider=StaticProvider(cluster))
        left = leftovers(cluster, [o["namespace"] for o in report["outcomes"]])
    assert code == 1
    (outcome,) = report["outcomes"]
    assert outcome["status"] == "failed"
    assert outcome["message"] == (
        "snippets/karpenter-daemonset/impossible.scenario.yaml:6: step 2 (assert PriorityClass "
        "qovery-standard-priority): not within 2s: qovery-standard-priority: value: expected 5, "
        "got 1000000"
    )
    assert "PriorityClass/qovery-standard-priority" in outcome["diagnostics"]
    assert [s["status"] for s in outcome["steps"]] == ["passed", "failed"]
    assert left == [], "a failed scenario cleans up too"
    # It ran to the end, so the failure is a result: recorded, and shown as failed.
    entry = ResultStore(settings.results_file).lookup(sha256(guide / "priorityclass.yaml"))
    assert entry is not None and not entry.passed
    assert entry.message == outcome["message"]
    assert [(s.name, s.passed) for s in entry.scenarios] == [("impossible", False)]


def test_an_unreachable_cluster_is_exit_2_and_records_nothing(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = make_project(tmp_path, guide=False)
    write(
        settings.snippets_dir / "app" / "config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  a: b\n",
    )
    config = yaml.safe_load(cluster.kubeconfig.read_text(encoding="utf-8"))
    for entry in config["clusters"]:
        entry["cluster"]["server"] = "https://127.0.0.1:9"  # the discard port: nothing listens
    dead_config = tmp_path / "dead-kubeconfig.yaml"
    dead_config.write_text(yaml.safe_dump(config), encoding="utf-8")
    dead = replace(cluster, kubeconfig=dead_config)
    code, report = kdocs_test(settings, provider=StaticProvider(dead))
    assert code == 2, report
    assert "unreachable" in report.get("error", "") or all(
        o["status"] == "error" for o in report.get("outcomes", [])
    ), report
    assert not settings.results_file.exists()
