"""The cluster tests' own tables, checked without a cluster: the corpus covers the kinds
guides use, every faulty fixture has its expected reason, every control case breaks a
file the guide has. Pure checks, kept apart so they run (and fail) where no provider can.
"""

from __future__ import annotations

from tests.cluster.test_corpus import CORPUS
from tests.cluster.test_faulty import REASONS
from tests.cluster.test_runner_controls import CASES
from tests.cluster.test_runner_helpers import FAULTY, GUIDE


def test_the_corpus_is_large_and_covers_the_kinds_guides_use() -> None:
    files = sorted((CORPUS / "valid").glob("*.yaml"))
    assert len(files) >= 40
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    for kind in (
        "StatefulSet",
        "Job",
        "CronJob",
        "DaemonSet",
        "Service",
        "Deployment",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "NetworkPolicy",
        "Ingress",
        "PriorityClass",
        "Namespace",
        "PersistentVolumeClaim",
        "ClusterRoleBinding",
    ):
        assert f"kind: {kind}\n" in text, kind  # fmt: skip
    assert "volumeClaimTemplates" in text and "completionMode: Indexed" in text
    assert len(list((CORPUS / "broken").glob("*.yaml"))) >= 12


def test_every_faulty_fixture_has_an_expected_reason() -> None:
    assert sorted(p.name for p in FAULTY.glob("*.yaml")) == sorted(REASONS)


def test_the_cases_break_files_the_guide_has() -> None:
    for scenario, target, (old, _), _ in CASES.values():
        assert (GUIDE / scenario).is_file()
        assert (GUIDE / target).read_text(encoding="utf-8").count(old) == 1
