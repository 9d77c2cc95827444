"""What `kdocs test` runs: a scenario, or the default check of one snippet.

Its own module so the runner and the report (which only names it) both
import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kdocs.scenario.model import Scenario


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
