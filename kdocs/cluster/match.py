"""Partial-object matching: does a live object contain what a scenario expects?

Like chainsaw's assertion trees: a mapping matches when every expected key
matches (extra keys in the live object are fine), a list matches element-wise
and must have the same length, a scalar must be equal. Because the API server
normalises what it stores, equality is lenient where the meaning is the same:
`"3"` and `3`, `true` and `"True"` (condition statuses), `1000m` and `1`.

One extension, because `status.conditions` and similar lists have no fixed
order or length: a key `conditions[type=Ready]` selects the one element of
`conditions` whose `type` is `Ready` and matches it against the value.

`null` expected means "absent or null". Every mismatch is reported as a JSON
path and both values ("status.numberReady: expected 3, got 2"), so a failed
step says exactly what differed.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

SELECTOR_KEY = re.compile(r"^(?P<name>[^\[\]=]+)\[(?P<field>[^\[\]=]+)=(?P<value>[^\[\]]*)\]$")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
_QUANTITY = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?P<suffix>[eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
}
_ABSENT = object()


def parse_quantity(value: Any) -> Fraction | None:
    """The exact value of a Kubernetes quantity (`100m`, `64Mi`, `1e3`, 2), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(value).limit_denominator(10**12)
    if not isinstance(value, str):
        return None
    found = _QUANTITY.match(value.strip())
    if found is None:
        return None
    number = Fraction(found.group("num"))
    suffix = found.group("suffix") or ""
    if suffix[:1] in ("e", "E"):
        return number * Fraction(10) ** int(suffix[1:])
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    return number * _DECIMAL[suffix]


def scalars_equal(expected: Any, actual: Any) -> bool:
    """Equal, or the same value written the way the API server writes it."""
    if expected == actual and type(expected) is type(actual):
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return _as_bool(expected) is not None and _as_bool(expected) == _as_bool(actual)
    left, right = parse_quantity(expected), parse_quantity(actual)
    if left is not None and right is not None:
        return left == right
    return False


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every way `actual` fails to contain `expected`, as "path: expected X, got Y" lines."""
    out: list[str] = []
    _compare(expected, actual, path, out)
    return out


def first_mismatch(expected: Any, actual: Any) -> str | None:
    """The first mismatch, or None when `actual` matches."""
    found = mismatches(expected, actual)
    return found[0] if found else None


def matches(expected: Any, actual: Any) -> bool:
    return not mismatches(expected, actual)


def _compare(expected: Any, actual: Any, path: str, out: list[str]) -> None:
    where = path or "(object)"
    if expected is None:
        if actual is not None and actual is not _ABSENT:
            out.append(f"{where}: expected nothing, got {show(actual)}")
        return
    if actual is _ABSENT or actual is None:
        out.append(f"{where}: expected {show(expected)}, got nothing (field absent)")
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append(f"{where}: expected a mapping, got {show(actual)}")
            return
        for key, value in expected.items():
            _compare_key(str(key), value, actual, path, out)
        return
    if isinstance(expected, list):
        if not isinstance(actual, list):
            out.append(f"{where}: expected a list, got {show(actual)}")
            return
        if len(expected) != len(actual):
            out.append(f"{where}: expected {len(expected)} items, got {len(actual)}")
            return
        for index, (want, have) in enumerate(zip(expected, actual, strict=True)):
            _compare(want, have, f"{path}[{index}]", out)
        return
    if not scalars_equal(expected, actual):
        out.append(f"{where}: expected {show(expected)}, got {show(actual)}")


def _compare_key(key: str, value: Any, actual: dict, path: str, out: list[str]) -> None:
    selector = SELECTOR_KEY.match(key)
    if selector is None or key in actual:
        _compare(value, actual.get(key, _ABSENT), join(path, key), out)
        return
    name, field_name, wanted = selector.group("name", "field", "value")
    where = f"{join(path, name)}[{field_name}={wanted}]"
    items = actual.get(name, _ABSENT)
    if not isinstance(items, list):
        if value is not None:
            out.append(f"{where}: expected an element, got nothing ({join(path, name)} absent)")
        return
    chosen = [i for i in items if isinstance(i, dict) and _text(i.get(field_name)) == wanted]
    if not chosen:
        if value is not None:
            out.append(f"{where}: expected an element, none has {field_name}={wanted}")
        return
    if len(chosen) > 1:
        out.append(f"{where}: expected one element, {len(chosen)} have {field_name}={wanted}")
        return
    _compare(value, chosen[0], where, out)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def join(path: str, key: str) -> str:
    """Append a key to a JSON path; keys like `app.kubernetes.io/name` are bracketed."""
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def show(value: Any, limit: int = 80) -> str:
    """A value as one short line of JSON."""
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
