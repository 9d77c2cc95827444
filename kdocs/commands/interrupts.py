"""Ctrl-C and SIGTERM for every subcommand: both raise KeyboardInterrupt, so both run
the same cleanup, and `interrupted` remembers them for the exit code (130).

Apart from `kdocs/cli.py`, which imports it only once the resident validator's fast
path has declined (signal and threading import enum: ~10 ms of every call).
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

interrupted = threading.Event()
_fork_hook_registered = False


def _defaults_in_child() -> None:
    """In a forked child, kdocs's handlers give way to the defaults (pool.terminate() works)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if getattr(handler, "__name__", "") == "on_interrupt":
            signal.signal(signum, signal.SIG_DFL)


def handle_interrupts() -> dict[int, Any]:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt, so both run the same cleanup, and are
    remembered, so the exit code is 130 even where a library swallowed the exception.

    A second SIGTERM is ignored while that cleanup runs (a half-done cleanup is what leaves
    a kube-apiserver behind; SIGKILL still stops at once). A signal this process started
    with ignored (a background job's SIGINT) stays ignored. Returns the handlers replaced.
    """

    owner = os.getpid()

    def on_interrupt(signum: int, _frame: object) -> None:
        if os.getpid() != owner:  # a forked worker (pool.terminate()): die as if untouched
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        interrupted.set()
        if signum == signal.SIGTERM:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    global _fork_hook_registered
    if not _fork_hook_registered:  # a forked worker must die of SIGTERM at once, as by default
        os.register_at_fork(after_in_child=_defaults_in_child)
        _fork_hook_registered = True
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        try:
            previous[signum] = signal.signal(signum, on_interrupt)
        except ValueError:  # not the main thread (kdocs.cli.main called from a test's thread)
            break
    return previous
