"""Recording policy of `kdocs test`: when a recorded result still proves a unit, how a
finished unit is recorded, which units a shard runs, and which units of the site
have no result for their current inputs (what `kdocs build --require-complete` refuses).

Beside `kdocs.results` (the file format and its merging): this is the policy that
decides what to look up and write there, per unit of the cluster stage.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from kdocs.cluster.base import Cluster
from kdocs.cluster.defaults import DEFAULT_CHECKS
from kdocs.cluster.model import Outcome, Unit
from kdocs.cluster.plan import inside, plan, with_topology
from kdocs.cluster.topology import choose_topology
from kdocs.config import Settings
from kdocs.errors import UnusableInputError
from kdocs.results import CHECK, SCENARIO, ResultStore, UnitRecord
from kdocs.scenario.model import display
from kdocs.shards import Shard, Work, share


def shard_units(units: list[Unit], store: ResultStore, shard: Shard) -> list[Unit]:
    """The units shard `shard` runs, balanced by the durations `store` recorded."""
    recorded = store.durations()
    work = [Work(unit_key(u), recorded.get(unit_key(u)), u.exclusive) for u in units]
    mine = share(work, shard)
    return [unit for unit in units if unit_key(unit) in mine]


def unit_key(unit: Unit) -> str:
    """The key a unit is balanced and recorded under: its kind and name."""
    return f"{_kind(unit)}:{unit.name}"


def unrecorded_units(settings: Settings) -> list[str]:
    """One line per unit of the site with no recorded verdict for its current inputs.

    What `kdocs build --require-complete` refuses to publish: after a sharded
    run, such a unit is one no shard ran (a shard lost, a results file not merged).
    """
    try:
        topology: str | None = choose_topology(None, settings.clusters_dir)
    except UnusableInputError:
        topology = None
    store = ResultStore(settings.results_file, settings.root)
    lines = []
    for unit in plan([], settings)[0]:
        unit = with_topology(unit, settings, topology)
        kind, name, inputs = _kind(unit), unit.name, unit.inputs
        missing = [
            minor for minor in settings.cluster_versions
            if not all(store.has(sha256(s), kind, name, inputs, minor) for s in unit.snippets)
        ]  # fmt: skip
        if missing:
            lines.append(
                f"{display(unit.source, settings.root)}: {unit.kind} {unit.name!r} has no result "
                f"for its current inputs on Kubernetes {', '.join(missing)} in "
                f"{display(settings.results_file, settings.root)}"
                " (no shard ran it, or its results were not merged)"
            )
    return lines


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unchanged(
    unit: Unit, store: ResultStore, provider: str, minor: str | None = None
) -> UnitRecord | None:
    """The recorded result proving `unit` with these exact inputs (on Kubernetes `minor`,
    when given), or None (then run it)."""
    found: UnitRecord | None = None
    for snippet in unit.snippets:
        kind, name, inputs = _kind(unit), unit.name, unit.inputs
        proven = store.proven(sha256(snippet), kind, name, provider, inputs, minor)
        if proven is None or (unit.kind == "check" and proven.checks != DEFAULT_CHECKS):
            return None
        found = proven
    return found


def record(
    store: ResultStore, settings: Settings, cluster: Cluster, unit: Unit, outcome: Outcome
) -> None:
    """Record a finished unit's verdict on every snippet it used, for exactly its inputs."""
    date = datetime.now(UTC).isoformat(timespec="seconds")
    passed = outcome.status == "passed"
    checks = ("server-side apply", "scenario") if unit.kind == "scenario" else DEFAULT_CHECKS
    for snippet in unit.snippets:
        store.record(UnitRecord(
            snippet=_snippet_name(snippet, settings), sha256=sha256(snippet), kind=_kind(unit),
            unit=unit.name, source=display(unit.source, settings.root), passed=passed,
            provider=cluster.provider, cluster=cluster.label,
            kubernetes_version=cluster.kubernetes_version, date=date,
            checks=checks if passed else (), message=outcome.message, inputs=dict(unit.inputs),
            seconds=round(outcome.seconds, 2),
        ))  # fmt: skip


def _kind(unit: Unit) -> str:
    return SCENARIO if unit.kind == "scenario" else CHECK


def _snippet_name(path: Path, settings: Settings) -> str:
    if inside(path, settings.snippets_dir):
        return path.resolve().relative_to(settings.snippets_dir.resolve()).as_posix()
    return display(path, settings.root)
