"""Property: every reported line:col points at the offending node, whatever the YAML layout."""

from __future__ import annotations

import copy

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kdocs.resource.manifest import parse_manifests
from kdocs.schema.api import engine_for
from kdocs.schema.validator import json_path

BASE = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "nginx",
                        "ports": [{"containerPort": 80}],
                        "resources": {"requests": {"cpu": 1}},
                    }
                ]
            },
        },
    },
}
OBJECTS = [  # where an unknown field can go (each is a strict object in the schema)
    ("metadata",),
    ("spec",),
    ("spec", "selector"),
    ("spec", "template", "spec"),
    ("spec", "template", "spec", "containers", 0),
    ("spec", "template", "spec", "containers", 0, "ports", 0),
    ("spec", "template", "spec", "containers", 0, "resources"),
]
TYPED = [  # fields of a known scalar type, and a value of another type
    (("spec", "replicas"), ["two", True, [1]]),
    (("spec", "template", "spec", "containers", 0, "image"), [42, False, {"a": 1}]),
    (("spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"), ["x", 1.5]),
    (("spec", "template", "spec", "containers", 0, "resources", "requests", "cpu"), [[1], True]),
]


def _get(obj, path):
    for part in path:
        obj = obj[part]
    return obj


def _start(value) -> tuple[str, ...]:
    """What the text of a YAML node holding `value` may start with."""
    if isinstance(value, dict):
        return ("{", *value)
    if isinstance(value, list):
        return ("[", "-")
    if isinstance(value, bool):
        return ("true",) if value else ("false",)
    return (str(value), "'", '"')


@settings(max_examples=150, deadline=None)
@given(
    unknown=st.lists(
        st.tuples(st.sampled_from(OBJECTS), st.text("abcdefghij", min_size=1, max_size=6)),
        max_size=3,
    ),
    typed=st.lists(st.tuples(st.sampled_from(range(len(TYPED))), st.integers(0, 1)), max_size=2),
    flow=st.sampled_from([False, True, None]),
    indent=st.integers(2, 5),
    sort_keys=st.booleans(),
)
def test_every_error_points_at_its_node(unknown, typed, flow, indent, sort_keys) -> None:
    obj = copy.deepcopy(BASE)
    expected: dict[str, object] = {}
    for where, name in unknown:
        key = "zz" + name  # never a real field
        _get(obj, where)[key] = 1
        expected[json_path((*where, key))] = key
    for index, choice in typed:
        path, values = TYPED[index]
        value = values[choice % len(values)]
        _get(obj, path[:-1])[path[-1]] = value
        expected[json_path(path)] = value
    text = yaml.safe_dump(obj, default_flow_style=flow, indent=indent, sort_keys=sort_keys)
    (document,) = parse_manifests(text.encode(), "d.yaml").documents
    result = engine_for(["1.30", "1.37"]).validator.validate(document)

    assert {p.path for p in result.problems} == set(expected)
    lines = text.splitlines()
    for problem in result.problems:
        assert problem.versions == ("1.30", "1.37")
        at = lines[problem.location.line - 1][problem.location.col - 1 :]
        wanted = expected[problem.path]
        if isinstance(wanted, str) and wanted.startswith("zz"):
            assert at.startswith(wanted), (problem.text(), at)  # the unknown key itself
        else:
            assert at.startswith(_start(wanted)), (problem.text(), at)  # the bad value
