"""`kdocs serve`: live preview re-validates edits and shows failures in the page."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable

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
