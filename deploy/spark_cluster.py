"""A real Spark standalone cluster on this machine: a master and one worker, each a process
of its own started with pyspark's own ``bin/spark-class``, bound to 127.0.0.1, stopped by
PID. The tests and the benchmarks run the score and tune steps on it.

The worker's Python is the interpreter given (it has the packages installed), started in
a scratch folder with no ``PYTHONPATH``: none of the project's files are on its path, so
a job only works if it ships the code it needs, as on a cluster of other hosts.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from deploy import processes

READY_SECONDS = 90.0


def spark_home() -> Path:
    """The Spark installation inside the pyspark package."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def _environment(workdir: Path, python: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "SPARK_HOME") and not key.startswith("MLFLOW_")
    }
    env.update(
        {
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_LOG_DIR": str(workdir / "logs"),
            "SPARK_WORKER_DIR": str(workdir / "work"),
            "PYSPARK_PYTHON": python,
        }
    )
    return env


def _alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=2) as answer:
            state = json.load(answer)
    except (OSError, ValueError):
        return 0
    return sum(1 for worker in state.get("workers", []) if worker.get("state") == "ALIVE")


@contextlib.contextmanager
def standalone_cluster(
    workdir: Path, cores: int = 2, memory: str = "4g", python: str = sys.executable
) -> Iterator[str]:
    """Start a master and a worker; yield the master URL (``spark://127.0.0.1:PORT``)
    once the worker has registered; stop both by PID on the way out."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = _environment(workdir, python)
    spark_class = str(spark_home() / "bin" / "spark-class")
    port, ui_port, worker_ui = processes.free_ports(3)
    master = processes.ServerProcess(
        [
            spark_class,
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port)),
        ],
        env,
        workdir,
        workdir / "master.log",
    )
    worker = None
    try:
        master.wait_http(f"http://127.0.0.1:{ui_port}/json/", READY_SECONDS, "Spark master")
        url = f"spark://127.0.0.1:{port}"
        worker = processes.ServerProcess(
            [
                spark_class,
                "org.apache.spark.deploy.worker.Worker",
                *("--host", "127.0.0.1", "--webui-port", str(worker_ui)),
                *("--cores", str(cores), "--memory", memory),
                *("--work-dir", str(workdir / "work"), url),
            ],
            env,
            workdir,
            workdir / "worker.log",
        )
        worker.wait_ready(lambda: _alive_workers(ui_port) >= 1, READY_SECONDS, "Spark worker")
        yield url
    finally:
        if worker is not None:
            worker.stop()
        master.stop()
