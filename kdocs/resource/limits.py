"""What one file may cost to read: the bounds every stage reads YAML under.

One set of limits for `kdocs validate`, `kdocs test`, `kdocs build` and `kdocs serve`,
so a file refused by one is refused by all (see `kdocs.resource.manifest` for what
each limit counts).
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on what one file may cost to read (see `kdocs.resource.manifest`)."""

    max_bytes: int = 5 * MiB
    max_depth: int = 100
    max_documents: int = 1000
    max_nodes: int = 1_000_000
    max_alias_nodes: int = 10_000


DEFAULT_LIMITS = Limits()
