"""The orchestrator entry point: runs the selected projects' chains under one parent run,
prints the summary table, logs it as ``summary.txt`` / ``summary.json``, and exits
non-zero if any project failed."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from orchestrator import core

logger = logging.getLogger("orchestrator")

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


def _validated(build, *args):
    try:
        return build(*args)
    except core.ParameterError as error:
        raise click.BadParameter(
            f"{error.name}={error.value!r}: {error.allowed}",
            param_hint=f"--{error.name.replace('_', '-')}",
        ) from error


def _children_experiment_id(experiment_name: str, parent_experiment_id: str) -> str:
    import mlflow

    if not experiment_name:
        return parent_experiment_id
    experiment = mlflow.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    return mlflow.create_experiment(experiment_name)


@click.command()
@click.option(
    "--projects",
    type=str,
    default="all",
    show_default=True,
    help="Comma-separated project folders to run, or 'all'.",
)
@click.option(
    "--env-manager",
    type=str,
    default="local",
    show_default=True,
    help=f"Environment manager for the steps: {', '.join(core.ENV_MANAGERS)}.",
)
@click.option(
    "--experiment-name",
    type=str,
    default="",
    show_default=True,
    help="Experiment for the step runs; empty: the parent run's experiment.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(projects: str, env_manager: str, experiment_name: str, verbose: bool) -> None:
    """Chain train -> evaluate -> register for each selected project."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    selected = _validated(core.select_projects, projects, core.discover_projects(REPOSITORY_ROOT))
    _validated(core.validate_env_manager, env_manager)

    import mlflow
    from mlflow.entities import Param

    from orchestrator.chain import run_chain

    if experiment_name and "MLFLOW_RUN_ID" not in os.environ:
        # Run directly (not by `mlflow run`): the parent run goes to the named experiment too.
        mlflow.set_experiment(experiment_name)
    parent = mlflow.start_run()
    client = mlflow.MlflowClient()
    existing = client.get_run(parent.info.run_id).data.params
    params = {"projects": projects, "env_manager": env_manager, "experiment_name": experiment_name}
    new = [Param(key, value) for key, value in params.items() if key not in existing]
    if new:
        client.log_batch(parent.info.run_id, params=new)
    experiment_id = _children_experiment_id(experiment_name, parent.info.experiment_id)
    results = [run_chain(REPOSITORY_ROOT / name, env_manager, experiment_id) for name in selected]
    table = core.format_summary(results)
    mlflow.log_text(table, "summary.txt")
    mlflow.log_text(core.summary_json(results), "summary.json")
    failed = [result.project for result in results if not result.ok]
    mlflow.set_tags(
        {
            "orchestrator.projects": ",".join(selected),
            "orchestrator.failed_projects": ",".join(failed) or "none",
        }
    )
    mlflow.end_run(status="FAILED" if failed else "FINISHED")
    click.echo(table, nl=False)
    if failed:
        click.echo(f"orchestrator: {len(failed)} project(s) failed: {', '.join(failed)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
