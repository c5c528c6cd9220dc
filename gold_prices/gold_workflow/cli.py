"""The gold_prices entry points, ``train``, ``tune``, ``evaluate``, ``register`` and
``score`` and ``monitor``, as one click group.

Each command's options are built from its declaration in ``gold_workflow.params``; it
receives the validated parameters, calls ``steps`` and prints one result line.
"""

from __future__ import annotations

import logging

from gold_workflow import search, steps
from gold_workflow.monitoring import GoldMonitor
from gold_workflow.params import PROJECT, DataParams, TrainParams, TuneParams
from gold_workflow.scoring import GoldScorer
from lifecycle.monitor.command import add_monitor_command
from lifecycle.params import ModelParams
from lifecycle.register.command import add_register_command
from lifecycle.register.rule import format_value
from lifecycle.score.command import add_score_command
from lifecycle.significance import format_p
from lifecycle.step.checks import checkpoint
from lifecycle.step.command import declared_command, run, step_group, validated
from lifecycle.step.console import result as result_line

logger = logging.getLogger("gold_workflow")

cli = step_group(
    "Train, evaluate and register the gold price forecaster.", "gold_prices", "gold_workflow"
)
add_score_command(cli, "gold_prices", GoldScorer)
add_register_command(cli, PROJECT, steps.register)
add_monitor_command(cli, "gold_prices", GoldMonitor)


@declared_command(cli, PROJECT.entry_point("train"))
def train(params: TrainParams, data: DataParams) -> None:
    """Backtest, fit and log; print the run and its MASE."""
    checkpoint()
    result = steps.train(params, data.data_path, data.datasets_mirror, data.cutoff_date)
    metrics = result.metrics
    result_line(
        f"gold_prices train: run_id={result.run_id} model_uri={result.model_uri} "
        f"backtest_mase={format_value(metrics['backtest_mase'])} (the model {result.verdict}; "
        f"Diebold-Mariano p={format_p(metrics['dm_vs_naive_p_value'])} for better than naive) "
        f"mae={metrics['backtest_mae']:.2f} naive_mae={metrics['naive_mae']:.2f}"
    )


@declared_command(cli, PROJECT.entry_point("tune"))
def tune(params: TuneParams, data: DataParams) -> None:
    """Run the study; print the best configuration."""
    job = validated(search.tune_job, params)
    checkpoint()
    result = steps.tune(job, data.data_path, data.datasets_mirror, data.cutoff_date)
    best = result.best
    result_line(
        f"gold_prices tune: run_id={result.run_id} model_uri={result.model_uri} "
        f"study={result.study_name} study_run_id={result.study_run_id} "
        f"trials_run={result.trials_run} trials_completed={result.trials_completed} "
        f"best model={best.model} alpha={best.alpha:g} n_estimators={best.n_estimators} "
        f"learning_rate={best.learning_rate:g} max_depth={best.max_depth} "
        f"backtest_mase={format_value(result.metrics['backtest_mase'])}"
    )


@declared_command(cli, PROJECT.entry_point("evaluate"))
def evaluate(model: ModelParams) -> None:
    """Evaluate and print the metrics."""
    checkpoint()
    result = steps.evaluate(model.model_uri)
    result_line(
        f"gold_prices evaluate: run_id={result.run_id} training_run_id={result.training_run_id} "
        f"backtest_mase={format_value(result.metrics['backtest_mase'])} "
        f"r2_score={result.metrics['r2_score']:.4f}"
    )


def main() -> None:
    """Console entry: run the commands; a failure ends with one line and its exit code."""
    run(cli)


if __name__ == "__main__":
    main()
