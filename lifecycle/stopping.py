"""Stopping a step, or the orchestrator, when it is told to or when whatever started it
stops.

SIGTERM is turned into the same stop as Ctrl-C (``KeyboardInterrupt``): a step removes
what it wrote and its run ends FAILED with the signal as its ``failure_reason``; the
orchestrator cancels its running step processes. ``mlflow run`` passes on neither
SIGTERM nor SIGKILL to the command it starts, so a daemon thread watches the process
that started this one (past the shell ``mlflow run`` uses) and sends that SIGTERM itself
once the launcher is gone, a zombie included.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the run as Ctrl-C does."""
    name = signal.Signals(signum).name
    raise KeyboardInterrupt(_STOP_REASON.get("reason") or f"stopped by {name}")


_STOP_REASON: dict[str, str] = {}
SHELLS = frozenset({"bash", "sh", "dash", "zsh"})
WATCH_SECONDS = 0.5


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(command name, parent pid, start time) of a live process; None once it is gone
    or a zombie (dead, waiting for its own parent to reap it)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return name, int(fields[1]), fields[19]


def launcher() -> tuple[int, str] | None:
    """The process that started this one, as (pid, start time): the parent, or under
    ``mlflow run`` the first ancestor that is not the shell MLflow runs the command in."""
    pid = os.getppid()
    under_mlflow_run = "MLFLOW_RUN_ID" in os.environ
    for _ in range(8):  # a few shells at most
        stat = _stat(pid)
        if stat is None or pid <= 1:
            return None
        name, parent, started = stat
        if not (under_mlflow_run and name in SHELLS):
            return pid, started
        pid = parent
    return None


def watch_launcher(target: tuple[int, str], on_death: Callable[[int], None]) -> threading.Thread:
    """A daemon thread that calls ``on_death`` once the launcher is gone (killed, even by
    SIGKILL, which ``mlflow run`` cannot pass on). It checks every ``WATCH_SECONDS``."""
    pid, started = target

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            stat = _stat(pid)
            if stat is None or stat[2] != started:
                on_death(pid)
                return

    thread = threading.Thread(target=watch, name="launcher-watchdog", daemon=True)
    thread.start()
    return thread


def stop_on_signals() -> None:
    """SIGTERM and SIGINT stop the process as Ctrl-C does, with a reason that names the
    signal."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)


def stop_when_launcher_goes(what: str) -> None:
    """Watch the process that started this one, if there is one, and stop (as SIGTERM
    does) once it is gone; ``what`` names this process in the reason."""

    def stop_because_launcher_died(pid: int) -> None:
        reason = f"the process that started {what} (pid {pid}) is gone"
        logger.error("%s: stopping", reason)
        _STOP_REASON["reason"] = reason
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, _interrupt)
    started_by = launcher()
    if started_by is not None:
        watch_launcher(started_by, stop_because_launcher_died)


def stop_with_launcher(what: str = "the orchestrator") -> None:
    """Turn SIGTERM into a stop, and watch the launcher if there is one."""
    signal.signal(signal.SIGTERM, _interrupt)
    stop_when_launcher_goes(what)
