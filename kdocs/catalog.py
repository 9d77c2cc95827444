"""The catalog: which snippets, scenarios and pages a site has, and who uses what.

It only finds and reads; it checks nothing about the YAML itself (the schema
stage does). Page references are found statically, so `kdocs build` can name
a page and line for a missing snippet before MkDocs even starts.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kdocs.config import Settings
from kdocs.resource.sidecars import EMBED_SUFFIXES
from kdocs.resource.text import decode_utf8

YAML_SUFFIXES = (".yaml", ".yml")
SCENARIO_SUFFIXES = tuple(f".scenario{s}" for s in YAML_SUFFIXES)
# A `snippet(...)` call inside a Jinja expression; its arguments are parsed as Python literals.
CALL = re.compile(r"\{\{-?\s*snippet\((?P<args>[^{}]*?)\)\s*-?\}\}")
# One argument of the common call: an optional `name=`, then a quoted string with no
# escape, prefix or control character (its value is the text between the quotes), and
# a comma unless it is the last one. Anything else goes to Python's parser.
_PLAIN_WS = "[ \t\n]*"
_PLAIN_ARG = re.compile(
    rf"{_PLAIN_WS}(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*){_PLAIN_WS}={_PLAIN_WS})?"
    rf"(?P<value>\"[^\"\\\x00-\x1f\x7f]*\"|'[^'\\\x00-\x1f\x7f]*'){_PLAIN_WS}"
    rf"(?P<comma>,?){_PLAIN_WS}"
)


@dataclass(frozen=True)
class SnippetRef:
    """One `snippet(...)` call on a page."""

    page: str  # path relative to the project root
    line: int
    path: str  # relative to snippets/
    section: str | None


def is_scenario(path: Path) -> bool:
    return path.name.endswith(SCENARIO_SUFFIXES)


def is_embed_spec(path: Path) -> bool:
    return path.name.endswith(EMBED_SUFFIXES)


def snippet_files(settings: Settings) -> list[Path]:
    """Every manifest snippet (scenario files and embed specs are not snippets)."""
    return sorted(
        path
        for path in _yaml_files(settings.snippets_dir)
        if not is_scenario(path) and not is_embed_spec(path)
    )


def scenario_files(settings: Settings) -> list[Path]:
    return sorted(path for path in _yaml_files(settings.snippets_dir) if is_scenario(path))


def pages(settings: Settings) -> list[Path]:
    return sorted(settings.docs_dir.rglob("*.md"))


def page_references(settings: Settings) -> list[SnippetRef]:
    """Every literal `snippet()` call in every page, with its page and line."""
    refs: list[SnippetRef] = []
    for page in pages(settings):
        refs.extend(_references_in(page, settings.root))
    return refs


def _references_in(page: Path, root: Path) -> Iterator[SnippetRef]:
    name = str(page.relative_to(root))
    text = decode_utf8(page.read_bytes(), name)  # a page MkDocs could not read either
    for match in CALL.finditer(text):
        parsed = _literal_args(match.group("args"))
        if parsed is None:
            continue  # computed arguments: the macro checks them when the page renders
        path, section = parsed
        line = text.count("\n", 0, match.start()) + 1
        yield SnippetRef(name, line, path, section)


def _literal_args(source: str) -> tuple[str, str | None] | None:
    parsed = _parse_call(source)
    if parsed is None:
        return None
    args, kwargs = parsed
    path = args[0] if args else kwargs.get("path")
    section = args[1] if len(args) > 1 else kwargs.get("section")
    if not isinstance(path, str):
        return None
    return path, section if isinstance(section, str) else None


SNIPPET_PARAMETERS = ("path", "section", "title", "hl_lines")


def literal_call(source: str) -> dict[str, str] | None:
    """The arguments of `snippet(<source>)` by parameter name, when every one is a plain
    quoted string Jinja reads as Python does (no escape, prefix or triple quote); None
    when the call needs Jinja to evaluate it, or to report its error."""
    if "\\" in source or "'''" in source or '"""' in source:
        return None
    parsed = _parse_call(source, strings_only=True)
    if parsed is None:
        return None
    args, kwargs = parsed
    if len(args) > len(SNIPPET_PARAMETERS):
        return None
    named = dict(zip(SNIPPET_PARAMETERS, args, strict=False))
    for name, value in kwargs.items():
        if name not in SNIPPET_PARAMETERS or name in named:
            return None
        named[name] = value
    return named if "path" in named else None


def _parse_call(source: str, strings_only: bool = False) -> tuple[list, dict] | None:
    """Positional and keyword values of `f(<source>)`, if every one is a literal."""
    plain = _plain_strings(source)
    if plain is not None:  # what Python's parser gives, without it (a build parses every call)
        return plain
    return _parse_with_python(source, strings_only)


def _parse_with_python(source: str, strings_only: bool) -> tuple[list, dict] | None:
    code = f"f({source})"
    try:
        call = ast.parse(code, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call) or any(k.arg is None for k in call.keywords):
        return None
    values = [*call.args, *(k.value for k in call.keywords)]
    if strings_only and not all(_quoted_string(v, code) for v in values):
        return None
    try:
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except ValueError:
        return None
    return args, kwargs


def _plain_strings(source: str) -> tuple[list, dict] | None:
    """The values of `f(<source>)` when every argument is a plain quoted string and the
    call is valid Python; None for anything else (Python's parser decides)."""
    args: list[str] = []
    kwargs: dict[str, str] = {}
    position = 0
    while True:
        match = _PLAIN_ARG.match(source, position)
        if match is None:
            return None
        name, value = match["name"], match["value"][1:-1]
        if name is None:
            if kwargs:
                return None  # a positional argument after a keyword one: a syntax error
            args.append(value)
        elif name in kwargs or keyword.iskeyword(name) or name == "__debug__":
            return None  # a syntax error, reported as Python reports it
        else:
            kwargs[name] = value
        position = match.end()
        if position == len(source):
            return args, kwargs
        if not match["comma"]:
            return None


def _quoted_string(node: ast.expr, code: str) -> bool:
    text = ast.get_source_segment(code, node) or ""
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and text[:1] in "'\""


def _yaml_files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in folder.rglob("*"):
        if path.suffix in YAML_SUFFIXES and path.is_file():
            yield path
