"""The iris entry points, ``train``, ``tune``, ``evaluate``, ``register`` and ``score``, as one
click group.

Each command parses and validates its options, calls ``core`` for the modelling and
``tracking`` for MLflow, and prints one result line. Option names are the MLproject
parameter names in kebab case (``max_depth`` is ``--max-depth``).
"""

from __future__ import annotations

import logging

import click

from iris_workflow import core, steps, tuning
from iris_workflow.data import DEFAULT_DATA_PATH
from iris_workflow.scoring import IrisScorer
from lifecycle.checks import checkpoint
from lifecycle.command import (
    model_name_option,
    model_uri_option,
    require_engine,
    require_model_name,
    run,
    step_group,
)
from lifecycle.command import validated as _validated
from lifecycle.scoring import score_command
from lifecycle.steps import register_line

logger = logging.getLogger("iris_workflow")

DEFAULTS = core.TrainParams()


def data_options(command):
    """The options ``train`` and ``tune`` share: the split, the seed and the data file."""
    options = [
        click.option(
            "--test-size",
            type=float,
            default=DEFAULTS.test_size,
            show_default=True,
            help="Held-out fraction, strictly between 0 and 1.",
        ),
        click.option(
            "--random-state",
            type=int,
            default=DEFAULTS.random_state,
            show_default=True,
            help="Seed for the split, the folds (tune) and the models.",
        ),
        click.option(
            "--data-path",
            type=str,
            default=DEFAULT_DATA_PATH,
            show_default=True,
            help="CSV file; relative paths are resolved against the repository root.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


cli = step_group("Train, evaluate and register the iris classifier.")
cli.add_command(score_command("iris", IrisScorer))


@cli.command()
@click.option(
    "--model",
    type=str,
    default=DEFAULTS.model,
    show_default=True,
    help=f"Classifier: {', '.join(core.MODEL_KINDS)}.",
)
@click.option(
    "--max-depth",
    type=int,
    default=DEFAULTS.max_depth,
    show_default=True,
    help="Tree depth limit (decision_tree, random_forest); >= 1.",
)
@click.option(
    "--max-leaf-nodes",
    type=int,
    default=DEFAULTS.max_leaf_nodes,
    show_default=True,
    help="Leaf limit per tree (decision_tree, random_forest); >= 2.",
)
@click.option(
    "--C",
    "C",
    type=float,
    default=DEFAULTS.C,
    show_default=True,
    help="Inverse regularisation strength (logistic_regression); > 0.",
)
@click.option(
    "--n-estimators",
    type=int,
    default=DEFAULTS.n_estimators,
    show_default=True,
    help="Number of trees (random_forest); 1 to 10000.",
)
@data_options
def train(
    model: str,
    max_depth: int,
    max_leaf_nodes: int,
    C: float,
    n_estimators: int,
    test_size: float,
    random_state: int,
    data_path: str,
) -> None:
    """Fit a classifier, log it with its metrics, and print the run id."""
    params = _validated(
        core.TrainParams,
        model=model,
        max_depth=max_depth,
        max_leaf_nodes=max_leaf_nodes,
        C=C,
        n_estimators=n_estimators,
        test_size=test_size,
        random_state=random_state,
    )
    checkpoint()
    result = steps.train(params, data_path)
    click.echo(
        f"iris train: run_id={result.run_id} model_uri={result.model_uri} "
        f"test_accuracy={result.metrics['test_accuracy']:.4f}"
    )


@cli.command()
@click.option(
    "--max-leaf-nodes-grid",
    type=str,
    default=tuning.DEFAULT_MAX_LEAF_NODES_GRID,
    show_default=True,
    help="max_leaf_nodes values: a range 2..11, a list 2,4,8, or both; each >= 2.",
)
@click.option(
    "--max-depth-grid",
    type=str,
    default=tuning.DEFAULT_MAX_DEPTH_GRID,
    show_default=True,
    help="max_depth values: a range 1..10, a list 1,3,5, or both; each >= 1.",
)
@click.option(
    "--cv-folds",
    type=int,
    default=5,
    show_default=True,
    help=f"Cross-validation folds on the training split, 2 to {tuning.MAX_CV_FOLDS}.",
)
@click.option("--engine", default="local", show_default=True, help="local, or spark (Java 17+).")
@click.option("--spark-master", default="local[*]", show_default=True, help="Spark master URL.")
@data_options
def tune(
    max_leaf_nodes_grid: str,
    max_depth_grid: str,
    cv_folds: int,
    engine: str,
    spark_master: str,
    test_size: float,
    random_state: int,
    data_path: str,
) -> None:
    """Grid-search the decision tree; log a child run per configuration and the best model."""
    grid = _validated(
        tuning.TuneParams,
        max_leaf_nodes=_validated(tuning.parse_grid, "max_leaf_nodes_grid", max_leaf_nodes_grid, 2),
        max_depth=_validated(tuning.parse_grid, "max_depth_grid", max_depth_grid, 1),
        cv_folds=cv_folds,
        test_size=test_size,
        random_state=random_state,
        engine=engine,
        spark_master=spark_master,
    )
    _validated(core.TrainParams, test_size=test_size, random_state=random_state)
    require_engine(engine)
    checkpoint()
    result = steps.tune(grid, data_path)
    best = result.best
    click.echo(
        f"iris tune: run_id={result.run_id} model_uri={result.model_uri} "
        f"configurations={result.configurations} best max_leaf_nodes={best.max_leaf_nodes} "
        f"max_depth={best.max_depth} cv_accuracy={best.cv_accuracy:.4f} "
        f"test_accuracy={result.metrics['test_accuracy']:.4f}"
    )


@cli.command()
@model_uri_option("evaluate", "runs:/<run_id>/model or models:/iris@champion")
def evaluate(model_uri: str) -> None:
    """Evaluate a model on its training run's held-out split with mlflow.models.evaluate."""
    checkpoint()
    result = steps.evaluate(model_uri)
    click.echo(
        f"iris evaluate: run_id={result.run_id} training_run_id={result.training_run_id} "
        f"accuracy_score={result.metrics['accuracy_score']:.4f} "
        f"f1_score={result.metrics['f1_score']:.4f}"
    )


@cli.command()
@model_uri_option("register")
@model_name_option("iris")
@click.option(
    "--gate-metric",
    type=str,
    default="accuracy",
    show_default=True,
    help=f"Held-out metric the gate checks: {', '.join(core.GATE_METRICS)}.",
)
@click.option(
    "--gate-threshold",
    type=float,
    default=0.9,
    show_default=True,
    help="Minimum value of the gate metric, 0 to 1.",
)
def register(model_uri: str, model_name: str, gate_metric: str, gate_threshold: float) -> None:
    """Register the model if it passes the gate; move champion if it is at least as good."""
    gate = _validated(core.GateParams, metric=gate_metric, threshold=gate_threshold)
    require_model_name(model_name)
    checkpoint()
    click.echo(register_line("iris", steps.register(model_uri, model_name, gate)))


def main() -> None:
    """Console entry: run the commands; a failure ends with one line and its exit code."""
    run(cli)


if __name__ == "__main__":
    main()
