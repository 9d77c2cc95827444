"""kdocs' own markup stays in Latin-1 (character references), the snippet's text is untouched.

Why it matters: one character above U+00FF in a page (the badge's ✓, the en dash
of `1.30–1.37`) makes Python hold the page's HTML, Markdown and search text at 2
bytes a character; on 500 ASCII pages that was +18 MiB at the end of a build. The
escaping must change nothing a reader sees or the read-back compares: the same
badge values, the same snippet path, the code block byte for byte.
"""

from __future__ import annotations

from kdocs.site.extract import page_blocks
from kdocs.site.render import Badge, render_badges
from tests.site.conftest import Project

UNICODE_CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: cafe
data:
  greeting: "café — ✓ 日本"
"""
ASCII_CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
data:
  greeting: hello
"""


def test_badges_markup_is_latin1_and_reads_back_to_the_same_values() -> None:
    badge = Badge("schema", "passed", "✓ Kubernetes 1.30–1.37", "valid – café")
    source = {"snippet": "données/cm.yaml", "section": "", "sha256": "ab"}
    markup = render_badges([badge], "../snippets/données/cm.yaml", "données.yaml", source)
    assert max(map(ord, markup)) <= 0xFF and "&#10003;" in markup and "données" in markup
    page = f'<pre><code>x: "é"\n</code></pre>\n<p>{markup}</p>'
    ((text, attributes, badges),) = page_blocks(page)
    assert text == 'x: "é"\n'
    assert attributes["data-snippet"] == "données/cm.yaml"
    assert badges == {"schema": ("passed", "✓ Kubernetes 1.30–1.37")}
    assert page_blocks(page) == page_blocks(page, parser_only=True)


def test_built_pages_keep_the_snippet_bytes_and_latin1_pages_stay_one_byte(
    project: Project,
) -> None:
    project.snippet("données/cm.yaml", UNICODE_CM)
    project.snippet("plain/cm.yaml", ASCII_CM)
    project.page("u.md", '# U\n\n{{ snippet("données/cm.yaml") }}\n')
    project.page("a.md", '# A\n\n{{ snippet("plain/cm.yaml") }}\n')
    done = project.build()
    assert done.returncode == 0, done.stderr

    unicode_page = (project.root / "site" / "u" / "index.html").read_text(encoding="utf-8")
    ((text, attributes, badges),) = page_blocks(unicode_page)
    assert text == UNICODE_CM  # the code block is the file, not character references
    assert attributes["data-snippet"] == "données/cm.yaml"
    assert badges["schema"][0] == "passed" and badges["schema"][1].startswith("✓ Kubernetes")
    badges_markup = unicode_page[unicode_page.index('<span class="kdocs-badges"') :]
    assert max(map(ord, badges_markup[: badges_markup.index("</a></span>")])) <= 0xFF

    ascii_page = (project.root / "site" / "a" / "index.html").read_text(encoding="utf-8")
    assert max(map(ord, ascii_page)) <= 0xFF, sorted({c for c in ascii_page if ord(c) > 0xFF})
    ((text, _, badges),) = page_blocks(ascii_page)
    assert text == ASCII_CM and badges["schema"][1].startswith("✓ Kubernetes")
