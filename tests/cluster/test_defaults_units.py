"""The default checks' own logic on objects as the API server returns them (no cluster).

The corpus test (test_corpus.py) is the proof on a real cluster; these pin the
verdicts a reader would agree with, case by case, including the ones a kwok
cluster rarely shows (a stalled rollout, a failed pod of a Deployment).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kdocs.cluster.defaults import await_checks
from kdocs.cluster.kind_checks import (
    Accepted,
    ClaimBound,
    DaemonSetReady,
    JobComplete,
    PodRunsOrSucceeds,
    RolledOut,
    ServiceSelects,
    StatefulSetReady,
    Verdict,
    check_for,
    done,
    pod_failure,
    waiting,
)
from kdocs.cluster.references import missing_reference, references


def obj(kind: str, api: str = "apps/v1", **parts: Any) -> dict[str, Any]:
    meta = {"name": "x", "namespace": "ns", "generation": 1, **parts.pop("metadata", {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta, **parts}


def judge(check: type[Accepted], live: dict[str, Any], snippet: list | None = None) -> tuple:
    session = SimpleNamespace(namespace="ns", where=lambda d: "ns")
    verdict = check(session, live, snippet or [live]).judge(live)  # type: ignore[arg-type]
    return verdict.state, verdict.line


def test_the_table_dispatches_by_group_and_kind() -> None:
    assert check_for(obj("Deployment")) is RolledOut
    assert check_for(obj("StatefulSet")) is StatefulSetReady
    assert check_for(obj("DaemonSet")) is DaemonSetReady
    assert check_for(obj("Job", "batch/v1")) is JobComplete
    assert check_for(obj("Pod", "v1")) is PodRunsOrSucceeds
    assert check_for(obj("Service", "v1")) is ServiceSelects
    assert check_for(obj("PersistentVolumeClaim", "v1")) is ClaimBound
    assert check_for(obj("ConfigMap", "v1")) is Accepted
    # A custom kind that happens to be called Deployment is not rolled out.
    assert check_for(obj("Deployment", "example.com/v1")) is Accepted


def test_a_deployment_is_done_when_every_replica_is_ready_and_updated() -> None:
    live = obj("Deployment", spec={"replicas": 2})
    live["status"] = {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 1}
    assert judge(RolledOut, live)[0] == "waiting"
    live["status"]["updatedReplicas"] = 2
    assert judge(RolledOut, live) == ("done", "Deployment x: 2 of 2 replicas ready")
    live["metadata"]["generation"] = 2
    assert "not observed the latest spec" in judge(RolledOut, live)[1]


def test_a_deployment_past_its_progress_deadline_fails_at_once() -> None:
    live = obj("Deployment", spec={"replicas": 1})
    live["status"] = {
        "observedGeneration": 1,
        "conditions": [{"type": "Progressing", "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "x-1" has timed out progressing.'}],
    }  # fmt: skip
    assert judge(RolledOut, live) == (
        "failed",
        'Deployment x: ReplicaSet "x-1" has timed out progressing.',
    )


def test_a_daemonset_is_done_on_every_eligible_node_even_when_there_are_none() -> None:
    live = obj("DaemonSet")
    live["status"] = {"observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": 2,
                      "updatedNumberScheduled": 3}  # fmt: skip
    assert judge(DaemonSetReady, live)[0] == "waiting"
    live["status"].update(numberReady=3)
    assert judge(DaemonSetReady, live) == ("done", "DaemonSet x: ready on 3 of 3 eligible nodes")
    live["status"].update(desiredNumberScheduled=0, numberReady=0, updatedNumberScheduled=0)
    assert judge(DaemonSetReady, live)[0] == "done"


def test_a_job_is_done_when_complete_and_waits_while_pods_are_ready() -> None:
    live = obj("Job", "batch/v1", spec={"completions": 3, "parallelism": 2})
    live["status"] = {"active": 2, "ready": 2, "succeeded": 1}
    assert judge(JobComplete, live) == ("waiting", "Job x: 1 of 3 completions, 2 active")
    live["status"] = {"succeeded": 3, "conditions": [{"type": "Complete", "status": "True"}]}
    assert judge(JobComplete, live) == ("done", "Job x: complete (3 of 3 completions succeeded)")


def test_a_suspended_job_is_accepted_only() -> None:
    live = obj("Job", "batch/v1", spec={"suspend": True})
    assert judge(JobComplete, live)[0] == "done"
    assert "suspended" in judge(JobComplete, live)[1]


@pytest.mark.parametrize(
    ("policy", "phase", "ready", "state"),
    [
        ("Always", "Running", "True", "done"),
        ("Always", "Running", "False", "waiting"),
        ("Never", "Running", "True", "waiting"),
        ("Never", "Succeeded", "False", "done"),
        ("OnFailure", "Succeeded", "False", "done"),
        ("Never", "Failed", "False", "failed"),
        ("Always", "Failed", "False", "failed"),
    ],
)
def test_a_pod_is_ready_or_succeeds_as_its_restart_policy_says(
    policy: str, phase: str, ready: str, state: str
) -> None:
    live = obj("Pod", "v1", spec={"restartPolicy": policy})
    live["status"] = {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]}
    assert judge(PodRunsOrSucceeds, live)[0] == state


def test_a_failed_pod_says_which_container_exited_how() -> None:
    pod = {"status": {"phase": "Failed", "containerStatuses": [
        {"name": "ok", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
        {"name": "main", "state": {"terminated": {"exitCode": 3, "reason": "Error"}}},
    ]}}  # fmt: skip
    assert pod_failure(pod) == "container main Error (exit code 3)"
    assert pod_failure({"status": {"reason": "DeadlineExceeded"}}) == "DeadlineExceeded"


def test_a_service_must_select_pods_the_snippet_makes_and_fails_at_once_when_it_cannot() -> None:
    service = obj("Service", "v1", spec={"selector": {"app": "web"}})
    other = obj("Deployment", spec={"template": {"metadata": {"labels": {"app": "api"}}}})
    state, line = judge(ServiceSelects, service, [service, other])
    assert state == "failed"
    assert line == (
        "Service x selects app=web, but no pod this snippet makes has those labels "
        "(its pods have app=api)"
    )
    alone = judge(ServiceSelects, service, [service])
    assert alone == ("done", "Service x: accepted (this snippet makes no pods for app=web)")
    external = obj("Service", "v1", spec={"type": "ExternalName", "externalName": "a.example"})
    assert judge(ServiceSelects, external)[0] == "done"


def test_a_resource_reporting_ready_must_be_ready() -> None:
    live = obj("Widget", "example.com/v1")
    live["status"] = {"conditions": [{"type": "Ready", "status": "False", "message": "no nodes"}]}
    assert judge(Accepted, live) == ("waiting", "Widget x: accepted, not Ready yet (no nodes)")
    live["status"]["conditions"][0]["status"] = "True"
    assert judge(Accepted, live) == ("done", "Widget x: accepted, Ready")
    assert judge(Accepted, obj("ConfigMap", "v1")) == (
        "done",
        "ConfigMap x: accepted by the API server",
    )


def test_references_are_what_pods_need_to_start_optional_ones_excluded() -> None:
    pod_spec = {
        "serviceAccountName": "agent",
        "priorityClassName": "critical",
        "containers": [{
            "name": "c",
            "envFrom": [{"configMapRef": {"name": "settings"}},
                        {"secretRef": {"name": "maybe", "optional": True}}],
            "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "a"}}}],
        }],
        "volumes": [
            {"name": "v", "configMap": {"name": "files"}},
            {"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
            {"name": "t", "persistentVolumeClaim": {"claimName": "www"}},
        ],
    }  # fmt: skip
    sts = obj("StatefulSet", spec={"template": {"spec": pod_spec}, "volumeClaimTemplates": [
        {"metadata": {"name": "www"}, "spec": {"storageClassName": "fast"}}]})  # fmt: skip
    assert sorted(references(sts)) == [
        ("ConfigMap", "files"),
        ("ConfigMap", "settings"),
        ("PersistentVolumeClaim", "data"),
        ("PriorityClass", "critical"),
        ("Secret", "creds"),
        ("ServiceAccount", "agent"),
        ("StorageClass", "fast"),
    ]


def test_a_missing_reference_names_the_file_under_snippets_that_defines_it(tmp_path: Path) -> None:
    snippets = tmp_path / "snippets"
    (snippets / "logging").mkdir(parents=True)
    (snippets / "logging" / "rbac.yaml").write_text(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: agent\n", encoding="utf-8"
    )
    source = snippets / "logging" / "daemonset.yaml"
    pod = {"serviceAccountName": "agent", "containers": [{"name": "c", "image": "i"}]}
    doc = obj("DaemonSet", spec={"template": {"spec": pod}})
    doc["metadata"].pop("namespace")
    session = SimpleNamespace(
        namespace="kdocs-unit", ctx=SimpleNamespace(root=tmp_path),
        where=lambda d: d["metadata"].get("namespace", "kdocs-unit"),
    )  # fmt: skip
    line = missing_reference(session, [doc], source, snippets)  # type: ignore[arg-type]
    assert line == (
        "DaemonSet x needs ServiceAccount agent, which this snippet does not define and the "
        "cluster lacks; snippets/logging/rbac.yaml defines it: test both with a scenario that "
        "applies it first"
    )
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "agent"}}
    assert missing_reference(session, [sa, doc], source, snippets) is None  # type: ignore[arg-type]


class Scripted(Accepted):
    """A check whose verdicts come from a script, one per time it is asked."""

    def __init__(self, log: list[str], title: str, script: list[Verdict]) -> None:
        self.log, self.title, self.script, self.name = log, title, script, title

    def verdict(self) -> Verdict:
        self.log.append(self.title)
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


class Counting(Scripted):
    counts_others = True


def test_a_check_counting_the_others_objects_ends_with_their_count_once_they_are_done() -> None:
    # The Service comes first in the snippet and is satisfied by the first pod; its line
    # must still count the pods the Deployment has once that is rolled out.
    log: list[str] = []
    service = Counting(log, "svc", [done("selects 1 pod"), done("selects 2 pods")])
    deployment = Scripted(log, "web", [waiting("1 of 2"), done("2 of 2")])
    session = SimpleNamespace(seen=[], ctx=SimpleNamespace(rollout_timeout=60, poll=0),
                              pause=lambda seconds: None)  # fmt: skip
    lines = await_checks(session, [service, deployment], "f.yaml")  # type: ignore[arg-type]
    assert lines == ["selects 2 pods", "2 of 2"]
    assert log == ["web", "svc", "web", "svc"]  # asked after the others, every round
