"""Which units shard I of N runs: a deterministic, balanced share for `kdocs test --shard I/N`.

Every shard process computes the same assignment on its own (CI runners do not
talk to each other), so it depends only on the units' names, their weights and
whether they are exclusive: never on the order of discovery, the clock or what
another shard has recorded meanwhile (shards write to files of their own; the
weights come from the results file they all start from).

Balancing is greedy longest-first: the heaviest unit goes to the lightest
shard, ties broken by name and shard number. Weights are recorded durations
when known; a unit never timed weighs the mean of those that were, and when
none were, every unit weighs 1 (balanced by count). Exclusive units, which run
alone on a cluster and so cost a shard more than their duration, are spread
first, so that they do not pile up on one shard.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from kdocs.errors import UnusableInputError

_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    @property
    def label(self) -> str:
        """For file names and messages: "2-of-3"."""
        return f"{self.index}-of-{self.total}"


@dataclass(frozen=True)
class Work:
    """What the assignment knows of a unit."""

    name: str
    seconds: float | None = None  # recorded duration, None when never timed
    exclusive: bool = False


def parse_shard(text: str) -> Shard:
    """`I/N` with 1 <= I <= N, else one line and exit 2."""
    match = _SHARD.match(text.strip())
    if not match:
        raise UnusableInputError("--shard", f"{text!r} is not I/N (for example 2/3)")
    index, total = int(match[1]), int(match[2])
    if total < 1 or not 1 <= index <= total:
        raise UnusableInputError("--shard", f"{text!r}: I must be between 1 and N, N at least 1")
    return Shard(index, total)


def weights(work: Sequence[Work]) -> dict[str, float]:
    """Each unit's weight: its duration, the mean duration when unknown, 1 when none is known."""
    known = [w.seconds for w in work if w.seconds is not None and w.seconds > 0]
    fallback = sum(known) / len(known) if known else 1.0
    return {
        w.name: (w.seconds if w.seconds is not None and w.seconds > 0 else fallback) for w in work
    }


def assign(work: Sequence[Work], total: int) -> list[list[str]]:
    """The unit names of each shard (index 0 is shard 1), each list sorted by name."""
    weight = weights(work)
    loads = [0.0] * total
    exclusive_counts = [0] * total
    shards: list[list[str]] = [[] for _ in range(total)]
    names = {w.name for w in work}
    if len(names) != len(work):
        raise ValueError("unit names must be unique to shard them")

    def heaviest_first(items: list[Work]) -> list[Work]:
        return sorted(items, key=lambda w: (-weight[w.name], w.name))

    for unit in heaviest_first([w for w in work if w.exclusive]):
        # Fewest exclusive units first, then lightest: they serialise a cluster.
        target = min(range(total), key=lambda i: (exclusive_counts[i], loads[i], i))
        exclusive_counts[target] += 1
        loads[target] += weight[unit.name]
        shards[target].append(unit.name)
    for unit in heaviest_first([w for w in work if not w.exclusive]):
        target = min(range(total), key=lambda i: (loads[i], i))
        loads[target] += weight[unit.name]
        shards[target].append(unit.name)
    return [sorted(names) for names in shards]


def share(work: Sequence[Work], shard: Shard) -> set[str]:
    """The names of the units shard `shard` runs."""
    return set(assign(work, shard.total)[shard.index - 1])
