"""Errors met while rendering a page's Jinja template, named by their real page line.

MkDocs hands the templates the page body without its front matter, so every
line Jinja reports is short by the front matter's length; and mkdocs-macros
ends the process on the first error (fatal for `kdocs serve`) after logging
a traceback. Here an error becomes one `page:line: reason` with the offset
added back and, for a misspelled name, the nearest defined names.
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Iterable

from jinja2 import TemplateSyntaxError, UndefinedError

from kdocs.errors import InvalidInputError, KdocsError, Location

UNDEFINED_NAME = re.compile(r"^'([A-Za-z_][A-Za-z0-9_]*)' is undefined$")


def template_line(error: BaseException) -> int | None:
    """The 1-based template line Jinja blames for `error`, if it names one."""
    if isinstance(error, TemplateSyntaxError):
        return error.lineno
    lines = [
        frame.lineno
        for frame in traceback.extract_tb(error.__traceback__)
        if frame.filename in ("<template>", "<unknown>")
    ]
    return lines[-1] if lines else None


def calling_line() -> int | None:
    """The template line of the macro call running now (for errors a macro reports itself)."""
    frame = sys._getframe(1)
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return template.get_corresponding_lineno(frame.f_lineno)
        frame = frame.f_back
    return None


def page_error(
    error: BaseException, display: str, body_offset: int, names: Iterable[str]
) -> KdocsError:
    """One-line error for a failed page render; `names` are the macros and variables defined."""
    if isinstance(error, KdocsError) and error.location is not None:
        return error  # a macro's own error already names the page line
    line = template_line(error)
    where = Location(display, line + body_offset if line is not None else None)
    if isinstance(error, KdocsError):
        return type(error)(where, error.reason)
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    if isinstance(error, UndefinedError) and (match := UNDEFINED_NAME.match(message)):
        import difflib  # only for a did-you-mean hint: not on every build

        close = difflib.get_close_matches(match.group(1), sorted(set(names)), n=1, cutoff=0.6)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    kind = "template syntax error" if isinstance(error, TemplateSyntaxError) else "template error"
    return InvalidInputError(where, f"{kind}: {message}")
