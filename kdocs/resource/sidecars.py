"""Where a fragment's embed sidecar is (`x.yaml` -> `x.embed.yaml`), found by name alone.

A build asks this of every snippet to key its kept verdicts, so it imports nothing
of the YAML reader: the sidecar is read and merged only when a check runs
(`kdocs.resource.embed`).
"""

from __future__ import annotations

import os
from pathlib import Path

EMBED_SUFFIXES = (".embed.yaml", ".embed.yml")


def spec_path(fragment: Path) -> Path | None:
    """The sidecar of `fragment`, if it has one."""
    # os.path, not pathlib: this runs once per file validated (~5 % of a large run)
    folder, base = os.path.split(os.fspath(fragment))
    stem = base.rsplit(".", 1)[0]
    for suffix in EMBED_SUFFIXES:
        if os.path.isfile(os.path.join(folder, stem + suffix)):
            return fragment.with_name(stem + suffix)
    return None
