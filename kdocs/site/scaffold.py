"""`kdocs new guide NAME --category C`: a new guide that builds and tests as it is.

It writes the page (front matter and a first snippet call), a snippet folder
with a first snippet and a first scenario, and nothing else: the guide lists
and the tag index are generated from front matter, so there is no other file
to edit. Every file is checked before any is written, so a refused name
leaves the project as it was.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from kdocs.config import Settings
from kdocs.errors import Location, UnusableInputError
from kdocs.site.guides import GUIDES_FOLDER, TAG_INDEX

NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,50}[a-z0-9])?$")  # a URL part and a k8s name part

PAGE = """\
---
title: {title_yaml}
description: What a reader achieves with this guide, in one sentence.
{author}{tags}---

# {title}

Say what the reader will have at the end, and what they need before starting.

## A first step

Each YAML block is a file under `snippets/{name}/`, shown with the `snippet()` macro:

{{{{ snippet("{name}/settings.yaml") }}}}

The scenario `snippets/{name}/settings.scenario.yaml` proves on a cluster what this step
claims; `kdocs test snippets/{name}/` runs it and the badge above says it passed.
"""

SNIPPET = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-settings
data:
  greeting: hello
"""

# The assert expects the snippet itself: everything the reader copies is on the cluster.
SCENARIO = """\
name: {name}-settings
description: the guide's ConfigMap is accepted and holds the data the guide shows
steps:
  - apply: settings.yaml
  - assert:
      object:
{snippet}"""


def new_guide(
    settings: Settings,
    name: str,
    category: str,
    *,
    title: str | None = None,
    author: str | None = None,
) -> list[Path]:
    """Write the guide's files; refuse a bad or taken name before writing anything."""
    for label, value in (("guide name", name), ("category", category)):
        if not NAME.match(value):
            raise UnusableInputError(
                None,
                f"{label} {value!r} must be lowercase letters, digits and dashes"
                " (at most 52, starting and ending with a letter or digit)",
            )
    page = settings.docs_dir / GUIDES_FOLDER / category / f"{name}.md"
    folder = settings.snippets_dir / name
    for taken in (page, folder):
        if taken.exists():
            raise UnusableInputError(
                Location(str(taken.relative_to(settings.root))),
                f"already exists; choose another name for the guide {name!r}",
            )
    if author is not None and not re.match(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", author):
        raise UnusableInputError(None, f"--author {author!r} is not a GitHub login")
    title = title or name.replace("-", " ").capitalize()
    has_tag_index = (settings.docs_dir / TAG_INDEX).is_file()
    files = {
        page: PAGE.format(
            title=title,
            title_yaml=_yaml_text(title),
            name=name,
            author=f"author_github: https://github.com/{author}\n" if author else "",
            tags='tags: ["type: tutorial"]\n' if has_tag_index else "",
        ),
        folder / "settings.yaml": SNIPPET.format(name=name),
        folder / "settings.scenario.yaml": SCENARIO.format(
            name=name, snippet=textwrap.indent(SNIPPET.format(name=name), " " * 8)
        ),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def _yaml_text(value: str) -> str:
    """A title as a YAML scalar that stays text (`Yes`, `1.30` or `a: b` would not)."""
    return '"' + " ".join(value.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'
