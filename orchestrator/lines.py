"""The lines the orchestrator prints as its steps start and end, as they happen across
the concurrent chains, in the manner of ``dbt run``: the time, ``project · step``, what
happened (started, ok, failed, reused), how long it took and the step's run id.

    14:02:01  iris · train         started
    14:02:09  iris · train         ok      8.1 s  run 2e08d141
    14:02:09  iris · evaluate      reused         run 8e8e90fb
    14:02:12  cities · register    failed  3.0 s  run 3b985c88: the gate ...

The formatting is pure; ``StepLines`` prints them whole, one at a time, from any thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from lifecycle import contract

STARTED, OK, FAILED, REUSED = "started", "ok", "failed", "reused"
OUTCOMES = (STARTED, OK, FAILED, REUSED)
RUN_ID_SHOWN = 8
REASON_SHOWN = 160


def step_label(project: str, step: str) -> str:
    """``iris · train``: the step as its run is named."""
    return contract.run_name(project, step)


def format_line(
    when: float,
    label: str,
    outcome: str,
    width: int,
    seconds: float | None = None,
    run_id: str | None = None,
    reason: str = "",
) -> str:
    """One step line; ``width`` aligns the labels of one orchestration."""
    clock = time.strftime("%H:%M:%S", time.localtime(when))
    took = f"{seconds:6.1f} s" if seconds is not None else " " * 8
    parts = [f"{clock}  {label.ljust(width)}  {outcome.ljust(7)}"]
    if outcome != STARTED:
        parts.append(took)
        if run_id:
            parts.append(f"run {run_id[:RUN_ID_SHOWN]}")
    line = "  ".join(parts).rstrip()
    if reason:
        short = " ".join(reason.split())
        if len(short) > REASON_SHOWN:
            short = short[: REASON_SHOWN - 3] + "..."
        line += f": {short}"
    return line


class StepLines:
    """Prints step lines as they happen, whole, from any chain thread."""

    def __init__(
        self,
        labels: Iterable[str],
        echo: Callable[[str], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.width = max((len(label) for label in labels), default=0)
        self.echo = echo
        self.clock = clock
        self._lock = threading.Lock()

    def _print(self, line: str) -> None:
        with self._lock:
            self.echo(line)

    def started(self, project: str, step: str) -> float:
        """Print that ``project``'s ``step`` started; returns when."""
        now = self.clock()
        self._print(format_line(now, step_label(project, step), STARTED, self.width))
        return now

    def ended(
        self,
        project: str,
        step: str,
        outcome: str,
        since: float | None,
        run_id: str | None,
        reason: str = "",
    ) -> None:
        """Print how ``project``'s ``step`` ended (ok, failed or reused)."""
        now = self.clock()
        seconds = None if since is None else now - since
        label = step_label(project, step)
        self._print(format_line(now, label, outcome, self.width, seconds, run_id, reason))
