"""The reader's fast path (`kdocs.resource.quick`) against the full reader it stands in for.

Every input is read twice: as `parse_manifests` reads it now (values first, positions
only when asked for) and with the fast path turned off (the full `EventBuilder` pass,
which is what every file went through before).  Values, key order, types, document
lines and texts, errors and every position must be the same.  Other tests check that
the fast path really is taken for plain YAML and given up for everything else, so the
equality cannot hold only because the fast path never runs.

The fast path has two loops, the same rules in C (`_quickc.c`, where it was built) and in
Python: every test here runs with each, and the two are also compared output for output.
"""

from __future__ import annotations

import random
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdocs.resource import manifest, quick
from kdocs.resource.limits import DEFAULT_LIMITS, Limits
from kdocs.resource.manifest import ManifestFile, parse_manifests
from kdocs.resource.positions import Positions
from kdocs.resource.quick import quick_documents

SMALL = Limits(max_bytes=4096, max_depth=8, max_documents=8, max_nodes=400, max_alias_nodes=50)
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web{n}\n  labels: {{app: web}}\n"
    "spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n"
    "    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n"
    "        - name: web\n          image: 'nginx:1.27'\n          ports: [{{containerPort: 80}}]\n"
    "          args:\n            - |\n              block text\n"
)


BUILT = quick.ACCELERATOR
# Where libyaml's headers are, `pip install` builds the C loop: a missing one is a failure
# here, not a quiet fall back to the slower loop.
HEADERS = any(
    Path(folder, "yaml.h").is_file()
    for folder in ("/usr/include", "/usr/local/include", sysconfig.get_config_var("INCLUDEDIR"))
    if folder
)


# The `loop` fixture is set once per test, not per generated input, and that is the point.
HEALTH = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@pytest.fixture(params=["c", "python"], autouse=True)
def loop(request, monkeypatch) -> str:
    """Each test once with the C loop and once with the Python loop."""
    if request.param == "c":
        if BUILT is None:
            assert not HEADERS, "libyaml's headers are here, yet the C loop was not built"
            pytest.skip("the C loop is not built here (no libyaml headers)")
        monkeypatch.setattr(quick, "ACCELERATOR", BUILT)
    else:
        monkeypatch.setattr(quick, "ACCELERATOR", None)
    return request.param


def _full(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ManifestFile:
    """The reader as it was: every document built with its positions, no fast path."""
    saved = manifest.quick_documents
    manifest.quick_documents = lambda data, limits: None
    try:
        return parse_manifests(data, "f.yaml", limits)
    finally:
        manifest.quick_documents = saved


def _every_path(value: object, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _every_path(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _every_path(item, path + (i,))
    return out


def _positions(positions: Positions, paths: list[tuple]) -> list:
    probes = [*paths, *(p + ("missing",) for p in paths[:50]), ("nowhere", 3)]
    return [(positions.value(p), positions.key(p)) for p in probes]


def _same(data: bytes, limits: Limits = DEFAULT_LIMITS) -> ManifestFile:
    """Read `data` both ways and fail on any difference; returns the fast path's result."""
    old = _full(data, limits)
    new = parse_manifests(data, "f.yaml", limits)
    assert [(type(e), str(e), e.exit_code) for e in new.errors] == [
        (type(e), str(e), e.exit_code) for e in old.errors
    ]
    assert len(new.documents) == len(old.documents)
    for a, b in zip(new.documents, old.documents, strict=True):
        # repr keeps key order and tells 1, 1.0 and True apart
        assert (a.file, a.index, a.prefix, repr(a.obj), a.lines, a.text) == (
            b.file, b.index, b.prefix, repr(b.obj), b.lines, b.text,
        )  # fmt: skip
        paths = [b.prefix + p for p in _every_path(b.obj)]
        assert _positions(a.positions, paths) == _positions(b.positions, paths)
        assert [a.location(p[len(b.prefix) :]) for p in paths] == [
            b.location(p[len(b.prefix) :]) for p in paths
        ]
    return new


def _taken(data: bytes, limits: Limits = DEFAULT_LIMITS) -> bool:
    return quick_documents(data, limits) is not None


# --- the fast path is taken for plain YAML, and the result is the same --------------


def test_plain_manifests_take_the_fast_path_and_read_the_same() -> None:
    data = "---\n".join(DEPLOYMENT.format(n=n) for n in range(5)).encode()
    assert _taken(data)
    result = _same(data)
    assert len(result.documents) == 5 and not result.errors


def test_a_failing_document_in_the_middle_of_a_big_file_is_located_exactly() -> None:
    """The positions read later must be those of the right document, not of the first
    one or of one line off: the unknown field of document 137 of 200 is found by text."""
    texts = [DEPLOYMENT.format(n=n) for n in range(200)]
    texts[137] = texts[137].replace("  replicas: 2\n", "  replicas: 2\n  replicaz: 3\n")
    data = "---\n".join(texts).encode()
    assert _taken(data)
    result = _same(data)
    doc = result.documents[137]
    assert doc.obj["metadata"]["name"] == "web137"
    where = doc.location(("spec", "replicaz"), key=True)
    lines = data.decode().splitlines()
    assert lines[where.line - 1] == "  replicaz: 3" and where.col == 3
    assert doc.location(("spec", "template", "spec", "containers", 0, "image")).line == (
        where.line + 11
    )
    assert doc.lines[0] == sum(t.count("\n") + 1 for t in texts[:137]) + 1


def test_positions_are_read_only_when_asked_and_once_per_document(monkeypatch) -> None:
    builds = []
    real = manifest.EventBuilder

    def counting(*args):
        builds.append(args[1])
        return real(*args)

    monkeypatch.setattr(manifest, "EventBuilder", counting)
    data = "---\n".join(DEPLOYMENT.format(n=n) for n in range(4)).encode()
    result = parse_manifests(data, "f.yaml")
    assert builds == []  # nothing asked where a node is yet
    result.documents[2].location(("spec",))
    result.documents[3].location(("spec",))
    result.documents[2].location(("kind",))
    assert builds == ["f.yaml", "f.yaml"]


# --- everything the full reader treats apart: given up, and the same result ---------

UNUSUAL = {
    "separator with content": "apiVersion: v1\nkind: A\n--- x: 1\n",
    "two documents in one piece": "apiVersion: v1\nkind: A\n...\napiVersion: v1\nkind: B\n",
    "anchor and alias": "apiVersion: v1\nkind: A\nx: &a {b: 1}\ny: *a\n",
    "anchor only": "apiVersion: v1\nkind: A\nx: &a 1\n",
    "merge key": "apiVersion: v1\nkind: A\nb: &b {c: 1}\nm:\n  <<: *b\n  d: 2\n",
    "merge after key": "apiVersion: v1\nkind: A\nb: &b {c: 1}\nm:\n  c: 0\n  <<: *b\n",
    "unknown alias": "apiVersion: v1\nkind: A\nx: *nope\n",
    "duplicate key": "apiVersion: v1\nkind: A\nmetadata: {}\nmetadata: {}\n",
    "duplicate after resolving": "apiVersion: v1\nkind: A\nm:\n  yes: 1\n  'true': 2\n",
    "tag str": "apiVersion: v1\nkind: A\nx: !!str 123\n",
    "tag int": "apiVersion: v1\nkind: A\nx: !!int '12'\n",
    "bad tag": "apiVersion: v1\nkind: A\nx: !!int nope\n",
    "local tag": "apiVersion: v1\nkind: A\nx: !thing 1\n",
    "binary": "apiVersion: v1\nkind: A\nx: !!binary aGk=\n",
    "map tag": "apiVersion: v1\nkind: A\nx: !!map {a: 1}\n",
    "set tag": "apiVersion: v1\nkind: A\nx: !!set {a: null}\n",
    "number key": "apiVersion: v1\nkind: A\nports:\n  8080: web\n",
    "bool key": "apiVersion: v1\nkind: A\nm:\n  on: 1\n",
    "null key": "apiVersion: v1\nkind: A\nm:\n  ~: 1\n",
    "empty key": "apiVersion: v1\nkind: A\nm:\n  : 1\n",
    "float key": "apiVersion: v1\nkind: A\nm:\n  1.5: 1\n",
    "complex key": "apiVersion: v1\nkind: A\nm:\n  ? [a, b]\n  : 1\n",
    "infinity": "apiVersion: v1\nkind: A\nx: .inf\n",
    "too big integer": "apiVersion: v1\nkind: A\nx: 99999999999999999999\n",
    "syntax error": "apiVersion: v1\nkind: A\nx: [1, 2\n",
    "syntax error in 2nd doc": DEPLOYMENT.format(n=1) + "---\nkind: [\n",
    "tab indent": "apiVersion: v1\nkind: A\nm:\n\tx: 1\n",
    "go escape slash": 'apiVersion: v1\nkind: A\nx: "a\\/b"\n',
    "tag directive": "%TAG !e! tag:example.com,2000:\n---\napiVersion: v1\nkind: A\nx: !e!y 1\n",
}

PLAIN_BUT_ODD = {
    "go escape quote": 'apiVersion: v1\nkind: A\nx: "it\\\'s"\n',
    "directive": "%YAML 1.1\n---\napiVersion: v1\nkind: A\n",
    "scalar document": "just text\n",
    "list document": "- a\n- b\n",
    "missing kind": "apiVersion: v1\nmetadata: {}\n",
    "kind not a string": "apiVersion: v1\nkind: 3\n",
    "List kind": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n- 3\n",
    "good List": "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n  x: [1]\n",
    "empty documents": "---\n---\n# only a comment\n---\nnull\n---\napiVersion: v1\nkind: A\n---\n",
    "document end marker": "apiVersion: v1\nkind: A\n...\n---\napiVersion: v1\nkind: B\n",
    "resolved values": "apiVersion: v1\nkind: A\nv: [yes, No, 0x1F, 017, 0o17, 0b101, 1e3, .5, "
    "+1, 1:30, 2024-01-01, ~, '', 1_000, -0, 1.0]\n",
    "quoted number keys": "apiVersion: v1\nkind: A\nm:\n  '80': a\n  \"yes\": b\n",
    "flow everywhere": "{apiVersion: v1, kind: A, m: {a: [1, {b: c}], d: []}, e: {}}\n",
    "flow root last line": "apiVersion: v1\nkind: A\nx: [1,\n  2]\n",
    "block scalars": "apiVersion: v1\nkind: A\nx: |\n  one\n  two\nw: >-\n  a\n  b\nz: end\n",
    "multi-line plain": "apiVersion: v1\nkind: A\nx: one\n  two\n",
    "lone CR": "apiVersion: v1\nkind: A\rx: 1\n---\napiVersion: v1\nkind: B\nw: [1,\r 2]\n",
    "NEL, LS, PS": "apiVersion: v1\nkind: A\nx: 'a\u0085b\u2028c\u2029d'\n---\n"
    "apiVersion: v1\nkind: B\nw: z\n",
    "escapes later": "apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: B\nx: 'a\\/b'\n",
    "indented root": "---\n  apiVersion: v1\n  kind: A\n---\n\n\n   # c\n"
    "  apiVersion: v1\n  kind: B\n",
    "unicode": "apiVersion: v1\nkind: A\nmetadata:\n  name: é漢字🙂\n  labels: {ö: ü}\n",
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_yaml_is_left_to_the_full_reader(name: str) -> None:
    data = UNUSUAL[name].encode()
    assert not _taken(data), name
    _same(data)


@pytest.mark.parametrize("name", sorted(PLAIN_BUT_ODD))
def test_plain_but_odd_yaml_reads_the_same(name: str) -> None:
    data = PLAIN_BUT_ODD[name].encode()
    assert _taken(data), name
    _same(data)


@pytest.mark.parametrize(
    "transform",
    [
        lambda t: t.replace("\n", "\r\n"),
        lambda t: "\ufeff" + t,
        lambda t: "# leading comment\n\n" + t + "\n# trailing\n",
        lambda t: "---\n" + t + "---\n",
        lambda t: t.replace("\n", "   \n"),
    ],
    ids=["crlf", "bom", "comments", "separators", "trailing-spaces"],
)
def test_line_endings_bom_and_comments_read_the_same(transform) -> None:
    text = "---\n".join(DEPLOYMENT.format(n=n) for n in range(3))
    text = text.replace("replicas: 2\n", "replicas: 2\n  bad: [1, 2]\n", 1)
    data = transform(text).encode()
    assert _taken(data)
    _same(data)


@pytest.mark.parametrize(
    "data",
    [b"apiVersion: v1\nkind: A\nx: \xff\n", b"apiVersion: v1\nkind: A\x00\n", b"", b"\n\n"],
    ids=["not-utf8", "nul", "empty", "blank"],
)
def test_unusable_bytes_read_the_same(data: bytes) -> None:
    _same(data)


def test_limits_are_left_to_the_full_reader() -> None:
    deep = "apiVersion: v1\nkind: A\nx: " + "[" * 9 + "]" * 9 + "\n"
    assert not _taken(deep.encode(), SMALL)
    _same(deep.encode(), SMALL)
    just_deep = "apiVersion: v1\nkind: A\nx: " + "[" * 7 + "]" * 7 + "\n"
    assert _taken(just_deep.encode(), SMALL)
    _same(just_deep.encode(), SMALL)
    many = "---\n".join(f"apiVersion: v1\nkind: A{i}\n" for i in range(9)).encode()
    assert not _taken(many, SMALL)
    _same(many, SMALL)
    nodes = ("apiVersion: v1\nkind: A\nx: [" + ", ".join(["1"] * 400) + "]\n").encode()
    assert not _taken(nodes, SMALL)
    _same(nodes, SMALL)


def test_very_deep_nesting_neither_crashes_nor_differs() -> None:
    data = ("apiVersion: v1\nkind: A\nx: " + "[" * 100_000 + "]" * 100_000 + "\n").encode()
    assert sys.getrecursionlimit() < 100_000  # a recursive reader would fail here
    assert not _taken(data)
    result = _same(data)
    assert "max_depth" in str(result.errors[0])


def test_the_benchmark_corpus_reads_the_same(tmp_path: Path) -> None:
    """The generated corpus `make bench` validates: many kinds, 5 % broken documents."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        from corpus import generate
    finally:
        sys.path.pop(0)
    corpus = generate(tmp_path / "corpus", 300)
    taken = 0
    for path in corpus.files:
        data = path.read_bytes()
        taken += _taken(data)
        _same(data)
    assert taken == len(corpus.files)


# --- generated input -------------------------------------------------------------

YAML_ALPHABET = st.sampled_from(
    list("abcy:-[]{},&*!|>'\"#?<=~.0123456789 \t\n") + ["---", "\x00", "<<", "\r\n", "yes"]
)


@settings(max_examples=400, deadline=None, suppress_health_check=HEALTH)
@given(st.lists(YAML_ALPHABET, max_size=120).map("".join))
def test_yaml_looking_text_reads_the_same(text: str) -> None:
    _same(text.encode(), SMALL)
    _same(("apiVersion: v1\nkind: X\n" + text).encode(), SMALL)


@settings(max_examples=200, deadline=None, suppress_health_check=HEALTH)
@given(seed=st.integers(0, 2**32), flow=st.booleans(), width=st.sampled_from([8, 30, 200]))
def test_dumped_documents_read_the_same(seed: int, flow: bool, width: int) -> None:
    rng = random.Random(seed)
    words = ["a", "b c", "yes", "1", "0x1F", "1e3", "", "~", "x:y", "#", "- z", "é"]

    def value(depth: int) -> object:
        pick = rng.random()
        if depth > 4 or pick < 0.4:
            return rng.choice([*words, 1, 2.5, True, None, -3])
        if pick < 0.7:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(words[:4] + ["k", "l", "m"]): value(depth + 1) for _ in range(3)}

    docs = [{"apiVersion": "v1", "kind": "A", "spec": value(0)} for _ in range(rng.randint(1, 3))]
    text = yaml.safe_dump_all(docs, default_flow_style=flow, width=width, sort_keys=False)
    _same(text.encode())
