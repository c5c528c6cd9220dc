"""What each version answered, read from the proxy's request log: per version, the
requests since a moment, how many got a 5xx, and their 99th-percentile time.

HAProxy writes one line per request (``<server> <status> <milliseconds>``, see
``deploy.serve.proxy``); a thread reads them as they come. Memory is bounded: each
version keeps its last ``KEPT`` requests.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

logger = logging.getLogger(__name__)
KEPT = 20_000


@dataclass(frozen=True)
class Window:
    """A version's requests over a span of time."""

    requests: int
    errors: int  # answers with a 5xx status, or none at all
    p99_ms: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0

    def text(self) -> str:
        p99 = "none" if self.p99_ms is None else f"{self.p99_ms:.0f} ms"
        return f"{self.requests} requests, {self.errors} 5xx ({self.error_rate:.1%}), p99 {p99}"


def parse(line: str) -> tuple[str, int, float] | None:
    """``(version, status, milliseconds)`` of a request answered by a model process, or
    None for another line (the proxy's own answers, notices)."""
    parts = line.split()
    if len(parts) != 3 or not parts[0].startswith("v"):
        return None
    try:
        return parts[0][1:], int(parts[1]), float(parts[2])
    except ValueError:
        return None


def p99(values: list[float]) -> float | None:
    """The 99th percentile (nearest rank) of ``values``."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


class Traffic:
    """Requests by version, fed from the proxy's log lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, deque[tuple[float, int, float]]] = {}

    def add(self, version: str, status: int, milliseconds: float, at: float | None = None) -> None:
        with self._lock:
            kept = self._seen.setdefault(version, deque(maxlen=KEPT))
            kept.append((time.monotonic() if at is None else at, status, milliseconds))

    def window(self, version: str, since: float) -> Window:
        """``version``'s requests answered since ``since`` (``time.monotonic()``)."""
        with self._lock:
            rows = [row for row in self._seen.get(version, ()) if row[0] >= since]
        # A status of -1 or 0 means the proxy got no answer from the process.
        errors = sum(1 for _, status, _ in rows if status >= 500 or status <= 0)
        return Window(len(rows), errors, p99([ms for _, _, ms in rows]))

    def follow(self, lines: Iterable[str]) -> None:
        """Read the proxy's log lines until they end (the proxy exited)."""
        for line in lines:
            parsed = parse(line.strip())
            if parsed is not None:
                self.add(*parsed)
            elif line.strip() and not line.startswith("<NOSRV>"):
                logger.debug("haproxy: %s", line.strip())

    def start_following(self, lines: Iterable[str]) -> threading.Thread:
        thread = threading.Thread(target=self.follow, args=(lines,), daemon=True, name="traffic")
        thread.start()
        return thread
