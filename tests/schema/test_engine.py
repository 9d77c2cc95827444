"""jsonschema_rs imported without email.utils (`kdocs.schema.engine`) is the same library.

Each import runs in a fresh interpreter, where the stand-in is actually used: in this
one, some other test may have imported email.utils first.
"""

from __future__ import annotations

import email.utils
import subprocess
import sys

import pytest

from kdocs.schema import engine

BUILD_DATE = "import jsonschema_rs; print(repr(jsonschema_rs.jsonschema_rs.__build__['info-time']))"


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_build_date_is_the_one_a_plain_import_gives() -> None:
    plain = _python(BUILD_DATE)
    through_kdocs = _python("import kdocs.schema.engine; " + BUILD_DATE)
    assert plain.startswith("datetime.datetime(")
    assert through_kdocs == plain


def test_email_utils_is_neither_imported_nor_left_replaced() -> None:
    out = _python(
        "import sys, kdocs.schema.validator; print('email.utils' in sys.modules); "
        "import email.utils as real; "
        "print(type(real).__name__, real.formatdate(0, usegmt=True))"
    )
    assert out.splitlines() == ["False", "module Thu, 01 Jan 1970 00:00:00 GMT"]


def test_a_real_email_utils_imported_before_is_kept() -> None:
    out = _python(
        "import sys, email.utils; real = sys.modules['email.utils']; "
        "import kdocs.schema.engine; print(sys.modules['email.utils'] is real)"
    )
    assert out == "True"


@pytest.mark.parametrize(
    "text",
    [
        "Tue, 27 Oct 2026 10:17:51 +0000",
        "Mon, 02 Feb 2026 23:59:59 +0530",
        "Sun, 9 Aug 2026 00:00:00 -0700",
        "Sat, 01 Jan 2000 12:00:00 -0000",  # email.utils: no zone, a naive datetime
        "Sat, 01 Jan 2000 12:00:00 GMT",  # a zone name: the real function reads it
        "1 Jan 2000 12:00:00 +0000",  # no weekday
    ],
)
def test_the_stand_in_parses_as_email_utils(text: str) -> None:
    assert engine.parsedate_to_datetime(text) == email.utils.parsedate_to_datetime(text)
    assert repr(engine.parsedate_to_datetime(text)) == repr(email.utils.parsedate_to_datetime(text))


@pytest.mark.parametrize("text", ["", "not a date", "Tue, 32 Oct 2026 10:17:51 +0000"])
def test_the_stand_in_fails_as_email_utils(text: str) -> None:
    with pytest.raises(Exception) as real:
        email.utils.parsedate_to_datetime(text)
    with pytest.raises(real.type):
        engine.parsedate_to_datetime(text)


def test_other_names_of_the_stand_in_come_from_the_real_module() -> None:
    stand_in = engine._StandIn("email.utils")
    assert stand_in.formatdate is email.utils.formatdate
    with pytest.raises(AttributeError):
        stand_in.__path__  # noqa: B018  (the import system must not see a package)
