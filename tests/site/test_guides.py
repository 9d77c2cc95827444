"""Front matter on the built site: author, date, tags, generated guide lists and tag index."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.site.conftest import CONFIGMAP, Project

GUIDE = """\
---
title: {title}
description: {description}
author_github: https://github.com/{author}
tags: {tags}
{date}---

# {title}

{{{{ snippet("cm.yaml") }}}}
"""


def add_guide(project: Project, path: str, title: str, tags: str, date: str = "") -> None:
    project.page(
        path,
        GUIDE.format(
            title=title,
            description=f"About {title.lower()}.",
            author="octocat",
            tags=tags,
            date=f'last_modified_on: "{date}"\n' if date else "",
        ),
    )


def html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text() if page else (site / "index.html").read_text()


def links(text: str) -> list[tuple[str, str]]:
    return re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', text)


def site_with_two_guides(project: Project) -> Path:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("index.md", "# Home\n\n{{ guide_list() }}\n")
    project.page("guides/index.md", "# Guides\n\n{{ guide_table() }}\n")
    project.page("tags.md", "# Tags\n\n{{ tag_index() }}\n")
    add_guide(project, "guides/basics/alpha.md", "Alpha", '["type: tutorial", "aws"]', "2025-02-04")
    add_guide(project, "guides/advanced/beta.md", "Beta", '["type: tutorial"]', "2024-12-01")
    done = project.build()
    assert done.returncode == 0, done.stderr
    return project.root / "site"


def test_guide_lists_and_tag_index_are_generated_from_front_matter(project: Project) -> None:
    site = site_with_two_guides(project)
    home = html(site, "")
    assert ("guides/basics/alpha/", "Alpha") in links(home)
    assert ("guides/advanced/beta/", "Beta") in links(home)
    assert "About alpha." in home

    table = html(site, "guides")
    assert table.index(">Advanced<") < table.index(">Basics<")  # one table per category
    assert ("basics/alpha/", "Alpha") in links(table)
    assert "2024-12-01" in table

    tags = html(site, "tags")
    sections = re.split(r"<h2 ", tags)[1:]
    by_tag = {
        re.search(r'id="([^"]+)"', s).group(1): re.findall(r"<li><a [^>]+>([^<]+)</a></li>", s)
        for s in sections
    }
    assert by_tag["tag-type-tutorial"] == ["Alpha", "Beta"]
    assert by_tag["tag-aws"] == ["Alpha"]


def test_a_guide_shows_its_author_date_and_tags_linking_to_the_index(project: Project) -> None:
    site = site_with_two_guides(project)
    page = html(site, "guides/basics/alpha")
    header = re.search(r'<p class="kdocs-meta">(.*?)</p>', page, re.S).group(1)
    assert ("https://github.com/octocat", "octocat") in links(header)
    assert '<time datetime="2025-02-04">' in header
    tag_links = [href for href, _ in links(header) if "tags/" in href]
    assert tag_links == ["../../../tags/#tag-type-tutorial", "../../../tags/#tag-aws"]
    tags = html(site, "tags")
    for href in tag_links:
        assert f'id="{href.split("#")[1]}"' in tags
    assert page.index("</h1>") < page.index("kdocs-meta")  # under the title


def test_without_a_date_the_guide_shows_its_last_commit_date(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("tags.md", "# Tags\n\n{{ tag_index() }}\n")
    add_guide(project, "guides/basics/alpha.md", "Alpha", "[a]")
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2023-05-06T10:00:00Z",
        "GIT_COMMITTER_DATE": "2023-05-06T10:00:00Z",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }  # fmt: skip
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "guide"]):
        subprocess.run(["git", *command], cwd=project.root, env=env, check=True)
    done = project.build()
    assert done.returncode == 0, done.stderr
    assert '<time datetime="2023-05-06">' in html(project.root / "site", "guides/basics/alpha")


def test_a_front_matter_error_stops_the_build_with_its_page_line(project: Project) -> None:
    project.page("tags.md", "# Tags\n\n{{ tag_index() }}\n")
    project.page("guides/a/x.md", "---\ntitle: X\nauthor: me\n---\n# X\n")
    done = project.build()
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "kdocs: docs/guides/a/x.md:3: unknown front matter key 'author' (did you mean"
        " 'author_github'? kdocs shows title, description, author_github, last_modified_on,"
        " tags; the theme reads template, hide, search, status, subtitle, icon, comments,"
        " render_macros)"
    ]


def test_tags_without_a_tag_index_page_are_refused_at_the_tags_line(project: Project) -> None:
    project.page("guides/a/x.md", "---\ntitle: X\ntags: [a]\n---\n# X\n")
    done = project.build()
    assert done.returncode == 1
    assert done.stderr.startswith("kdocs: docs/guides/a/x.md:3: tags need the tag index page")


def test_front_matter_text_is_shown_literally_in_lists_and_tags(project: Project) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("index.md", "# Home\n\n{{ guide_list() }}\n")
    project.page("guides/index.md", "# Guides\n\n{{ guide_table() }}\n")
    project.page("tags.md", "# Tags\n\n{{ tag_index() }}\n")
    title = "A <b>bold</b> [link](x) | *pipe* { .c }"
    tag = "x_y [z] <i>"
    add_guide(project, "guides/basics/odd.md", f"'{title}'", f"['{tag}']")
    done = project.build()
    assert done.returncode == 0, done.stderr
    site = project.root / "site"
    escaped = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f">{escaped}</a>" in html(site, "")
    assert f">{escaped}</a>" in html(site, "guides")
    article = re.compile(r"<article.*?</article>", re.S)  # the theme's nav is not ours
    assert "<b>" not in article.search(html(site, "")).group(0)
    assert "<i>" not in article.search(html(site, "tags")).group(0)
    assert f">{tag.replace('<', '&lt;').replace('>', '&gt;')}</a>" in html(
        site, "guides/basics/odd"
    )
