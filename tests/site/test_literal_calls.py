"""Pages whose only template code is literal snippet() calls skip Jinja: same bytes.

kdocs/mkdocs/render.py makes such calls directly instead of compiling the page
as a Jinja template. Here the same project is built twice, in the same process,
once as shipped and once with the direct path switched off (every page through
Jinja, as before), and every file of the two sites must be identical. The
direct path must also have been taken, or the comparison would prove nothing.
(The repo's own guides all hold other template code, site variables or a
comment, so Jinja renders them as before.)
"""

from __future__ import annotations

import filecmp
import logging
import random
import sys
from pathlib import Path

import pytest

from kdocs.catalog import _parse_with_python, _plain_strings, literal_call
from kdocs.mkdocs import render
from kdocs.mkdocs.render import render_literal_calls
from tests.site.conftest import CONFIGMAP, Project, make_project
from tests.site.test_build import CONTAINERS

DIRECT_PAGES = {
    "containers.md": CONTAINERS,
    "titled.md": """\
        ---
        title: Front matter first
        description: A page with front matter.
        ---
        # Titled

        {{ snippet("cm.yaml", title="The 'config' map", hl_lines="2 3") }}

        {{snippet('cm.yaml','data')}}
        {{ snippet(path="cm.yaml", section="data", title='data only') }}""",  # no newline at end
    "last-line.md": '# Last\n\n{{ snippet("cm.yaml") }}\n',
    "trailing-lines.md": '# Trailing\n\n{{ snippet("cm.yaml") }}\n\n\n',
    "prose.md": "# Prose\n\nNo template code: Jinja would only drop the last newline.\n",
    "prose-no-newline.md": "# Prose\n\nNor here, { braces } apart.",
}
JINJA_PAGES = {  # other template code: these still go through Jinja, both builds
    "variable.md": '# {{ config.site_name }}\n\n{{ snippet("cm.yaml") }}\n',
    "comment.md": '# C\n\n{# a note #}\n{{ snippet("cm.yaml") }}\n',
    "whitespace.md": '# W\n\n{{ snippet("cm.yaml") -}}\n\n',
    "escaped.md": '# E\n\n{{ snippet("cm.yaml", title="a \\"quoted\\" title") }}\n',
    "raw.md": '# R\n\n{% raw %}{{ snippet("cm.yaml") }}{% endraw %}\n\n{{ snippet("cm.yaml") }}\n',
    "site-name.md": "# {{ config.site_name }}\n\nTemplate code, no snippet call.\n",
}


def _build(
    root: Path, site: Path, monkeypatch: pytest.MonkeyPatch, jinja_only: bool = False
) -> int:
    """`kdocs build`'s MkDocs build, in this process; returns how many pages skipped Jinja
    (`jinja_only`: none, every page is rendered by Jinja as before the direct path)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    direct = []

    def counting(markdown, env, call, why=None):  # type: ignore[no-untyped-def]
        made = None if jinja_only else render_literal_calls(markdown, env, call, why)
        if made is None and why is not None and not why:
            why.append("jinja_only")
        direct.append(made is not None)
        return made

    monkeypatch.chdir(root)
    monkeypatch.setattr(render, "render_literal_calls", counting)
    # mkdocs-macros imports the project's `macros` package by name: this project's, not
    # the one an earlier build left in sys.modules.
    monkeypatch.delitem(sys.modules, "macros", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    build(load_config(str(root / "mkdocs.yml"), strict=True, site_dir=str(site)))
    monkeypatch.undo()
    return sum(direct)


def _same_files(left: Path, right: Path) -> list[str]:
    """Paths that differ or exist on one side only (an empty list: identical trees)."""
    names = {p.relative_to(left) for p in left.rglob("*") if p.is_file()}
    names |= {p.relative_to(right) for p in right.rglob("*") if p.is_file()}
    return sorted(
        str(name)
        for name in names
        if not (left / name).is_file()
        or not (right / name).is_file()
        or not filecmp.cmp(left / name, right / name, shallow=False)
    )


def test_pages_built_without_jinja_are_byte_identical(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    for name, body in {**DIRECT_PAGES, **JINJA_PAGES}.items():
        project.page(name, body)
    direct = _build(project.root, tmp_path / "direct", monkeypatch)
    assert direct == len(DIRECT_PAGES) + 1  # and the project's index, prose only
    assert _build(project.root, tmp_path / "jinja", monkeypatch, jinja_only=True) == 0
    assert _same_files(tmp_path / "direct", tmp_path / "jinja") == []
    page = (tmp_path / "direct" / "titled" / "index.html").read_text()
    assert page.count("kdocs-badges") == 3


def test_a_project_snippet_macro_of_its_own_is_left_to_jinja(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path / "own")
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("page.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    module = project.root / "macros" / "__init__.py"
    module.write_text(module.read_text().replace("setattr(snippet", "(snippet"))
    assert _build(project.root, tmp_path / "site", monkeypatch) == 0


def test_calls_get_their_body_line_and_arguments() -> None:
    made: list[tuple[int, dict[str, str]]] = []
    env = __import__("jinja2").Environment()
    text = 'a\n\n{{ snippet("x.yaml") }}\nb {{ snippet("y.yaml", "s", title="t") }}\n'
    out = render_literal_calls(text, env, lambda line, args: made.append((line, args)) or "B")
    assert out == env.from_string(text).render(snippet=lambda *a, **k: "B")
    assert made == [(3, {"path": "x.yaml"}), (4, {"path": "y.yaml", "section": "s", "title": "t"})]


@pytest.mark.parametrize("text", ["no template code\n", "no newline", "\n\n", "", "{ x }\n"])
def test_a_page_without_template_code_is_what_jinja_makes_of_it(text: str) -> None:
    env = __import__("jinja2").Environment()
    assert render_literal_calls(text, env, lambda line, args: "B") == env.from_string(text).render()


@pytest.mark.parametrize(
    "text",
    [
        "{{ snippet(name) }}\n",  # computed
        "{{ other }}\n",
        "{# a comment #}\n",
        '{{ snippet("a" ~ "b") }}\n',
        '{{ snippet("a\\n") }}\n',  # an escape Jinja reads its own way
        '{{ snippet("a", colour="red") }}\n',  # Jinja reports the unknown argument
        '{{ snippet("a") }}{{ other }}\n',
        '{% if x %}{{ snippet("a") }}{% endif %}\n',
        '{{ snippet("a") }}\r\n',
    ],
)
def test_anything_else_is_left_to_jinja(text: str) -> None:
    env = __import__("jinja2").Environment()
    why: list[str] = []
    assert render_literal_calls(text, env, lambda line, args: "B", why) is None
    assert len(why) == 1 and why[0]  # the reason `kdocs build -v` shows


def test_verbose_build_says_why_a_page_took_jinja(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("fast.md", '# Fast\n\n{{ snippet("cm.yaml") }}\n')
    project.page("slow.md", '# Slow\n\n{% set f = "cm.yaml" %}\n{{ snippet(f) }}\n')
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.kdocs"):
        _build(project.root, tmp_path / "site", monkeypatch)
    said = [r.getMessage() for r in caplog.records if "rendered by Jinja" in r.getMessage()]
    assert any(m.startswith("docs/slow.md: ") and "computed arguments" in m for m in said)
    assert not any("fast.md" in m for m in said)


def test_literal_call_reads_only_plain_strings() -> None:
    assert literal_call('"a.yaml", title="t"') == {"path": "a.yaml", "title": "t"}
    assert literal_call('"a", "s", "t", "1 2"') == {
        "path": "a", "section": "s", "title": "t", "hl_lines": "1 2"
    }  # fmt: skip
    for source in ('r"a"', '"a", section=None', '"a", path="b"', "**{'path': 'a'}", 'f"{x}"'):
        assert literal_call(source) is None, source


def test_the_git_variable_still_reads_git_when_a_page_uses_it(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """mkdocs-macros' `git` variable is read on first use now, not at every build."""
    import subprocess

    project.page("git.md", "# Git\n\ncommit {{ git.short_commit }}, status {{ git.status }}\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"]):
        subprocess.run([*git, *args], cwd=project.root, check=True)
    short = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=project.root, capture_output=True, text=True
    ).stdout.strip()
    _build(project.root, tmp_path / "site", monkeypatch)
    page = (tmp_path / "site" / "git" / "index.html").read_text()
    assert f"commit {short}, status True" in page


# Pieces of call sources: quotes, separators, Python keywords, characters Python's
# tokenizer treats specially (NUL, CR, form feed, no-break and Unicode line separators).
CALL_PIECES = ['"', "'", ",", "=", " ", "\t", "\n", "\r", "\\", "a", "title", "if", "True",
               "__debug__", "é", "\x00", "\x85", "\u2028", "\xa0", "\x0c", "\x0b", "x=", "r",
               "f", '"a.yaml"', "'s'", "1", "(", ")", "#", "\ufeff", "\x7f", "\x1b"]  # fmt: skip


def test_plain_string_calls_parse_as_python_parses_them() -> None:
    """The parser-free path for plain quoted arguments gives what Python's parser gives,
    and leaves every other source to it."""
    assert _plain_strings('"a.yaml", title="t"') == (["a.yaml"], {"title": "t"})
    assert _plain_strings("'a', \n section = 'é 页',") == (["a"], {"section": "é 页"})
    for refused in ('title="t", "a"', 'a="1", a="2"', 'if="x"', '"a" "b"', '"a\\n"', 'r"a"'):
        assert _plain_strings(refused) is None, refused
    chooser = random.Random(14)
    taken = 0
    for _ in range(40_000):
        source = "".join(chooser.choice(CALL_PIECES) for _ in range(chooser.randint(0, 9)))
        plain = _plain_strings(source)
        if plain is not None:
            taken += 1
            assert plain == _parse_with_python(source, strings_only=True), repr(source)
            assert plain == _parse_with_python(source, strings_only=False), repr(source)
    assert taken > 100  # the comparison ran on many sources, not on none
