"""A page's front matter, read with its line numbers and checked key by key.

MkDocs drops front matter it cannot parse without a word, and themes ignore
keys they do not know, so a typo (`tag:`, `author:`) or a bad date would
silently vanish from the page. Here every key is either known, with a checked
value, or refused with one line naming page:line. The same split MkDocs uses
also tells how many lines precede the body, so an error found in the body
(a Jinja error, a snippet call) can name the real page line.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from kdocs.errors import InvalidInputError, Location, UnusableInputError

# The front matter block as MkDocs recognises it (mkdocs.utils.meta.YAML_RE).
FRONT_MATTER = re.compile(r"^-{3}[ \t]*\n(.*?\n)(?:\.{3}|-{3})[ \t]*\n", re.DOTALL)
GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
GITHUB_URL = re.compile(r"^https://github\.com/([^/?#]+)/?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)

# Keys kdocs renders, then the keys MkDocs, Material and mkdocs-macros read themselves.
KDOCS_KEYS = ("title", "description", "author_github", "last_modified_on", "tags")
THEME_KEYS = (
    "template", "hide", "search", "status", "subtitle", "icon", "comments", "render_macros",
)  # fmt: skip
KNOWN_KEYS = KDOCS_KEYS + THEME_KEYS


@dataclass(frozen=True)
class PageMeta:
    """What a page says about itself; `page` is relative to the docs folder (posix)."""

    page: str
    title: str
    description: str = ""
    author: str = ""  # GitHub login
    last_modified_on: str = ""  # YYYY-MM-DD, when the front matter gives it
    tags: tuple[str, ...] = ()
    body_offset: int = 0  # lines before the body MkDocs hands to the templates
    tags_line: int | None = None  # where `tags:` stands, for errors about tags

    @property
    def author_url(self) -> str:
        return f"https://github.com/{self.author}" if self.author else ""


def body_offset(source: str) -> int:
    """How many lines of `source` precede the body MkDocs renders (front matter + blank lines)."""
    match = FRONT_MATTER.match(source)
    if match is None:
        return 0
    try:
        data = yaml.safe_load(match.group(1))
    except Exception:  # as MkDocs does: any failure keeps the whole text as the body
        return 0
    if not isinstance(data, dict):
        return 0
    rest = source[match.end() :]
    stripped = len(rest) - len(rest.lstrip("\n"))
    return source.count("\n", 0, match.end()) + stripped


def read_page(path: Path, page: str, display: str) -> PageMeta:
    """Read and check the front matter of `path`; `display` names it in errors (docs/x.md)."""
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UnusableInputError(Location(display), f"unreadable page: {error}") from None
    return parse_page(source, page, display)


def parse_page(source: str, page: str, display: str) -> PageMeta:
    """The checked front matter of a page's text (see `read_page`)."""
    match = FRONT_MATTER.match(source)
    fields: dict[str, object] = {}
    lines: dict[str, int] = {}
    if match is not None:
        fields, lines = _mapping(match.group(1), display)
    values = {key: _checked(key, fields[key], Location(display, lines[key])) for key in fields}
    offset = body_offset(source)
    title = values.get("title") or _first_heading(source, offset) or _title_from_name(page)
    return PageMeta(
        page=page,
        title=str(title),
        description=str(values.get("description", "")),
        author=str(values.get("author_github", "")),
        last_modified_on=str(values.get("last_modified_on", "")),
        tags=tuple(values.get("tags", ())),  # type: ignore[arg-type]
        body_offset=offset,
        tags_line=lines.get("tags"),
    )


def _mapping(text: str, display: str) -> tuple[dict[str, object], dict[str, int]]:
    """Parse the block into key -> value and key -> page line; refuse duplicates."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = Location(display, mark.line + 2, mark.column + 1) if mark else Location(display)
        problem = getattr(error, "problem", None) or str(error)
        raise InvalidInputError(where, f"front matter is not valid YAML: {problem}") from None
    if node is None:
        return {}, {}
    if not isinstance(node, yaml.MappingNode):
        raise InvalidInputError(
            Location(display, node.start_mark.line + 2), "front matter must be a mapping of keys"
        )
    fields: dict[str, object] = {}
    lines: dict[str, int] = {}
    loader = yaml.SafeLoader("")
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 2  # +1 for 1-based, +1 for the opening `---`
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            raise InvalidInputError(Location(display, line), "front matter keys must be names")
        if key in fields:
            raise InvalidInputError(
                Location(display, line), f"front matter key {key!r} given twice"
            )
        if key not in KNOWN_KEYS:
            raise InvalidInputError(Location(display, line), _unknown_key(key))
        try:
            fields[key] = loader.construct_object(value_node, deep=True)
        except (yaml.YAMLError, ValueError) as error:  # e.g. a date like 2025-02-30
            raise InvalidInputError(
                Location(display, line), f"front matter key {key!r}: {error}"
            ) from None
        lines[key] = line
    return fields, lines


def _unknown_key(key: str) -> str:
    import difflib  # only for a did-you-mean hint: not on every build

    close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"unknown front matter key {key!r} ({hint}kdocs shows {', '.join(KDOCS_KEYS)}; "
        f"the theme reads {', '.join(THEME_KEYS)})"
    )


def _checked(key: str, value: object, where: Location) -> object:
    """The value of a kdocs key in the form the site uses; theme keys pass unchanged."""
    if key in ("title", "description"):
        if not isinstance(value, str) or not value.strip():
            raise InvalidInputError(where, f"{key} must be a non-empty text, got {value!r}")
        return value.strip()
    if key == "author_github":
        return _github_login(value, where)
    if key == "last_modified_on":
        return _date(value, where)
    if key == "tags":
        if isinstance(value, str) or not isinstance(value, list):
            raise InvalidInputError(where, f"tags must be a list of texts, got {value!r}")
        tags: list[str] = []
        for tag in value:
            if not isinstance(tag, str) or not tag.strip():
                raise InvalidInputError(where, f"each tag must be a non-empty text, got {tag!r}")
            normal = " ".join(tag.split())
            if normal not in tags:  # a repeated tag is harmless: show it once
                tags.append(normal)
        return tuple(tags)
    return value


def _github_login(value: object, where: Location) -> str:
    text = value.strip() if isinstance(value, str) else ""
    url = GITHUB_URL.match(text)
    login = url.group(1) if url else text.removeprefix("@")
    if not GITHUB_LOGIN.match(login):
        raise InvalidInputError(
            where,
            f"author_github must be https://github.com/LOGIN (or the login alone), got {value!r}",
        )
    return login


def _date(value: object, where: Location) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and DATE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise InvalidInputError(where, f"last_modified_on must be a date YYYY-MM-DD, got {value!r}")


def _first_heading(source: str, offset: int) -> str | None:
    body = source.split("\n", offset)[-1] if offset else source
    in_fence = False
    for line in body.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and (match := HEADING.match(line)):
            return match.group(1)
    return None


def _title_from_name(page: str) -> str:
    stem = Path(page).stem
    if stem == "index":
        stem = Path(page).parent.name or "home"
    return stem.replace("-", " ").replace("_", " ").capitalize()
