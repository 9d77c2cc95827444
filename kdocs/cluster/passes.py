"""The Kubernetes-version passes of one `kdocs test` run, at the same time.

Orchestration only (threads, cancel switches, one lock for the results file); what a
pass does is the caller's (`kdocs.commands.test`), so this module knows no command line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kdocs.cluster.model import Outcome

T = TypeVar("T")


class Background(Generic[T]):
    """`function()` in a thread of its own from now on; `result()` waits for its value (or
    raises its error), from any thread. For work with no side effect: a daemon thread,
    so that Ctrl-C never waits for it."""

    def __init__(self, function: Callable[[], T]) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None

        def run() -> None:
            try:
                self._value = function()
            except BaseException as error:  # raised in the threads that ask for the result
                self._error = error

        self._thread = threading.Thread(target=run, name="background", daemon=True)
        self._thread.start()

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class Passes:
    """The version passes of one run, at the same time, each on its own cluster.

    A pass mostly waits (on controllers, Karpenter's batch window and drains), so
    two passes side by side take little more than one. The first runs in the main
    thread, so that Ctrl-C reaches its runner; it is passed on to the others through
    their cancel switches, and every pass cleans up before the run ends. An error
    in any pass (a cluster that cannot start) stops the others and is raised here.
    """

    def __init__(self, count: int) -> None:
        self.cancels = [threading.Event() for _ in range(count)]
        self.record_lock = threading.Lock()

    def all(
        self, one: Callable[[int], tuple[list[Outcome], str, bool]]
    ) -> list[tuple[list[Outcome], str, bool]]:
        count = len(self.cancels)
        results: list[Any] = [None] * count
        errors: list[BaseException | None] = [None] * count

        def run(number: int) -> None:
            try:
                results[number] = one(number)
            except Exception as error:  # raised in the main thread, after the others stopped
                errors[number] = error
                self.stop()

        others = [threading.Thread(target=run, args=(n,)) for n in range(1, count)]
        for thread in others:
            thread.start()
        try:
            run(0)
            if results[0] is not None and results[0][2]:  # the first pass was interrupted
                self.stop()
            _join(others, self.stop)
        except KeyboardInterrupt:  # outside a runner (a cluster starting): stop and clean up
            self.stop()
            _join(others, self.stop)
            raise
        failure = next((error for error in errors if error is not None), None)
        if failure is not None:
            raise failure
        return results

    def stop(self) -> None:
        for cancel in self.cancels:
            cancel.set()


def _join(threads: list[threading.Thread], stop: Callable[[], None]) -> None:
    """Wait for every pass to end; Ctrl-C stops them, and never abandons their cleanup."""
    for thread in threads:
        while thread.is_alive():
            try:
                thread.join()
            except KeyboardInterrupt:
                stop()
