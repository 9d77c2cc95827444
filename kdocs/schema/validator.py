"""Validate documents against a matrix of Kubernetes versions; errors point at nodes.

Like kubeconform's ``pkg/validator``, strict: an unknown field is an error, and a
kind that has no schema in a version is an error for that version (an
``extensions/v1beta1`` DaemonSet fails on every version that removed it).

Each error names the node it is about, not the document: ``file:line:col`` of
the unknown key itself for an unknown field, of the key holding an object that
misses a required field, of the value otherwise; a JSON path such as
``spec.template.spec.containers[0].imagePullPolicy``; one-line reason.  The same
error in several versions is reported once with the versions it failed in, so a
typo is one line, not one per version.

Why it is fast: ``is_valid`` (microseconds) decides first; only an invalid
document pays for collecting and locating its errors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kdocs.errors import Location
from kdocs.resource.manifest import Document
from kdocs.resource.positions import JsonPath
from kdocs.schema.engine import jsonschema_rs
from kdocs.schema.formats import format_reason
from kdocs.schema.registry import GVK, SchemaRegistry
from kdocs.versions import version_span

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
Finding = tuple[Location, str, str]  # where, JSON path, reason: one error in one version


@dataclass(frozen=True)
class Problem:
    """One error, with every version it was found in."""

    location: Location
    path: str  # "spec.template.spec.containers[0].image"; "" for the whole object
    reason: str
    versions: tuple[str, ...]

    def text(self) -> str:
        """`file:line:col: path: reason [k8s 1.30-1.37]`, one line."""
        where = f"{self.path}: " if self.path else ""
        return f"{self.location}: {where}{self.reason} [k8s {version_span(self.versions)}]"


@dataclass(frozen=True)
class Resource:
    """Which object a result is about (the parsed document itself is not kept, so a
    large run holds results, not every value and position it read)."""

    file: str
    index: int  # 0-based number of the YAML document in the file
    prefix: JsonPath  # () or ("items", i) for an item of a List
    api_version: str
    kind: str
    name: str
    lines: tuple[int, int]

    @classmethod
    def of(cls, doc: Document) -> Resource:
        return cls(doc.file, doc.index, doc.prefix, doc.api_version, doc.kind, doc.name, doc.lines)


@dataclass
class DocumentResult:
    """What one document gave in each version."""

    document: Resource
    versions: tuple[str, ...]
    problems: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def versions_failed(self) -> tuple[str, ...]:
        failed = {v for p in self.problems for v in p.versions}
        return tuple(v for v in self.versions if v in failed)

    @property
    def versions_passed(self) -> tuple[str, ...]:
        failed = set(self.versions_failed)
        return tuple(v for v in self.versions if v not in failed)


def json_path(path: Sequence[str | int]) -> str:
    """JSON path in kubectl's style: a.b[0].c, odd keys quoted: labels["app.io/name"]."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENT.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"  # escaped, so a path is always one line
    return out


class Validator:
    """Validates documents against one registry for a list of Kubernetes versions."""

    def __init__(self, registry: SchemaRegistry, versions: Sequence[str]) -> None:
        self.registry = registry
        self.versions = tuple(versions)
        self._rows: dict[tuple[str, str], list[tuple[str, jsonschema_rs.Validator | None]]] = {}

    @property
    def kinds_seen(self) -> int:
        """How many (apiVersion, kind) pairs have been looked up (their schemas compiled)."""
        return len(self._rows)

    def validate(self, document: Document) -> DocumentResult:
        per_version: list[tuple[str, list[Finding]]] = []
        seen: dict[int, list[Finding]] = {}  # versions sharing a compiled schema check once
        for version, compiled in self._matrix(document.api_version, document.kind):
            found = seen.get(id(compiled)) if compiled is not None else None
            if found is None:
                found = self.check(version, compiled, document)
                if compiled is not None:
                    seen[id(compiled)] = found
            per_version.append((version, found))
        return self.result(document, per_version)

    def compiled(self, version: str, document: Document) -> jsonschema_rs.Validator | None:
        """The compiled schema of a document's kind in one version (None: no schema)."""
        return self.registry.validator(version, GVK.of(document.api_version, document.kind))

    def check(
        self, version: str, compiled: jsonschema_rs.Validator | None, document: Document
    ) -> list[Finding]:
        """What is wrong with a document in one version, before versions are merged."""
        if compiled is None:
            reason = f"no schema for {document.api_version} {document.kind}"
            return [(document.location(("kind",)), "", reason)]
        if compiled.is_valid(document.obj):
            return []
        return self._errors(version, compiled, document)

    def result(
        self, document: Document, per_version: Sequence[tuple[str, list[Finding]]]
    ) -> DocumentResult:
        """One result from each version's findings (given in `self.versions` order): the
        same finding in several versions is one problem naming them all."""
        found: dict[Finding, list[str]] = {}
        for version, findings in per_version:
            for finding in findings:
                found.setdefault(finding, []).append(version)
        result = DocumentResult(Resource.of(document), self.versions)
        for (location, path, reason), versions in found.items():
            if reason.startswith("no schema for "):
                reason += f" in Kubernetes {version_span(versions)}"
            reason = " ".join(reason.split())  # one line, whatever the YAML held
            result.problems.append(Problem(location, path, reason, tuple(versions)))
        result.problems.sort(key=lambda p: (p.location.line or 0, p.location.col or 0, p.path))
        return result

    def release(self, version: str) -> None:
        """Forget one version's compiled schemas (`SchemaRegistry.release`)."""
        self._rows.clear()
        self.registry.release(version)

    def _matrix(
        self, api_version: str, kind: str
    ) -> list[tuple[str, jsonschema_rs.Validator | None]]:
        """The compiled schema of a kind in every version (looked up once per kind)."""
        key = (api_version, kind)
        row = self._rows.get(key)
        if row is None:
            gvk = GVK.of(api_version, kind)
            row = [(v, self.registry.validator(v, gvk)) for v in self.versions]
            self._rows[key] = row
        return row

    def _errors(
        self, version: str, compiled: jsonschema_rs.Validator, document: Document
    ) -> list[Finding]:
        out = []
        for error in compiled.iter_errors(document.obj):
            path: JsonPath = tuple(error.instance_path)
            name = error.kind.name
            if name == "additionalProperties":
                allowed = self._allowed(version, error)
                for key in error.kind.unexpected:
                    reason = f"unknown field {key!r}" + _suggest(key, allowed)
                    where = document.location(path + (key,), key=True)
                    out.append((where, json_path(path + (key,)), reason))
                continue
            if name == "required":
                reason = f"missing required field {error.kind.property!r}"
                out.append((document.location(path, key=True), json_path(path), reason))
                continue
            out.append((document.location(path), json_path(path), _reason(error)))
        return out

    def _allowed(self, version: str, error: jsonschema_rs.ValidationError) -> list[str]:
        schema = self.registry.subschema(version, error.absolute_keyword_location)
        properties = schema.get("properties") if schema else None
        return list(properties) if isinstance(properties, dict) else []


def _suggest(key: str, allowed: list[str]) -> str:
    import difflib  # only an unknown field needs it: a valid file does not pay its import

    allowed = [a for a in allowed if a != key]
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.75)
    if not close:
        lowered = {a.lower(): a for a in allowed}
        close = [lowered[key.lower()]] if key.lower() in lowered else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _json_type(value)
    text = repr(value) if isinstance(value, str) else str(value).lower()
    return f"{_json_type(value)} {text[:60]}"


def _types(error: jsonschema_rs.ValidationError) -> list[str] | None:
    """The types an error (or every branch of a oneOf/anyOf) wanted, if that is all it says."""
    name = error.kind.name
    if name == "type":
        return [t for t in error.kind.types if t != "null"] or ["null"]
    if name in ("oneOf", "anyOf") and hasattr(error.kind, "context"):
        wanted: list[str] = []
        for branch in error.kind.context:
            for sub in branch:
                types = _types(sub) if not sub.instance_path[len(error.instance_path) :] else None
                if types is None:
                    return None
                wanted += [t for t in types if t not in wanted]
        return wanted or None
    return None


def _reason(error: jsonschema_rs.ValidationError) -> str:
    types = _types(error)
    if types is not None:
        reason = f"expected {' or '.join(types)}, got {_shown(error.instance)}"
        if "string" in types and isinstance(error.instance, bool | int | float):
            reason += " (as kubectl reads it unquoted: quote it to keep the text)"
        return reason
    if error.kind.name == "format":
        return format_reason(error.kind.format, _shown(error.instance))
    if error.kind.name == "enum":
        options = ", ".join(repr(o) for o in error.kind.options[:8])
        return f"must be one of {options}; got {_shown(error.instance)}"
    return " ".join(error.message.split())[:300]
