"""The gold_prices entry points, ``train``, ``evaluate``, ``register`` and ``score``, as one
click group.

Each command validates its options before any work, calls ``core`` for the modelling
and ``tracking`` for MLflow, and prints one result line. Option names are the MLproject
parameter names in kebab case (``backtest_fraction`` is ``--backtest-fraction``).
"""

from __future__ import annotations

import logging

import click

from gold_workflow import core, search, steps
from gold_workflow.scoring import GoldScorer
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
from lifecycle.promotion import format_value
from lifecycle.scoring import score_command
from lifecycle.steps import register_line

logger = logging.getLogger("gold_workflow")

DEFAULTS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


def data_options(command):
    """The options ``train`` and ``tune`` share: the price file and the datasets mirror."""
    command = click.option(
        "--datasets-mirror",
        type=str,
        default="",
        help="Directory holding gold_prices/XAU_1d_data.csv, for machines without internet; "
        "empty means $DATASETS_MIRROR.",
    )(command)
    return click.option(
        "--data-path",
        type=str,
        default="",
        help="';'-separated OHLC file; empty means the pinned, sha256-verified copy. "
        "Relative paths are resolved against the repository root.",
    )(command)


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
@data_options
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
@click.option(
    "--trials", type=int, default=16, show_default=True, help="Configurations to try now."
)
@click.option("--engine", default="local", show_default=True, help="local or spark.")
@click.option("--spark-master", default="local[*]", show_default=True, help="Spark master URL.")
@click.option("--study-name", default="", help="Study to create or resume; empty names a new one.")
@click.option(
    "--models", default=search.DEFAULT_MODELS, show_default=True, help="Model kinds to try."
)
@click.option(
    "--alpha-grid", default=search.DEFAULT_ALPHA_GRID, show_default=True, help="ridge alphas."
)
@click.option(
    "--n-estimators-grid",
    default=search.DEFAULT_N_ESTIMATORS_GRID,
    show_default=True,
    help="gradient_boosting iterations.",
)
@click.option(
    "--learning-rate-grid",
    default=search.DEFAULT_LEARNING_RATE_GRID,
    show_default=True,
    help="gradient_boosting shrinkages.",
)
@click.option(
    "--max-depth-grid",
    default=search.DEFAULT_MAX_DEPTH_GRID,
    show_default=True,
    help="gradient_boosting tree depths.",
)
@click.option("--horizon", type=int, default=DEFAULTS.horizon, show_default=True)
@click.option(
    "--backtest-fraction", type=float, default=DEFAULTS.backtest_fraction, show_default=True
)
@click.option("--refit-every", type=int, default=DEFAULTS.refit_every, show_default=True)
@click.option("--random-state", type=int, default=DEFAULTS.random_state, show_default=True)
@data_options
def tune(
    trials: int,
    engine: str,
    spark_master: str,
    study_name: str,
    models: str,
    alpha_grid: str,
    n_estimators_grid: str,
    learning_rate_grid: str,
    max_depth_grid: str,
    horizon: int,
    backtest_fraction: float,
    refit_every: int,
    random_state: int,
    data_path: str,
    datasets_mirror: str,
) -> None:
    """Search the grid with an Optuna study (resumable by name), scored by the backtest
    MASE; log the best configuration as train logs a model."""
    base = _validated(
        core.TrainParams,
        horizon=horizon,
        backtest_fraction=backtest_fraction,
        refit_every=refit_every,
        random_state=random_state,
    )
    space = _validated(
        search.SearchSpace,
        base=base,
        models=tuple(m.strip() for m in models.split(",") if m.strip()),
        alphas=_validated(search.parse_values, "alpha_grid", alpha_grid, float),
        n_estimators=_validated(search.parse_values, "n_estimators_grid", n_estimators_grid, int),
        learning_rates=_validated(
            search.parse_values, "learning_rate_grid", learning_rate_grid, float
        ),
        max_depths=_validated(search.parse_values, "max_depth_grid", max_depth_grid, int),
    )
    job = _validated(
        search.TuneParams,
        space=space,
        trials=trials,
        engine=engine,
        spark_master=spark_master,
        study_name=study_name,
    )
    require_engine(engine)
    checkpoint()
    result = steps.tune(job, data_path, datasets_mirror)
    best = result.best
    click.echo(
        f"gold_prices tune: run_id={result.run_id} model_uri={result.model_uri} "
        f"study={result.study_name} study_run_id={result.study_run_id} "
        f"trials_run={result.trials_run} trials_completed={result.trials_completed} "
        f"best model={best.model} alpha={best.alpha:g} n_estimators={best.n_estimators} "
        f"learning_rate={best.learning_rate:g} max_depth={best.max_depth} "
        f"backtest_mase={format_value(result.metrics['backtest_mase'])}"
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
