"""A ``python -m deploy.serve`` process for the tests: started on a free port, its
``/status`` read and waited on (every wait bounded), stopped by its PID with SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deploy.processes import ServerProcess, alive, free_port, http_ok
from tests.helpers import REPO_ROOT


class Deployment:
    def __init__(self, env: dict[str, str], folder: Path, *args: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        env = {**env, "PYTHONPATH": str(REPO_ROOT)}
        self.server = ServerProcess(
            [
                sys.executable,
                "-m",
                "deploy.serve",
                "--port",
                str(self.port),
                "--state-dir",
                str(folder / "state"),
                *args,
            ],
            env=env,
            cwd=folder,
            log=folder / "deploy.log",
        )
        self.server.wait_http(f"{self.base}/status", 60, "deploy.serve")

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/status", timeout=10) as answer:
            return json.load(answer)

    def wait(
        self, what: str, ready: Callable[[dict[str, Any]], bool], timeout: float = 120
    ) -> dict[str, Any]:
        """The first status ``ready`` accepts; fails with the last status and the log."""
        deadline = time.monotonic() + timeout
        status: dict[str, Any] = {}
        while time.monotonic() < deadline:
            assert self.server.process.poll() is None, self.server.output()
            try:
                status = self.status()
            except OSError:  # the proxy is restarting
                time.sleep(0.1)
                continue
            if ready(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"not {what} after {timeout:.0f} s: {status}\n{self.server.output()}")

    def log(self) -> str:
        return self.server.output(20000)

    def stop(self) -> tuple[int, list[int]]:
        """SIGTERM; the exit code and the PIDs of its processes still alive after."""
        pids = []
        if http_ok(f"{self.base}/status"):
            status = self.status()
            pids = [p["pid"] for p in status["processes"]] + [status["proxy"]["pid"]]
        self.server.process.send_signal(signal.SIGTERM)
        try:
            code = self.server.process.wait(timeout=60)
        finally:
            self.server.stop()
        return code, [pid for pid in pids if alive(pid)]
