"""`kdocs serve`: live preview re-validates edits and shows failures in the page."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.site.conftest import CONFIGMAP, Project


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, condition: Callable[[str], bool], deadline_s: float = 60) -> str:
    """Poll `url` until its body satisfies `condition`; return the last body seen."""
    body = ""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                body = answer.read().decode()
            if condition(body):
                return body
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.3)
    return body


def test_preview_shows_an_error_box_then_the_fixed_snippet(project: Project) -> None:
    path = project.snippet("cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kdocs.cli", "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=project.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/p/"
    try:
        body = wait_for(url, lambda b: "kdocs-badges" in b)
        assert "greeting" in body and "kdocs-error" not in body

        path.write_text(CONFIGMAP.replace("\ndata:", "\ndta:"))
        body = wait_for(url, lambda b: "kdocs-error" in b)
        assert "kdocs-error" in body
        assert "cm.yaml:5:1" in body and "dta" in body

        path.write_text(CONFIGMAP.replace("hello", "bonjour"))
        body = wait_for(url, lambda b: "bonjour" in b)
        assert "bonjour" in body and "kdocs-error" not in body
    finally:
        server.terminate()
        server.wait(timeout=30)


def lines_of(log: Path, needle: str) -> list[str]:
    return [line for line in log.read_text().splitlines() if needle in line]


def test_preview_survives_template_and_front_matter_errors(project: Project, tmp_path) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("tags.md", "# Tags\n\n{{ tag_index() }}\n")
    front = "---\ntitle: P\ntags: [a]\n---\n\n"
    good = front + '# P\n\n{{ snippet("cm.yaml") }}\n'
    page = project.page("p.md", good)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "kdocs.cli", "serve", "--dev-addr", f"127.0.0.1:{port}"],
            cwd=project.root, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/p/"
    try:
        assert "kdocs-badges" in wait_for(url, lambda b: "kdocs-badges" in b)

        # A misspelled macro name: mkdocs-macros alone would exit the whole server.
        page.write_text(good.replace("snippet(", "snipet("))
        body = wait_for(url, lambda b: "kdocs-error" in b)
        expected = "docs/p.md:8: template error: 'snipet' is undefined (did you mean 'snippet'?)"
        assert expected in body
        assert wait_for_line(log, expected) == [f"kdocs: {expected}"]
        assert server.poll() is None

        # A front matter error shows above the page; the rest of the page still renders.
        page.write_text(good.replace("tags: [a]", "tags: a"))
        body = wait_for(url, lambda b: "tags must be a list" in b)
        assert "docs/p.md:3: tags must be a list of texts" in body and "kdocs-badges" in body
        assert wait_for_line(log, "docs/p.md:3: tags must be a list of texts")

        # A snippet error: the box in the page, the same line (with the page line) in the terminal.
        page.write_text(good.replace("cm.yaml", "cn.yaml"))
        body = wait_for(url, lambda b: "does not exist" in b)
        assert wait_for_line(log, "kdocs: docs/p.md:8: snippet 'cn.yaml'")

        page.write_text(good)
        body = wait_for(url, lambda b: "kdocs-badges" in b and "kdocs-error" not in b)
        assert "kdocs-badges" in body and "kdocs-error" not in body
        assert server.poll() is None
        assert "Traceback" not in log.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)


def wait_for_line(log: Path, needle: str, deadline_s: float = 30) -> list[str]:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and not lines_of(log, needle):
        time.sleep(0.2)
    return lines_of(log, needle)
