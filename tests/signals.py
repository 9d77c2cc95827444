"""For tests that interrupt a child: start it with default signal dispositions.

A suite started in the background by a non-interactive shell inherits SIGINT
ignored, and a child inherits that too: Ctrl-C (SIGINT) would then never reach
the kdocs under test and the test would fail for a reason that is not kdocs's.
"""

from __future__ import annotations

import signal


def default_signals() -> None:
    """`preexec_fn` of Popen: SIGINT and SIGTERM as a terminal would deliver them."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
