"""For tests that interrupt a child: start it with default signal dispositions.

A suite started in the background by a non-interactive shell inherits SIGINT
ignored, and a child inherits that too: Ctrl-C (SIGINT) would then never reach
the kdocs under test and the test would fail for a reason that is not kdocs's.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator


def default_signals() -> None:
    """`preexec_fn` of Popen: SIGINT and SIGTERM as a terminal would deliver them."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


@contextlib.contextmanager
def reaped(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """The process never outlives the block, whatever the test found."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def interrupt(proc: subprocess.Popen[str], signum: int, timeout: float = 300) -> str:
    """Send `signum` and wait for the end; stderr, after checking it ended as interrupted."""
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 130, stderr
    assert "kdocs: interrupted" in stderr and "Traceback" not in stderr
    return stderr
