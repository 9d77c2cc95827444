"""Markdown for one injected snippet: a titled, copyable code block and its badge.

The code block must show the snippet's bytes exactly. Three things could
alter them and are guarded here:
- the fence: a backtick run inside the snippet could close it early, so the
  fence is always longer than the longest run in the content;
- indentation: a macro's output lands at the column of its call, so inside a
  list, admonition or tab every line after the first would fall out of the
  container. Lines after the first carry an INDENT sentinel, replaced by the
  call site's indentation in `indent_blocks` once the page is rendered;
- Jinja: the macro's return value is never rendered again, and pymdownx.snippets
  (which would follow `--8<--` lines) must not be enabled.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kdocs.errors import InvalidInputError

# Private-use characters: they cannot appear in a snippet (validated as YAML,
# which forbids neither, so `render_block` refuses content that carries them).
START = "\ue000kdocs-start\ue001"
INDENT = "\ue000kdocs-indent\ue001"


@dataclass(frozen=True)
class Badge:
    """One verification fact shown under a snippet."""

    label: str  # "schema", "cluster"
    state: str  # "passed", "failed", "not-run"
    text: str  # short, shown in the badge
    detail: str  # longer, shown on hover
    link: str = ""  # where the badge leads (the cluster badge: the proof of its snippet)


def render_block(
    text: str,
    *,
    title: str,
    download_url: str,
    badges: list[Badge],
    hl_lines: str | None = None,
    source: dict[str, str] | None = None,
    stand_in: Callable[[str], str] | None = None,
) -> str:
    """The Markdown for a code block followed by its badges, ready for `indent_blocks`
    (`stand_in`: what the page carries in place of the badges' HTML, see BadgeStandIns)."""
    if START in text or INDENT in text:
        raise InvalidInputError(None, "snippet contains reserved private-use characters")
    if not text.endswith("\n"):
        text += "\n"
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    options = [f'title="{_attribute(title)}"']
    if hl_lines:
        options.append(f'hl_lines="{_attribute(hl_lines)}"')
    lines = [f"{fence} yaml {' '.join(options)}", *text.splitlines(), fence, ""]
    badge_html = render_badges(badges, download_url, title, source or {})
    lines.append(stand_in(badge_html) if stand_in else badge_html)
    return START + ("\n" + INDENT).join(lines)


# Extensions and plugins known to leave a paragraph of plain inline HTML as it is.
PLAIN_EXTENSIONS = frozenset(
    [
        "toc",
        "tables",
        "fenced_code",
        "admonition",
        "attr_list",
        "md_in_html",
        "pymdownx.details",
        "pymdownx.highlight",
        "pymdownx.inlinehilite",
        "pymdownx.superfences",
        "pymdownx.tabbed",
    ]
)
PLAIN_PLUGINS = frozenset({"search", "material/search", "macros", "kdocs"})
# Characters some inline pattern could act on before the HTML is stashed: code spans,
# escapes, links, mail links; and, in the text between tags, emphasis and attribute lists.
_TAG = re.compile(r"<[^<>]*>")
_TAG_UNSAFE = re.compile(r"[`\\\[\]@{}]")
_TEXT_SAFE = re.compile(r"(?:[A-Za-z0-9 .,;:/()'+%=-]|&(?:#[0-9]+|amp|lt|gt|quot);)*\Z")


class BadgeStandIns:
    """The badges' HTML kept out of Markdown's way: the page carries a word that stands in
    for it, replaced in the page's HTML once Markdown made it.

    Python-Markdown's inline pass parses every tag of the badge paragraph and stashes it,
    ~1.5 ms a page with three blocks (a tenth of converting a guide page). With the
    extensions and plugins of PLAIN_EXTENSIONS and PLAIN_PLUGINS, and only characters no
    inline pattern acts on, that pass returns the paragraph unchanged, so putting it back
    afterwards gives the same bytes (tests/site/test_badge_stand_ins.py); anything else
    keeps the HTML in the Markdown.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._html: dict[str, str] = {}
        self._prefix = f"KDOCSBADGES{uuid.uuid4().hex.upper()}N"
        self._word = re.compile(re.escape(self._prefix) + r"[0-9]+")

    def __call__(self, badge_html: str) -> str:
        if not self.enabled or not _markdown_leaves_alone(badge_html):
            return badge_html
        word = f"{self._prefix}{len(self._html)}"
        self._html[word] = badge_html
        return word

    def restore(self, page_html: str) -> str:
        """The page's HTML with every stand-in replaced by the badges it stands for."""
        if not self._html or self._prefix not in page_html:
            return page_html
        return self._word.sub(lambda m: self._html.get(m[0], m[0]), page_html)


def _markdown_leaves_alone(html: str) -> bool:
    return not _TAG_UNSAFE.search(html) and all(_TEXT_SAFE.match(text) for text in _TAG.split(html))


def render_badges(
    badges: list[Badge], download_url: str, file_name: str, source: dict[str, str]
) -> str:
    """A paragraph of inline HTML spans (inline HTML survives inside any container).

    `source` becomes data- attributes (snippet, section, sha256) that let the
    built page be checked against the file it came from.
    """
    spans = [
        f'<span class="kdocs-badge kdocs-badge--{b.state}" title="{_html(b.detail)}">'
        f'<span class="kdocs-badge__label">{_html(b.label)}</span>'
        f'<span class="kdocs-badge__value">{_html(b.text)}</span></span>'
        for b in badges
    ]
    spans = [
        f'<a class="kdocs-badge-link" href="{_html(b.link)}">{span}</a>' if b.link else span
        for b, span in zip(badges, spans, strict=True)
    ]
    link = (
        f'<a class="kdocs-download" href="{_html(download_url)}" download>'
        f"Download {_html(file_name)}</a>"
    )
    data = "".join(f' data-{key}="{_html(value)}"' for key, value in sorted(source.items()))
    return f'<span class="kdocs-badges"{data}>' + " ".join([*spans, link]) + "</span>"


def error_box(message: str) -> str:
    """A visible error in place of a snippet (preview only; `kdocs build` fails instead)."""
    return START + f'<span class="kdocs-error" role="alert">{_html(message)}</span>'


def indent_blocks(markdown: str) -> str:
    """Give every injected block the indentation of the line its macro call stood on."""
    if START not in markdown:
        return markdown
    out: list[str] = []
    indent = ""
    for line in markdown.split("\n"):
        if START in line:
            prefix, _, rest = line.partition(START)
            if prefix.strip():
                # Also after a list marker: Python-Markdown needs the block on a line of
                # its own, indented under the item, or the fence becomes inline code.
                raise InvalidInputError(
                    None,
                    "snippet() must stand alone on its line, indented under its container "
                    f"(text before it: {prefix.strip()!r})",
                )
            indent = prefix
            out.append(prefix + rest)
        elif line.startswith(INDENT):
            body = line[len(INDENT) :]
            out.append(indent + body if body else "")
        else:
            out.append(line)
    return "\n".join(out)


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


_WIDE = re.compile(r"[^\x00-\xff]")


def _attribute(value: str) -> str:
    """Fence options are quoted; a quote or newline would end them early."""
    return value.replace('"', "'").replace("\n", " ")


def _html(value: str) -> str:
    """Escaped, with characters above U+00FF as references: one of them in a page (the
    badge's ✓, the en dash of `1.30–1.37`) makes Python store the whole page, its Markdown
    and its search text at 2 bytes a character, which doubled the memory of a build of
    Latin-1 pages."""
    escaped = (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
    return _WIDE.sub(lambda m: f"&#{ord(m[0])};", escaped)
