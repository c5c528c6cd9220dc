# Generated from lifecycle/stopping.py by python -m lifecycle.sync; edit the source.
"""Stopping a step, or the orchestrator, when it is told to or when whatever started it
stops.

SIGTERM is turned into the same stop as Ctrl-C (``KeyboardInterrupt``): a step removes
what it wrote and its run ends FAILED with the signal as its ``failure_reason``; the
orchestrator cancels its running step processes. ``mlflow run`` passes on neither
SIGTERM nor SIGKILL to the command it starts, so a daemon thread watches the process
that started this one (past the shell ``mlflow run`` uses) and sends that SIGTERM itself
once the launcher is gone, a zombie included.

A stop never cuts a store call in half. ``KeyboardInterrupt`` is not an ``Exception``, so
MLflow's database store does not roll back when one is raised inside it: the connection
can keep SQLite's write lock, and the step then cannot record why it stopped, leaving
its run RUNNING. A signal that arrives while the main thread is inside SQLAlchemy or one
of MLflow's database stores is held: a profile hook (``sys.setprofile``, this thread
only, removed as soon as it fires) raises the stop as the outermost store call returns,
into the code that called it. A store call that has not returned within
``DEFER_LIMIT_SECONDS`` is stopped where it is.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import NoReturn

logger = logging.getLogger(__name__)


_STOP_REASON: dict[str, str] = {}
# What a stop must not interrupt: SQLAlchemy, alembic (MLflow migrates its schema with
# it), and MLflow's database stores (``mlflow.store.db.utils``,
# ``mlflow.store.tracking.sqlalchemy_store``, ``…dbmodels.models``, ``db_migrations``).
UNINTERRUPTIBLE_PACKAGES = frozenset({"sqlalchemy", "alembic"})
MLFLOW_STORES = "mlflow.store."
MLFLOW_DATABASE_PARTS = frozenset({"db", "dbmodels", "db_migrations"})
MLFLOW_DATABASE_PREFIX = "sqlalchemy"
MAX_FRAMES = 500  # deeper than any call stack a step reaches
DEFER_LIMIT_SECONDS = 30.0


@dataclass
class _HeldStop:
    """A stop that arrived inside a store call, raised once the call has returned."""

    reason: str
    since: float
    store_call: FrameType  # the outermost store frame: the stop is raised as it returns


_HELD: list[_HeldStop] = []  # at most one


def is_store_module(module: str) -> bool:
    """Whether the module named ``module`` belongs to SQLAlchemy, alembic or one of
    MLflow's database stores."""
    if module.split(".", 1)[0] in UNINTERRUPTIBLE_PACKAGES:
        return True
    if not module.startswith(MLFLOW_STORES):
        return False
    parts = module.split(".")[2:]
    return any(
        part in MLFLOW_DATABASE_PARTS or part.startswith(MLFLOW_DATABASE_PREFIX) for part in parts
    )


def outermost_store_call(frame: FrameType | None) -> FrameType | None:
    """The outermost frame, ``frame`` or one that called it, that runs in a store
    module (``is_store_module``); None if there is none."""
    outermost = None
    for _ in range(MAX_FRAMES):
        if frame is None:
            break
        if is_store_module(str(frame.f_globals.get("__name__", ""))):
            outermost = frame
        frame = frame.f_back
    return outermost


def _release(held: _HeldStop) -> NoReturn:
    """Raise the held stop, removing the profile hook first. A profiler that was set
    before the stop is not put back: the process is stopping."""
    _HELD.clear()
    sys.setprofile(None)
    raise KeyboardInterrupt(held.reason)


def _raise_as_store_call_returns(frame: FrameType, event: str, arg: object) -> None:
    """Profile hook: raise the held stop as the outermost store call returns. Only that
    return: an event in a callback run by the garbage collector, say, would swallow it."""
    if event == "return" and _HELD and frame is _HELD[0].store_call:
        _release(_HELD[0])


def _send_when_overdue(signum: int) -> None:
    """Deliver ``signum`` again once ``DEFER_LIMIT_SECONDS`` have passed, if the stop is
    still held then."""

    def resend() -> None:
        if _HELD:
            os.kill(os.getpid(), signum)

    timer = threading.Timer(DEFER_LIMIT_SECONDS, resend)
    timer.daemon = True
    timer.start()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the run as Ctrl-C does; inside a store call, once it returns."""
    if _HELD:  # a stop is already on its way: only an overdue one acts now
        held = _HELD[0]
        if time.monotonic() - held.since >= DEFER_LIMIT_SECONDS:
            logger.warning(
                "a store call did not return within %.0f s of the stop: stopping inside it",
                DEFER_LIMIT_SECONDS,
            )
            _release(held)
        return
    reason = _STOP_REASON.get("reason") or f"stopped by {signal.Signals(signum).name}"
    store_call = outermost_store_call(frame)
    if store_call is None:
        raise KeyboardInterrupt(reason)
    _HELD.append(_HeldStop(reason, time.monotonic(), store_call))
    sys.setprofile(_raise_as_store_call_returns)
    _send_when_overdue(signum)


def forget_interrupt_in_exec() -> None:
    """Let a process that handled its stop end with its own exit code. CPython (3.11 to
    3.13 at least) remembers a ``KeyboardInterrupt`` that left an ``exec`` of source text
    (a dataclass being defined mid-import, say) even once it was handled, and a
    ``python -m`` process then ends killed by SIGINT instead; an ``exec`` that completes
    resets that."""
    exec("pass")


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
