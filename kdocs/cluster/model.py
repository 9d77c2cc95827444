"""What a cluster run is about and how it ends: units, step records, outcomes, statuses.

A leaf: it imports nothing of the cluster package, so the runner, the report
writers, the progress display and the commands all share one vocabulary
without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kdocs.scenario.model import Scenario

STATUSES = ("passed", "skipped", "failed", "error", "cancelled")


class StepFailed(Exception):
    """A check found the cluster in a state other than the one claimed."""


class Cancelled(Exception):
    """The run was interrupted (Ctrl-C); the unit stops at the next step and cleans up."""


@dataclass(frozen=True)
class Unit:
    """One thing to run: a scenario, or the default check of one snippet."""

    name: str
    kind: str  # "scenario" | "check"
    source: Path
    snippets: tuple[Path, ...]  # snippets whose recorded result this unit informs
    inputs: dict[str, str]  # hashes of every file used: unchanged inputs may skip the unit
    scenario: Scenario | None = None
    exclusive: bool = False


@dataclass
class StepRecord:
    index: int
    line: int
    description: str
    status: str  # "passed" | "failed" | "cancelled"
    seconds: float


@dataclass
class Outcome:
    """The end of one unit: a scenario or the default check of one snippet."""

    name: str
    kind: str  # "scenario" | "check"
    source: str  # the scenario file or snippet, as shown in messages
    status: str  # one of STATUSES
    message: str = ""
    seconds: float = 0.0
    cleanup_seconds: float = 0.0  # of `seconds`: deleting what it applied (Karpenter drains)
    namespace: str = ""
    checks: tuple[str, ...] = ()
    steps: list[StepRecord] = field(default_factory=list)
    diagnostics: str = ""

    @property
    def passed(self) -> bool:
        return self.status in ("passed", "skipped")
