"""The gold_prices entry points, ``train``, ``evaluate``, ``register`` and ``score``, as one
click group.

Each command validates its options before any work, calls ``core`` for the modelling
and ``tracking`` for MLflow, and prints one result line. Option names are the MLproject
parameter names in kebab case (``backtest_fraction`` is ``--backtest-fraction``).
"""

from __future__ import annotations

import logging

import click

from gold_workflow import core, steps
from gold_workflow.scoring import GoldScorer
from lifecycle.checks import checkpoint
from lifecycle.command import (
    model_name_option,
    model_uri_option,
    require_model_name,
    run,
    step_group,
)
from lifecycle.command import validated as _validated
from lifecycle.promotion import format_value
from lifecycle.scoring import score_command
from lifecycle.steps import register_line

logger = logging.getLogger("gold_workflow")

DEFAULTS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


cli = step_group("Train, evaluate and register the gold price forecaster.")
cli.add_command(score_command("gold_prices", GoldScorer))


@cli.command()
@click.option(
    "--model",
    type=str,
    default=DEFAULTS.model,
    show_default=True,
    help=f"Regressor: {', '.join(core.MODEL_KINDS)}.",
)
@click.option(
    "--horizon",
    type=int,
    default=DEFAULTS.horizon,
    show_default=True,
    help=f"Trading days ahead to forecast, 1 to {core.MAX_HORIZON}.",
)
@click.option(
    "--backtest-fraction",
    type=float,
    default=DEFAULTS.backtest_fraction,
    show_default=True,
    help="Final share of the history forecast walk-forward, strictly between 0 and 1.",
)
@click.option(
    "--refit-every",
    type=int,
    default=DEFAULTS.refit_every,
    show_default=True,
    help="Backtest origins between refits of the walk-forward model, >= 1.",
)
@click.option(
    "--alpha",
    type=float,
    default=DEFAULTS.alpha,
    show_default=True,
    help="Regularisation strength (ridge); > 0.",
)
@click.option(
    "--n-estimators",
    type=int,
    default=DEFAULTS.n_estimators,
    show_default=True,
    help="Boosting iterations (gradient_boosting); 1 to 5000.",
)
@click.option(
    "--learning-rate",
    type=float,
    default=DEFAULTS.learning_rate,
    show_default=True,
    help="Shrinkage (gradient_boosting); in (0, 1].",
)
@click.option(
    "--max-depth",
    type=int,
    default=DEFAULTS.max_depth,
    show_default=True,
    help="Tree depth (gradient_boosting); 1 to 20.",
)
@click.option(
    "--random-state",
    type=int,
    default=DEFAULTS.random_state,
    show_default=True,
    help="Seed (ridge solver, gradient_boosting).",
)
@click.option(
    "--data-path",
    type=str,
    default="",
    help="';'-separated OHLC file; empty means the pinned, sha256-verified copy. "
    "Relative paths are resolved against the repository root.",
)
@click.option(
    "--datasets-mirror",
    type=str,
    default="",
    help="Directory holding gold_prices/XAU_1d_data.csv, for machines without internet; "
    "empty means $DATASETS_MIRROR.",
)
def train(
    model: str,
    horizon: int,
    backtest_fraction: float,
    refit_every: int,
    alpha: float,
    n_estimators: int,
    learning_rate: float,
    max_depth: int,
    random_state: int,
    data_path: str,
    datasets_mirror: str,
) -> None:
    """Backtest the forecaster walk-forward, fit it on all history, log it; print the run id."""
    params = _validated(
        core.TrainParams,
        model=model,
        horizon=horizon,
        backtest_fraction=backtest_fraction,
        refit_every=refit_every,
        alpha=alpha,
        n_estimators=n_estimators,
        learning_rate=learning_rate,
        max_depth=max_depth,
        random_state=random_state,
    )
    checkpoint()
    result = steps.train(params, data_path, datasets_mirror)
    metrics = result.metrics
    click.echo(
        f"gold_prices train: run_id={result.run_id} model_uri={result.model_uri} "
        f"backtest_mase={format_value(metrics['backtest_mase'])} (the model {result.verdict}) "
        f"mae={metrics['backtest_mae']:.2f} naive_mae={metrics['naive_mae']:.2f}"
    )


@cli.command()
@model_uri_option("evaluate", "runs:/<run_id>/model or models:/gold_prices@champion")
def evaluate(model_uri: str) -> None:
    """Re-score the model's walk-forward backtest and check the packaged model answers."""
    checkpoint()
    result = steps.evaluate(model_uri)
    click.echo(
        f"gold_prices evaluate: run_id={result.run_id} training_run_id={result.training_run_id} "
        f"backtest_mase={format_value(result.metrics['backtest_mase'])} "
        f"r2_score={result.metrics['r2_score']:.4f}"
    )


@cli.command()
@model_uri_option("register")
@model_name_option("gold_prices")
@click.option(
    "--max-mase",
    type=float,
    default=DEFAULT_GATE.max_mase,
    show_default=True,
    help="Highest backtest MASE the gate accepts; 1.0 means no worse than naive.",
)
def register(model_uri: str, model_name: str, max_mase: float) -> None:
    """Register the model if its MASE passes the gate; move champion if it is at least as good."""
    gate = _validated(core.GateParams, max_mase=max_mase)
    require_model_name(model_name)
    checkpoint()
    click.echo(register_line("gold_prices", steps.register(model_uri, model_name, gate)))


def main() -> None:
    """Console entry: run the commands; a failure ends with one line and its exit code."""
    run(cli)


if __name__ == "__main__":
    main()
