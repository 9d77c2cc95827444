"""Plain YAML scalars resolved exactly the way `kubectl apply -f` resolves them.

kubectl turns YAML into JSON with sigs.k8s.io/yaml over go-yaml v2 and then
decodes numbers as int64 when they are whole (float64 otherwise). This module
gives the value that JSON ends up holding, so the schema stage validates what
kubectl sends. Where go-yaml v2 and YAML 1.1/1.2 (PyYAML, libyaml) disagree,
go-yaml wins (it is what the reader's kubectl runs):

* ``y Y yes on`` / ``n N no off`` (any case form go-yaml lists) are booleans;
  ``~ null`` and the empty scalar are null;
* integers follow Go's ``strconv.ParseInt(text, 0, 64)`` once ``_`` are removed:
  ``0x1F`` 31, ``0o17`` and ``017`` 15, ``0b101`` 5, ``+1`` 1;
* floats follow go-yaml's pattern (``1e3``, ``1.``, ``.5``); whole ones become
  integers the way kubectl's JSON round trip makes them (``1e3`` -> 1000);
* ``1:30`` (YAML 1.1 sexagesimal), dates and timestamps, ``=`` and a too-large
  ``1e400`` stay strings;
* mapping keys resolve like values and are then written as JSON keys the way
  sigs.k8s.io/yaml writes them (``yes:`` -> ``"true"``, ``0x1F:`` -> ``"31"``).

What kubectl cannot send, or sends in a way we cannot reproduce, is refused with
the scalar and how to quote it (`DocError`): ``.inf``/``.nan``, integers beyond
int64, null or fractional mapping keys, ``!!binary`` (kubectl decodes it).
"""

from __future__ import annotations

import re
from typing import Any

from yaml import events as ev

TAG_PREFIX = "tag:yaml.org,2002:"
INT64 = (-(2**63), 2**63 - 1)

_TRUE = ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")
_FALSE = ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")
_BOOL = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_INF_NAN = frozenset((".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                      "-.inf", "-.Inf", "-.INF"))  # fmt: skip
# A plain scalar is read as something other than its text only if it is one of these
# words or starts like a number (`plain`); any other one (`name`, `nginx`) is a string.
RESOLVED_WORDS = frozenset((*_BOOL, *_NULL, *_INF_NAN))
NUMBER_LIKE_START = frozenset("+-0123456789.")
_NUMBER_START = frozenset("+-0123456789")
_GO_INT = re.compile(
    r"(?P<sign>[-+]?)(?:0[xX](?P<hex>[0-9a-fA-F]+)|0[oO](?P<oct>[0-7]+)|0[bB](?P<bin>[01]+)"
    r"|(?P<zero>0[0-7]*)|(?P<dec>[1-9][0-9]*))\Z"
)
_GO_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")  # Go ParseFloat after a '.'
_BINARY_DIGITS = re.compile(r"[-+]?[01]+\Z")


class DocError(Exception):
    """A problem confined to one document: recorded, and the next document is read."""

    def __init__(self, where: Any, reason: str) -> None:
        super().__init__(reason)
        self.pos = where if isinstance(where, tuple) else (where.line + 1, where.column + 1)
        self.reason = reason


def _quote_hint(text: str) -> str:
    short = text if len(text) <= 40 else text[:37] + "..."
    return f"write it quoted ('{short}') to keep the text"


def _go_int(plain: str) -> int | None:
    """strconv.ParseInt(plain, 0, 64), or ParseUint for what only fits unsigned; None: neither."""
    found = _GO_INT.match(plain)
    if found is None:
        return None
    sign = -1 if found["sign"] == "-" else 1
    if found["hex"] is not None:
        return sign * int(found["hex"], 16)
    if found["oct"] is not None:
        return sign * int(found["oct"], 8)
    if found["bin"] is not None:
        return sign * int(found["bin"], 2)
    if found["zero"] is not None:
        return sign * int(found["zero"], 8)
    return sign * int(found["dec"])


def _json_number(value: float) -> int | float:
    """The number kubectl's JSON round trip gives: whole floats within int64 become ints."""
    if value.is_integer() and abs(value) < 1e21 and INT64[0] <= value <= INT64[1]:
        return int(value)
    return value


def _checked_int(value: int, text: str, mark: Any) -> int:
    if not INT64[0] <= value <= INT64[1]:
        raise DocError(
            mark,
            f"{text[:40]} is an integer beyond 64 bits, which kubectl sends rounded; "
            + _quote_hint(text),
        )
    return value


def plain(text: str, mark: Any) -> Any:
    """go-yaml v2's `resolve("", text)`, then kubectl's JSON round trip."""
    if text in _NULL:
        return None
    found = _BOOL.get(text)
    if found is not None:
        return found
    if text in _INF_NAN:
        raise DocError(
            mark, f"{text} is infinity or NaN, which kubectl cannot send; " + _quote_hint(text)
        )
    first = text[0]
    if first == ".":
        return _json_number(float(text)) if _DOT_FLOAT.match(text) else text
    if first not in _NUMBER_START:
        return text  # dates and timestamps, `1:30`, `=`: strings for kubectl too
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        return _checked_int(number, text, mark)
    if _GO_YAML_FLOAT.match(plain):
        value = float(plain)
        if value in (float("inf"), float("-inf")):
            return text  # Go's ParseFloat fails on overflow: go-yaml keeps the text
        return _json_number(value)
    if plain.startswith("0b") and _BINARY_DIGITS.match(plain[2:]):
        return _checked_int(int(plain[2:], 2), text, mark)  # go-yaml's own 0b fallback
    return text


def resolve(event: ev.ScalarEvent) -> Any:
    """The JSON value kubectl sends for a scalar node (a mapping value or list item)."""
    text, tag = event.value, event.tag
    if tag is None:
        if not event.implicit[0]:
            return text  # quoted, or a block scalar
        if text and text[0] not in NUMBER_LIKE_START and text not in RESOLVED_WORDS:
            return text
        return plain(text, event.start_mark)
    if tag == "!" or not tag.startswith(TAG_PREFIX):
        if tag != "!":  # go-yaml keeps the text of a local tag; we refuse to guess its intent
            raise DocError(event.start_mark, f"unsupported YAML tag {tag}")
        return text
    return _tagged(tag[len(TAG_PREFIX) :], text, event.start_mark)


def _tagged(short: str, text: str, mark: Any) -> Any:
    if short in ("str", "timestamp"):
        return text
    if short == "binary":
        raise DocError(
            mark, "!!binary: kubectl decodes the base64 into text; write the value without the tag"
        )
    value = plain(text, mark) if text else None
    if short == "null" and value is None:
        return None
    if short == "bool" and isinstance(value, bool):
        return value
    if short == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if short == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return _json_number(float(value))
    raise DocError(mark, f"{text[:40]!r} is not a valid !!{short}")


def key(event: ev.ScalarEvent) -> str:
    """A mapping key as the JSON key kubectl sends: sigs.k8s.io/yaml's key conversion."""
    text = event.value
    if event.tag is None and (
        not event.implicit[0]
        or (text and text[0] not in NUMBER_LIKE_START and text not in RESOLVED_WORDS)
    ):
        return text
    if event.tag is None and text in _INF_NAN:  # Go's float key strings
        lowered = text.lower()
        return ".nan" if lowered == ".nan" else "-.inf" if lowered[0] == "-" else ".inf"
    value = resolve(event)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) and _is_integer_text(text):
        return str(value)
    what = "null" if value is None else f"the number {text}"
    raise DocError(
        event.start_mark,
        f"{what} as a mapping key: kubectl turns it into a JSON key its own way; "
        + _quote_hint(text),
    )


def _is_integer_text(text: str) -> bool:
    """Did go-yaml read an int (not a float that happens to be whole, like 1e3)?"""
    plain = text.replace("_", "")
    return _go_int(plain) is not None or (
        plain.startswith("0b") and _BINARY_DIGITS.match(plain[2:]) is not None
    )
