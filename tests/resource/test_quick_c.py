"""The reader's fast path in C (`kdocs/resource/_quickc.c`) against its Python loop.

`test_quick.py` runs every reading test with each loop against the full reader; here the
two loops are compared output for output, including where they give up, and the C
loop's own failure paths (a bug raised, no memory held) are checked.
"""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdocs.resource import quick, scalars
from kdocs.resource.limits import DEFAULT_LIMITS, Limits
from kdocs.resource.quick import quick_documents

from .test_quick import BUILT, DEPLOYMENT, HEADERS, PLAIN_BUT_ODD, SMALL, UNUSUAL, YAML_ALPHABET

pytestmark = pytest.mark.skipif(
    BUILT is None and not HEADERS, reason="the C loop is not built here (no libyaml headers)"
)


def test_the_c_loop_is_built_where_libyaml_headers_are() -> None:
    assert BUILT is not None, "libyaml's headers are here, yet the C loop was not built"


def _both(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[str, str]:
    """What each loop makes of `data` (repr: key order, and 1, 1.0 and True apart)."""
    assert BUILT is not None
    saved = quick.ACCELERATOR
    try:
        quick.ACCELERATOR = None
        python = quick_documents(data, limits)
        quick.ACCELERATOR = BUILT
        c = quick_documents(data, limits)
    finally:
        quick.ACCELERATOR = saved
    return repr(c), repr(python)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(YAML_ALPHABET, max_size=120).map("".join))
def test_the_c_loop_reads_as_the_python_loop(text: str) -> None:
    for data in (text.encode(), ("apiVersion: v1\nkind: X\n" + text).encode()):
        c, python = _both(data, SMALL)
        assert c == python


@pytest.mark.parametrize("name", sorted({**UNUSUAL, **PLAIN_BUT_ODD}))
def test_the_c_loop_gives_up_and_reads_where_the_python_loop_does(name: str) -> None:
    c, python = _both({**UNUSUAL, **PLAIN_BUT_ODD}[name].encode())
    assert c == python


def test_a_bug_in_resolving_a_scalar_is_raised_not_read_as_a_give_up() -> None:
    """A DocError is the input's fault (the full reader then says where); anything else
    raised while resolving a scalar is a bug, and must not pass for a plain `None`."""
    assert BUILT is not None
    data = b"apiVersion: v1\nkind: A\nx: 12\n"

    def broken(text: str, mark: object) -> object:
        raise ValueError(text)

    def refusing(text: str, mark: object) -> object:
        raise scalars.DocError(mark, "refused")

    rules = (scalars.RESOLVED_WORDS, scalars.DocError, 100, 10, 10)
    with pytest.raises(ValueError, match="12"):
        BUILT.documents(data, broken, None, *rules)
    assert BUILT.documents(data, refusing, quick._NO_MARK, *rules) is None
    assert BUILT.documents(data, scalars.plain, quick._NO_MARK, *rules) == [
        (0, {"apiVersion": "v1", "kind": "A", "x": 12}, (1, 3))
    ]


def test_the_c_loop_holds_no_memory_after_a_read() -> None:
    """Reads that succeed and reads given up halfway (inside a nested collection, at a
    repeated key, at an alias, at a YAML error) release everything they built."""
    inputs = [
        "---\n".join(DEPLOYMENT.format(n=n) for n in range(3)),
        DEPLOYMENT.format(n=1) + "  extra: {a: [1, {b: *x}]}\n",
        DEPLOYMENT.format(n=1) + "kind: again\n",
        DEPLOYMENT.format(n=1) + "x: [1, {a: 2\n",
        DEPLOYMENT.format(n=1) + "x: [1, {a: !!str 2}]\n",
    ]
    datas = [text.encode() for text in inputs]

    def read_all() -> None:
        for data in datas:
            quick_documents(data, DEFAULT_LIMITS)

    read_all()  # caches, interned strings
    tracemalloc.start()
    try:
        read_all()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2000):
            read_all()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 20_000, f"{grown} bytes still held after 10,000 reads"


def test_the_c_loop_is_used_only_with_the_libyaml_pyyaml_carries(monkeypatch) -> None:
    import yaml._yaml

    assert quick._accelerator() is BUILT
    monkeypatch.setattr(yaml._yaml, "get_version", lambda: (0, 1, 0))
    assert quick._accelerator() is None


def test_a_c_module_built_from_other_rules_is_not_used(monkeypatch) -> None:
    """An editable install not rebuilt after a pull keeps an older module: its rules
    number differs from quick.py's, and the Python loop runs instead."""
    assert quick._accelerator() is BUILT
    assert BUILT is not None and BUILT.RULES == quick.RULES
    monkeypatch.setattr(quick, "RULES", quick.RULES + 1)
    assert quick._accelerator() is None
