# Generated from lifecycle/stop.py by python -m lifecycle.sync; edit the source.
"""A stop that was asked for, and the safe points where the work acts on it.

Whatever asks for a stop (a signal handler, the watchdog of the process that started
this one, a test) calls ``request(reason)``: it records the reason and returns, cutting
nothing where it lands. The work raises the stop at its safe points, ``point()``: after
a step's parameters are checked (``checkpoint``), between score chunks, per tuning
trial, per backtest fold, between registry writes. A store call or a file write is
never cut in half, so a stopped step can always record why it stopped.

The stop is raised as ``Stopped``, a ``KeyboardInterrupt``: code that cleans up after
any failure (``except BaseException``) does, and a process that lets it escape exits
130, as after Ctrl-C. Work that waits on something that cannot reach a safe point (a
Spark job) registers a canceller with ``on_stop``; it runs once, in a companion thread,
when the stop is asked for.

The first reason wins: a second or third request (Ctrl-C reaches ``mlflow run`` and the
step, and ``mlflow run`` then sends the step SIGTERM) is absorbed. Standard library only.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

POLL_SECONDS = 0.1

# Set from a signal handler in the main thread: only ``is_set`` is ever called there, so
# the handler never waits for a lock the interrupted code holds.
_REQUESTED = threading.Event()
_REASON: list[str] = []


class Stopped(KeyboardInterrupt):
    """The stop, raised at a safe point; its text is the reason."""


def request(reason: str) -> None:
    """Ask for a stop, for ``reason``; the first request's reason is kept."""
    if not _REASON:
        _REASON.append(reason)
    _REQUESTED.set()


def requested() -> bool:
    """Whether a stop has been asked for."""
    return _REQUESTED.is_set()


def reason() -> str:
    """Why the stop was asked for ("" when none was)."""
    return _REASON[0] if _REASON else ""


def point() -> None:
    """A safe point: raise ``Stopped`` if a stop has been asked for."""
    if _REQUESTED.is_set():
        raise Stopped(reason())


def sleep(seconds: float) -> None:
    """Wait ``seconds``, acting on a stop as soon as one is asked for."""
    deadline = time.monotonic() + seconds
    while True:
        point()
        left = deadline - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(POLL_SECONDS, left))


def on_stop(cancel: Callable[[], None], name: str = "stop-canceller") -> threading.Thread:
    """Run ``cancel`` once, in a daemon thread, as soon as a stop is asked for (at once
    if one has been). What it raises is dropped: the stop itself is being reported."""

    def wait_then_cancel() -> None:
        _REQUESTED.wait()
        with contextlib.suppress(Exception):  # its target may be gone already
            cancel()

    thread = threading.Thread(target=wait_then_cancel, name=name, daemon=True)
    thread.start()
    return thread


def reset() -> None:
    """Forget any stop (for a process that goes on to new work, such as a test)."""
    _REASON.clear()
    _REQUESTED.clear()
