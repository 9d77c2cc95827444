"""The check of each kind of object, dispatched by a table: what a reader expects of it.

`CHECKS` maps (API group, kind) to a small check class, as chainsaw dispatches
operations by name: a Deployment rolls out, a Job completes, a claim binds, a
Service selects the snippet's pods, and anything else is accepted by the API
server (and Ready, when its status reports a Ready condition). Each answers
with a `Verdict`: done, waiting, or failed for good (a failed Job, a claim
whose StorageClass does not exist), which ends the wait early; its line says
what was waited for and shows in reports. kdocs.cluster.defaults drives them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kdocs.cluster.kube import (
    condition,
    condition_entry,
    condition_reason,
    get_json,
    kubectl,
    reason,
)
from kdocs.cluster.model import StepFailed
from kdocs.cluster.payload import statefulset_claims
from kdocs.cluster.references import pod_template, static_volumes

if TYPE_CHECKING:
    from kdocs.cluster.session import Session

# API groups of the built-in kinds: anything else is a custom resource, which gets a moment
# for its controller (if one runs) to report a Ready condition.
BUILTIN_GROUPS = frozenset(
    {
        "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io",
        "rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io",
        "coordination.k8s.io", "discovery.k8s.io",
        "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
        "node.k8s.io", "certificates.k8s.io", "flowcontrol.apiserver.k8s.io", "events.k8s.io",
        "resource.k8s.io", "storagemigration.k8s.io", "internal.apiserver.k8s.io",
    }
)  # fmt: skip
CONTROLLER_GRACE = 2.0  # seconds a custom resource's controller gets to report a status
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


@dataclass(frozen=True)
class Verdict:
    state: str  # "done" | "waiting" | "failed" (can no longer succeed)
    line: str


def done(line: str) -> Verdict:
    return Verdict("done", line)


def waiting(line: str) -> Verdict:
    return Verdict("waiting", line)


def failed(line: str) -> Verdict:
    return Verdict("failed", line)


class Accepted:
    """Accepted by the API server; Ready too when its status reports a Ready condition."""

    counts_others = False  # True: its line counts objects other checks wait for

    def __init__(self, session: Session, doc: dict[str, Any], snippet: list[dict[str, Any]]):
        self.session, self.doc, self.snippet = session, doc, snippet
        self.name = str((doc.get("metadata") or {}).get("name") or "")
        self.title = f"{doc.get('kind')} {self.name}"
        self.started = time.monotonic()

    def start(self) -> None:
        """Anything to do once the snippet is applied (a CronJob makes its Job)."""

    def live(self) -> dict[str, Any] | None:
        found = self.session.select(self.doc)
        self.session.seen += found
        return found[0] if found else None

    def verdict(self) -> Verdict:
        obj = self.live()
        if obj is None:
            return waiting(f"{self.title}: not found")
        return self.judge(obj)

    def judge(self, obj: dict[str, Any]) -> Verdict:
        ready = condition_entry(obj, "Ready")
        if ready is not None:
            if ready.get("status") == "True":
                return done(f"{self.title}: accepted, Ready")
            why = ready.get("message") or ready.get("reason") or ready.get("status")
            return waiting(f"{self.title}: accepted, not Ready yet ({why})")
        group = str(self.doc.get("apiVersion", "")).rpartition("/")[0]
        if group not in BUILTIN_GROUPS and time.monotonic() - self.started < CONTROLLER_GRACE:
            return waiting(f"{self.title}: accepted, waiting for a controller's status")
        return done(f"{self.title}: accepted by the API server")


class RolledOut(Accepted):
    """Deployment, ReplicaSet: every replica ready and of the latest spec."""

    def judge(self, obj: dict[str, Any]) -> Verdict:
        if stale := _stale(obj):
            return waiting(f"{self.title}: {stale}")
        progressing = condition_entry(obj, "Progressing") or {}
        if progressing.get("reason") == "ProgressDeadlineExceeded":
            return failed(f"{self.title}: {progressing.get('message', 'progress deadline')}")
        return _replicas(self.title, obj)


class StatefulSetReady(Accepted):
    """Every replica ready and of the latest spec, and every claim of its templates bound."""

    classes_exist = False  # once found, the StorageClasses of its claims are not looked up again

    def judge(self, obj: dict[str, Any]) -> Verdict:
        spec = obj.get("spec") or {}
        templates = spec.get("volumeClaimTemplates") or []
        for template in templates if not self.classes_exist else []:
            problem = storage_problem(self.session, template.get("spec") or {})
            if problem:
                claim = (template.get("metadata") or {}).get("name")
                return failed(f"{self.title}: claim template {claim}: {problem}")
        self.classes_exist = True
        if stale := _stale(obj):
            return waiting(f"{self.title}: {stale}")
        rolled = _replicas(self.title, obj)
        if rolled.state != "done" or not templates:
            return rolled
        namespace = (obj.get("metadata") or {}).get("namespace")
        claims = statefulset_claims(spec, self.name)
        found = get_json(self.session.cluster, "persistentvolumeclaims", "-n", str(namespace))
        phases = {
            (c.get("metadata") or {}).get("name"): (c.get("status") or {}).get("phase")
            for c in (found or {}).get("items") or []
        }
        unbound = [c for c in claims if phases.get(c) != "Bound"]
        if unbound:
            phase = phases.get(unbound[0]) or "missing"
            return waiting(f"{self.title}: claim {unbound[0]} is {phase}")
        return done(f"{rolled.line}, {len(claims)} claims bound")


class DaemonSetReady(Accepted):
    """A ready pod of the latest spec on every node its selector and tolerations allow."""

    def judge(self, obj: dict[str, Any]) -> Verdict:
        if stale := _stale(obj):
            return waiting(f"{self.title}: {stale}")
        status = obj.get("status") or {}
        desired = status.get("desiredNumberScheduled")
        if desired is None:
            return waiting(f"{self.title}: no status yet")
        ready, updated = status.get("numberReady", 0), status.get("updatedNumberScheduled", 0)
        line = f"{self.title}: ready on {ready} of {desired} eligible nodes"
        if ready < desired or updated < desired:
            return waiting(f"{line} ({updated} updated)")
        return done(line)


class JobComplete(Accepted):
    """Complete; a failed Job fails the check with its failed pods' reasons."""

    def judge(self, obj: dict[str, Any]) -> Verdict:
        spec, status = obj.get("spec") or {}, obj.get("status") or {}
        wanted = spec.get("completions", 1 if spec.get("parallelism", 1) else 0)
        succeeded = status.get("succeeded", 0)
        if (condition_entry(obj, "Complete") or {}).get("status") == "True":
            return done(f"{self.title}: complete ({succeeded} of {wanted} completions succeeded)")
        failure = condition_entry(obj, "Failed") or {}
        if failure.get("status") == "True":
            why = condition_reason(failure)
            pods = self.failed_pods(obj)
            return failed(f"{self.title} failed ({why})" + (f": {pods}" if pods else ""))
        if spec.get("suspend"):
            return done(f"{self.title}: accepted, suspended (it runs once resumed)")
        active = status.get("active", 0)
        return waiting(f"{self.title}: {succeeded} of {wanted} completions, {active} active")

    def failed_pods(self, job: dict[str, Any]) -> str:
        """`pod x: Error (exit code 1)` for the first failed pods of the Job."""
        meta = job.get("metadata") or {}
        uid = meta.get("uid")
        found = get_json(
            self.session.cluster, "pods", "-n", str(meta.get("namespace")),
            "-l", f"batch.kubernetes.io/controller-uid={uid}",
        )  # fmt: skip
        lines = []
        for pod in (found or {}).get("items") or []:
            if (pod.get("status") or {}).get("phase") == "Failed":
                lines.append(f"pod {pod['metadata']['name']}: {pod_failure(pod)}")
        return "; ".join(lines[:3])


class CronJobRuns(Accepted):
    """Accepted, and a Job made from it (`kubectl create job --from=cronjob/NAME`) completes."""

    def start(self) -> None:
        namespace = self.session.where(self.doc)
        self.job_name = f"{self.name[:45]}-kdocs-check"
        done_ = kubectl(
            self.session.cluster, "create", "job", self.job_name, f"--from=cronjob/{self.name}",
            "-n", namespace, timeout=60,
        )  # fmt: skip
        self.session.track("jobs.v1.batch", self.job_name, namespace)
        if done_.returncode:
            raise StepFailed(f"{self.title}: kubectl create job --from: {reason(done_.stderr)}")
        ref = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": self.job_name}}
        ref["metadata"]["namespace"] = namespace
        self.job = JobComplete(self.session, ref, self.snippet)

    def judge(self, obj: dict[str, Any]) -> Verdict:
        verdict = self.job.verdict()
        return Verdict(verdict.state, f"{self.title}: accepted; its {verdict.line}")


class PodRunsOrSucceeds(Accepted):
    """Ready; Succeeded instead when its restartPolicy is Never or OnFailure."""

    def judge(self, obj: dict[str, Any]) -> Verdict:
        status = obj.get("status") or {}
        phase = status.get("phase", "Pending")
        policy = (obj.get("spec") or {}).get("restartPolicy", "Always")
        if phase == "Failed":
            return failed(f"{self.title} failed: {pod_failure(obj)}")
        if policy in ("Never", "OnFailure"):
            if phase == "Succeeded":
                return done(f"{self.title}: Succeeded (restartPolicy {policy})")
            return waiting(f"{self.title}: {phase}, not Succeeded (restartPolicy {policy})")
        if condition(obj, "Ready") == "True":
            return done(f"{self.title}: Ready")
        return waiting(f"{self.title}: {phase}, not Ready")


class ClaimBound(Accepted):
    """Bound, or Pending for its first consumer when its class binds that way."""

    def judge(self, obj: dict[str, Any]) -> Verdict:
        phase = (obj.get("status") or {}).get("phase", "Pending")
        if phase == "Bound":
            return done(f"{self.title}: Bound")
        if phase == "Lost":
            return failed(f"{self.title}: Lost (its volume is gone)")
        spec = obj.get("spec") or {}
        problem = storage_problem(self.session, spec)
        if problem:
            return failed(f"{self.title}: {problem}")
        found = storage_class(self.session, spec)
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        if (
            found is not None
            and found.get("volumeBindingMode") == "WaitForFirstConsumer"
            and "volume.kubernetes.io/selected-node" not in annotations
        ):
            name = found["metadata"]["name"]
            return done(f"{self.title}: Pending, waiting for its first consumer ({name} is "
                        "WaitForFirstConsumer)")  # fmt: skip
        return waiting(f"{self.title}: {phase}, not Bound")


class ServiceSelects(Accepted):
    """Its selector matches pods the same snippet makes, if it makes any."""

    counts_others = True  # the pods it counts are the snippet's workloads'

    def judge(self, obj: dict[str, Any]) -> Verdict:
        spec = obj.get("spec") or {}
        selector = spec.get("selector") or {}
        if spec.get("type") == "ExternalName" or not selector:
            return done(f"{self.title}: accepted (no selector: its endpoints are not pods)")
        wanted = _selector_text(selector)
        namespace = (obj.get("metadata") or {}).get("namespace")
        templates = [
            labels for doc in self.snippet
            if (labels := pod_labels(doc)) is not None and self.session.where(doc) == namespace
        ]  # fmt: skip
        if not templates:
            return done(f"{self.title}: accepted (this snippet makes no pods for {wanted})")
        if not any(selector.items() <= labels.items() for labels in templates):
            have = "; ".join(_selector_text(labels) or "no labels" for labels in templates)
            return failed(f"{self.title} selects {wanted}, but no pod this snippet makes has "
                          f"those labels (its pods have {have})")  # fmt: skip
        found = get_json(self.session.cluster, "pods", "-n", str(namespace), "-l", wanted)
        count = len((found or {}).get("items") or [])
        if not count:
            return waiting(f"{self.title}: no pod matches {wanted} yet")
        pods = "1 pod" if count == 1 else f"{count} pods"
        return done(f"{self.title}: selects {pods} of this snippet ({wanted})")


# (API group, kind) -> its check; every other kind is `Accepted`.
CHECKS: dict[tuple[str, str], type[Accepted]] = {
    ("apps", "Deployment"): RolledOut,
    ("apps", "ReplicaSet"): RolledOut,
    ("apps", "StatefulSet"): StatefulSetReady,
    ("apps", "DaemonSet"): DaemonSetReady,
    ("batch", "Job"): JobComplete,
    ("batch", "CronJob"): CronJobRuns,
    ("", "Pod"): PodRunsOrSucceeds,
    ("", "PersistentVolumeClaim"): ClaimBound,
    ("", "Service"): ServiceSelects,
}


def check_for(doc: dict[str, Any]) -> type[Accepted]:
    group = str(doc.get("apiVersion", "")).rpartition("/")[0]
    return CHECKS.get((group, str(doc.get("kind"))), Accepted)


def storage_problem(session: Session, spec: dict[str, Any]) -> str | None:
    """Why a claim with this spec can never bind, or None."""
    name = spec.get("storageClassName")
    if name == "" or spec.get("volumeName"):
        return None  # bound by hand to a PersistentVolume
    if storage_class(session, spec) is not None:
        return None
    if name and static_volumes(session, str(name), []):
        return None
    if name:
        return f"StorageClass {name} does not exist, so the claim can never bind"
    return "the cluster has no default StorageClass and the claim names none, so it never binds"


def storage_class(session: Session, spec: dict[str, Any]) -> dict[str, Any] | None:
    """The StorageClass a claim uses: the one it names, else the cluster's default."""
    name = spec.get("storageClassName")
    if name:
        return get_json(session.cluster, "storageclasses.v1.storage.k8s.io", str(name))
    found = get_json(session.cluster, "storageclasses.v1.storage.k8s.io") or {}
    for item in found.get("items") or []:
        if ((item.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true":
            return item
    return None


def pod_labels(doc: dict[str, Any]) -> dict[str, str] | None:
    """The labels of the pods `doc` makes, or None when it makes none."""
    template = pod_template(doc)
    return None if template is None else dict((template.get("metadata") or {}).get("labels") or {})


def pod_failure(pod: dict[str, Any]) -> str:
    """Why a pod failed, from its containers' last states (or the pod's own reason)."""
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        ended = (container.get("state") or {}).get("terminated") or {}
        if ended and ended.get("exitCode", 0) != 0:
            what = ended.get("reason") or "terminated"
            message = f": {ended['message']}" if ended.get("message") else ""
            code = ended["exitCode"]
            return f"container {container.get('name')} {what} (exit code {code}){message}"
    return status.get("message") or status.get("reason") or "Failed"


def _stale(obj: dict[str, Any]) -> str | None:
    generation = (obj.get("metadata") or {}).get("generation", 0)
    if (obj.get("status") or {}).get("observedGeneration", 0) < generation:
        return "the controller has not observed the latest spec yet"
    return None


def _replicas(title: str, obj: dict[str, Any]) -> Verdict:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    wanted, ready = spec.get("replicas", 1), status.get("readyReplicas", 0)
    updated = status.get("updatedReplicas", ready) if obj.get("kind") != "ReplicaSet" else ready
    line = f"{title}: {ready} of {wanted} replicas ready"
    if ready < wanted or updated < wanted:
        return waiting(f"{line} ({updated} updated)")
    return done(line)


def _selector_text(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
