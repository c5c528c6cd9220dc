"""A bounded load generator for a model server on 127.0.0.1: a fixed number of POST
requests to ``/invocations`` from a fixed number of threads, each on its own keep-alive
connection; returns every latency. Standard library only."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.measure import percentile

IRIS_COLUMNS = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_ROWS = (
    (5.1, 3.5, 1.4, 0.2),
    (6.4, 3.2, 4.5, 1.5),
    (6.3, 3.3, 6.0, 2.5),
    (4.9, 3.0, 1.4, 0.2),
    (5.5, 2.3, 4.0, 1.3),
)
REQUEST_TIMEOUT_SECONDS = 30


def iris_payload(rows: int) -> bytes:
    """A ``dataframe_split`` body of ``rows`` iris rows."""
    data = [list(IRIS_ROWS[i % len(IRIS_ROWS)]) for i in range(rows)]
    return json.dumps({"dataframe_split": {"columns": list(IRIS_COLUMNS), "data": data}}).encode()


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def latency_ms(self, fraction: float) -> float:
        return percentile(list(self.latencies), fraction) * 1000


def run_load(base_url: str, body: bytes, total: int, concurrency: int) -> LoadResult:
    """Send ``total`` requests from ``concurrency`` threads; any non-200 answer is an error."""
    address = urlsplit(base_url)
    if address.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"the load generator only talks to 127.0.0.1, not {address.hostname}")
    shares = [
        total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)
    ]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(count: int) -> None:
        connection = http.client.HTTPConnection(
            address.hostname or "127.0.0.1", address.port, timeout=REQUEST_TIMEOUT_SECONDS
        )
        mine = []
        try:
            for _ in range(count):
                started = time.perf_counter()
                connection.request(
                    "POST", "/invocations", body, {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                payload = response.read()
                mine.append(time.perf_counter() - started)
                if response.status != 200:
                    errors.append(f"{response.status}: {payload[:200]!r}")
                    return
        except OSError as error:
            errors.append(repr(error))
        finally:
            connection.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(share,)) for share in shares if share]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} request(s) failed, e.g. {errors[0]}")
    return LoadResult(requests=len(latencies), seconds=seconds, latencies=tuple(latencies))
