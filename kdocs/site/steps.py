"""A scenario's steps in words, so a reader sees what was proven without reading YAML.

Each step becomes one sentence: "apply daemonset.yaml without
spec.template.spec.tolerations", "assert exactly 1 Pod labelled
app.kubernetes.io/name=node-agent has spec.nodeName = the node labelled
karpenter.sh/nodepool=stable (within 60 s)", "error: ... must NOT happen for 5 s".

Negative controls are found from the scenario itself, never from its comments:
an apply that must be rejected, or an apply of a guide file with a setting
removed (a merge patch with `null`), is a control; the checks that follow it,
up to the next apply or delete, check that control. A patch that only sets
values (the KWOKNodeClass substitution) is not a control: it is shown as such.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kdocs.scenario.model import Apply, Delete, Expect, Scenario

STEP = "step"
CONTROL = "control"  # the step that breaks the claim on purpose
CONTROL_CHECK = "control-check"  # a check of what the control must (not) do
_NODE = re.compile(r"\$\{node:([^}]+)\}")
_AMBIGUOUS = ("", "true", "false", "null", "yes", "no")
_MAX_VALUE = 80  # characters of a value shown inline; longer ones are cut


@dataclass(frozen=True)
class StepWords:
    """One step as a reader sees it."""

    number: int  # 1-based, in the scenario's order
    line: int  # in the scenario file
    words: str
    role: str  # STEP | CONTROL | CONTROL_CHECK


def scenario_words(scenario: Scenario) -> tuple[StepWords, ...]:
    """Every step of the scenario in words, negative controls marked."""
    out: list[StepWords] = []
    in_control = False
    folder = scenario.path.parent
    for number, step in enumerate(scenario.steps, start=1):
        if isinstance(step, Expect):
            role = CONTROL_CHECK if in_control else STEP
        else:
            in_control = is_control(step)
            role = CONTROL if in_control else STEP
        out.append(StepWords(number, step.line, step_words(step, folder), role))
    return tuple(out)


def is_control(step: Apply | Expect | Delete) -> bool:
    """An apply that must be refused, or that removes a setting from a guide's file."""
    if not isinstance(step, Apply):
        return False
    return step.rejected is not None or (step.patch is not None and _removes(step.patch))


def step_words(step: Apply | Expect | Delete, folder: Path) -> str:
    if isinstance(step, Apply):
        return _apply_words(step, folder)
    if isinstance(step, Delete):
        what = _file(step.file, folder) if step.file is not None else _named(step.ref or {})
        return f"delete {what} and wait until it is gone"
    return _expect_words(step)


def _apply_words(step: Apply, folder: Path) -> str:
    if step.file is None:
        words = f"apply {_named(step.inline or {})}, defined in the scenario (not shown in a guide)"
    else:
        words = f"apply {_file(step.file, folder)}"
        if step.patch is not None:
            parts = _patch_parts(step.patch)
            words += " " + ", ".join(
                f"without {path}" if value is None else f"with {path} = {_value(value)}"
                for path, value in parts
            )
    if step.rejected is not None:
        words += f": the API server must reject it (with {step.rejected!r})"
    return words


def _expect_words(step: Expect) -> str:
    subject = _subject(step)
    fields = _fields(step.object)
    has = f" with {fields}" if fields else ""
    if step.must_appear:
        plural = _plural(step)
        verb = ("have" if plural else "has") if fields else ("exist" if plural else "exists")
        words = f"assert {subject} {verb} {fields}".rstrip()
        words += f" (within {_seconds(step.timeout)})"
        if step.during:
            words += f", and it keeps holding for {_seconds(step.during)}"
        return words
    return f"error: {subject}{has} must NOT appear for {_seconds(step.timeout)}"


def _subject(step: Expect) -> str:
    obj = step.object
    kind = str(obj.get("kind", "object"))
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    if meta.get("name"):
        return f"the {kind} {_text(meta['name'])}"
    labels = meta.get("labels") or {}
    labelled = f" labelled {_labels(labels)}" if labels else ""
    if step.count is not None:
        many = "" if step.count == 1 else "s"
        exactly = "exactly " if step.must_appear else ""
        return f"{exactly}{step.count} {kind}{many}{labelled}"
    if step.match == "all":
        return f"every {kind}{labelled} (at least one)"
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"at least one {kind}{labelled}" if step.must_appear else f"{article} {kind}{labelled}"


def _plural(step: Expect) -> bool:
    return step.count is not None and step.count != 1


def _fields(obj: dict[str, Any]) -> str:
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    extra = {k: v for k, v in meta.items() if k not in ("name", "labels")}
    if extra:
        rest = {"metadata": extra, **rest}
    if not rest:
        return ""
    return ", ".join(f"{path} = {_value(value)}" for path, value in _leaves(rest))


def _leaves(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """`a.b[key=x].c` paths of a partial object's scalars (lists are shown whole)."""
    if not isinstance(value, dict) or not value:
        return [(prefix, value)]
    out: list[tuple[str, Any]] = []
    for key, child in value.items():
        path = f"{prefix}.{key}" if prefix and not str(key).startswith("[") else f"{prefix}{key}"
        out.extend(_leaves(child, path))
    return out


def _patch_parts(patch: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """A merge patch as `path = value` changes: one path per removed key or set value, a
    mapping of several keys shown whole (`nodeClassRef = {group: ..., kind: ...}`)."""
    if not isinstance(patch, dict) or (prefix and len(patch) != 1 and not _removes(patch)):
        return [(prefix, patch)]
    out: list[tuple[str, Any]] = []
    for key, child in patch.items():
        out.extend(_patch_parts(child, f"{prefix}.{key}" if prefix else str(key)))
    return out


def _removes(patch: Any) -> bool:
    return any(value is None for _, value in _leaves(patch))


def _value(value: Any) -> str:
    if isinstance(value, str):
        # Quoted where the bare word would read as another type ("True" is a string here).
        return json.dumps(value) if value.lower() in _AMBIGUOUS else _text(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
        return _cut("{" + inner + "}")
    if isinstance(value, list):
        return _cut("[" + ", ".join(_value(v) for v in value) + "]")
    return str(value)


def _text(value: str) -> str:
    """Placeholders in words: `${node:X}` is a node the run found, `${namespace}` its own."""
    value = _NODE.sub(lambda m: _node(m.group(1)), value)
    return value.replace("${namespace}", "the scenario's namespace")


def _node(name: str) -> str:
    return f"the node labelled {name}" if "=" in name else f"the node {name}"


def _labels(labels: dict[str, Any]) -> str:
    return ",".join(f"{k}={_text(str(v))}" for k, v in labels.items())


def _named(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName") or ""
    return f"the {obj.get('kind', 'object')} {_text(str(name))}".rstrip()


def _file(path: Path, folder: Path) -> str:
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return path.name


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"
