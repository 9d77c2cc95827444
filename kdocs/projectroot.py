"""Which folder is the kdocs project: the one rule, with os calls only.

A leaf module: `kdocs.config` and the resident validator's client both use it, and the
client's fast path must not import pathlib or tomllib. The marker is searched as bytes,
so a pyproject.toml that is not UTF-8 is still found (and then refused by the settings
reader with its file and line) instead of being skipped by one caller and crashing the
other.
"""

from __future__ import annotations

import os

MARKER = b"[tool.kdocs]"


def find_project_root(start: str) -> str | None:
    """The nearest real folder at or above `start` whose pyproject.toml holds [tool.kdocs]."""
    folder = os.path.realpath(start)
    while True:
        try:
            with open(os.path.join(folder, "pyproject.toml"), "rb") as handle:
                if MARKER in handle.read():
                    return folder
        except OSError:  # absent, a folder, unreadable: not this level's project
            pass
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
