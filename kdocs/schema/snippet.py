"""The schema stage as the site pipeline calls it: snippet files, one outcome each.

`check_snippet` checks one file against every version at once. `check_snippets`
checks many files version by version: each version's schemas are compiled, used
for every file, and released before the next version's, so a full site build
holds one version's compiled schemas (~6 MiB) instead of all of them (~50 MiB at
8 versions). The outcomes are the same as file by file: each document's findings
are merged in version order exactly as `Validator.validate` merges them, and a
document is checked once per distinct schema (`SchemaRegistry.schema_key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.errors import KdocsError
from kdocs.resource.embed import read_snippet
from kdocs.resource.limits import DEFAULT_LIMITS
from kdocs.schema.api import Engine, FileReport, engine_for, validate_file
from kdocs.schema.registry import GVK, SchemaRegistry
from kdocs.schema.validator import DocumentResult, Finding, Resource


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
    engine = _engine(settings)
    return _outcome(engine, validate_file(path, engine, name=display))


def check_snippets(
    settings: Any, files: Sequence[tuple[Path, str]]
) -> dict[Path, SchemaOutcome | KdocsError]:
    """`check_snippet` for many (path, display name) files, versions outermost.

    A file whose check would raise (bad settings, a schema that cannot be compiled) gets
    the error `check_snippet` raises for it, in place of an outcome: it is checked again
    on its own, so the error is the one its documents meet first in file order.

    Two passes, for memory: the first keeps only each document's object (what it reads
    with positions and text is ~18 KiB a snippet, 27 MiB for 1,500) and asks only "valid
    in this version?"; files with any doubt (a read error, no schema, invalid) are read
    again and checked in full by the second, which finds and locates every problem.
    """
    try:
        engine = _engine(settings)
    except KdocsError as error:
        return {path: error for path, _ in files}
    registry = engine.validator.registry
    doubtful: set[Path] = set()
    objects: dict[Path, tuple[str, list[tuple[Resource, GVK, dict[str, Any]]]]] = {}
    for path, name in files:
        manifest = read_snippet(path, DEFAULT_LIMITS, name=name)
        if manifest.errors:
            doubtful.add(path)
            continue
        objects[path] = (manifest.path, [
            (Resource.of(d), GVK.of(d.api_version, d.kind), d.obj) for d in manifest.documents
        ])  # fmt: skip
    passed: set[tuple[Path, int, bytes]] = set()  # valid against this schema text
    for version in engine.versions:
        try:
            for path, (_, documents) in objects.items():
                if path not in doubtful and not _valid_in(
                    registry, version, path, documents, passed
                ):
                    doubtful.add(path)
        finally:
            engine.validator.release(version)
    in_full = _check_in_full(settings, engine, [(p, n) for p, n in files if p in doubtful])
    outcomes: dict[Path, SchemaOutcome | KdocsError] = {}
    for path, _ in files:
        if path in in_full:
            outcomes[path] = in_full[path]
            continue
        name, documents = objects[path]
        results = [DocumentResult(resource, engine.versions) for resource, _, _ in documents]
        outcomes[path] = _outcome(engine, FileReport(name, documents=results))
    return outcomes


def _valid_in(
    registry: SchemaRegistry,
    version: str,
    path: Path,
    documents: list[tuple[Resource, GVK, dict[str, Any]]],
    passed: set[tuple[Path, int, bytes]],
) -> bool:
    """Is every document of a file valid in `version`? (False if compiling raises.)"""
    try:
        for number, (_, gvk, obj) in enumerate(documents):
            key = registry.schema_key(version, gvk)
            if key is not None and (path, number, key) in passed:
                continue  # the same schema text, already passed by this very object
            compiled = registry.validator(version, gvk)
            if compiled is None or not compiled.is_valid(obj):
                return False
            if key is not None:
                passed.add((path, number, key))
    except KdocsError:
        return False
    return True


def _check_in_full(
    settings: Any, engine: Engine, files: Sequence[tuple[Path, str]]
) -> dict[Path, SchemaOutcome | KdocsError]:
    """Every problem of every file, versions outermost, merged as `Validator.validate`
    merges them (findings in version order), each document checked once per schema."""
    validator = engine.validator
    loaded = {path: read_snippet(path, DEFAULT_LIMITS, name=name) for path, name in files}
    raised: set[Path] = set()
    findings: dict[tuple[Path, int], list[tuple[str, list[Finding]]]] = {}
    by_key: dict[tuple[Path, int, bytes], list[Finding]] = {}
    for version in engine.versions if files else ():
        try:
            for path, manifest in loaded.items():
                if path in raised:
                    continue
                try:
                    for number, document in enumerate(manifest.documents):
                        gvk = GVK.of(document.api_version, document.kind)
                        key = validator.registry.schema_key(version, gvk)
                        found = by_key.get((path, number, key)) if key is not None else None
                        if found is None:
                            compiled = validator.compiled(version, document)
                            found = validator.check(version, compiled, document)
                            if key is not None:
                                by_key[(path, number, key)] = found
                        findings.setdefault((path, number), []).append((version, found))
                except KdocsError:
                    raised.add(path)
        finally:
            validator.release(version)
    outcomes: dict[Path, SchemaOutcome | KdocsError] = {}
    for path, manifest in loaded.items():
        if path in raised:
            try:
                outcomes[path] = check_snippet(settings, path, display=manifest.path)
            except KdocsError as error:
                outcomes[path] = error
            continue
        report = FileReport(manifest.path, errors=list(manifest.errors))
        report.documents = [
            validator.result(document, findings[(path, number)])
            for number, document in enumerate(manifest.documents)
        ]
        outcomes[path] = _outcome(engine, report)
    return outcomes


def _engine(settings: Any) -> Engine:
    crd_dirs = [d for d in settings.crd_dirs if d.is_dir()]
    return engine_for(settings.kubernetes_versions, crd_dirs)


def _outcome(engine: Engine, report: FileReport) -> SchemaOutcome:
    lines = [str(e) for e in report.errors]
    lines += [p.text() for d in report.documents for p in d.problems]
    failed = {v for d in report.documents for v in d.versions_failed}
    passed = () if report.errors else tuple(v for v in engine.versions if v not in failed)
    return SchemaOutcome(report.valid, passed, lines[0] if lines else "", report)
