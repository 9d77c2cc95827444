"""The site's schema checks started in a child while the build goes on: the build does not
wait for the child until it asks for the verdicts, and a child whose verdicts are never
asked for (a failed build) is killed and reaped, never left behind."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kdocs import pipeline
from kdocs.config import load_settings
from kdocs.schema import apart
from tests.site.conftest import CONFIGMAP, Project


def _alive(pid: int) -> bool:
    """Is our child `pid` still running (not exited, or exited and not reaped)?"""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False  # reaped
    return done == 0


def _gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


@pytest.fixture
def files(project: Project) -> list[tuple[Path, str]]:
    assert threading.active_count() == 1, threading.enumerate()  # what a fork needs
    out = []
    for name in ("a.yaml", "b.yaml"):
        path = project.snippet(name, CONFIGMAP.replace("demo", name[0]))
        out.append((path, f"snippets/{name}"))
    return out


def _gated(opened: Path) -> object:
    """`apart._here` that first waits until `opened` exists (the parent decides when), at
    most a minute: a failing test never leaves a child waiting for ever."""
    here = apart._here

    def gated(settings, files):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + 60
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return here(settings, files)

    return gated


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    opened = tmp_path / "open"
    monkeypatch.setattr(apart, "_here", _gated(opened))
    monkeypatch.setattr(apart, "_spare_cpu", lambda: True)
    yield opened
    opened.touch()  # whatever the test did, a child left behind ends now


def test_the_caller_goes_on_while_the_child_checks(
    project: Project, files: list[tuple[Path, str]], gate: Path
) -> None:
    settings = load_settings(project.root)
    started = apart.start_checks_apart(settings, files)
    child = started._child
    assert child is not None, "a spare CPU and no thread: the checks run in a child"
    assert _alive(child.pid), "start returned before the child's checks could end"
    gate.touch()
    verdicts = started.result()
    assert set(verdicts) == {p for p, _ in files}
    assert all(isinstance(v, apart.Verdict) and v.valid for v in verdicts.values())
    assert not _alive(child.pid)
    assert started.result() is verdicts  # asked again: the same, no second child


@pytest.mark.parametrize("how", ["cancelled", "dropped"])
def test_a_child_whose_verdicts_are_never_asked_for_is_reaped(
    project: Project, files: list[tuple[Path, str]], gate: Path, how: str
) -> None:
    started = apart.start_checks_apart(load_settings(project.root), files)
    assert started._child is not None
    pid = started._child.pid
    assert _alive(pid)
    if how == "cancelled":
        started.cancel()
    else:
        del started
        gc.collect()
    assert _gone(pid), "the child is still there"
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped too: no zombie left


def test_one_cpu_checks_a_small_site_here(
    project: Project, files: list[tuple[Path, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apart, "_spare_cpu", lambda: False)
    started = apart.start_checks_apart(load_settings(project.root), files)
    assert started._child is None
    assert all(v.valid for v in started.result().values())  # type: ignore[union-attr]


def test_a_build_that_fails_before_the_verdicts_leaves_no_child(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    """MkDocs fails between the plugin's start (pre_build) and its wait (files): the
    plugin's build-error hook stops the child."""
    from mkdocs import exceptions
    from mkdocs.commands import build as mkdocs_build
    from mkdocs.config import load_config

    assert threading.active_count() == 1, threading.enumerate()
    for name in ("a.yaml", "b.yaml"):
        project.snippet(name, CONFIGMAP.replace("demo", name[0]))
    project.page("p.md", '# P\n\n{{ snippet("a.yaml") }}\n{{ snippet("b.yaml") }}\n')
    monkeypatch.setattr(pipeline, "_STATIC_CHECKS", {})
    monkeypatch.setattr(apart, "_spare_cpu", lambda: True)
    gate = tmp_path / "never"
    monkeypatch.setattr(apart, "_here", _gated(gate))

    def broken_listing(config):  # type: ignore[no-untyped-def]
        raise exceptions.BuildError("the docs folder went away")

    monkeypatch.setattr(mkdocs_build, "get_files", broken_listing)
    monkeypatch.chdir(project.root)
    # mkdocs-macros imports the project's `macros` package by name: this project's
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "macros", raising=False)
    config = load_config(str(project.root / "mkdocs.yml"), strict=True,
                         site_dir=str(tmp_path / "site"))  # fmt: skip
    try:
        with pytest.raises(exceptions.Abort):
            mkdocs_build.build(config)
        assert len(forks) == 1, "the checks started in a child before MkDocs listed its files"
        assert _gone(forks[0])
    finally:
        gate.touch()
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)
