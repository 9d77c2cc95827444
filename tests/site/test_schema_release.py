"""A full build drops its compiled schemas once every page's snippets are checked.

Held to the end, the 8 versions' schemas and validators (~50 MiB) added to the
pages MkDocs keeps until it writes the search index (benchmarks/README.md,
peak memory goal). Checked here by what the schema stage holds after a build.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kdocs import pipeline
from kdocs.schema import api
from tests.site.conftest import CONFIGMAP, Project
from tests.site.test_literal_calls import _build


def test_a_full_build_releases_the_schemas_it_compiled(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("page.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    held: list[int] = []
    engine_for = api.engine_for

    def compiling(*args, **kwargs):  # type: ignore[no-untyped-def]
        engine = engine_for(*args, **kwargs)
        held.append(api.cached_engines())
        return engine

    monkeypatch.setattr(pipeline, "_STATIC_CHECKS", {})  # no verdict kept by another test
    monkeypatch.setattr(api, "engine_for", compiling)
    monkeypatch.setattr("kdocs.schema.snippet.engine_for", compiling)
    api.release_engines()
    _build(project.root, tmp_path / "site", monkeypatch)
    assert held and held[0] == 1  # the snippet was validated: an engine was compiled
    assert api.cached_engines() == 0
