"""Property tests of kdocs.resource.manifest: any input ends in values or one-line KdocsErrors,
and the position of every node points at that node's text."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdocs.errors import KdocsError
from kdocs.resource.limits import Limits
from kdocs.resource.manifest import parse_manifests

SMALL = Limits(max_bytes=4096, max_depth=8, max_documents=8, max_nodes=400, max_alias_nodes=50)
YAML_ALPHABET = st.sampled_from(list("abc:-[]{},&*!|>'\"#?<=~.0123456789 \t\n") + ["---", "\x00"])


def _check(data: bytes, limits: Limits) -> None:
    result = parse_manifests(data, "f.yaml", limits)
    for error in result.errors:
        assert isinstance(error, KdocsError)
        assert "\n" not in str(error) and str(error).startswith("f.yaml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_give_values_or_kdocs_errors(data: bytes) -> None:
    _check(data, SMALL)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAML_ALPHABET, max_size=120).map("".join))
def test_yaml_looking_text_gives_values_or_kdocs_errors(text: str) -> None:
    _check(text.encode(), SMALL)
    _check(("apiVersion: v1\nkind: X\n" + text).encode(), SMALL)


KEYS = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
SCALARS = st.one_of(
    st.integers(-1000, 10**6),
    st.booleans(),
    st.none(),
    # Digit-led strings and `y`/`n` are left out: PyYAML emits "08" and "y" plain (strings
    # in YAML 1.1), but kubectl's go-yaml, which the reader follows, reads a number, a bool.
    st.text(alphabet="abc xyz:-#'\"0123456789", max_size=8).filter(
        lambda s: not s.lstrip("+-.")[:1].isdigit() and s not in ("y", "n")
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(KEYS, inner, min_size=1, max_size=3),
    ),
    max_leaves=12,
)


def _walk(value, path=()):
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _walk(child, (*path, i))


@settings(max_examples=200, deadline=None)
@given(body=st.dictionaries(KEYS, VALUES, min_size=1, max_size=4), flow=st.booleans(),
       indent=st.integers(2, 6))  # fmt: skip
def test_positions_point_at_each_nodes_text(body: dict, flow: bool, indent: int) -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": body}
    text = yaml.safe_dump(obj, default_flow_style=flow, indent=indent, width=60, sort_keys=False)
    (doc,) = parse_manifests(text.encode(), "f.yaml").documents
    assert doc.obj == yaml.safe_load(text)
    lines = text.splitlines()
    for path, value in _walk(obj):
        where = doc.location(path)
        at = lines[where.line - 1][where.col - 1 :]
        assert at, (path, value)
        if isinstance(value, dict):
            first = str(next(iter(value), ""))
            assert at[0] == "{" or at.lstrip("'\"").startswith(first), (path, at)
        elif isinstance(value, list):
            assert at[0] in "[-" or flow is False, (path, at)
        else:
            if value is None or isinstance(value, bool):
                shown = {None: "null", True: "true", False: "false"}[value]
            else:
                shown = str(value)
            assert at[0] in "'\"" or at.startswith(shown[:1]), (path, value, at)
        if path and isinstance(path[-1], str):
            key_at = doc.location(path, key=True)
            assert lines[key_at.line - 1][key_at.col - 1 :].lstrip("'\"").startswith(path[-1])
