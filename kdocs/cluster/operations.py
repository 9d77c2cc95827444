"""One operation per scenario step kind (apply, assert, error, delete), dispatched by a table.

As chainsaw's engine does, the runner only walks the steps and asks
`OPERATIONS` how to run each one; what a step means on the cluster lives in
its own small class here, so a new step kind is a new class and a table entry,
never another branch in the runner.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from kdocs.cluster import karpenter
from kdocs.cluster.hopeless import why_hopeless
from kdocs.cluster.match import first_mismatch
from kdocs.cluster.model import StepFailed
from kdocs.cluster.payload import load_manifest, payloads
from kdocs.cluster.session import Session
from kdocs.scenario.model import Apply, Delete, Expect, Step, display


class Operation(Protocol):
    """Runs one step on the unit's session; raises StepFailed when the claim is wrong."""

    def run(self, session: Session, step: Any, requires: tuple[str, ...]) -> None: ...


class ApplyOperation:
    """`apply`: server-side apply; with `rejected`, the API server must refuse it, so."""

    def run(self, session: Session, step: Apply, requires: tuple[str, ...]) -> None:
        root = session.ctx.root
        source = display(step.file, root) if step.file else "inline object"
        sent = payloads(step, root)
        if karpenter.NAME in requires and step.rejected is None:
            # Karpenter ignores a NodePool whose node class nobody serves: the scenario would
            # wait for nodes that never come and blame the guide. It is a broken test instead.
            for doc in (obj for payload in sent for obj in payload.objects):
                problem = karpenter.nodepool_problem(doc, karpenter.node_class(session.cluster))
                if problem:
                    raise karpenter.KarpenterSetupError(None, f"{source}: {problem}")
        refused = session.apply(sent)
        if step.rejected is None:
            if refused:
                raise StepFailed(f"{source}: {refused}")
            return
        if refused is None:
            raise StepFailed(f"{source}: accepted, but must be rejected with {step.rejected!r}")
        if step.rejected.lower() not in refused.lower():
            raise StepFailed(
                f"{source}: rejected for another reason than {step.rejected!r}: {refused}"
            )


class AssertOperation:
    """`assert`: the objects must match within the timeout (then, with `during`, keep matching).

    The wait ends early, as a failure, when the object the step names can no
    longer match (kdocs.cluster.hopeless): the reason is said instead of a timeout.
    """

    def run(self, session: Session, step: Expect, requires: tuple[str, ...]) -> None:
        expected = session.substitute(step.object)
        holds, detail = _poll(session, step, expected)
        if not holds:
            raise StepFailed(detail)
        if step.during:
            self._keeps_holding(session, step, expected)

    @staticmethod
    def _keeps_holding(session: Session, step: Expect, expected: dict[str, Any]) -> None:
        """`assert ... during`: what holds now must still hold at every poll until the end."""
        until = time.monotonic() + step.during
        while time.monotonic() < until:
            session.pause(min(session.ctx.poll, max(0.0, until - time.monotonic())))
            session.seen = session.select(expected)
            holds, detail = evaluate(step, expected, session.seen)
            if not holds:
                held = step.during - (until - time.monotonic())
                raise StepFailed(
                    f"held, then stopped holding after {held:.1f}s of {step.during:g}s: {detail}"
                )


class ErrorOperation:
    """`error`: what it describes must not happen at any poll for the whole window
    (or until it can no longer happen at all)."""

    def run(self, session: Session, step: Expect, requires: tuple[str, ...]) -> None:
        expected = session.substitute(step.object)
        happened, detail = _poll(session, step, expected)
        if happened:
            raise StepFailed(f"this must not happen, but did: {detail}")


def _poll(session: Session, step: Expect, expected: dict[str, Any]) -> tuple[bool, str]:
    """Evaluate at every poll until it holds or the step's time is up: (holds, why (not)).

    A named object that can never match ends the wait at once: an `assert` then
    fails with the reason, an `error` has its proof early (it can never happen).
    """
    deadline = time.monotonic() + step.timeout
    while True:
        session.seen = session.select(expected)
        holds, detail = evaluate(step, expected, session.seen)
        if holds:
            return holds, detail
        if step.count is None and step.match is None and len(session.seen) == 1:
            reason = why_hopeless(expected, session.seen[0])
            if reason:
                return holds, f"cannot happen any more: {reason}"
        if time.monotonic() >= deadline:
            return holds, f"not within {step.timeout:g}s: {detail}"
        session.pause(session.ctx.poll)


class DeleteOperation:
    """`delete`: delete in the foreground and wait until it and its dependents are gone."""

    def run(self, session: Session, step: Delete, requires: tuple[str, ...]) -> None:
        targets = load_manifest(step.file, session.ctx.root) if step.file else [step.ref or {}]
        for obj in session.substitute(targets):
            session.delete(obj, step.timeout)


OPERATIONS: dict[str, Operation] = {
    "apply": ApplyOperation(),
    "assert": AssertOperation(),
    "error": ErrorOperation(),
    "delete": DeleteOperation(),
}


def step_kind(step: Step) -> str:
    """The scenario keyword of a step: the key of its operation in `OPERATIONS`."""
    if isinstance(step, Apply):
        return "apply"
    if isinstance(step, Delete):
        return "delete"
    return "assert" if step.must_appear else "error"


def run_step(session: Session, step: Step, requires: tuple[str, ...] = ()) -> None:
    OPERATIONS[step_kind(step)].run(session, step, requires)


def evaluate(
    step: Expect, expected: dict[str, Any], live: list[dict[str, Any]]
) -> tuple[bool, str]:
    """Whether the selected live objects satisfy the step, and a line saying why (not)."""
    what = f"{expected.get('kind')}"
    problems = {_name(obj) or "?": first_mismatch(expected, obj) for obj in live}
    good = [name for name, problem in problems.items() if problem is None]
    bad = [f"{name}: {problem}" for name, problem in problems.items() if problem is not None]
    closest = f"; {bad[0]}" if bad else ""
    if step.count is None and step.match is None:  # selected by name
        name = (expected.get("metadata") or {}).get("name")
        if not live:
            return False, f"{what} {name} not found"
        return (True, f"{what} {name} matches") if good else (False, bad[0])
    if step.count is not None:
        holds = len(good) == step.count
        return holds, f"{len(good)} of {len(live)} {what} match, expected {step.count}{closest}"
    if step.match == "any":
        if good:
            return True, f"{what} {good[0]} matches"
        return False, f"none of {len(live)} {what} matches{closest}"
    holds = bool(live) and not bad
    return holds, f"{len(good)} of {len(live)} {what} match, expected all (at least one){closest}"


def _name(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")
