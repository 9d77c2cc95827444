"""Front matter: every key known and checked, errors at page:line, body offset as MkDocs'."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mkdocs.utils.meta import get_data

from kdocs.errors import InvalidInputError
from kdocs.site.frontmatter import body_offset, parse_page

SEED = """\
---
title: Deploy a DaemonSet in a Karpenter context
description: How to ensure your DaemonSet is well deployed.
author_github: https://github.com/acarranoqovery
tags: ["type: tutorial", "technology: qovery", "type: tutorial"]
last_modified_on: "2025-02-04"
---

# Deploy a DaemonSet
"""


def parse(source: str):
    return parse_page(source, "guides/a/x.md", "docs/guides/a/x.md")


def error_of(source: str) -> str:
    with pytest.raises(InvalidInputError) as caught:
        parse(source)
    return str(caught.value)


def test_the_seed_front_matter_is_read_whole() -> None:
    meta = parse(SEED)
    assert meta.title == "Deploy a DaemonSet in a Karpenter context"
    assert meta.author == "acarranoqovery"
    assert meta.author_url == "https://github.com/acarranoqovery"
    assert meta.tags == ("type: tutorial", "technology: qovery")  # a repeat is shown once
    assert meta.last_modified_on == "2025-02-04"
    assert meta.body_offset == 8
    assert meta.tags_line == 5


def test_title_falls_back_to_the_first_heading_then_the_file_name() -> None:
    assert parse("---\ntags: [a]\n---\n```\n# not this\n```\n# Real title\n").title == "Real title"
    assert parse("no heading\n").title == "X"


def test_unquoted_dates_and_bare_logins_are_accepted() -> None:
    meta = parse("---\nlast_modified_on: 2025-02-04\nauthor_github: '@octo-cat'\n---\n# T\n")
    assert (meta.last_modified_on, meta.author) == ("2025-02-04", "octo-cat")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tag: [a]", "docs/guides/a/x.md:3: unknown front matter key 'tag' (did you mean 'tags'?"),
        ("author: me", "unknown front matter key 'author' (did you mean 'author_github'?"),
        ("tags: a", "docs/guides/a/x.md:3: tags must be a list of texts, got 'a'"),
        ("tags: [a, '']", "each tag must be a non-empty text"),
        ("last_modified_on: '2025-02-30'", "last_modified_on must be a date YYYY-MM-DD"),
        ("last_modified_on: 2025-02-30", "x.md:3: front matter key 'last_modified_on': day is"),
        ("last_modified_on: yesterday", "docs/guides/a/x.md:3: last_modified_on must be a date"),
        ("author_github: https://gitlab.com/me", "author_github must be https://github.com/LOGIN"),
        ("title: ''", "title must be a non-empty text"),
        ("title: [x]", "docs/guides/a/x.md:3: title must be a non-empty text"),
        ("tags: [a", "docs/guides/a/x.md:4:1: front matter is not valid YAML"),
        ("title: a\ntitle: b", "docs/guides/a/x.md:4: front matter key 'title' given twice"),
    ],
)
def test_a_wrong_key_or_value_is_one_line_at_its_page_line(line: str, expected: str) -> None:
    message = error_of(f"---\ndescription: d\n{line}\n---\n# T\n")
    assert expected in message
    assert "\n" not in message


def test_a_front_matter_that_is_not_a_mapping_is_refused() -> None:
    assert "docs/guides/a/x.md:2: front matter must be a mapping" in error_of("---\n- a\n---\n")


def test_theme_keys_pass_through() -> None:
    parse("---\nhide: [navigation]\nsearch: {exclude: true}\nstatus: new\n---\n# T\n")


lines = st.sampled_from(["", "title: t", "tags: [a]", "x: [", "- a", "# h", "text", "---", "..."])


@given(st.lists(lines, max_size=8), st.lists(lines, max_size=5), st.integers(0, 3))
def test_body_offset_is_where_mkdocs_starts_the_body(front, body, blanks) -> None:
    source = "\n".join(["---", *front, "---", *[""] * blanks, *body]) + "\n"
    markdown, _ = get_data(source)
    offset = body_offset(source)
    assert (source.split("\n", offset)[-1] if offset else source) == markdown
