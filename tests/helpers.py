"""Test helpers: the private tracking store, running real ``mlflow`` commands in it,
and background servers that are started and stopped by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Store:
    """A private tracking store: sqlite metadata and an experiment whose artifacts live in tmp."""

    uri: str
    experiment_name: str
    experiment_id: str
    root: Path

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a subprocess that must log into this store only."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("MLFLOW_") and key not in ("PYTHONPATH",)
        }
        env.update(
            {
                "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
                "MLFLOW_TRACKING_URI": self.uri,
                "MLFLOW_EXPERIMENT_NAME": self.experiment_name,
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(extra)
        return env


def client_for(store: Store):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=store.uri)


def all_runs(store: Store) -> list:
    return client_for(store).search_runs([store.experiment_id], max_results=1000)


def assert_no_running_runs(store: Store) -> None:
    running = [run.info.run_id for run in all_runs(store) if run.info.status == "RUNNING"]
    assert running == [], f"runs left RUNNING: {running}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(
    args: list[str], store: Store, cwd: Path, timeout: float = 600, **extra_env: str
) -> subprocess.CompletedProcess:
    """Run a real command (``mlflow run ...``) to completion, logging into ``store``."""
    return subprocess.run(
        args,
        cwd=cwd,
        env=store.env(**extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Server:
    """A background process in its own session, stopped by its PID (and its group)."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self._log_handle = log.open("w")
        self.process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.process.pid

    def wait_http(self, url: str, timeout: float) -> None:
        """Poll ``url`` until it answers 200, the process dies, or ``timeout`` seconds pass."""
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise AssertionError(f"{url} not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        self._log_handle.flush()
        return self.log.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(timeout=15)
        self._log_handle.close()


@contextlib.contextmanager
def served_model(env: dict[str, str], model_uri: str, workdir: Path, timeout: float = 120):
    """``mlflow models serve -m model_uri`` on a free loopback port, stopped by its PID.

    ``env`` names the tracking server (and credentials) the model URI resolves against.
    Yields the base URL once ``/ping`` answers.
    """
    port = free_port()
    server = Server(
        [
            "mlflow",
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
        server.wait_http(f"http://127.0.0.1:{port}/ping", timeout=timeout)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
    assert server.process.returncode is not None


def assert_failed_run(
    store: Store, result: subprocess.CompletedProcess, fragments: list[str]
) -> None:
    """The command failed, said each fragment, and left exactly one run: FAILED, with the
    fragments in its ``failure_reason`` tag."""
    assert result.returncode != 0
    for fragment in fragments:
        assert fragment in result.stderr
    (run,) = all_runs(store)
    assert run.info.status == "FAILED"
    assert all(fragment in run.data.tags["lifecycle.failure_reason"] for fragment in fragments)
    assert_no_running_runs(store)
