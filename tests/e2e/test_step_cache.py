"""End-to-end: the orchestrator's step cache against a real tracking store and real
``mlflow.run`` step processes, on a scratch git repository holding the orchestrator and a
project whose steps do almost nothing (``tests/data/cache_toy``).

Each ingredient of the cache key is changed on its own, from a state the cache holds:
a parameter, a code file, ``conda.yaml`` and the data file each make every step run again,
and undoing the change (or an equal parameter value) hits again. The same scratch
repository shows that an interrupted orchestrator stops its step processes and leaves
no run RUNNING.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from lifecycle import contract
from tests.helpers import REPO_ROOT, Store, all_runs, assert_no_running_runs, run_cli

pytestmark = pytest.mark.e2e

TOY = REPO_ROOT / "tests" / "data" / "cache_toy"
ALL_HIT = {"train": "hit", "evaluate": "hit", "register": "hit"}
ALL_MISS = {"train": "miss", "evaluate": "miss", "register": "miss"}


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    root = tmp_path / "repository"
    root.mkdir()
    shutil.copytree(REPO_ROOT / "orchestrator", root / "orchestrator")
    shutil.copytree(REPO_ROOT / "lifecycle", root / "lifecycle")
    (root / "datasets").mkdir()
    for name in ("MLproject", "conda.yaml"):
        shutil.copy(REPO_ROOT / name, root / name)
    shutil.copytree(TOY, root / "toy")
    (root / ".gitignore").write_text("__pycache__/\n*.db\n")
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "scratch"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *command],
            cwd=root,
            check=True,
            capture_output=True,
        )
    return root


def orchestrate(store: Store, root: Path, *options: str) -> dict[str, str]:
    """Run the orchestrator on the toy project; return its per-step cache outcomes."""
    result = run_cli(
        ["python", "-m", "orchestrator", "--projects", "toy", *options],
        store,
        root,
        TOY_STEP_LOG=str(root.parent / "steps.log"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    parents = [run for run in all_runs(store) if "mlflow.parentRunId" not in run.data.tags]
    newest = max(parents, key=lambda run: run.info.start_time)
    outcomes = json.loads(newest.data.tags["orchestrator.cache"])["toy"]
    hits = list(outcomes.values()).count("hit")
    assert newest.data.metrics["cache_hit"] == hits
    assert f"step cache: {hits} hit" in result.stdout
    return outcomes


def steps_run(root: Path) -> list[list[str]]:
    log = root.parent / "steps.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_each_ingredient_invalidates_the_cache_on_its_own(store: Store, scratch: Path) -> None:
    assert orchestrate(store, scratch) == ALL_MISS
    assert [argv[0] for argv in steps_run(scratch)] == ["train", "evaluate", "register"]

    # identical re-run: every step is reused, no step process starts
    assert orchestrate(store, scratch) == ALL_HIT
    assert len(steps_run(scratch)) == 3

    # parameters, normalised by type: 3.0 is the int default 3, 0.50 the float 0.5
    assert orchestrate(store, scratch, "--params", "toy.depth=3.0,toy.rate=0.50") == ALL_HIT
    assert orchestrate(store, scratch, "--params", "toy.depth=4") == ALL_MISS
    assert steps_run(scratch)[-3][:3] == ["train", "--depth", "4"]

    # a code file, uncommitted: misses; undone: the first runs match again
    step = scratch / "toy" / "step.py"
    original = step.read_text()
    step.write_text(original + "# an edit\n")
    assert orchestrate(store, scratch) == ALL_MISS
    step.write_text(original)
    assert orchestrate(store, scratch) == ALL_HIT

    # the environment file alone
    conda = scratch / "toy" / "conda.yaml"
    original_conda = conda.read_text()
    conda.write_text(original_conda + "  - pip\n")
    assert orchestrate(store, scratch) == ALL_MISS
    conda.write_text(original_conda)

    # the data file alone (the step reads it by data_path)
    data = scratch / "toy" / "data.csv"
    data.write_text(data.read_text() + "3,4\n")
    assert orchestrate(store, scratch) == ALL_MISS
    assert orchestrate(store, scratch) == ALL_HIT

    runs_before = len(all_runs(store))
    forced = orchestrate(store, scratch, "--force", "toy")
    assert forced == {"train": "forced", "evaluate": "forced", "register": "forced"}
    assert orchestrate(store, scratch, "--use-cache", "false") == {
        "train": "off",
        "evaluate": "off",
        "register": "off",
    }
    assert len(all_runs(store)) == runs_before + 2 * 4  # 3 steps and a parent, twice
    assert_no_running_runs(store)


def test_step_runs_are_children_of_the_run_that_started_them(store: Store, scratch: Path) -> None:
    orchestrate(store, scratch)
    orchestrate(store, scratch)
    runs = all_runs(store)
    parents = sorted(
        (run for run in runs if "mlflow.parentRunId" not in run.data.tags),
        key=lambda run: run.info.start_time,
    )
    children = [
        run
        for run in runs
        if "mlflow.parentRunId" in run.data.tags and contract.REUSED_RUN_ID not in run.data.tags
    ]
    links = [run for run in runs if contract.REUSED_RUN_ID in run.data.tags]
    assert len(parents) == 2
    assert len(children) == 3
    assert {run.data.tags["mlflow.parentRunId"] for run in children} == {parents[0].info.run_id}
    # The warm run's tree: a link per reused step, under the second parent.
    assert {run.data.tags["mlflow.parentRunId"] for run in links} == {parents[1].info.run_id}
    assert sorted(run.data.tags[contract.REUSED_RUN_ID] for run in links) == sorted(
        run.info.run_id for run in children
    )
    ingredients = json.loads(children[0].data.tags["orchestrator.cache_ingredients"])
    assert ingredients["project"] == "toy"
    assert set(ingredients) >= {
        "entry_point",
        "parameters",
        "code_sha256",
        "env_sha256",
        "data_sha256",
        "upstream_run_ids",
    }


def test_sigterm_stops_the_running_step_and_fails_its_runs(store: Store, scratch: Path) -> None:
    import os
    import signal
    import time

    log = scratch.parent / "steps.log"
    process = subprocess.Popen(
        ["python", "-m", "orchestrator", "--projects", "toy"],
        cwd=scratch,
        env=store.env(TOY_STEP_LOG=str(log), TOY_STEP_SLEEP="120"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (log.exists() and log.read_text()):  # the train step is running
            assert process.poll() is None, process.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the train step never started"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    assert process.returncode != 0
    assert "interrupted: stopping the running steps" in stderr
    runs = all_runs(store)
    assert {run.info.status for run in runs} == {"FAILED"}
    assert len(runs) == 2  # the parent and its train step; nothing started after
    assert [argv[0] for argv in steps_run(scratch)] == ["train"]
    # the sleeping step process was stopped too, not left behind
    leftover = subprocess.run(["pgrep", "-f", "step.py train --depth"], capture_output=True)
    assert leftover.stdout == b""


def wait_for_train_step(log: Path, process: subprocess.Popen) -> None:
    import time

    deadline = time.monotonic() + 90
    while not (log.exists() and log.read_text()):  # the train step is running
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the train step never started"
        time.sleep(0.2)


def wait_until_settled(store: Store, pattern: str, seconds: float = 60) -> None:
    """Until no run is RUNNING and no process matches ``pattern`` (bounded)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        running = [run for run in all_runs(store) if run.info.status == "RUNNING"]
        alive = subprocess.run(["pgrep", "-f", pattern], capture_output=True).stdout
        if not running and not alive:
            return
        time.sleep(0.5)
    raise AssertionError(f"still running after {seconds} s: runs {running}, processes {alive!r}")


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_stopping_mlflow_run_stops_the_orchestrator_and_its_steps(
    store: Store, scratch: Path, signal_name: str
) -> None:
    """``mlflow run .`` neither forwards SIGTERM nor survives SIGKILL: the orchestrator
    watches the process that started it and stops itself, its steps and their runs."""
    import os
    import signal

    log = scratch.parent / "steps.log"
    # A non-interactive shell starts mlflow run, as CI or a cron job would.
    process = subprocess.Popen(
        ["bash", "-c", "exec mlflow run . --env-manager local -P projects=toy"],
        cwd=scratch,
        env=store.env(TOY_STEP_LOG=str(log), TOY_STEP_SLEEP="120"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_train_step(log, process)
        process.send_signal(getattr(signal, signal_name))  # to mlflow run alone
        process.communicate(timeout=60)
        wait_until_settled(store, "step.py train --depth|python -m orchestrator --projects toy")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    runs = all_runs(store)
    assert {run.info.status for run in runs} == {"FAILED"}
    assert len(runs) == 2  # the parent and its train step; nothing started after
    parent = next(run for run in runs if "mlflow.parentRunId" not in run.data.tags)
    assert (
        "the process that started the orchestrator" in parent.data.tags["lifecycle.failure_reason"]
    )
    assert [argv[0] for argv in steps_run(scratch)] == ["train"]


def test_a_step_whose_environment_cannot_be_built_ends_failed_with_its_reason(
    store: Store, scratch: Path
) -> None:
    result = run_cli(
        ["python", "-m", "orchestrator", "--projects", "toy", "--env-manager", "conda"],
        store,
        scratch,
        TOY_STEP_LOG=str(scratch.parent / "steps.log"),
        MLFLOW_CONDA_HOME=str(scratch.parent / "no-conda-here"),
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert_no_running_runs(store)
    runs = all_runs(store)
    step = next(run for run in runs if "mlflow.parentRunId" in run.data.tags)
    parent = next(run for run in runs if "mlflow.parentRunId" not in run.data.tags)
    assert step.info.status == parent.info.status == "FAILED"
    assert "conda" in step.data.tags["lifecycle.failure_reason"].lower()
    assert parent.data.tags["lifecycle.failure_reason"].startswith("toy: train failed:")
    assert not steps_run(scratch)
