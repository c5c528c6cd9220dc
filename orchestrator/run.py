"""One orchestration: the projects' chains run under one parent run, which records the
orchestrator's parameters, the summary (``summary.txt``, ``summary.json``), the cache
counts and, when a project failed or the run was stopped, its failure reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle import contract
from orchestrator import core
from orchestrator.summary import ChainResult

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True)
class Options:
    """The orchestrator's options, validated, with the overrides parsed per project."""

    projects: str
    env_manager: str
    experiment_name: str
    params: str
    max_parallel: int
    use_cache: str
    force: str
    selected: list[str]
    slots: int
    caching: bool
    forced: frozenset[str]
    overrides: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Outcome:
    """What an orchestration produced: each chain's result and the summary table."""

    parent_run_id: str
    results: list[ChainResult]
    table: str
    link: str  # the parent run in MLflow's UI, training view

    @property
    def failed(self) -> list[str]:
        return [result.project for result in self.results if not result.ok]


def children_experiment_id(experiment_name: str, parent_experiment_id: str) -> str:
    """The step runs' experiment: ``experiment_name`` (created, and marked as model
    training, if need be), or the parent's when it is empty."""
    import mlflow

    from lifecycle.runs import collection_experiment_id, mark_model_training

    if not experiment_name:
        return parent_experiment_id
    client = mlflow.MlflowClient()
    experiment_id = collection_experiment_id(client, experiment_name)
    mark_model_training(client, experiment_id)
    return experiment_id


def start_parent(experiment_name: str, name: str) -> tuple[str, str]:
    """Start the parent run, named ``name``, in its experiment (``lifecycle.runs``:
    the run ``mlflow run`` made, else ``experiment_name``, the MLflow variables, or the
    collection's); returns its id and the step runs' experiment id."""
    import mlflow

    from lifecycle.runs import choose_experiment
    from lifecycle.stopping import stop_with_launcher

    # Direct (not by `mlflow run`): the parent goes to the named experiment too.
    choose_experiment(experiment_name)
    stop_with_launcher()
    parent = mlflow.start_run(run_name=name)
    return parent.info.run_id, children_experiment_id(experiment_name, parent.info.experiment_id)


def describe_parent(client: MlflowClient, parent_run_id: str, markdown: str) -> str:
    """Set the parent run's description (shown on its page in MLflow's UI); returns the
    link that opens the run in the UI's training view."""
    from lifecycle.runs import run_link, ui_base

    client.set_tag(parent_run_id, "mlflow.note.content", markdown)
    run = client.get_run(parent_run_id)
    return run_link(ui_base(client.tracking_uri), run.info.experiment_id, parent_run_id)


def orchestrate(options: Options, repository_root: Path) -> Outcome:
    """Run the selected projects' chains under one parent run and record the outcome."""
    selected, slots, caching, forced, overrides = (
        options.selected,
        options.slots,
        options.caching,
        options.forced,
        options.overrides,
    )
    experiment_name, env_manager = options.experiment_name, options.env_manager
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    from orchestrator.chain import StepRunner, plan_project, run_chains

    plans = [
        plan_project(
            repository_root / name, repository_root, overrides.get(name, {}), name in forced
        )
        for name in selected
    ]
    parent_id, children_experiment = start_parent(experiment_name, contract.ORCHESTRATOR)
    client = mlflow.MlflowClient()
    existing = client.get_run(parent_id).data.params
    given = {
        "projects": options.projects,
        "env_manager": env_manager,
        "experiment_name": experiment_name,
        "params": options.params,
        "max_parallel": str(options.max_parallel),
        "use_cache": options.use_cache,
        "force": options.force,
    }
    new = [Param(key, value) for key, value in given.items() if key not in existing]
    if new:
        client.log_batch(parent_id, params=new)
    runner = StepRunner(
        client=client,
        experiment_id=children_experiment,
        parent_run_id=parent_id,
        env_manager=env_manager,
        max_parallel=slots,
        use_cache=caching,
        repository_root=repository_root,
    )
    try:
        results = run_chains(plans, runner)
    except BaseException as error:
        reason = str(error) or type(error).__name__
        if isinstance(error, KeyboardInterrupt):
            reason = f"interrupted ({reason}): the running steps were stopped"
        client.set_tag(parent_id, contract.FAILURE_REASON, reason[:4000])
        mlflow.end_run(status="FAILED")
        raise
    table = core.format_summary(results)
    link = describe_parent(
        client,
        parent_id,
        core.summary_markdown(results, f"Orchestrator: {', '.join(selected)}", children_experiment),
    )
    mlflow.log_text(table, "summary.txt")
    mlflow.log_text(core.summary_json(results), "summary.json")
    failed = [result.project for result in results if not result.ok]
    counts = core.cache_counts(results)
    client.log_batch(
        parent_id,
        metrics=[
            Metric(f"cache_{outcome}", count, int(time.time() * 1000), 0)
            for outcome, count in counts.items()
        ],
        tags=[
            RunTag("orchestrator.projects", ",".join(selected)),
            RunTag("orchestrator.failed_projects", ",".join(failed) or "none"),
            RunTag("orchestrator.max_parallel", str(slots)),
            RunTag(
                "orchestrator.cache",
                json.dumps({result.project: result.cache for result in results}, sort_keys=True),
            ),
        ],
    )
    if failed:
        client.set_tag(
            parent_id,
            contract.FAILURE_REASON,
            "; ".join(
                f"{result.project}: {result.failed_step} failed: {result.error}"
                for result in results
                if not result.ok
            )[:4000],
        )
    mlflow.end_run(status="FAILED" if failed else "FINISHED")
    return Outcome(parent_id, results, table, link)
