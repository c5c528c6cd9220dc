"""A stop that lands while a step is writing to its sqlite store: the step still ends
with one line and exit code 130, and its run FAILED with the reason.

A ``KeyboardInterrupt`` raised inside MLflow's database store would skip the store's
rollback (it is not an ``Exception``) and leave the connection holding SQLite's write
lock, so the step could not record why it stopped. The stop is cooperative: the signal
is recorded, and the step acts on it at its next safe point, between two writes. The
step below does nothing but write tags, so almost every signal lands inside a store
call.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import (
    REPO_ROOT,
    Store,
    all_runs,
    assert_no_running_runs,
    signal_when_ready,
)

STEP = """  # run as ``python -m busy_step``, as MLproject commands run the steps
import click
import mlflow

from lifecycle import stop
from lifecycle.step import command
from lifecycle.step.runs import step_run


@click.group()
def group() -> None:
    pass


@group.command()
def busy() -> None:
    with step_run("busy", "writer"):
        print("writing", flush=True)
        for count in range(200_000):  # bounded: far longer than the test waits
            mlflow.set_tag("count", str(count))
            stop.point()  # the step's safe point: between two store writes


@group.command()
def stopped_in_exec() -> None:
    with step_run("busy", "stopped in exec"):
        stop.request("stopped by SIGTERM")
        exec("from lifecycle import stop; stop.point()")


command.run(group)
"""


@pytest.mark.parametrize(
    ("signal_name", "delay"), [("SIGTERM", 0.3), ("SIGINT", 0.7), ("SIGTERM", 1.1)]
)
def test_a_stop_inside_a_store_write_still_records_why(
    store: Store, tmp_path: Path, signal_name: str, delay: float
) -> None:
    (tmp_path / "busy_step.py").write_text(STEP)
    job = subprocess.Popen(
        [sys.executable, "-m", "busy_step", "busy"],
        cwd=tmp_path,
        env=store.env(PYTHONPATH=str(REPO_ROOT)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert job.stdout is not None
    assert job.stdout.readline().strip() == "writing", "the step never started writing"
    started = time.monotonic()
    code, stderr = signal_when_ready(job, signal_name, lambda: time.monotonic() > started + delay)
    assert code == 130, stderr[-2000:]
    assert "Traceback" not in stderr, stderr[-2000:]
    assert f"Error: the step was stopped: stopped by {signal_name}" in stderr
    (run,) = all_runs(store)
    assert run.info.status == "FAILED"
    assert run.data.tags["lifecycle.failure_reason"] == (
        f"the step was stopped: stopped by {signal_name}"
    )
    assert_no_running_runs(store)


def test_a_stop_raised_inside_exec_still_ends_with_code_130(store: Store, tmp_path: Path) -> None:
    """CPython remembers a bare KeyboardInterrupt that left an ``exec`` of source text,
    and a ``python -m`` process then dies by SIGINT (-2) after handling it. The stop is
    ``lifecycle.stop.Stopped``, a subclass, which ends with the step's own code."""
    (tmp_path / "busy_step.py").write_text(STEP)
    result = subprocess.run(
        [sys.executable, "-m", "busy_step", "stopped-in-exec"],
        cwd=tmp_path,
        env=store.env(PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 130, result.stderr[-2000:]
    assert result.stderr.strip() == "Error: the step was stopped: stopped by SIGTERM"
    (run,) = all_runs(store)
    assert run.info.status == "FAILED"
