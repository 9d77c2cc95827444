"""The default check of a snippet no scenario uses: apply it, then wait for each object.

Objects are sent in install order, server-side, dry-run first (namespaces and
CRDs are applied first, since nothing else can even be dry-run before them);
a snippet needing an object it neither defines nor finds in the cluster is
refused before anything is applied. Then each object's check (the table of
kdocs.cluster.kind_checks) is polled until all are done, one can no longer
succeed, or the timeout ends the wait with the controllers' warning events.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs.cluster.kind_checks import Accepted, Verdict, check_for
from kdocs.cluster.kube import event_line, events, kubectl, reason
from kdocs.cluster.model import StepFailed
from kdocs.cluster.order import FOUNDATION
from kdocs.cluster.payload import file_payloads, read_objects
from kdocs.cluster.references import missing_reference
from kdocs.scenario.model import display

if TYPE_CHECKING:
    from kdocs.cluster.session import Session

# What a default check is made of, as results and badges name it.
DEFAULT_CHECKS = ("server-side apply", "default check of each kind", "delete")
EVENTS_AFTER = 2.0  # seconds of waiting before events are read for a controller stuck failing


def default_check(session: Session, source: Path, snippets_dir: Path | None) -> list[str]:
    """Apply the snippet (dry-run first) and wait until every object's check is done.

    Returns one line per object saying what was waited for; a StepFailed names
    the file and the object that did not get there, and why.
    """
    root = session.ctx.root
    where = display(source, root)
    sent = file_payloads(read_objects(source, root))  # the snippet's own bytes, per document
    docs = [obj for payload in sent for obj in payload.objects]
    missing = missing_reference(session, docs, source, snippets_dir)
    if missing:
        raise StepFailed(f"{where}: {missing}")
    foundation = [p for p in sent if all(o.get("kind") in FOUNDATION for o in p.objects)]
    rest = [p for p in sent if p not in foundation]
    if foundation:
        _refuse(where, session.apply(foundation))
        _await_crds(session, [o for p in foundation for o in p.objects], where)
    if rest:
        _refuse(where, session.apply(rest, dry_run=True))
        _refuse(where, session.apply(rest))
    checks = [check_for(doc)(session, doc, docs) for doc in docs if _name(doc)]
    for check in checks:
        check.start()
    return await_checks(session, checks, where)


def await_checks(session: Session, checks: list[Accepted], where: str) -> list[str]:
    """Poll every check until all are done (their lines, in order) or one fails."""
    begun = time.monotonic()
    deadline = begun + session.ctx.rollout_timeout
    reached: dict[int, Verdict] = {}  # an object that got there is not asked again
    # A check whose line counts what the others make is asked after them, every round, so
    # the line it ends with counts them once they are done.
    order = sorted(range(len(checks)), key=lambda i: checks[i].counts_others)
    while True:
        session.seen = []
        asked = {i: reached.get(i) or checks[i].verdict() for i in order}
        verdicts = [asked[i] for i in range(len(checks))]
        for index, verdict in enumerate(verdicts):
            if verdict.state == "failed":
                raise StepFailed(f"{where}: {verdict.line}")
            if verdict.state == "done" and not checks[index].counts_others:
                reached[index] = verdict
        pending = [(c, v) for c, v in zip(checks, verdicts, strict=True) if v.state == "waiting"]
        if not pending:
            return [v.line for v in verdicts]
        now = time.monotonic()
        if now - begun > EVENTS_AFTER or now >= deadline:  # most objects are done by then
            _stuck(session, pending, where, now >= deadline)
        session.pause(session.ctx.poll)


def _refuse(where: str, refused: str | None) -> None:
    if refused:
        raise StepFailed(f"{where}: {refused}")


def _await_crds(session: Session, docs: list[dict[str, Any]], where: str) -> None:
    """A custom resource can be sent only once its CRD is served."""
    names = [_name(d) for d in docs if d.get("kind") == "CustomResourceDefinition"]
    if not names:
        return
    done_ = kubectl(
        session.cluster, "wait", "--for=condition=Established", "--timeout=60s",
        *(f"customresourcedefinitions/{n}" for n in names), timeout=90,
    )  # fmt: skip
    if done_.returncode:
        raise StepFailed(f"{where}: CRD not established: {reason(done_.stderr)}")


def _stuck(
    session: Session, pending: list[tuple[Accepted, Verdict]], where: str, late: bool
) -> None:
    """Fail on a controller that keeps failing to create pods, or on the deadline."""
    found = [e for ns in session.namespaces() for e in events(session.cluster, ns)]
    for check, verdict in pending:
        warnings = [e for e in found if e.get("type") == "Warning" and _about(e, check.name)]
        stuck = [
            e for e in warnings if e.get("reason") == "FailedCreate" and (e.get("count") or 1) >= 3
        ]
        if stuck or (late and warnings):
            cause = event_line((stuck or warnings)[-1])
            raise StepFailed(f"{where}: {verdict.line}: {cause}")
        if late:
            raise StepFailed(
                f"{where}: not within {session.ctx.rollout_timeout:g}s: {verdict.line}"
            )


def _about(event: dict[str, Any], name: str) -> bool:
    involved = str((event.get("involvedObject") or {}).get("name", ""))
    return involved == name or involved.startswith(f"{name}-")


def _name(doc: dict[str, Any]) -> str:
    return str((doc.get("metadata") or {}).get("name") or "")
