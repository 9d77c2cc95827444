"""The site's schema checks in a child process, and the small verdicts it sends back.

Kept apart from `kdocs.schema.snippet` so that the process that renders the site
never imports the schema engine when the checks run in the forked child (see
`start_checks_apart` for when they do).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs.errors import ExitCode, KdocsError

if TYPE_CHECKING:
    from kdocs.schema.snippet import SchemaOutcome


# From this many files the checks run in a child (a site of ~100 pages and more) even on
# one CPU: the peak-memory goal is set at 500 pages (1,500 snippets), where the child keeps
# a full build's peak at an unchanged build's.
FORK_FROM = 300


@dataclass(frozen=True)
class Verdict:
    """What the site needs of a `SchemaOutcome`: small, and sent whole between processes."""

    valid: bool
    versions_passed: tuple[str, ...]
    first_error: str
    unusable: bool  # a limit crossed, a binary file: exit 2, not 1

    @classmethod
    def of(cls, outcome: SchemaOutcome) -> Verdict:
        """The verdict of a `kdocs.schema.snippet.check_snippet` outcome."""
        unusable = any(e.exit_code == ExitCode.UNUSABLE for e in outcome.report.errors)
        return cls(outcome.valid, outcome.versions_passed, outcome.first_error, unusable)


Verdicts = dict[Path, "Verdict | KdocsError"]


class StartedChecks:
    """Checks under way in a forked child, or to be made here when `result` is asked.

    The site build starts them before MkDocs cleans the site folder, lists the files and
    loads the theme (~0.15 s at 50 pages), and asks for the result after: with a second
    CPU the child's work is off the build's path. If the result is never asked (the build
    failed first), the child is killed and reaped when this object goes away.
    """

    def __init__(
        self, settings: Any, files: Sequence[tuple[Path, str]], child: _Child | None = None
    ) -> None:
        self._settings, self._files = settings, list(files)
        self._result: Verdicts | None = None
        self._child = child
        self._finalizer = weakref.finalize(self, child.kill) if child is not None else None

    def result(self) -> Verdicts:
        """The verdicts, waiting for the child if it runs; the same as `check_snippets`'."""
        if self._result is None:
            child, self._child = self._child, None
            if self._finalizer is not None:
                self._finalizer.detach()
            packed = child.wait() if child is not None else None
            # the child died (out of memory?) or never ran: here, with the same verdicts
            self._result = _unpacked(packed) if packed is not None else self._here()
            self._settings, self._files = None, []
        return self._result

    def cancel(self) -> None:
        """Stop the child, if any (the build failed before it needed the verdicts); `result`
        would then check here."""
        child, self._child = self._child, None
        if self._finalizer is not None:
            self._finalizer.detach()
        if child is not None:
            child.kill()

    def _here(self) -> Verdicts:
        return _here(self._settings, self._files)


def start_checks_apart(settings: Any, files: Sequence[tuple[Path, str]]) -> StartedChecks:
    """`check_snippets` started in a forked child that exits when done, where that pays.

    Two reasons to fork, each measured on generated sites (benchmarks/README.md):

    * Memory, from `FORK_FROM` files: Python and glibc keep most of what the checks
      allocated (documents, compiled schemas) as free space in this process, which a
      site build then grows on while it renders: on 500 pages a full build peaked at
      1.55x plain MkDocs with the checks done here, and near the unchanged build's peak
      with them done in a child.
    * Time, below it, only where another CPU is there to run the child: the build goes on
      while the child checks. Every page this process and the child share is copied when
      either writes it (~10,000 page faults for a site build's ~45 MiB), which on one CPU
      costs more than a small site's checks save in memory: there they run here.

    This module imports nothing of the schema engine: only the child loads it (and its
    ~4 MiB of compiled extensions). Where fork is missing or fails, the checks run here;
    the verdicts are the same. In a process with other threads (`kdocs serve`'s preview
    server) they run here too: a lock another thread holds at the fork stays held forever
    in the child, which would then wait on it with no end.
    """
    files = list(files)
    if not _fork_pays(len(files)):
        return StartedChecks(settings, files)
    return StartedChecks(settings, files, _Child.fork(lambda: _packed(_here(settings, files))))


def _fork_pays(count: int) -> bool:
    if not hasattr(os, "fork") or _threaded():
        return False
    return count >= FORK_FROM or _spare_cpu()


def _spare_cpu() -> bool:
    """Can a child run beside this process? (CPUs this process may use, not the machine's.)"""
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) > 1


class _Child:
    """A forked child that runs one function and sends its pickled result down a pipe."""

    def __init__(self, pid: int, source: int) -> None:
        self.pid, self._source = pid, source

    @classmethod
    def fork(cls, work: Any) -> _Child | None:
        """None where fork fails (the caller then works here)."""
        read_end, write_end = os.pipe()
        # Ctrl-C waits until the child exists (a signal inside fork is lost), then is this
        # process's to handle: the child ignores it and is killed when it must stop.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        # The child's garbage collections would write to every object it inherited and so
        # copy every page it shares with this process (measured: the child's proportional
        # size grew from ~25 to 56 MiB); frozen objects are never collected, nor touched.
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            gc.unfreeze()
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: never returns
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
                os.close(read_end)
                data = pickle.dumps(work())
                with os.fdopen(write_end, "wb") as out:
                    out.write(data)
                code = 0
            finally:
                os._exit(code)
        gc.unfreeze()
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(write_end)
        return cls(pid, read_end)

    def wait(self) -> Any:
        """The child's result; None if it died without one."""
        try:
            with os.fdopen(self._source, "rb") as source:
                self._source = -1
                data = source.read()
            _, status = os.waitpid(self.pid, 0)
        except BaseException:
            self.kill()
            raise
        self.pid = 0
        return pickle.loads(data) if status == 0 and data else None

    def kill(self) -> None:
        """Stop and reap the child (idempotent)."""
        if self._source >= 0:
            with contextlib.suppress(OSError):
                os.close(self._source)
            self._source = -1
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = 0


def _threaded() -> bool:
    import threading  # already loaded wherever another thread runs

    return threading.active_count() > 1


def _here(settings: Any, files: Sequence[tuple[Path, str]]) -> dict[Path, Verdict | KdocsError]:
    from kdocs.schema.snippet import check_snippets

    outcomes = check_snippets(settings, files)
    return {p: o if isinstance(o, KdocsError) else Verdict.of(o) for p, o in outcomes.items()}


def _packed(verdicts: dict[Path, Verdict | KdocsError]) -> dict[Path, Any]:
    """Errors as (class, location, reason): a KdocsError does not survive pickling as is."""
    return {
        p: (type(v), v.location, v.reason) if isinstance(v, KdocsError) else v
        for p, v in verdicts.items()
    }


def _unpacked(packed: dict[Path, Any]) -> dict[Path, Verdict | KdocsError]:
    out: dict[Path, Verdict | KdocsError] = {}
    for path, item in packed.items():
        if isinstance(item, tuple):
            cls, location, reason = item
            error = cls.__new__(cls)
            error.location, error.reason = location, reason
            Exception.__init__(error, str(error))
            item = error
        out[path] = item
    return out
