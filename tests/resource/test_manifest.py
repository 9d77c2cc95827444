"""kdocs.resource.manifest: values as kubectl reads them, a position for every node, and limits."""

from __future__ import annotations

import os
import textwrap
import tracemalloc

import pytest

from kdocs.errors import ExitCode, InvalidInputError, KdocsError, UnusableInputError
from kdocs.resource.limits import DEFAULT_LIMITS, Limits, MiB
from kdocs.resource.manifest import load_documents, parse_manifests, read_manifests
from kdocs.resource.text import read_bytes


def parse(text: str | bytes, limits: Limits = DEFAULT_LIMITS):
    data = textwrap.dedent(text).encode() if isinstance(text, str) else text
    return parse_manifests(data, "f.yaml", limits)


def only_error(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> KdocsError:
    result = parse(text, limits)
    assert len(result.errors) == 1, result.errors
    error = result.errors[0]
    assert "\n" not in str(error)
    return error


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"


def test_scalars_are_read_as_kubectl_reads_them() -> None:
    (doc,) = parse(
        CM + "data:\n  b1: yes\n  b2: off\n  hex: 0x1F\n  octal: 0o17\n  old_octal: 017\n"
        "  port_pair: 8080:80\n  date: 2024-01-01\n  float: 1.5\n  exp: 1e3\n"
        "  null1: ~\n  quoted: '42'\n  y: y\n  n: N\n  eight: 08\n  dot: .5\n"
        "  huge: 1e400\n  eq: =\n  plus: +1\n  bin: 0b101\n  sexa: 1:30\n"
    ).documents
    assert doc.obj["data"] == {
        "b1": True,
        "b2": False,
        "hex": 31,
        "octal": 15,
        "old_octal": 15,
        "port_pair": "8080:80",  # YAML 1.1 sexagesimal in PyYAML, a string for kubectl
        "date": "2024-01-01",
        "float": 1.5,
        "exp": 1000,  # go-yaml's float 1000 is the JSON integer 1000
        "null1": None,
        "quoted": "42",
        "true": True,  # the key `y` is a boolean too, and JSON keys are strings
        "false": False,
        "eight": 8,  # not octal: go-yaml falls back to the float 8
        "dot": 0.5,
        "huge": "1e400",  # Go's ParseFloat overflows: go-yaml keeps the text
        "eq": "=",
        "plus": 1,
        "bin": 5,
        "sexa": "1:30",
    }


def test_keys_are_json_keys_as_kubectl_writes_them() -> None:
    (doc,) = parse(CM + "data:\n  on: a\n  0x1F: b\n  '0x1F': c\n  017: d\n").documents
    assert doc.obj["data"] == {"true": "a", "31": "b", "0x1F": "c", "15": "d"}


def test_words_that_start_like_a_boolean_or_null_stay_text() -> None:
    # they start with a letter go-yaml looks further at (y n t f o ~), but only
    # its words resolve: the reader's shortcut for the others must agree
    words = ["yess", "nginx", "Nope", "onion", "true1", "~x", "null2", "Off_", "f", "t"]
    body = "".join(f"  {w}: {w}\n" for w in words)
    (doc,) = parse(CM + "data:\n" + body + "  No: ON\n  n2: ~\n").documents
    assert doc.obj["data"] == {**{w: w for w in words}, "false": True, "n2": None}
    error = only_error(CM + "data:\n  nginx: a\n  nginx: b\n")
    assert str(error) == "f.yaml:6:3: duplicate key 'nginx' (first at line 5)"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("  big: 123456789012345678901234567890\n", "5:8: 123456789012345678901234567890 is an"),
        (
            "  inf: .inf\n",
            "5:8: .inf is infinity or NaN, which kubectl cannot send; write it quoted",
        ),
        ("  1.5: x\n", "5:3: the number 1.5 as a mapping key"),
        ("  ~: x\n", "5:3: null as a mapping key"),
        ("  true: a\n  yes: b\n", "6:3: duplicate key 'true' (kubectl reads 'yes' as 'true')"),
        ("  yes: a\n  on: b\n", "6:3: duplicate key 'true' (kubectl reads 'on' as 'true')"),
        ("  b: !!binary aGk=\n", "5:6: !!binary: kubectl decodes the base64"),
    ],
)
def test_what_kubectl_reads_its_own_way_is_refused(yaml_text: str, message: str) -> None:
    result = parse(CM + "data:\n" + yaml_text)
    assert not result.documents
    assert message in str(result.errors[0])


def test_a_merge_after_the_key_it_replaces_is_refused_before_it_is_read() -> None:
    base = CM + "base: &b {k: 1}\ndata:\n"
    (doc,) = parse(base + "  <<: *b\n  k: 2\n").documents
    assert doc.obj["data"] == {"k": 2}
    error = parse(base + "  k: 2\n  <<: *b\n").errors[0]
    assert "7:3: merge key << comes after key 'k' and also sets it" in str(error)


def test_every_key_and_value_has_its_line_and_column() -> None:
    (doc,) = parse(
        """\
        apiVersion: v1
        kind: Pod
        metadata:
          name: p
        spec:
          containers:
            - name: a
              image: nginx
              args: [x, "y"]
        """
    ).documents
    path = ("spec", "containers", 0, "image")
    assert (doc.location(path).line, doc.location(path).col) == (8, 14)
    assert (doc.location(path, key=True).line, doc.location(path, key=True).col) == (8, 7)
    assert str(doc.location(("spec", "containers", 0, "args", 1))) == "f.yaml:9:17"
    assert str(doc.location(("spec", "containers", 0))) == "f.yaml:7:7"
    # a path that does not exist resolves to its nearest existing ancestor
    assert str(doc.location(("spec", "containers", 0, "nope", 3))) == "f.yaml:7:7"
    assert doc.lines == (1, 9) and doc.name == "p" and doc.kind == "Pod"


def test_anchors_aliases_and_merge_keys_resolve_to_where_the_text_is() -> None:
    (doc,) = parse(
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          <<: &base {name: base, namespace: ns}
          name: over
        data:
          a: &v hello
          b: *v
        """
    ).documents
    assert doc.obj["metadata"] == {"name": "over", "namespace": "ns"}
    assert doc.obj["data"] == {"a": "hello", "b": "hello"}
    assert str(doc.location(("metadata", "namespace"))) == "f.yaml:4:37"
    assert str(doc.location(("metadata", "namespace"), key=True)) == "f.yaml:4:26"
    assert str(doc.location(("metadata", "name"))) == "f.yaml:5:9"  # explicit key wins
    assert str(doc.location(("data", "b"))) == "f.yaml:8:6"  # the alias itself


def test_list_kinds_are_expanded_into_their_items() -> None:
    docs = parse(
        """\
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: ConfigMap
            metadata: {name: one}
          - apiVersion: v1
            kind: Secret
            metadata: {name: two}
        """
    ).documents
    assert [(d.kind, d.name, d.prefix) for d in docs] == [
        ("ConfigMap", "one", ("items", 0)),
        ("Secret", "two", ("items", 1)),
    ]
    assert str(docs[1].location(("kind",))) == "f.yaml:8:11"


@pytest.mark.parametrize("empty", ["", "---\n", "# only a comment\n", "---\n---\n", "---\nnull\n"])
def test_empty_documents_are_skipped(empty: str) -> None:
    result = parse(empty + "---\n" + CM + "---\n" + empty)
    assert [d.kind for d in result.documents] == ["ConfigMap"] and not result.errors


BAD = [
    # (input, exit code, location, words in the reason)
    ("a: [1,\nb: 2\n", 1, "f.yaml:3:1", "invalid YAML"),
    ("apiVersion: v1\nkind: X\nmetadata:\n\tname: x\n", 1, "f.yaml:4:1", "tab character"),
    (CM + "data:\n  a: 1\n  a: 2\n", 1, "f.yaml:6:3", "duplicate key 'a' (first at line 5)"),
    ("just a string\n", 1, "f.yaml:1:1", "document 1 is a scalar"),
    ("- a\n- b\n", 1, "f.yaml:1:1", "document 1 is a list"),
    ("kind: ConfigMap\nmetadata: {}\n", 1, "f.yaml:1:1", "missing apiVersion"),
    ("apiVersion: v1\nmetadata: {}\n", 1, "f.yaml:1:1", "missing kind"),
    ("apiVersion: v1\nkind: 3\n", 1, "f.yaml:2:7", "kind must be a non-empty string"),
    (CM + "data: {a: *nope}\n", 1, "f.yaml:4:11", "unknown alias *nope"),
    (CM + "data: {a: .inf}\n", 1, "f.yaml:4:11", "infinity or NaN"),
    (CM + "data: {a: !custom x}\n", 1, "f.yaml:4:11", "unsupported YAML tag !custom"),
    (CM + "? [a]\n: b\n", 1, "f.yaml:4:3", "mapping key must be a string"),
    (CM + "data: {a: \x07}\n", 1, "f.yaml:4:11", "control characters"),
    (b"apiVersion: v1\nkind: \xff\n", 2, "f.yaml:2:7", "not UTF-8"),
    (b"apiVersion: v1\n\x00", 2, "f.yaml:2:1", "binary file"),
]


@pytest.mark.parametrize(("text", "code", "where", "words"), BAD)
def test_each_bad_input_is_one_line_with_position_and_exit_code(
    text: str | bytes, code: int, where: str, words: str
) -> None:
    error = only_error(text if isinstance(text, bytes) else text.encode())
    assert int(error.exit_code) == code
    assert str(error.location) == where
    assert words in error.reason


def test_a_later_broken_document_keeps_the_earlier_ones() -> None:
    result = parse(CM + "---\n" + CM + "data:\n  x: 1\n  x: 2\n")
    assert len(result.documents) == 1
    assert [str(e) for e in result.errors] == ["f.yaml:10:3: duplicate key 'x' (first at line 9)"]


def test_a_syntax_error_stops_the_file_but_keeps_what_came_before() -> None:
    result = parse(CM + "---\n" + CM + "data: [\n")
    assert len(result.documents) == 1
    assert len(result.errors) == 1 and "invalid YAML" in result.errors[0].reason


def test_load_documents_raises_the_first_problem(tmp_path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("- 1\n")
    with pytest.raises(InvalidInputError, match="is a list"):
        load_documents(path)
    with pytest.raises(UnusableInputError, match="cannot read file"):
        load_documents(tmp_path / "missing.yaml")


# --- limits: each at its edge (accepted) and one past it (refused, exit 2) ----------


def _deep(levels: int) -> str:
    """A document whose deepest node has a JSON path of exactly `levels` parts."""
    return CM + "data:" + " [" * (levels - 1) + " x" + "]" * (levels - 1) + "\n"


def test_size_limit_default_is_5_mib(tmp_path) -> None:
    path = tmp_path / "big.yaml"
    filler = "# " + "x" * (5 * MiB - len(CM) - 3) + "\n"
    path.write_text(filler + CM)
    assert path.stat().st_size == 5 * MiB
    assert len(load_documents(path)) == 1
    path.write_text(filler + CM + "\n")
    with pytest.raises(UnusableInputError, match="over the 5242880-byte limit") as caught:
        load_documents(path)
    assert caught.value.exit_code == ExitCode.UNUSABLE


def test_depth_limit_default_is_100() -> None:
    assert len(parse(_deep(100)).documents) == 1
    error = only_error(_deep(101))
    assert error.exit_code == ExitCode.UNUSABLE and "deeper than 100" in error.reason


def test_very_deep_nesting_is_refused_without_crashing() -> None:
    error = only_error(("[" * 1_000_000).encode())
    assert error.exit_code == ExitCode.UNUSABLE and "limit max_depth" in error.reason


def test_document_limit_default_is_1000() -> None:
    assert len(parse("---\n".join([CM] * 1000)).documents) == 1000
    error = only_error("---\n".join([CM] * 1001))
    assert error.exit_code == ExitCode.UNUSABLE and "more than 1000 YAML documents" in error.reason
    assert error.location.line == 4000  # the --- that starts document 1001


def test_empty_documents_do_not_count_against_the_document_limit() -> None:
    assert len(parse("---\n".join([CM] * 1000) + "---\n---\n# end\n").documents) == 1000


@pytest.mark.parametrize("line", ["--- {a: 1}", "--- null", "---#x", "----"])
def test_a_separator_followed_by_content_is_refused_as_kubectl_does(line: str) -> None:
    error = only_error(CM + line + "\n" + CM)
    assert str(error.location) == "f.yaml:4:1" and "must hold only ---" in error.reason
    assert len(parse(CM + "--- # next\n" + CM).documents) == 2


def test_separators_are_found_on_the_first_line_and_after_each_newline_only() -> None:
    error = only_error("--- {a: 1}\n" + CM)
    assert str(error.location) == "f.yaml:1:1" and "must hold only ---" in error.reason
    assert parse(CM.replace("x}", "x---y}")).documents[0].name == "x---y"  # not a line start
    # consecutive and CRLF separators: each document is the exact text between them
    docs = parse(("---\n---\r\n" + CM + "--- # two\n---\n" + CM).encode()).documents
    assert [(d.lines, d.text) for d in docs] == [((3, 5), CM), ((8, 10), CM)]


def test_node_limit() -> None:
    # CM is 9 nodes: the root mapping, 3 keys, 2 values, the metadata mapping, its key, value
    limits = Limits(max_nodes=9)
    assert len(parse(CM, limits).documents) == 1
    error = only_error(CM + "x: 1\n", limits)
    assert error.exit_code == ExitCode.UNUSABLE and "limit max_nodes" in error.reason


def _aliases(count: int) -> str:
    """A document whose aliases bring in exactly `count` nodes (1 + 9 per alias of [9 x])."""
    anchor = "&a [" + ", ".join(["x"] * 9) + "]"
    assert count % 10 == 0
    return CM + f"a: {anchor}\nb: [" + ", ".join(["*a"] * (count // 10)) + "]\n"


def test_alias_expansion_limit_default_is_10000() -> None:
    assert len(parse(_aliases(10_000)).documents) == 1
    error = only_error(_aliases(10_010))
    assert error.exit_code == ExitCode.UNUSABLE and "more than 10000 nodes" in error.reason


def test_a_billion_laughs_stops_at_the_limit_with_bounded_memory() -> None:
    levels = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefghi", "bcdefghij", strict=False):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    bomb = CM + "data:\n" + "".join(f"  {line}\n" for line in levels)
    tracemalloc.start()
    try:
        error = only_error(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.exit_code == ExitCode.UNUSABLE and "max_alias_nodes" in error.reason
    assert str(error.location).startswith("f.yaml:")
    assert peak < 20 * MiB  # 10^9 nodes if expanded; the limit stops it at 10^4


# --- go-yaml's escapes, and which parser reads them --------------------------------------
# libyaml (the C parser) reads `"\/"` as `/` and refuses `"\'"`; go-yaml (kubectl) refuses
# the first and reads the second as a quote. Only a double-quoted scalar holding one of them
# goes to the slower Python parser; a backslash elsewhere must not cost it.


def _parser_of(text: str) -> str:
    from kdocs.resource.events import event_parser

    parser = event_parser(text.encode())
    name = type(parser).__name__
    parser.dispose()
    return name


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("p: ^[a-z]+\\/[0-9]+$", {"p": "^[a-z]+\\/[0-9]+$"}),  # plain: a CRD's regex
        ("p: ^it\\'s$", {"p": "^it\\'s$"}),
        ("p: '^a\\/b\\'", {"p": "^a\\/b\\"}),  # single-quoted: a backslash is a character
        ("p: |\n    a\\/b \\'c", {"p": "a\\/b \\'c\n"}),  # block scalar
        ('p: "a/b"\n  q: ^a\\/b', {"p": "a/b", "q": "^a\\/b"}),  # a quoted slash, no escape
        ('é: ^é\\/x\n  q: "é/b"', {"é": "^é\\/x", "q": "é/b"}),  # marks count characters
    ],
)
def test_a_backslash_outside_double_quotes_stays_on_the_c_parser(body: str, expected) -> None:
    text = CM + "data:\n  " + body + "\n"
    assert _parser_of(text) == "CParser"
    (doc,) = parse(text).documents
    assert doc.obj["data"] == expected


@pytest.mark.parametrize(
    "text", [CM + 'data:\n  p: "a\\/b"\n', CM + "data:\n  q: ^x\\/y\n  p: \"a\\/b\"\n"]
)
def test_an_escaped_slash_in_double_quotes_is_still_go_yamls_error(text: str) -> None:
    assert _parser_of(text) == "_GoEscapesParser"
    error = only_error(text)
    assert error.exit_code == ExitCode.FAILED
    assert "\\/ in a double-quoted string" in error.reason, error.reason
    assert error.location.line == text.count("\n")  # the line of the quoted scalar


def test_an_escaped_quote_in_double_quotes_is_still_a_quote() -> None:
    text = CM + "data:\n  q: ^x\\/y\n  p: \"it\\'s\"\n"
    assert _parser_of(text) == "_GoEscapesParser"
    (doc,) = parse(text).documents
    assert doc.obj["data"] == {"q": "^x\\/y", "p": "it's"}


def test_read_bytes_reads_what_a_file_holds_even_past_its_stat_size(tmp_path) -> None:
    """The buffer is sized from the stat; a file that holds more than its stat says (one
    still being written, or /proc's, whose size is 0) is still read whole, or up to one
    byte past the limit, so that the limit is what refuses it."""
    path = tmp_path / "f.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: A\n" * 100)
    assert read_bytes(path) == path.read_bytes()
    status = "/proc/self/status"
    assert os.stat(status).st_size == 0
    assert read_bytes(status).startswith(b"Name:") and b"\nPid:" in read_bytes(status)
    small = Limits(max_bytes=64, max_depth=8, max_documents=8, max_nodes=400, max_alias_nodes=50)
    assert len(read_bytes(status, small)) == 65
    refused = read_manifests(status, small)
    assert [e.exit_code for e in refused.errors] == [ExitCode.UNUSABLE]
    assert "over the 64-byte limit" in str(refused.errors[0])
