"""Background server processes, started, waited for and stopped the same way everywhere:
the loopback team stack (``deploy.stack``), the benchmarks and the tests.

A server runs in a session of its own, with its output in a log file. It is ready when
a check says so (an HTTP endpoint answering 200, say), and fails fast with the log's
tail when it exits first or is not ready in time. It is stopped by its PID: SIGTERM to
its whole process group, then SIGKILL if it is still there. Every wait is bounded.
Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

POLL_SECONDS = 0.25
STOP_SECONDS = 15.0


class ServerError(RuntimeError):
    """A server exited or was not ready in time; the message holds its log's tail."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that are free on 127.0.0.1 right now."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """A port that is free on 127.0.0.1 right now."""
    return free_ports(1)[0]


def http_ok(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def alive(pid: int) -> bool:
    """Whether process ``pid`` is running; a zombie child is reaped and counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def wait_dead(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to be gone; return whether it is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return not alive(pid)


def stop_group(pid: int, timeout: float = STOP_SECONDS) -> None:
    """SIGTERM the process group led by ``pid``; SIGKILL it if it outlives ``timeout``."""
    if not alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    if not wait_dead(pid, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        wait_dead(pid, timeout)


def stop_groups(pids: list[int], timeout: float = STOP_SECONDS) -> None:
    """``stop_group`` for several at once: SIGTERM to every group, then one wait, then
    SIGKILL to any still there; a stack stops in the time of its slowest server."""
    for pid in pids:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids:
        if not wait_dead(pid, max(0.0, deadline - time.monotonic())):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            wait_dead(pid, timeout)


def kill_group(pid: int, timeout: float = STOP_SECONDS) -> None:
    """SIGKILL the process group led by ``pid`` at once, as a crash would."""
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        wait_dead(pid, timeout)


class ServerProcess:
    """One server process in a session of its own, its output in ``log``."""

    def __init__(
        self, args: list[str], env: dict[str, str], cwd: Path, log: Path, append: bool = False
    ) -> None:
        self.log = log
        handle = log.open("ab" if append else "wb")
        try:
            self.process = subprocess.Popen(
                args,
                env=env,
                cwd=cwd,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            handle.close()
        self.pid = self.process.pid

    def output(self, characters: int = 5000) -> str:
        """The tail of the server's log."""
        return self.log.read_text(errors="replace")[-characters:] if self.log.exists() else ""

    def wait_ready(self, ready: Callable[[], bool], timeout: float, what: str = "server") -> None:
        """Poll ``ready`` until it is true; raise ``ServerError`` if the process exits
        first or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{what} exited with {self.process.returncode}:\n{self.output()}")
            if ready():
                return
            time.sleep(POLL_SECONDS)
        raise ServerError(f"{what} not ready after {timeout:.0f}s:\n{self.output()}")

    def wait_http(self, url: str, timeout: float, what: str = "server") -> None:
        """Wait until ``url`` answers 200."""
        self.wait_ready(lambda: http_ok(url), timeout, what)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop the server and everything in its process group."""
        if self.process.poll() is None:
            stop_group(self.pid, timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)


@contextlib.contextmanager
def model_server(
    env: dict[str, str],
    model_uri: str,
    workdir: Path,
    mlflow: list[str] | None = None,
    timeout: float = 120.0,
) -> Iterator[tuple[str, int]]:
    """``mlflow models serve -m model_uri`` on a free loopback port, stopped by its PID.

    ``env`` names the tracking server (and credentials) the model URI resolves against;
    ``mlflow`` is the command that runs MLflow (default: ``mlflow``). Yields the base
    URL and the PID once ``/ping`` answers."""
    port = free_port()
    server = ServerProcess(
        [
            *(mlflow or ["mlflow"]),
            "models",
            "serve",
            "-m",
            model_uri,
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        cwd=workdir,
        log=workdir / "serve.log",
    )
    try:
        server.wait_http(f"http://127.0.0.1:{port}/ping", timeout, "model server")
        yield f"http://127.0.0.1:{port}", server.pid
    finally:
        server.stop()
