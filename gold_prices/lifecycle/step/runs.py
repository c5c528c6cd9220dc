# Generated from lifecycle/step/runs.py by python -m lifecycle.sync; edit the source.
"""Where a step's run lands and what it is called: the experiment (chosen once, before
any work, and marked as model training), the run named ``<project> · <step>`` from its
first moment, and the links that open them in MLflow's UI in its training view.

The experiment is the one ``mlflow run`` created the run in (``MLFLOW_RUN_ID``), else
``MLFLOW_EXPERIMENT_ID`` or ``MLFLOW_EXPERIMENT_NAME``, else the collection's own,
``mlflow-lifecycle`` (``contract.EXPERIMENT``). Whichever it is, it gets MLflow's
``mlflow.experimentKind`` tag (model training) when it carries no kind yet; a kind
someone set is never changed.

MLflow 3.17's UI ignores that tag: it picks its view from a ``workflowType`` query
parameter, then from the browser's last choice, and opens the GenAI view by default. The
links here carry ``workflowType=machine_learning``, so they open the training view.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import quote

from lifecycle import contract

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mlflow import MlflowClient
    from mlflow.tracking.fluent import ActiveRun

TRAINING_VIEW = "workflowType=machine_learning"
# Where ``mlflow ui`` and ``mlflow server`` listen unless told otherwise.
DEFAULT_UI = "http://127.0.0.1:5000"


class ExperimentError(Exception):
    """The experiment a step would log to cannot take runs (it was deleted)."""


def collection_experiment_id(client: MlflowClient, name: str = contract.EXPERIMENT) -> str:
    """The id of experiment ``name``, created (as model training) if it does not exist.
    Safe when several step processes create it at once: the losers read the winner's."""
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is None:
        try:
            return str(
                client.create_experiment(
                    name, tags={contract.EXPERIMENT_KIND_TAG: contract.EXPERIMENT_KIND}
                )
            )
        except MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            found = client.get_experiment_by_name(name)
            if found is None:
                raise
    if found.lifecycle_stage == "deleted":
        raise ExperimentError(
            f"experiment {name!r} is deleted: restore it (mlflow experiments restore "
            f"--experiment-id {found.experiment_id}) or choose another "
            "(MLFLOW_EXPERIMENT_NAME, mlflow run --experiment-name)"
        )
    return str(found.experiment_id)


def mark_model_training(client: MlflowClient, experiment_id: str) -> None:
    """Tag experiment ``experiment_id`` as model training unless it has a kind already."""
    experiment = client.get_experiment(experiment_id)
    if contract.EXPERIMENT_KIND_TAG not in experiment.tags:
        client.set_experiment_tag(
            experiment_id, contract.EXPERIMENT_KIND_TAG, contract.EXPERIMENT_KIND
        )


def choose_experiment(name: str = "") -> str:
    """Make the experiment this process logs to active and marked; returns its id. A run
    ``mlflow run`` created stays where it is; otherwise ``name``,
    ``MLFLOW_EXPERIMENT_NAME``, ``MLFLOW_EXPERIMENT_ID``, or the collection's experiment,
    in that order."""
    import mlflow

    client = mlflow.MlflowClient()
    launched_run = os.environ.get("MLFLOW_RUN_ID")
    chosen = name or os.environ.get("MLFLOW_EXPERIMENT_NAME", "")
    if launched_run:
        experiment_id = str(client.get_run(launched_run).info.experiment_id)
    elif chosen or not os.environ.get("MLFLOW_EXPERIMENT_ID"):
        name = chosen or contract.EXPERIMENT
        experiment_id = collection_experiment_id(client, name)
        # Through the variables ``mlflow.start_run`` reads, not ``mlflow.set_experiment``,
        # which also resets this process's tracing set-up and leaves a global choice
        # behind. A name already in the environment is kept consistent with the id.
        os.environ["MLFLOW_EXPERIMENT_ID"] = experiment_id
        if "MLFLOW_EXPERIMENT_NAME" in os.environ:
            os.environ["MLFLOW_EXPERIMENT_NAME"] = name
    else:
        experiment_id = os.environ["MLFLOW_EXPERIMENT_ID"]
    mark_model_training(client, experiment_id)
    return experiment_id


@contextmanager
def step_run(project: str, step: str) -> Iterator[ActiveRun]:
    """The step's run (the one ``mlflow run`` made, or a new one), named and tagged as
    ``project``'s ``step`` before anything else is logged to it."""
    import mlflow

    from lifecycle.step.failures import remember_run

    with mlflow.start_run() as run:
        remember_run(run.info.run_id)
        mlflow.set_tags(contract.step_tags(project, step))
        yield run


def ui_base(tracking_uri: str) -> str:
    """The address of the UI for ``tracking_uri``: the server itself for an http(s)
    store, else where ``mlflow ui`` listens by default."""
    if tracking_uri.startswith(("http://", "https://")):
        return tracking_uri.rstrip("/")
    return DEFAULT_UI


def run_link(base: str, experiment_id: str, run_id: str) -> str:
    """The run's page, in the training view."""
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}?{TRAINING_VIEW}"


def experiment_link(base: str, experiment_id: str) -> str:
    """The experiment's run list, in the training view."""
    return f"{base}/#/experiments/{experiment_id}?{TRAINING_VIEW}"


def model_link(base: str, model_name: str) -> str:
    """The registered model's page (its versions and aliases), in the training view."""
    return f"{base}/#/models/{quote(model_name)}?{TRAINING_VIEW}"
