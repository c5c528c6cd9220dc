"""The cities entry points, ``train``, ``evaluate``, ``register``, ``score`` and
``monitor``, as one click group.

Each command's options are built from its declaration in ``cities_workflow.params``; it
receives the validated parameters, calls ``steps`` and prints one result line.
"""

from __future__ import annotations

import logging

from cities_workflow import steps
from cities_workflow.monitoring import CitiesMonitor
from cities_workflow.params import PROJECT, DataParams, TrainParams
from cities_workflow.scoring import CitiesScorer
from lifecycle.monitor.command import add_monitor_command
from lifecycle.params import ModelParams
from lifecycle.register.command import add_register_command
from lifecycle.score.command import add_score_command
from lifecycle.step.checks import checkpoint
from lifecycle.step.command import declared_command, run, step_group
from lifecycle.step.console import result as result_line

logger = logging.getLogger("cities_workflow")

cli = step_group(
    "Train, evaluate and register the travel-city recommender.", "cities", "cities_workflow"
)
add_score_command(cli, "cities", CitiesScorer)
add_register_command(cli, PROJECT, steps.register)
add_monitor_command(cli, "cities", CitiesMonitor)


@declared_command(cli, PROJECT.entry_point("train"))
def train(params: TrainParams, data: DataParams) -> None:
    """Fit and log; print the run and its metrics."""
    checkpoint()
    result = steps.train(params, data.data_path, data.datasets_mirror)
    metrics = result.metrics
    result_line(
        f"cities train: run_id={result.run_id} model_uri={result.model_uri} "
        f"explained_variance={metrics['explained_variance']:.4f} "
        f"constraint_satisfaction={metrics['eval_constraint_satisfaction']:.4f} "
        f"temperature_fit={metrics['eval_temperature_fit']:.4f}"
    )


@declared_command(cli, PROJECT.entry_point("evaluate"))
def evaluate(model: ModelParams) -> None:
    """Evaluate and print the metrics."""
    checkpoint()
    result = steps.evaluate(model.model_uri)
    metrics = result.metrics
    result_line(
        f"cities evaluate: run_id={result.run_id} training_run_id={result.training_run_id} "
        f"constraint_satisfaction={metrics['constraint_satisfaction']:.4f} "
        f"temperature_fit={metrics['temperature_fit']:.4f} coverage={metrics['coverage']:.4f}"
    )


def main() -> None:
    """Console entry: run the commands; a failure ends with one line and its exit code."""
    run(cli)


if __name__ == "__main__":
    main()
