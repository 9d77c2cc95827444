"""Run scenarios and default checks on a cluster, each in its own namespace, always cleaned up.

Every unit (a scenario, or the default check of a snippet no scenario uses)
gets a namespace `kdocs-<name>-<random>` labelled with the run, so leftovers
of a killed run can be found. Cluster-scoped objects it applies are tracked
before they are sent and deleted in reverse order after the unit, on success,
failure or Ctrl-C alike: a later unit must never see an earlier one's
objects. Units run in parallel threads unless they share a cluster-scoped
object name or one of them is `exclusive`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kdocs.cluster import health, karpenter
from kdocs.cluster.base import ClusterUnavailableError
from kdocs.cluster.defaults import DEFAULT_CHECKS, default_check
from kdocs.cluster.diagnose import failure_diagnostics
from kdocs.cluster.model import Cancelled, Outcome, StepFailed, StepRecord, Unit
from kdocs.cluster.operations import run_step
from kdocs.cluster.payload import documents, load_manifest
from kdocs.cluster.report import Progress, QuietProgress
from kdocs.cluster.session import RunContext, Session
from kdocs.errors import BrokenScenarioError, InvalidInputError, KdocsError
from kdocs.scenario.model import Apply, display


def run_scenario(session: Session, unit: Unit, progress: Progress, steps: list[StepRecord]) -> None:
    """Run the steps in order; the first failure names file:line, the step and the reason."""
    scenario, root = unit.scenario, session.ctx.root
    assert scenario is not None
    where = _display(scenario.path, root)
    for index, step in enumerate(scenario.steps, start=1):
        if session.ctx.cancel.is_set():
            raise Cancelled()
        description, started = step.describe(root), time.monotonic()
        record = StepRecord(index, step.line, description, "failed", 0.0)
        steps.append(record)
        try:
            run_step(session, step, scenario.requires)
            record.status = "passed"
        except Cancelled:
            record.status = "cancelled"
            raise
        except (StepFailed, InvalidInputError) as error:  # a claim, or a file it applies, wrong
            raise StepFailed(
                f"{where}:{step.line}: step {index} ({description}): {error}"
            ) from None
        except ClusterUnavailableError as error:
            # The cluster went away mid-scenario: no verdict on the guide, nothing to record
            # (as a failure it would replace a passing result and fail the site's build).
            raise ClusterUnavailableError(
                None, f"{where}:{step.line}: step {index} ({description}): {error}"
            ) from None
        except KdocsError as error:
            # A file the step names is missing or unreadable, a `${node:X}` names no node:
            # the scenario is broken (exit 2), which says nothing about the guide's snippets.
            raise BrokenScenarioError(
                None, f"{where}:{step.line}: step {index} ({description}): {error}"
            ) from None
        finally:
            record.seconds = time.monotonic() - started
            progress.step(unit, record, len(scenario.steps))


def run_unit(
    ctx: RunContext,
    unit: Unit,
    progress: Progress | None = None,
    cleaning: Callable[[], None] | None = None,
) -> Outcome:
    """Run one unit in a fresh namespace and clean up, whatever happens.

    `cleaning` is called when its steps are over and its cleanup starts.
    """
    progress = progress or QuietProgress()
    session = Session(ctx, unit.name)
    outcome = Outcome(unit.name, unit.kind, _display(unit.source, ctx.root), "failed")
    outcome.namespace = session.namespace
    started = time.monotonic()
    try:
        if ctx.cancel.is_set():
            raise Cancelled()
        missing = _missing_components(ctx, unit)
        if missing:  # shown, never recorded: only "passed" and "failed" are
            outcome.status, outcome.message = "skipped", missing
        else:
            if _needs_karpenter(unit):  # never inherit the nodes of an earlier unit
                draining = karpenter.await_drained(ctx.cluster, stop=ctx.cancel)
                if draining:
                    raise karpenter.KarpenterSetupError(None, draining)
                karpenter.sweep_orphans(ctx.cluster)
            progress.started(unit, session.namespace)
            session.open()
            if unit.scenario is not None:
                run_scenario(session, unit, progress, outcome.steps)
                outcome.checks = ("server-side apply", "scenario")
            else:
                waited = default_check(session, unit.source, ctx.snippets_dir)
                outcome.checks, outcome.message = DEFAULT_CHECKS, "; ".join(waited)
            outcome.status = "passed"
    except StepFailed as error:
        outcome.message = str(error)
        outcome.diagnostics = failure_diagnostics(session, _needs_karpenter(unit))
    except Cancelled:
        outcome.status, outcome.message = "cancelled", "interrupted before the unit finished"
        if ctx.unhealthy:  # cancelled by the health probe, not by the user
            outcome.status, outcome.message = "error", _at_step(outcome, ctx.unhealthy)
    except (ClusterUnavailableError, BrokenScenarioError) as error:
        outcome.status, outcome.message = "error", str(error)  # exit 2, nothing recorded
    except KdocsError as error:
        outcome.message = str(error)
    finally:
        cleanup_started = time.monotonic()
        if cleaning is not None:
            cleaning()
        problems = session.close()
        outcome.cleanup_seconds = time.monotonic() - cleanup_started
        if problems and outcome.status == "passed":
            outcome.status, outcome.message = "failed", "cleanup failed: " + "; ".join(problems)
        outcome.seconds = time.monotonic() - started
    _unless_components_died(ctx, outcome)
    if outcome.status == "failed":  # a dying cluster's answers are no verdict on the guide
        dead = ctx.unhealthy or _dead(ctx)
        if dead:
            outcome.status, outcome.message = "error", _at_step(outcome, dead)
    progress.finished(outcome)
    return outcome


def _needs_karpenter(unit: Unit) -> bool:
    return unit.scenario is not None and karpenter.NAME in unit.scenario.requires


def _missing_components(ctx: RunContext, unit: Unit) -> str | None:
    """Why this provider cannot prove the scenario (it lacks a component it requires)."""
    needed = unit.scenario.requires if unit.scenario is not None else ()
    lacking = [name for name in needed if not ctx.cluster.has_component(name)]
    if not lacking:
        return None
    return (
        f"not provable on {ctx.cluster.label}: the scenario requires {', '.join(lacking)},"
        " which only the kwok provider runs (its topology's `karpenter:` section)"
    )


def _dead(ctx: RunContext) -> str | None:
    problem = health.confirmed_problem(ctx.cluster)
    return f"the API server is unreachable: {problem}" if problem else None


def _at_step(outcome: Outcome, problem: str) -> str:
    """`file:line: step N (what): problem` at the step that was running, like other errors."""
    if not outcome.steps:
        return f"{outcome.source}: {problem}" if outcome.source else problem
    step = outcome.steps[-1]
    return f"{outcome.source}:{step.line}: step {step.index} ({step.description}): {problem}"


def _unless_components_died(ctx: RunContext, outcome: Outcome) -> None:
    """A verdict reached while a cluster component (a provisioner, Karpenter) was dead says
    nothing about the guide: it becomes an error (exit 2, nothing recorded)."""
    dead = ctx.cluster.dead_components()
    if dead and outcome.status in ("passed", "failed"):
        names = ", ".join(f"{c.name} (log: {c.log})" for c in dead)
        outcome.status = "error"
        outcome.message = f"cluster component {names} stopped during the run; rerun to recreate"


def _display(path: Path | None, root: Path) -> str:
    return display(path, root) if path else ""


def conflict_keys(ctx: RunContext, unit: Unit) -> set[str]:
    """The cluster-scoped objects a unit applies (unknown kinds count): units sharing one wait."""
    docs: list[dict[str, Any]] = []
    try:
        if unit.scenario is None:
            docs = load_manifest(unit.source, ctx.root)
        else:
            for step in unit.scenario.steps:
                if isinstance(step, Apply):
                    docs += documents(step, ctx.root)
    except KdocsError:
        pass  # the unit fails on its own when it runs
    keys = set()
    for doc in docs:
        found = ctx.api.lookup(str(doc.get("apiVersion")), str(doc.get("kind")))
        meta = doc.get("metadata") or {}
        if found is None or not found.namespaced:
            keys.add(f"{doc.get('kind')}/{meta.get('name')}")
        elif meta.get("namespace") and "${" not in str(meta["namespace"]):
            keys.add(f"Namespace/{meta['namespace']}")  # shared: units write into it in turns
    return keys


def run_units(
    ctx: RunContext,
    units: list[Unit],
    jobs: int = 4,
    progress: Progress | None = None,
    on_done: Callable[[Unit, Outcome], None] | None = None,
    seconds: list[float | None] | None = None,
) -> list[Outcome]:
    """Run units in threads; Ctrl-C stops them at their next step and waits for their cleanup.

    Outcomes come back in the order of `units`; after an interrupt, `ctx.cancel`
    is set and units that never started are `cancelled`. `seconds`: each unit's
    recorded duration (None when unknown), to start the longest first.
    """
    progress = progress or QuietProgress()
    keys = [conflict_keys(ctx, unit) for unit in units]
    outcomes: dict[int, Outcome] = {}
    waiting = start_order(units, seconds)
    running: set[int] = set()
    cleaning: set[int] = set()  # running, but past their steps: they hold no job slot
    lock = threading.Condition()

    def cleanup_started(index: int) -> None:
        with lock:
            cleaning.add(index)
            lock.notify_all()

    def work(index: int) -> None:
        unit = units[index]
        try:
            outcome = run_unit(ctx, unit, progress, lambda: cleanup_started(index))
        except Exception as error:  # a bug must not leave the main thread waiting forever
            outcome = Outcome(unit.name, unit.kind, _display(unit.source, ctx.root), "error")
            outcome.message = f"internal error: {error!r}"
        if on_done is not None and outcome.status in ("passed", "failed"):
            with lock:
                on_done(unit, outcome)
        with lock:
            outcomes[index] = outcome
            running.discard(index)
            cleaning.discard(index)
            lock.notify_all()

    try:
        with health.HealthWatch(ctx), lock:
            while (waiting and not ctx.cancel.is_set()) or running:
                for index in _startable(units, keys, waiting, running, jobs, cleaning):
                    if ctx.cancel.is_set():
                        break
                    waiting.remove(index)
                    running.add(index)
                    threading.Thread(target=work, args=(index,), name=units[index].name).start()
                lock.wait(0.5)
    except KeyboardInterrupt:
        ctx.cancel.set()
        progress.note("interrupted: stopping at the next step and cleaning up (please wait)")
        _drain(lock, running)
    if ctx.unhealthy:
        progress.note(f"stopped: {ctx.unhealthy}")
        problem = None  # nothing to ask of a dead cluster; the next run sweeps
    else:
        try:
            problem = health.namespaces_not_deleting(ctx.cluster, ctx.run_id)
        except KeyboardInterrupt:
            problem = "not looked at (interrupted again)"
    if problem:
        progress.note(f"namespaces of run {ctx.run_id}: {problem}")
    if not ctx.unhealthy and any(_needs_karpenter(unit) for unit in units):
        drained = karpenter.await_drained(ctx.cluster, stop=ctx.cancel)  # none outlives the run
        if drained:
            progress.note(f"Karpenter's nodes not all deleted yet: {drained}")
    for index in waiting:
        unit = units[index]
        outcomes[index] = Outcome(
            unit.name, unit.kind, _display(unit.source, ctx.root), "cancelled", "not started"
        )
    return [outcomes[index] for index in range(len(units))]


def start_order(units: list[Unit], seconds: list[float | None] | None = None) -> list[int]:
    """Shared units first, the longest first (unknown counts as longest), so that no long
    one starts last and runs alone; then the exclusive ones, one at a time.

    Not the other way round: a Karpenter unit's nodes drain for 5 s after it
    (MinDrainTime), tainted but still there, and a DaemonSet tolerating every taint
    would count them, run pods there, and wait ~40 s for the pod garbage collector
    once they are gone. The run waits for the last drain: no Karpenter node outlives it.
    """
    known = seconds or [None] * len(units)

    def rank(index: int) -> tuple[bool, float]:
        recorded = known[index]
        return units[index].exclusive, -(float("inf") if recorded is None else recorded)

    return sorted(range(len(units)), key=rank)


def _startable(
    units: list[Unit],
    keys: list[set[str]],
    waiting: list[int],
    running: set[int],
    jobs: int,
    cleaning: set[int] | None = None,
) -> list[int]:
    """Waiting units that may start now, in order; nothing passes a waiting exclusive unit.

    A unit cleaning up holds no job slot (it waits for deletions, not for CPU), but it
    still counts for exclusivity and shared names: its objects are not gone yet.
    """
    chosen: list[int] = []
    for index in waiting:
        busy = running | set(chosen)
        if len(busy - (cleaning or set())) >= jobs:
            break
        if units[index].exclusive:
            if not busy:
                chosen.append(index)
            break
        if any(units[other].exclusive for other in busy):
            break
        if any(keys[index] & keys[other] for other in busy):
            continue
        chosen.append(index)
    return chosen


def _drain(lock: threading.Condition, running: set[int]) -> None:
    """Wait for running units to clean up; further Ctrl-C presses do not abandon them."""
    while True:
        try:
            with lock:
                while running:
                    lock.wait(0.5)
            return
        except KeyboardInterrupt:
            continue
