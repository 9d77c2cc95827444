"""JSON: the whole report, for tools (and the site build) to read."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from kdocs.errors import KdocsError, Location

if TYPE_CHECKING:
    from kdocs.schema.api import Report
    from kdocs.schema.validator import DocumentResult


def _where(location: Location | None) -> dict[str, Any]:
    if location is None:
        return {"file": None, "line": None, "col": None}
    return {"file": location.file, "line": location.line, "col": location.col}


def _error(error: KdocsError) -> dict[str, Any]:
    return {**_where(error.location), "reason": error.reason, "exit_code": int(error.exit_code)}


def _document(result: DocumentResult) -> dict[str, Any]:
    doc = result.document
    failed = set(result.versions_failed)
    return {
        "apiVersion": doc.api_version,
        "kind": doc.kind,
        "name": doc.name,
        "document": doc.index,
        "item": list(doc.prefix),
        "lines": list(doc.lines),
        "valid": result.valid,
        "versions": {v: "invalid" if v in failed else "valid" for v in result.versions},
        "errors": [
            {**_where(p.location), "path": p.path, "reason": p.reason, "versions": list(p.versions)}
            for p in result.problems
        ],
    }


def to_dict(report: Report) -> dict[str, Any]:
    docs = report.documents
    return {
        "versions": list(report.versions),
        "exit_code": report.exit_code,
        "summary": {
            "files": len(report.files),
            "resources": len(docs),
            "valid": sum(d.valid for d in docs),
            "invalid": sum(not d.valid for d in docs),
            "scenarios": sum(f.scenario for f in report.files),
            "scenarios_clean": sum(f.scenario and f.valid for f in report.files),
        },
        "errors": [_error(e) for e in report.errors],
        "files": [
            {
                "path": f.path,
                "scenario": f.scenario,
                "valid": f.valid,
                "errors": [_error(e) for e in f.errors],
                "resources": [_document(d) for d in f.documents],
            }
            for f in report.files
        ],
    }


class JsonOutput:
    def write(self, report: Report, stream: TextIO) -> None:
        json.dump(to_dict(report), stream, indent=2)
        stream.write("\n")
