"""The results file: what the cluster stage proved, keyed by snippet content hash.

One JSON file, written by `kdocs test`, read by the site. Keying by the
SHA-256 of the snippet's bytes means a badge can never describe bytes other
than the ones shown: edit the snippet and its old result no longer applies.
Writes go to a temporary file renamed into place, so a run killed half-way
leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kdocs.errors import Location, UnusableInputError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str
    passed: bool
    # Hashes of every file the scenario used: a change to any of them reruns it.
    inputs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterResult:
    """What happened to one snippet (by content hash) on a real cluster."""

    snippet: str
    passed: bool
    provider: str
    kubernetes_version: str
    date: str  # ISO 8601, UTC
    checks: tuple[str, ...] = ()  # default checks that ran, e.g. "server-side apply"
    scenarios: tuple[ScenarioOutcome, ...] = ()
    message: str = ""
    # Hashes of every file the default check used (the snippet, an embed spec): skip-unchanged.
    inputs: dict[str, str] = field(default_factory=dict)


class ResultStore:
    """Read and update the results file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[str, ClusterResult] = self._read()

    def _read(self) -> dict[str, ClusterResult]:
        if not self.path.exists():
            return {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if raw.get("format") != FORMAT_VERSION:
                return {}  # an older layout: results are cheap to reproduce, never misread
            return {key: _result_from_json(value) for key, value in raw["results"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise UnusableInputError(
                Location(str(self.path)),
                f"unreadable results file ({error}); delete it to start over",
            ) from None

    def lookup(self, sha256: str) -> ClusterResult | None:
        return self._entries.get(sha256)

    def proven_snippets(self) -> set[str]:
        """Snippets some version of which passed: tells a stale badge from a new one."""
        return {entry.snippet for entry in self._entries.values() if entry.passed}

    def record(self, sha256: str, result: ClusterResult) -> None:
        self._entries[sha256] = result

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT_VERSION,
            "results": {key: asdict(value) for key, value in sorted(self._entries.items())},
        }
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".results-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temp, self.path)


def _result_from_json(value: dict) -> ClusterResult:
    scenarios = tuple(ScenarioOutcome(**item) for item in value.get("scenarios", ()))
    return ClusterResult(
        snippet=value["snippet"],
        passed=bool(value["passed"]),
        provider=value["provider"],
        kubernetes_version=value["kubernetes_version"],
        date=value["date"],
        checks=tuple(value.get("checks", ())),
        scenarios=scenarios,
        message=value.get("message", ""),
        inputs=dict(value.get("inputs", {})),
    )
