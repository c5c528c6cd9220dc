# Generated from lifecycle/step/signals.py by python -m lifecycle.sync; edit the source.
"""Where a stop comes from: SIGTERM and SIGINT, and the end of the process that started
this one. Each is recorded as a stop (``lifecycle.stop.request``) and nothing more: the
handler returns at once, and the work acts on the stop at its next safe point, so no
call (a store write, a file write) is ever cut in half.

``mlflow run`` passes on neither SIGTERM nor SIGKILL to the command it starts. Under
``mlflow run``, a daemon thread watches the process that started this one (past the
shell ``mlflow run`` uses) and asks for the stop itself once that process is gone, a
zombie included. On Ctrl-C the terminal sends SIGINT to ``mlflow run`` and its step
alike, and ``mlflow run`` then sends the step SIGTERM: the first signal is the reason,
the others are absorbed.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from lifecycle import processes, stop

logger = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)
SHELLS = frozenset({"bash", "sh", "dash", "zsh"})
WATCH_SECONDS = 0.5


def _record(signum: int, frame: FrameType | None) -> None:
    """The handler: record the stop, and return."""
    stop.request(f"stopped by {signal.Signals(signum).name}")


def listen() -> None:
    """SIGTERM and SIGINT ask for a stop. Handlers belong to the main thread; elsewhere
    this does nothing."""
    if threading.current_thread() is threading.main_thread():
        for signum in SIGNALS:
            signal.signal(signum, _record)


def launcher() -> tuple[int, str] | None:
    """The process that started this one, as (pid, start time): the parent, or under
    ``mlflow run`` the first ancestor that is not the shell MLflow runs the command in."""
    pid = os.getppid()
    under_mlflow_run = "MLFLOW_RUN_ID" in os.environ
    for _ in range(8):  # a few shells at most
        found = processes.stat(pid)
        if found is None or not found.alive or pid <= 1:
            return None
        if not (under_mlflow_run and found.name in SHELLS):
            return pid, found.start_time
        pid = found.parent
    return None


def watch_launcher(target: tuple[int, str], on_death: Callable[[int], None]) -> threading.Thread:
    """A daemon thread that calls ``on_death`` once the launcher is gone (killed, even by
    SIGKILL, which ``mlflow run`` cannot pass on). It checks every ``WATCH_SECONDS``."""
    pid, started = target

    def watch() -> None:
        while processes.is_running(pid, started):
            time.sleep(WATCH_SECONDS)
        on_death(pid)

    thread = threading.Thread(target=watch, name="launcher-watchdog", daemon=True)
    thread.start()
    return thread


def stop_with_launcher(what: str) -> None:
    """Listen for SIGTERM and SIGINT and, under ``mlflow run``, watch the process that
    started this one: once it is gone, ask for the stop; ``what`` names this process in
    the reason."""

    def launcher_gone(pid: int) -> None:
        reason = f"the process that started {what} (pid {pid}) is gone"
        logger.warning("%s: stopping", reason)
        stop.request(reason)

    listen()
    if "MLFLOW_RUN_ID" not in os.environ:
        return
    started_by = launcher()
    if started_by is not None:
        watch_launcher(started_by, launcher_gone)
