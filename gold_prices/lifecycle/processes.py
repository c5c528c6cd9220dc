# Generated from lifecycle/processes.py by python -m lifecycle.sync; edit the source.
"""What the collection reads of a process on this host, from Linux's ``/proc/<pid>/stat``:
its command name, state, parent and start time. The one reader behind the claim's
liveness test, the launcher watchdog and the orchestrator's process tree. Standard
library only; where ``/proc`` cannot be read, a process reads as gone."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
DEAD_STATES = frozenset({"Z", "X"})  # a zombie (dead, not yet reaped), or dead


@dataclass(frozen=True)
class ProcessStat:
    """One process as ``/proc/<pid>/stat`` shows it."""

    pid: int
    name: str  # the command name, as the kernel keeps it (15 characters at most)
    state: str  # R, S, D, Z, ...
    parent: int
    start_time: str  # clock ticks since boot: with the pid, names one process for ever

    @property
    def alive(self) -> bool:
        """Whether it still runs: a zombie has ended, though its entry remains."""
        return self.state not in DEAD_STATES


def parse_stat(pid: int, text: str) -> ProcessStat:
    """A ``/proc/<pid>/stat`` line. The command name sits in parentheses and may itself
    hold spaces and parentheses, so the fields are counted from its last ``)``."""
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return ProcessStat(
        pid=pid, name=name, state=fields[0], parent=int(fields[1]), start_time=fields[19]
    )


def stat(pid: int) -> ProcessStat | None:
    """Process ``pid`` as ``/proc`` shows it, or None when there is no such process."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    try:
        return parse_stat(pid, text)
    except (ValueError, IndexError):
        return None


def start_time(pid: int) -> str:
    """The start time of process ``pid``, or "" where it cannot be read."""
    found = stat(pid)
    return found.start_time if found is not None else ""


def is_running(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` runs and, given ``started``, is the process that started
    then (not a later one that reuses the pid)."""
    found = stat(pid)
    if found is None or not found.alive:
        return False
    return not started or found.start_time == started


def descendants(pid: int) -> list[int]:
    """The processes below ``pid``, children first."""
    children_of: dict[int, list[int]] = {}
    for entry in PROC.glob("[0-9]*"):
        found = stat(int(entry.name))
        if found is not None:
            children_of.setdefault(found.parent, []).append(found.pid)
    result, queue = [], list(children_of.get(pid, []))
    while queue:
        child = queue.pop(0)
        result.append(child)
        queue.extend(children_of.get(child, []))
    return result
