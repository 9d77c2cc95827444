"""The realistic corpus: valid manifests of every common kind pass the default check on the
session's cluster, their broken twins fail with the right one-line reason, nothing is left.

tests/cluster/corpus/valid/ holds manifests written the way guides write them
(StatefulSets with claims, Jobs with completions and indexes, CronJobs,
DaemonSets in kube-system with their own RBAC, a namespace of their own,
objects in `default` and in `monitoring`, ...); tests/cluster/corpus/broken/
holds twins that must fail, each with its expected reason on its first line
(`# expect: ...`). Each folder is one `kdocs test` run with parallel units, as
a contributor would run it, inside a throwaway project whose snippets/ holds
the corpus (so a missing-object error can name the file that defines it).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kdocs.cluster.base import Cluster
from kdocs.config import Settings
from tests.cluster.conftest import record_timing
from tests.cluster.test_runner_helpers import (
    OWNER_LABEL,
    StaticProvider,
    failures,
    kdocs_test,
    leftovers,
    make_project,
    units_lock,
)

pytestmark = pytest.mark.cluster

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "contributing" / "writing-a-guide.md"
EXAMPLES = ROOT / "snippets" / "contributing" / "default-checks"
# Namespaces the corpus names: made for the run (the first two) or already there.
NAMED = ("monitoring", "kdocs-corpus-shop", "kube-system", "default")
# The snippets whose default-check time benchmarks/README.md reports.
TIMED = ("deployment-web", "job-simple", "statefulset-static-volumes", "statefulset-default-class")


def expected_reason(path: Path) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must be '# expect: REASON'"
    return first.removeprefix("# expect: ")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_project(tmp_path_factory.mktemp("corpus"), guide=False)
    shutil.copytree(CORPUS, settings.snippets_dir / "corpus")
    return settings


def run(cluster: Cluster, settings: Settings, folder: str, *argv: str) -> tuple[int, dict]:
    """`kdocs test --jobs 4 ARGV snippets/FOLDER` of the project."""
    with units_lock():  # the corpus applies cluster-scoped objects and writes into kube-system
        code, report = kdocs_test(
            settings, "--jobs", "4", *argv, str(settings.snippets_dir / folder),
            provider=StaticProvider(cluster),
        )  # fmt: skip
    return code, report


def shared_leftovers(cluster: Cluster) -> list[str]:
    """Objects a unit labelled as its own in any namespace, named namespaces made for a run,
    and turns on shared namespaces never given back."""
    found = []
    done = cluster.kubectl(
        "get", "all,configmaps,secrets,serviceaccounts,roles,rolebindings,networkpolicies,"
        "ingresses,persistentvolumeclaims,poddisruptionbudgets,horizontalpodautoscalers",
        "--all-namespaces", "-l", OWNER_LABEL, "-o", "name", check=True,
    )  # fmt: skip
    found += done.stdout.split()
    done = cluster.kubectl(
        "get", "clusterroles,clusterrolebindings,persistentvolumes,storageclasses,"
        "priorityclasses,ingressclasses,customresourcedefinitions",
        "-l", OWNER_LABEL, "-o", "name", check=True,
    )  # fmt: skip
    found += done.stdout.split()
    for namespace in NAMED[:2]:
        if cluster.kubectl("get", "namespace", namespace).returncode == 0:
            found.append(f"namespace/{namespace}")
    leases = cluster.kubectl("get", "leases", "-n", "kube-system", "-o", "name", check=True)
    found += [lease for lease in leases.stdout.split() if "/kdocs-ns-" in lease]
    return found


@pytest.fixture(scope="module")
def valid_run(cluster: Cluster, project: Settings) -> dict:
    code, report = run(cluster, project, "corpus/valid")
    _timings(report)
    namespaces = [o["namespace"] for o in report.get("outcomes", [])]
    return {"code": code, "report": report, "left": leftovers(cluster, namespaces)
            + shared_leftovers(cluster)}  # fmt: skip


def _timings(report: dict) -> None:
    for outcome in report.get("outcomes", []):
        stem = Path(outcome["source"]).stem
        if stem in TIMED:
            record_timing(f"default check {stem}", outcome["seconds"])


def test_every_valid_manifest_passes_its_default_check(valid_run: dict) -> None:
    report = valid_run["report"]
    assert valid_run["code"] == 0, failures(report)
    assert len(report["outcomes"]) == len(list((CORPUS / "valid").glob("*.yaml")))
    assert {o["status"] for o in report["outcomes"]} == {"passed"}, failures(report)


def test_every_check_says_what_it_waited_for(valid_run: dict) -> None:
    lines = {Path(o["source"]).stem: o["message"] for o in valid_run["report"]["outcomes"]}
    assert lines["deployment-web"] == "Deployment web: 2 of 2 replicas ready"
    assert lines["job-indexed"] == "Job indexed-render: complete (3 of 3 completions succeeded)"
    assert lines["cronjob"].startswith(
        "CronJob hello: accepted; its Job hello-kdocs-check: complete"
    )
    assert "Service frontend: selects 2 pods of this snippet" in lines["deployment-service"]
    assert "StatefulSet queue: 2 of 2 replicas ready, 2 claims bound" in lines[
        "statefulset-static-volumes"]  # fmt: skip
    assert "PersistentVolumeClaim scratch: Pending, waiting for its first consumer" in lines[
        "pvc-wait-for-first-consumer"]  # fmt: skip
    assert lines["daemonset-tolerate-all"] == "DaemonSet csi-node: ready on 2 of 2 eligible nodes"
    assert lines["daemonset-node-selector"] == (
        "DaemonSet spot-handler: ready on 1 of 1 eligible nodes"
    )
    assert "Job nightly-report: accepted, suspended" in lines["job-suspended"]
    # What the cluster environment gives, as kind does: a default StorageClass with a real
    # provisioner, and one-shot pods that end Succeeded.
    assert "StatefulSet postgres: 1 of 1 replicas ready, 1 claims bound" in lines[
        "statefulset-default-class"]  # fmt: skip
    assert lines["pod-run-once"] == "Pod print-env: Succeeded (restartPolicy Never)"
    assert lines["networkpolicy-default-deny"] == (
        "NetworkPolicy default-deny-all: accepted by the API server"
    )
    assert all(lines.values()), [name for name, line in lines.items() if not line]


def test_objects_go_to_the_namespace_they_name_and_nothing_is_left(
    valid_run: dict, cluster: Cluster
) -> None:
    assert valid_run["left"] == []
    for namespace in ("kube-system", "default"):  # the cluster's own stay
        assert cluster.kubectl("get", "namespace", namespace).returncode == 0


def test_broken_twins_fail_with_their_reason_in_one_line(
    cluster: Cluster, project: Settings
) -> None:
    code, report = run(cluster, project, "corpus/broken", "--timeout", "15")
    assert code == 1, json.dumps(report)[:2000]
    wanted = {p.stem: expected_reason(p) for p in (CORPUS / "broken").glob("*.yaml")}
    got = {Path(o["source"]).stem: o for o in report["outcomes"]}
    assert sorted(got) == sorted(wanted)
    wrong = {
        name: got[name]["message"]
        for name, reason in wanted.items()
        if got[name]["status"] != "failed"
        or reason not in got[name]["message"]
        or "\n" in got[name]["message"]
    }
    assert wrong == {}
    namespaces = [o["namespace"] for o in report["outcomes"]]
    assert leftovers(cluster, namespaces) + shared_leftovers(cluster) == []


def test_the_contributor_pages_table_shows_tested_examples(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Each row of the page's table of default checks names an example the page shows,
    and each example passes its default check."""
    page = PAGE.read_text(encoding="utf-8")
    examples = sorted(EXAMPLES.glob("*.yaml"))
    for example in examples:
        assert f"| `{example.name}` |" in page, f"no table row shows {example.name}"
        assert f'snippet("contributing/default-checks/{example.name}")' in page
    settings = make_project(tmp_path, guide=False)
    shutil.copytree(EXAMPLES, settings.snippets_dir / "default-checks")
    code, report = run(cluster, settings, "default-checks")
    assert code == 0, failures(report)
    assert len(report["outcomes"]) == len(examples)
    assert all(o["status"] == "passed" and o["message"] for o in report["outcomes"])
