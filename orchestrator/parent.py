"""The parent run both orchestrator entry points share: started (named, in its
experiment, watching what started it), given the options as parameters, the projects'
work run concurrently beneath it while each step prints its lines, then described by
the summary and ended FINISHED, or FAILED with the reason, a stop included.

The main entry point (``orchestrator.run``) puts the train -> evaluate -> register
chains under it; the monitor entry point (``orchestrator.watch``) the checks and
retrains.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from lifecycle import contract, stop
from orchestrator.lines import StepLines, step_label

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow import MlflowClient

    from orchestrator.chain import ProjectPlan, StepRunner

logger = logging.getLogger(__name__)
R = TypeVar("R")
POLL_SECONDS = 0.2
MAX_REASON = 4000


@dataclass(frozen=True)
class Parent:
    """A started parent run, and the experiment its steps log to."""

    run_id: str
    steps_experiment_id: str
    client: MlflowClient


def children_experiment_id(experiment_name: str, parent_experiment_id: str) -> str:
    """The step runs' experiment: ``experiment_name`` (created, and marked as model
    training, if need be), or the parent's when it is empty."""
    import mlflow

    from lifecycle.step.runs import collection_experiment_id, mark_model_training

    if not experiment_name:
        return parent_experiment_id
    client = mlflow.MlflowClient()
    experiment_id = collection_experiment_id(client, experiment_name)
    mark_model_training(client, experiment_id)
    return experiment_id


def start(
    name: str, experiment_name: str, given: dict[str, str], tags: dict[str, str] | None = None
) -> Parent:
    """Start the parent run, named ``name``, in its experiment (``lifecycle.step.runs``:
    the run ``mlflow run`` made, else ``experiment_name``, the MLflow variables, or the
    collection's), with ``given`` as its parameters (those ``mlflow run`` did not log)
    and ``tags``. Its steps run quietly: the orchestrator prints their lines."""
    import mlflow
    from mlflow.entities import Param, RunTag

    from lifecycle.step.console import adopt_library_loggers, quiet_children
    from lifecycle.step.failures import remember_run
    from lifecycle.step.runs import choose_experiment

    adopt_library_loggers()
    quiet_children()
    # Direct (not by `mlflow run`): the parent goes to the named experiment too.
    choose_experiment(experiment_name)
    run = mlflow.start_run(run_name=name)
    remember_run(run.info.run_id)
    client = mlflow.MlflowClient()
    existing = client.get_run(run.info.run_id).data.params
    client.log_batch(
        run.info.run_id,
        params=[Param(key, value) for key, value in given.items() if key not in existing],
        tags=[RunTag(key, value) for key, value in (tags or {}).items()],
    )
    steps_experiment = children_experiment_id(experiment_name, run.info.experiment_id)
    return Parent(run.info.run_id, steps_experiment, client)


def step_lines(projects: list[str], steps: tuple[str, ...]) -> StepLines:
    """The printer of the step lines, aligned for these projects' steps."""
    labels = [step_label(project, step) for project in projects for step in steps]
    return StepLines(labels, click.echo)


def step_runner(
    parent: Parent,
    *,
    env_manager: str,
    slots: int,
    caching: bool,
    repository_root: Path,
    projects: list[str],
    steps: tuple[str, ...],
) -> StepRunner:
    """The runner of the steps beneath ``parent``, printing their lines."""
    from orchestrator.chain import StepRunner

    return StepRunner(
        client=parent.client,
        experiment_id=parent.steps_experiment_id,
        parent_run_id=parent.run_id,
        env_manager=env_manager,
        max_parallel=slots,
        use_cache=caching,
        repository_root=repository_root,
        lines=step_lines(projects, steps),
    )


def run_concurrently(
    plans: list[ProjectPlan], runner: StepRunner, work: Callable[[ProjectPlan, StepRunner], R]
) -> list[R]:
    """``work`` for every project at once, a thread each (the runner bounds the step
    processes); results in the order of ``plans``. A stop (``lifecycle.stop``) is acted
    on here: the running step processes are stopped, ``mlflow.run`` marks their runs
    FAILED as the threads finish, and the stop is raised once every thread is done."""
    pool = ThreadPoolExecutor(max_workers=max(1, len(plans)), thread_name_prefix="chain")
    futures = [pool.submit(work, plan, runner) for plan in plans]
    try:
        pending = set(futures)
        while pending:
            stop.point()
            _, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
        results = [future.result() for future in futures]
    except BaseException:
        logger.error("interrupted: stopping the running steps")
        runner.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def fail(parent: Parent, error: BaseException) -> None:
    """End the parent FAILED with the reason ``error`` gives (a stop, or a failure of
    the orchestration itself)."""
    import mlflow

    reason = str(error) or type(error).__name__
    if isinstance(error, KeyboardInterrupt):
        reason = f"interrupted ({reason}): the running steps were stopped"
    parent.client.set_tag(parent.run_id, contract.FAILURE_REASON, reason[:MAX_REASON])
    mlflow.end_run(status="FAILED")


def finish(
    parent: Parent,
    *,
    markdown: str,
    texts: dict[str, str],
    tags: dict[str, str],
    failures: list[str],
    metrics: dict[str, float] | None = None,
) -> str:
    """Describe the parent (``markdown``, shown on its page in MLflow's UI), log
    ``texts`` as artifacts, ``tags`` and ``metrics``, and end it: FAILED with
    ``failures`` as its reason when there are any. Returns the link that opens it in the
    UI's training view."""
    import mlflow
    from mlflow.entities import Metric, RunTag

    from lifecycle.step.runs import run_link, ui_base

    client = parent.client
    client.set_tag(parent.run_id, "mlflow.note.content", markdown)
    for artifact, text in texts.items():
        mlflow.log_text(text, artifact)
    now = int(time.time() * 1000)
    client.log_batch(
        parent.run_id,
        metrics=[Metric(key, value, now, 0) for key, value in (metrics or {}).items()],
        tags=[RunTag(key, value) for key, value in tags.items()],
    )
    if failures:
        client.set_tag(parent.run_id, contract.FAILURE_REASON, "; ".join(failures)[:MAX_REASON])
    mlflow.end_run(status="FAILED" if failures else "FINISHED")
    run = client.get_run(parent.run_id)
    return run_link(ui_base(client.tracking_uri), run.info.experiment_id, parent.run_id)


def plans_for(
    selected: list[str],
    repository_root: Path,
    overrides: dict[str, dict[str, str]],
    forced: frozenset[str],
) -> list[ProjectPlan]:
    """Each selected project's plan, read once before anything starts."""
    from orchestrator.chain import plan_project

    return [
        plan_project(
            repository_root / name, repository_root, overrides.get(name, {}), name in forced
        )
        for name in selected
    ]
