"""The cities entry points, ``train``, ``evaluate``, ``register`` and ``score``, as one
click group.

Each command validates its options before any work, calls ``core`` for the modelling
and ``tracking`` for MLflow, and prints one result line. Option names are the MLproject
parameter names in kebab case (``n_components`` is ``--n-components``).
"""

from __future__ import annotations

import logging

import click

from cities_workflow import core, steps
from cities_workflow.scoring import CitiesScorer
from lifecycle.checks import checkpoint
from lifecycle.command import (
    model_name_option,
    model_uri_option,
    require_model_name,
    run,
    step_group,
)
from lifecycle.command import validated as _validated
from lifecycle.scoring import score_command
from lifecycle.steps import register_line

logger = logging.getLogger("cities_workflow")

DEFAULTS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


cli = step_group("Train, evaluate and register the travel-city recommender.")
cli.add_command(score_command("cities", CitiesScorer))


@cli.command()
@click.option(
    "--n-components",
    type=int,
    default=DEFAULTS.n_components,
    show_default=True,
    help=f"PCA components, 2 to {len(core.FEATURES)}.",
)
@click.option(
    "--diversity",
    type=float,
    default=DEFAULTS.diversity,
    show_default=True,
    help="Weight of diversity against relevance when ranking, in [0, 1).",
)
@click.option(
    "--random-state",
    type=int,
    default=DEFAULTS.random_state,
    show_default=True,
    help="Seed of the PCA solver.",
)
@click.option(
    "--data-path",
    type=str,
    default="",
    help="City table CSV; empty means the pinned, sha256-verified copy. "
    "Relative paths are resolved against the repository root.",
)
@click.option(
    "--datasets-mirror",
    type=str,
    default="",
    help="Directory holding cities/Worldwide_Travel_Cities_Dataset.csv, for machines "
    "without internet; empty means $DATASETS_MIRROR.",
)
def train(
    n_components: int, diversity: float, random_state: int, data_path: str, datasets_mirror: str
) -> None:
    """Fit the PCA, build the recommender, score the evaluation profiles, log them all."""
    params = _validated(
        core.TrainParams, n_components=n_components, diversity=diversity, random_state=random_state
    )
    checkpoint()
    result = steps.train(params, data_path, datasets_mirror)
    metrics = result.metrics
    click.echo(
        f"cities train: run_id={result.run_id} model_uri={result.model_uri} "
        f"explained_variance={metrics['explained_variance']:.4f} "
        f"constraint_satisfaction={metrics['eval_constraint_satisfaction']:.4f} "
        f"temperature_fit={metrics['eval_temperature_fit']:.4f}"
    )


@cli.command()
@model_uri_option("evaluate", "runs:/<run_id>/model or models:/cities@champion")
def evaluate(model_uri: str) -> None:
    """Run the evaluation profiles through the packaged model and log the metrics."""
    checkpoint()
    result = steps.evaluate(model_uri)
    metrics = result.metrics
    click.echo(
        f"cities evaluate: run_id={result.run_id} training_run_id={result.training_run_id} "
        f"constraint_satisfaction={metrics['constraint_satisfaction']:.4f} "
        f"temperature_fit={metrics['temperature_fit']:.4f} coverage={metrics['coverage']:.4f}"
    )


@cli.command()
@model_uri_option("register")
@model_name_option("cities")
@click.option(
    "--min-explained-variance",
    type=float,
    default=DEFAULT_GATE.min_explained_variance,
    show_default=True,
    help="Lowest total PCA explained variance the gate accepts, in (0, 1].",
)
def register(model_uri: str, model_name: str, min_explained_variance: float) -> None:
    """Register the model if it respects every constraint and explains enough variance."""
    gate = _validated(core.GateParams, min_explained_variance=min_explained_variance)
    require_model_name(model_name)
    checkpoint()
    click.echo(register_line("cities", steps.register(model_uri, model_name, gate)))


def main() -> None:
    """Console entry: run the commands; a failure ends with one line and its exit code."""
    run(cli)


if __name__ == "__main__":
    main()
