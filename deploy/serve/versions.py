"""A model version's own process, and the checks it passes before it takes traffic.

Each version runs as ``mlflow models serve -m models:/<name>/<version>`` (pinned, never
the alias) on a spare port of 127.0.0.1, in a session of its own, stopped by its PID.
Before the proxy sends it anything: ``/ping`` answers, every golden request recorded at
registration gets exactly its recorded answer (``parity``), and a short burst of
requests stays under the p99 limit (``latency``).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.processes import ServerError, ServerProcess, free_port, http_ok
from deploy.serve.traffic import p99
from lifecycle import contract
from lifecycle.register import golden

REQUEST_TIMEOUT_SECONDS = 30.0


class VersionRefusedError(RuntimeError):
    """A version failed to start or failed a check; the message is the one-line reason."""


@dataclass
class ModelProcess:
    """One version's ``mlflow models serve`` process."""

    version: str
    port: int
    server: ServerProcess

    @property
    def pid(self) -> int:
        return self.server.pid

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.server.process.poll() is None

    def stop(self) -> None:
        self.server.stop()


def start(
    name: str,
    version: str,
    folder: Path,
    env: dict[str, str],
    workers: int,
    env_manager: str,
    timeout: float,
) -> ModelProcess:
    """Start ``models:/<name>/<version>`` on a spare port and wait for its ``/ping``;
    ``VersionRefusedError`` (with the last line of its log) if it exits or is not ready."""
    import shutil

    port = free_port()
    mlflow_command = shutil.which("mlflow") or "mlflow"
    server = ServerProcess(
        [
            mlflow_command,
            "models",
            "serve",
            "-m",
            f"models:/{name}/{version}",
            "--env-manager",
            env_manager,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=folder,
        log=folder / f"model-v{version}.log",
        append=True,
    )
    process = ModelProcess(version, port, server)
    try:
        server.wait_http(f"{process.base}/ping", timeout, f"version {version}")
    except ServerError as error:
        server.stop()
        last = [line for line in str(error).splitlines() if line.strip()]
        raise VersionRefusedError(
            f"version {version} failed to start: {last[-1][:300] if last else 'no output'}"
        ) from None
    return process


def golden_cases(client: Any, name: str, version: str) -> list[dict[str, Any]]:
    """The golden set recorded with ``version`` at registration."""
    import mlflow

    uri = client.get_model_version(name, version).tags.get(contract.GOLDEN)
    if not uri:
        raise VersionRefusedError(
            f"version {version} has no golden set ({contract.GOLDEN}): register it again "
            f"with this collection's register step"
        )
    try:
        return golden.parse(mlflow.artifacts.load_text(uri))
    except golden.GoldenSetError as error:
        raise VersionRefusedError(f"version {version}'s golden set: {error}") from None


def post(session: Any, base: str, request: dict[str, Any]) -> tuple[int, Any]:
    """POST one JSON request to ``/invocations``; its status and parsed body."""
    answer = session.post(
        f"{base}/invocations",
        data=json.dumps(request),
        headers={"Content-Type": "application/json"},
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, answer.text


def parity(base: str, version: str, cases: list[dict[str, Any]]) -> None:
    """Every golden request sent to the model server at ``base`` gets exactly its
    recorded answer, or ``VersionRefusedError``."""
    import requests

    with requests.Session() as session:
        answers = []
        for number, case in enumerate(cases, start=1):
            status, body = post(session, base, case["request"])
            if status != 200:
                raise VersionRefusedError(
                    f"version {version} failed parity: golden request {number} got status {status}"
                )
            answers.append(body)
    lines = golden.mismatches(cases, answers)
    if lines:
        raise VersionRefusedError(
            f"version {version} failed parity: {len(lines)} of {len(cases)} "
            f"golden answers differ ({lines[0]})"
        )


def latency(
    process: ModelProcess, request: dict[str, Any], count: int, clients: int, max_p99_ms: float
) -> float:
    """Send ``count`` requests from ``clients`` threads; their p99 in ms, or
    ``VersionRefusedError`` if it is over ``max_p99_ms`` or a request fails."""
    import requests

    times: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    share = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]

    def client(requests_to_send: int) -> None:
        with requests.Session() as session:
            for _ in range(requests_to_send):
                started = time.perf_counter()
                try:
                    status, _ = post(session, process.base, request)
                except requests.RequestException:
                    status = 0
                elapsed = 1000 * (time.perf_counter() - started)
                with lock:
                    times.append(elapsed)
                    if status != 200:
                        failures.append(status)

    threads = [threading.Thread(target=client, args=(n,)) for n in share if n]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise VersionRefusedError(
            f"version {process.version} failed the latency check: {len(failures)} of "
            f"{count} requests failed (status {failures[0]})"
        )
    measured = p99(times) or 0.0
    if measured > max_p99_ms:
        raise VersionRefusedError(
            f"version {process.version} failed the latency check: p99 {measured:.0f} ms "
            f"over {count} requests > {max_p99_ms:g} ms"
        )
    return measured


def pinged(process: ModelProcess) -> bool:
    return http_ok(f"{process.base}/ping")
