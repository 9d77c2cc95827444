"""Property: a section shown is always one contiguous part of the validated file."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kdocs.snippets import MARKER_LIKE, parse_sections

content_line = (
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters="\r\n"),
        max_size=30,
    )
    .map(lambda text: text + "\n")
    .filter(lambda line: not MARKER_LIKE.match(line))
)
names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)


@st.composite
def files_with_sections(draw) -> tuple[list[str], dict[str, list[str]]]:
    """Lines of a file with non-nested sections, and the lines each section holds."""
    lines: list[str] = []
    expected: dict[str, list[str]] = {}
    for name in draw(st.lists(names, unique=True, max_size=5)):
        lines += draw(st.lists(content_line, max_size=4))
        body = draw(st.lists(content_line, max_size=4))
        indent = " " * draw(st.integers(0, 6))
        lines += [f"{indent}# --8<-- [start:{name}]\n", *body, f"{indent}# --8<-- [end:{name}]\n"]
        expected[name] = body
    lines += draw(st.lists(content_line, max_size=4))
    return lines, expected


@given(files_with_sections())
def test_section_is_contiguous_slice_between_its_markers(case) -> None:
    lines, expected = case
    sections = parse_sections(lines, "f.yaml")
    assert set(sections) == set(expected)
    whole = "".join(lines)
    for name, section in sections.items():
        shown = lines[section.first_line - 1 : section.last_line]
        assert shown == expected[name]
        assert "".join(shown) in whole
        assert lines[section.first_line - 2].strip() == f"# --8<-- [start:{name}]"
        assert lines[section.last_line].strip() == f"# --8<-- [end:{name}]"
