"""The site's schema checks in a child process, and the small verdicts it sends back.

Kept apart from `kdocs.schema.snippet` so that the process that renders a large
site never imports the schema engine: only the forked child does (a small site's
checks run in-process, see `FORK_FROM`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kdocs.errors import ExitCode, KdocsError

if TYPE_CHECKING:
    from kdocs.schema.snippet import SchemaOutcome


# From this many files the checks run in a child (a site of ~100 pages and more): the
# peak-memory goal is set at 500 pages (1,500 snippets), where the child keeps a full
# build's peak at an unchanged build's.
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


def check_snippets_apart(
    settings: Any, files: Sequence[tuple[Path, str]]
) -> dict[Path, Verdict | KdocsError]:
    """`check_snippets` in a forked child that exits when done, for its memory.

    Python and glibc keep most of what the checks allocated (documents, compiled
    schemas) as free space in this process, which a site build then grows on while it
    renders: measured on 500 pages, a full build peaked at 1.55x plain MkDocs with the
    checks done here, and near the unchanged build's peak with them done in a child.
    This module imports nothing of the schema engine: only the child loads it (and its
    ~4 MiB of compiled extensions).
    Where fork is missing or fails, the checks run here; the verdicts are the same.

    In a process with other threads (`kdocs serve`'s preview server) they run here too:
    a lock another thread holds at the fork stays held forever in the child, which would
    then wait on it with no end (and Python 3.12 warns about such forks).

    Below `FORK_FROM` files they run here as well: forking is not free. Every page this
    process and the child share is copied when either writes it (~10,000 page faults
    for a site build's ~45 MiB, measured at 1 and 50 pages), which costs more CPU than
    the small site's checks save in memory (~8 MiB of peak, at 1 and at 50 pages).
    """
    if len(files) < FORK_FROM or not hasattr(os, "fork") or _threaded():
        return _here(settings, files)
    read_end, write_end = os.pipe()
    # Ctrl-C waits until the child exists (a signal inside fork is lost), then is this
    # process's to handle: the child ignores it and is killed below.
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
        return _here(settings, files)
    if pid == 0:  # the child: never returns
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            os.close(read_end)
            data = pickle.dumps(_packed(_here(settings, files)))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
            code = 0
        finally:
            os._exit(code)
    gc.unfreeze()
    signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as source:
            data = source.read()
        _, status = os.waitpid(pid, 0)
    except BaseException:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        raise
    if status != 0 or not data:  # the child died (out of memory?): do it here
        return _here(settings, files)
    return _unpacked(pickle.loads(data))


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
