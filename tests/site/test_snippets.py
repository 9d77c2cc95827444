"""Snippet paths, sections and the renderability check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kdocs import snippets
from kdocs.errors import InvalidInputError, UnusableInputError

FILE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
data:
  # --8<-- [start:first]
  a: "1"
  b: "2"
  # --8<-- [end:first]
  # --8<-- [start:second]
  c: "3"
  # --8<-- [end:second]
"""


@pytest.fixture
def snippets_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "snippets"
    (folder / "demo").mkdir(parents=True)
    (folder / "demo" / "cm.yaml").write_text(FILE)
    return folder


def test_section_shows_only_its_lines(snippets_dir: Path) -> None:
    snippet = snippets.load(snippets_dir, "demo/cm.yaml")
    assert snippet.shown_text("first") == '  a: "1"\n  b: "2"\n'
    assert snippet.shown_text("second") == '  c: "3"\n'
    assert snippet.shown_range("first") == (7, 8)


def test_whole_file_hides_marker_lines(snippets_dir: Path) -> None:
    shown = snippets.load(snippets_dir, "demo/cm.yaml").shown_text()
    assert "--8<--" not in shown
    assert shown.splitlines() == [line for line in FILE.splitlines() if "--8<--" not in line]


def test_missing_section_names_file_and_section(snippets_dir: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"demo/cm.yaml: no section named 'third'"):
        snippets.load(snippets_dir, "demo/cm.yaml").shown_text("third")


@pytest.mark.parametrize(
    ("body", "reason", "line"),
    [
        (
            "# --8<-- [start:a]\nx: 1\n# --8<-- [start:b]\n# --8<-- [end:b]\n# --8<-- [end:a]\n",
            "may not nest",
            3,
        ),
        ("# --8<-- [start:a]\nx: 1\n", "never ends", 1),
        ("x: 1\n# --8<-- [end:a]\n", "not open", 2),
        (
            "# --8<-- [start:a]\n# --8<-- [end:a]\n# --8<-- [start:a]\n# --8<-- [end:a]\n",
            "defined twice",
            3,
        ),
        ("# --8<-- [begin:a]\n", "malformed", 1),
    ],
)
def test_malformed_sections_are_refused_at_their_line(
    snippets_dir: Path, body: str, reason: str, line: int
) -> None:
    (snippets_dir / "bad.yaml").write_text(body)
    with pytest.raises(InvalidInputError, match=reason) as caught:
        snippets.load(snippets_dir, "bad.yaml").shown_text()
    assert caught.value.location.line == line


@pytest.mark.parametrize(
    "rel", ["/etc/passwd", "../secret.yaml", "demo/../../x.yaml", "C:/x.yaml", ""]
)
def test_paths_that_leave_snippets_are_refused(snippets_dir: Path, rel: str) -> None:
    (snippets_dir.parent / "secret.yaml").write_text("a: 1\n")
    with pytest.raises(UnusableInputError):
        snippets.load(snippets_dir, rel)


def test_symlink_out_of_snippets_is_refused(snippets_dir: Path) -> None:
    outside = snippets_dir.parent / "outside.yaml"
    outside.write_text("a: 1\n")
    os.symlink(outside, snippets_dir / "link.yaml")
    with pytest.raises(UnusableInputError, match="symlink"):
        snippets.load(snippets_dir, "link.yaml")


def test_symlink_inside_snippets_is_allowed(snippets_dir: Path) -> None:
    os.symlink(snippets_dir / "demo" / "cm.yaml", snippets_dir / "alias.yaml")
    assert snippets.load(snippets_dir, "alias.yaml").data == FILE.encode()


def test_missing_file_is_named(snippets_dir: Path) -> None:
    with pytest.raises(UnusableInputError, match="'demo/nope.yaml' does not exist"):
        snippets.load(snippets_dir, "demo/nope.yaml")


def test_non_utf8_is_refused_with_line(snippets_dir: Path) -> None:
    (snippets_dir / "latin.yaml").write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(UnusableInputError, match="not UTF-8") as caught:
        snippets.load(snippets_dir, "latin.yaml")
    assert caught.value.location.line == 2


@pytest.mark.parametrize(
    ("body", "reason", "where"),
    [
        ("a: 1\r\nb: 2\r\n", "CRLF", (1, None)),
        ("a: 1\nb: 'x\ty'\n", "tab", (2, 6)),
        ("a: 1   \n", "trailing whitespace", (1, 5)),
    ],
)
def test_bytes_markdown_would_alter_are_refused(
    snippets_dir: Path, body: str, reason: str, where: tuple
) -> None:
    (snippets_dir / "w.yaml").write_bytes(body.encode())
    with pytest.raises(InvalidInputError, match=reason) as caught:
        snippets.check_renderable(snippets.load(snippets_dir, "w.yaml"))
    assert (caught.value.location.line, caught.value.location.col) == where


def test_content_hash_changes_with_one_byte(snippets_dir: Path) -> None:
    before = snippets.load(snippets_dir, "demo/cm.yaml").sha256
    (snippets_dir / "demo" / "cm.yaml").write_text(FILE.replace('"3"', '"4"'))
    assert snippets.load(snippets_dir, "demo/cm.yaml").sha256 != before
