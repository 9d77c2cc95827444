"""How a list of Kubernetes versions is said in one short phrase: `1.30-1.37` or `1.30, 1.33`.

A leaf: the schema stage (terminal lines) and the site (badges, page
variables) both say it, so the rule lives where both reach it without either
importing the other; only the dash differs (ASCII in a terminal, an en dash on
the page).
"""

from __future__ import annotations

from collections.abc import Sequence


def version_span(versions: Sequence[str], dash: str = "-") -> str:
    """`1.30-1.37` for three or more consecutive minors of one major, else the sorted list."""
    if not versions:
        return "none"
    ordered = sorted(versions, key=_key)
    keys = [_key(v) for v in ordered]
    consecutive = all(
        later[0] == earlier[0] and later[1] == earlier[1] + 1
        for earlier, later in zip(keys, keys[1:], strict=False)
    )
    if len(ordered) > 2 and consecutive:
        return f"{ordered[0]}{dash}{ordered[-1]}"
    return ", ".join(ordered)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
