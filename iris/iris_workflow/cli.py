"""The iris entry points, ``train``, ``tune``, ``evaluate``, ``register``, ``score`` and
``monitor``, as one click group.

Each command's options are built from its declaration in ``iris_workflow.params``; it
receives the validated parameters, calls ``steps`` and prints one result line.
"""

from __future__ import annotations

import logging

from iris_workflow import steps
from iris_workflow.monitoring import IrisMonitor
from iris_workflow.params import PROJECT, DataParams, TrainParams, TuneParams
from iris_workflow.scoring import IrisScorer
from lifecycle.monitor.command import add_monitor_command
from lifecycle.params import ModelParams
from lifecycle.register.command import add_register_command
from lifecycle.score.command import add_score_command
from lifecycle.step.checks import checkpoint
from lifecycle.step.command import declared_command, run, step_group
from lifecycle.step.console import result as result_line

logger = logging.getLogger("iris_workflow")

cli = step_group("Train, evaluate and register the iris classifier.", "iris", "iris_workflow")
add_score_command(cli, "iris", IrisScorer)
add_register_command(cli, PROJECT, steps.register)
add_monitor_command(cli, "iris", IrisMonitor)


@declared_command(cli, PROJECT.entry_point("train"))
def train(params: TrainParams, data: DataParams) -> None:
    """Fit, log and print the run."""
    checkpoint()
    result = steps.train(params, data.data_path)
    result_line(
        f"iris train: run_id={result.run_id} model_uri={result.model_uri} "
        f"test_accuracy={result.metrics['test_accuracy']:.4f} "
        f"repeated_cv_accuracy={result.metrics['repeated_cv_accuracy']:.4f}"
        f"±{result.metrics['repeated_cv_accuracy_sd']:.4f}"
    )


@declared_command(cli, PROJECT.entry_point("tune"))
def tune(grid: TuneParams, data: DataParams) -> None:
    """Search the grid and print the best configuration."""
    checkpoint()
    result = steps.tune(grid, data.data_path)
    best = result.best
    result_line(
        f"iris tune: run_id={result.run_id} model_uri={result.model_uri} "
        f"configurations={result.configurations} best max_leaf_nodes={best.max_leaf_nodes} "
        f"max_depth={best.max_depth} cv_accuracy={best.cv_accuracy:.4f} "
        f"test_accuracy={result.metrics['test_accuracy']:.4f}"
    )


@declared_command(cli, PROJECT.entry_point("evaluate"))
def evaluate(model: ModelParams) -> None:
    """Evaluate and print the metrics."""
    checkpoint()
    result = steps.evaluate(model.model_uri)
    result_line(
        f"iris evaluate: run_id={result.run_id} training_run_id={result.training_run_id} "
        f"accuracy_score={result.metrics['accuracy_score']:.4f} "
        f"f1_score={result.metrics['f1_score']:.4f}"
    )


def main() -> None:
    """Console entry: run the commands; a failure ends with one line and its exit code."""
    run(cli)


if __name__ == "__main__":
    main()
