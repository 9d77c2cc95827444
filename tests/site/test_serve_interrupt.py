"""`kdocs serve` stopped with Ctrl-C or SIGTERM ends with exit code 130, like every command.

MkDocs' serve catches KeyboardInterrupt itself and returns normally; the exit
code must still say the preview was interrupted (the README promises 130).
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.signals import default_signals, interrupt, reaped
from tests.site.conftest import CONFIGMAP, Project
from tests.site.test_serve import free_port, wait_for


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_preview_exits_130(project: Project, signum: signal.Signals) -> None:
    project.snippet("cm.yaml", CONFIGMAP)
    project.page("p.md", '# P\n\n{{ snippet("cm.yaml") }}\n')
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "kdocs.cli", "serve", "--dev-addr", f"127.0.0.1:{port}"],
        cwd=project.root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=default_signals,
    )  # fmt: skip
    with reaped(server):
        assert "kdocs-badges" in wait_for(f"http://127.0.0.1:{port}/p/", lambda b: "kdocs" in b)
        interrupt(server, signum, timeout=60)
