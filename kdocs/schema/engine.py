"""jsonschema_rs, imported without the email package it loads for its own build date.

Why: jsonschema_rs (0.60, built with pyo3-built) fills ``__build__["info-time"]`` when
its extension starts, by calling ``email.utils.parsedate_to_datetime`` on the date it
was compiled.  Importing ``email.utils`` (with socket, calendar, locale, urllib.parse
and the MIME modules) is ~18 ms of the ~27 ms jsonschema_rs takes to import, and of
every kdocs process that validates: a one-file ``kdocs validate``, the site build's
checks, the resident validator.  kdocs never reads that date.

How it stays exact: while the extension starts, ``email.utils`` in ``sys.modules`` is
a stand-in whose ``parsedate_to_datetime`` computes the same datetime for the one
format pyo3-built writes (RFC 2822, numeric zone) and hands anything else, and any
other name, to the real module.  The stand-in is removed as soon as the import ends,
so whoever imports ``email.utils`` later gets the real module; if it was imported
before, nothing is replaced.  `tests/schema/test_engine.py` checks the build date
against a plain import of the same wheel.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NAME = "email.utils"


def _real() -> types.ModuleType:
    """The real ``email.utils``, loaded past the stand-in if it is in ``sys.modules``."""
    import importlib

    stand_in = sys.modules.get(_NAME)
    if isinstance(stand_in, _StandIn):
        del sys.modules[_NAME]
    return importlib.import_module(_NAME)


def parsedate_to_datetime(text: str) -> Any:
    """``email.utils.parsedate_to_datetime`` for ``Tue, 27 Oct 2026 10:17:51 +0000``
    (what pyo3-built writes); any other text goes to the real function."""
    try:
        _weekday, day, month, year, clock, zone = text.split()
        hours, minutes, seconds = (int(part) for part in clock.split(":"))
        if len(zone) != 5 or zone[0] not in "+-" or zone == "-0000" or not zone[1:].isdigit():
            raise ValueError(zone)  # "-0000" means "no zone" to email.utils: a naive datetime
        offset = int(zone[1:3]) * 60 + int(zone[3:5])
        import datetime

        tz = datetime.timezone(datetime.timedelta(minutes=-offset if zone[0] == "-" else offset))
        return datetime.datetime(
            int(year), _MONTHS.index(month.lower()) + 1, int(day),
            hours, minutes, seconds, tzinfo=tz,
        )  # fmt: skip
    except (ValueError, AttributeError, TypeError):  # not that format: the real one decides
        return _real().parsedate_to_datetime(text)


class _StandIn(types.ModuleType):
    """``email.utils`` while jsonschema_rs starts: one function, the rest from the real one."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system asks for __path__ and the like
            raise AttributeError(name)
        return getattr(_real(), name)


def _import() -> types.ModuleType:
    if _NAME in sys.modules:  # already paid for by someone: nothing to save
        import jsonschema_rs

        return jsonschema_rs
    stand_in = _StandIn(_NAME)
    stand_in.parsedate_to_datetime = parsedate_to_datetime  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in
    try:
        import jsonschema_rs
    finally:
        if sys.modules.get(_NAME) is stand_in:
            del sys.modules[_NAME]
    return jsonschema_rs


jsonschema_rs = _import()
