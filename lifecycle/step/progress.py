"""Progress of a long step: rows or trials done and the rate, one line every
``EVERY_SECONDS`` at most, on the ``lifecycle.progress`` logger (so the terminal shows it
unless the step runs quietly under the orchestrator, and the step's log keeps it).
Each advance is also a safe point for a stop (``lifecycle.stop``)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from lifecycle import stop

logger = logging.getLogger("lifecycle.progress")

EVERY_SECONDS = 5.0


def rate_text(count: float, seconds: float, unit: str) -> str:
    """``410,000 rows/s``, or ``0.42 trials/s`` for slow work."""
    rate = count / seconds if seconds > 0 else 0.0
    shown = f"{rate:,.0f}" if rate >= 100 else f"{rate:,.2g}" if rate < 1 else f"{rate:,.1f}"
    return f"{shown} {unit}/s"


class Progress:
    """Counts ``unit`` (rows, trials, folds) done by ``what`` (``iris · score``) out of
    ``total`` when it is known."""

    def __init__(
        self,
        what: str,
        unit: str,
        total: int | None = None,
        every: float = EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.unit = unit
        self.total = total
        self.every = every
        self.clock = clock
        self.done = 0
        self.started = clock()
        self.shown_at = self.started

    def line(self) -> str:
        """Where the work stands: ``iris · score: 250,000 of 1,000,000 rows (25%),
        410,000 rows/s``."""
        elapsed = self.clock() - self.started
        of = f" of {self.total:,}" if self.total else ""
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        rate = rate_text(self.done, elapsed, self.unit)
        return f"{self.what}: {self.done:,}{of} {self.unit}{share}, {rate}"

    def advance(self, count: int = 1) -> None:
        """``count`` more done: a safe point, and a line if the last was long enough ago."""
        self.done += count
        stop.point()
        now = self.clock()
        if now - self.shown_at >= self.every:
            self.shown_at = now
            logger.info("%s", self.line())

    def update(self, done: int) -> None:
        """``done`` in all so far, as another thread counts it (no safe point here: a
        stop belongs to the main thread); a line if the last was long enough ago."""
        self.done = done
        now = self.clock()
        if now - self.shown_at >= self.every:
            self.shown_at = now
            logger.info("%s", self.line())

    def finish(self) -> None:
        """The last line, when the work took long enough to have shown progress."""
        if self.shown_at > self.started:
            logger.info("%s", self.line())
