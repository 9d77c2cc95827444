"""Plain YAML scalars resolved the way `kubectl apply -f` resolves them.

kubectl reads YAML with go-yaml v2 (through sigs.k8s.io/yaml), so this module
follows go-yaml v2, not PyYAML, where they differ.
"""

from __future__ import annotations

import math
import re
from typing import Any

from yaml import events as ev

_BOOL = {
    "yes": True, "Yes": True, "YES": True, "true": True, "True": True, "TRUE": True,
    "on": True, "On": True, "ON": True, "no": False, "No": False, "NO": False,
    "false": False, "False": False, "FALSE": False, "off": False, "Off": False, "OFF": False,
}  # fmt: skip
_NULL = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)\Z")
_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?\Z"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+\Z|[-+]?\.(?:inf|Inf|INF)\Z|\.(?:nan|NaN|NAN)\Z"
)
_NUMBER_START = frozenset("-+.0123456789")
TAG_PREFIX = "tag:yaml.org,2002:"


class DocError(Exception):
    """A problem confined to one document: recorded, and the next document is read."""

    def __init__(self, where: Any, reason: str) -> None:
        super().__init__(reason)
        self.pos = where if isinstance(where, tuple) else (where.line + 1, where.column + 1)
        self.reason = reason


def _to_int(text: str, mark: Any) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    base = 10
    if digits[:2] in ("0b", "0x", "0o"):
        base, digits = {"b": 2, "x": 16, "o": 8}[digits[1]], digits[2:]
    elif len(digits) > 1 and digits[0] == "0" and digits.isdigit() and max(digits) < "8":
        base = 8
    try:
        return sign * int(digits, base)
    except ValueError:  # no digits left, or more than Python's int-to-str limit
        raise DocError(mark, f"{text[:40]!r} is not an integer JSON can hold") from None


def _to_float(text: str, mark: Any) -> float:
    lowered = text.lower()
    if "inf" in lowered or "nan" in lowered:
        raise DocError(mark, f"{text!r} is not a number JSON can hold (infinity or NaN)")
    value = float(text.replace("_", ""))
    if math.isinf(value):
        raise DocError(mark, f"{text[:40]!r} is too large for a JSON number")
    return value


def scalar(event: ev.ScalarEvent) -> Any:
    text, tag = event.value, event.tag
    if tag is None or tag == "!":
        if not event.implicit[0] or tag == "!":
            return text  # quoted, or a block scalar
        if text in _NULL:
            return None
        if text in _BOOL:
            return _BOOL[text]
        if text[0] in _NUMBER_START:
            if _INT.match(text):
                return _to_int(text, event.start_mark)
            if _FLOAT.match(text):
                return _to_float(text, event.start_mark)
        return text
    if not tag.startswith(TAG_PREFIX):
        raise DocError(event.start_mark, f"unsupported YAML tag {tag}")
    short = tag[len(TAG_PREFIX) :]
    if short in ("str", "binary", "timestamp"):
        return text
    if short == "null" and text in _NULL:
        return None
    if short == "bool" and text in _BOOL:
        return _BOOL[text]
    if short == "int" and _INT.match(text):
        return _to_int(text, event.start_mark)
    if short == "float" and (_FLOAT.match(text) or _INT.match(text)):
        return _to_float(text, event.start_mark)
    raise DocError(event.start_mark, f"{text[:40]!r} is not a valid !!{short}")
