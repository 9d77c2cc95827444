"""The schema stage as the site pipeline calls it: one snippet file, one outcome."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.schema.api import FileReport, engine_for, validate_file


@dataclass(frozen=True)
class SchemaOutcome:
    """Did every object of the snippet validate, in which versions, and the first problem."""

    valid: bool
    versions_passed: tuple[str, ...]
    first_error: str  # one line, "" when valid
    report: FileReport


def check_snippet(settings: Any, path: Path, *, display: str | None = None) -> SchemaOutcome:
    """Validate one snippet (fragments merged into their host) for the project's versions.

    Raises UnusableInputError for bad settings (unknown version, broken CRD folder);
    everything about the file itself is in the outcome.
    """
    crd_dirs = [d for d in settings.crd_dirs if d.is_dir()]
    engine = engine_for(settings.kubernetes_versions, crd_dirs)
    report = validate_file(path, engine, name=display)
    lines = [str(e) for e in report.errors]
    lines += [p.text() for d in report.documents for p in d.problems]
    failed = {v for d in report.documents for v in d.versions_failed}
    passed = () if report.errors else tuple(v for v in engine.versions if v not in failed)
    return SchemaOutcome(report.valid, passed, lines[0] if lines else "", report)
