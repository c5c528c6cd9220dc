"""A bounded load client: ``clients`` threads sending one JSON request to
``/invocations`` again and again over keep-alive connections, until stopped or until
``max_seconds`` pass, recording every answer's status, ``X-Model-Version`` and time.

    with Load(base, request, clients=4) as load:
        ...                      # promote, roll back, kill a process
    print(load.summary().text())

A request that raises (a refused or dropped connection, a timeout) counts as failed with
status 0. Used by the tests, ``python -m bench`` and anyone watching a rollout.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from deploy.serve.traffic import p99

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic() when the answer came
    status: int
    version: str
    milliseconds: float


@dataclass(frozen=True)
class Summary:
    requests: int
    failed: int
    by_version: dict[str, int]
    p99_ms: float | None
    seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def text(self) -> str:
        p99 = "none" if self.p99_ms is None else f"{self.p99_ms:.1f} ms"
        versions = ", ".join(f"v{v}: {n}" for v, n in sorted(self.by_version.items()))
        return (
            f"{self.requests} requests in {self.seconds:.1f} s ({self.per_second:.0f}/s), "
            f"{self.failed} failed, p99 {p99}; {versions}"
        )


def summarize(answers: list[Answer], seconds: float) -> Summary:
    return Summary(
        len(answers),
        sum(1 for a in answers if a.status != 200),
        dict(Counter(a.version for a in answers)),
        p99([a.milliseconds for a in answers]),
        seconds,
    )


class Load:
    """Requests from ``clients`` threads until ``stop`` (or ``max_seconds``)."""

    def __init__(
        self, base: str, request: dict[str, Any], clients: int = 2, max_seconds: float = 600.0
    ) -> None:
        self.base = base
        self.body = json.dumps(request)
        self.clients = clients
        self.max_seconds = max_seconds
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = 0.0
        self._ended = 0.0

    def __enter__(self) -> Load:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        self._started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> Summary:
        self._stop.set()
        for thread in self._threads:
            thread.join(TIMEOUT_SECONDS + 5)
        self._ended = self._ended or time.monotonic()
        return self.summary()

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.at >= moment]

    def summary(self, since: float = 0.0) -> Summary:
        end = self._ended or time.monotonic()
        answers = self.since(since)
        return summarize(answers, end - max(since, self._started))

    def _client(self) -> None:
        import requests

        deadline = self._started + self.max_seconds
        headers = {"Content-Type": "application/json"}
        with requests.Session() as session:
            while not self._stop.is_set() and time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    answer = session.post(
                        f"{self.base}/invocations",
                        data=self.body,
                        headers=headers,
                        timeout=TIMEOUT_SECONDS,
                    )
                    status, version = answer.status_code, answer.headers.get("X-Model-Version", "")
                except requests.RequestException:
                    status, version = 0, ""
                elapsed = 1000 * (time.perf_counter() - started)
                with self._lock:
                    self.answers.append(Answer(time.monotonic(), status, version, elapsed))
        self._ended = time.monotonic()
