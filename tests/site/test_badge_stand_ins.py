"""Badges kept out of Markdown's way (kdocs/site/render.py BadgeStandIns): same bytes.

The same project is built twice in one process, with the stand-ins and without
them (the badges' HTML through Markdown's inline pass, as before), and every
file of the two sites must be identical. Titles with characters Markdown could
act on keep their HTML in the Markdown; so does a site with an extension kdocs
does not know.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kdocs.mkdocs import plugin
from kdocs.site.render import BadgeStandIns
from tests.site.conftest import CONFIGMAP, Project
from tests.site.test_build import CONTAINERS
from tests.site.test_literal_calls import _build, _same_files

PAGES = {
    "containers.md": CONTAINERS,
    "titles.md": """\
        # Titles

        {{ snippet("cm.yaml", title="plain title.yaml") }}

        {{ snippet("cm.yaml", title="with `code` and *stars*") }}

        {{ snippet("cm.yaml", title="snake_case_name.yaml") }}

        {{ snippet("cm.yaml", title="[a link](index.md) and a@b.c") }}

        {{ snippet("cm.yaml", "data", title="A & B < C") }}
        Text right under the badges, in the same paragraph.
        """,
}


def _count_stand_ins(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    used: list[bool] = []
    call = BadgeStandIns.__call__

    def counting(self: BadgeStandIns, badge_html: str) -> str:
        word = call(self, badge_html)
        used.append(word != badge_html)
        return word

    monkeypatch.setattr(BadgeStandIns, "__call__", counting)
    return used


def _both_ways(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    used = _count_stand_ins(monkeypatch)
    _build(project.root, tmp_path / "stand-ins", monkeypatch)
    with_stand_ins = list(used)
    monkeypatch.setattr(plugin, "_plain_markdown", lambda config: False)
    _count_stand_ins(monkeypatch)
    _build(project.root, tmp_path / "html", monkeypatch)
    assert _same_files(tmp_path / "stand-ins", tmp_path / "html") == []
    return with_stand_ins


def test_badges_put_back_after_markdown_are_byte_identical(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    for name, body in PAGES.items():
        project.page(name, body)
    used = _both_ways(project, tmp_path, monkeypatch)
    # the 5 blocks in containers, the plain title and the escaped one; not the three others
    assert used.count(True) == 7 and used.count(False) == 3, used
    page = (tmp_path / "stand-ins" / "titles" / "index.html").read_text()
    assert "KDOCSBADGES" not in page and page.count("kdocs-badges") == 5


def test_an_unknown_extension_keeps_the_html_in_the_markdown(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = project.root / "mkdocs.yml"
    config.write_text(config.read_text().replace("  - admonition\n", "  - admonition\n  - abbr\n"))
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("abbr.md", '# A\n\n{{ snippet("cm.yaml") }}\n\n*[schema]: what the API accepts\n')
    assert not any(_both_ways(project, tmp_path, monkeypatch))
    page = (tmp_path / "html" / "abbr" / "index.html").read_text()
    assert '<abbr title="what the API accepts">schema</abbr>' in page


def test_a_site_off_the_allow_list_is_told_why(caplog: pytest.LogCaptureFixture) -> None:
    from types import SimpleNamespace

    from kdocs.mkdocs.plugin import _plain_markdown

    plain = SimpleNamespace(markdown_extensions=["toc", "attr_list"], plugins={"search": 0})
    other = SimpleNamespace(markdown_extensions=["toc", "pymdownx.emoji"], plugins={"blog": 0})
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.kdocs"):
        assert _plain_markdown(plain) is True
        assert not caplog.records
        assert _plain_markdown(other) is False
    (said,) = [r.getMessage() for r in caplog.records]
    assert "blog" in said and "pymdownx.emoji" in said
