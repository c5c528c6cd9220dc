"""Test helpers: the private tracking store, running real ``mlflow`` commands in it,
and background servers that are started and stopped by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy import processes

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


def open_store(root: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A store in ``root``, copied from the schema-only template, with a "tests"
    experiment whose artifacts live in ``root``; made the current one (environment and
    in-process) until ``monkeypatch`` is undone."""
    import mlflow

    db = root / "mlflow.db"
    shutil.copyfile(template_db, db)
    uri = f"sqlite:///{db}"
    experiment_id = mlflow.MlflowClient(tracking_uri=uri).create_experiment(
        "tests", artifact_location=(root / "artifacts").as_uri()
    )
    for key in list(os.environ):
        if key.startswith("MLFLOW_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "tests")
    mlflow.set_tracking_uri(uri)
    return Store(uri=uri, experiment_name="tests", experiment_id=experiment_id, root=root)


def client_for(store: Store):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=store.uri)


def all_runs(store: Store) -> list:
    return client_for(store).search_runs([store.experiment_id], max_results=1000)


def assert_no_running_runs(store: Store) -> None:
    running = [run.info.run_id for run in all_runs(store) if run.info.status == "RUNNING"]
    assert running == [], f"runs left RUNNING: {running}"


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


def copied_alone(project: str, destination: Path, mirror: Path) -> tuple[Path, Path]:
    """``project``'s folder copied alone to ``destination`` (no repository, no
    ``datasets/`` or ``lifecycle/`` beside it), and the data file its train step reads
    there: the pinned file in the mirror, or the bundled CSV."""
    from lifecycle.sync import declaration

    alone = destination / "elsewhere" / project
    shutil.copytree(
        REPO_ROOT / project, alone, ignore=shutil.ignore_patterns("__pycache__", "mlruns", "*.db")
    )
    assert not (alone.parent / "datasets").exists()
    assert not (alone.parent / "lifecycle").exists()
    pins = declaration(REPO_ROOT / project).datasets
    data = mirror / pins[0].relative_path if pins else REPO_ROOT / "datasets" / f"{project}.csv"
    return alone, data


# Background servers are started and stopped by PID the same way as the stack's and the
# benchmarks' (deploy.processes).
Server = processes.ServerProcess
free_port = processes.free_port


@contextlib.contextmanager
def served_model(env: dict[str, str], model_uri: str, workdir: Path, timeout: float = 120):
    """``mlflow models serve -m model_uri`` on a free loopback port, stopped by its PID.

    ``env`` names the tracking server (and credentials) the model URI resolves against.
    Yields the base URL once ``/ping`` answers.
    """
    with processes.model_server(env, model_uri, workdir, timeout=timeout) as (base, _pid):
        yield base


def assert_serves_its_golden_set(store: Store, model_name: str, base: str) -> None:
    """The champion served at ``base`` gives exactly the answers recorded with it at
    registration: the parity check ``python -m deploy.serve`` makes before any traffic."""
    from deploy.serve import versions

    client = client_for(store)
    version = str(client.get_model_version_by_alias(model_name, "champion").version)
    cases = versions.golden_cases(client, model_name, version)
    assert len(cases) >= 1
    versions.parity(base, version, cases)


def signal_when_ready(
    job: subprocess.Popen, signal_name: str, ready: Callable[[], bool], timeout: float = 120
) -> tuple[int, str]:
    """Wait (at most ``timeout``) until ``ready()``, send ``job`` the signal, and return
    its exit code and standard error; a job still alive after ``timeout`` more is killed."""
    try:
        deadline = time.monotonic() + timeout
        while not ready() and job.poll() is None:
            assert time.monotonic() < deadline, "the job never got under way"
            time.sleep(0.05)
        assert job.poll() is None, "the job ended before the signal"
        job.send_signal(getattr(signal, signal_name))
        code = job.wait(timeout=timeout)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait(timeout=30)
    return code, job.stderr.read() if job.stderr else ""


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


def assert_too_deep_json_is_a_400(invocations_url: str) -> None:
    """A body nested far deeper than Python's JSON parser can read (MLflow 3.17's own
    answer is a 500): the served model's request guard answers 400, saying why."""
    import requests

    body = '{"dataframe_split": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = requests.post(
        invocations_url, data=body, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert response.status_code == 400, response.text[:300]
    assert "nested too deeply" in response.json()["message"]
    assert "Traceback" not in response.text


def shifted_iris(flowers: int = 300, seed: int = 0) -> tuple[Any, Any]:
    """A labelled batch from a shifted iris population, and the table plus it, as
    ``datasets/shifted_iris.py`` writes them (the story in docs/monitoring.md)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "shifted_iris", REPO_ROOT / "datasets" / "shifted_iris.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.shifted_iris(flowers, seed)
