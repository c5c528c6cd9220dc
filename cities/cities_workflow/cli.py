"""The cities entry points, ``train``, ``evaluate`` and ``register``, as one click group.

Each command validates its options before any work, calls ``core`` for the modelling
and ``tracking`` for MLflow, and prints one result line. Option names are the MLproject
parameter names in kebab case (``n_components`` is ``--n-components``).
"""

from __future__ import annotations

import logging

import click

from cities_workflow import core
from lifecycle.checks import checkpoint
from lifecycle.command import StepError, configure_logging, run
from lifecycle.command import validated as _validated
from lifecycle.models import ModelUriError, ensure_registrable

logger = logging.getLogger("cities_workflow")

DEFAULTS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Train, evaluate and register the travel-city recommender."""
    configure_logging(verbose)


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
    from cities_workflow.data import locate, read_cities_csv, sha256_of

    try:
        source = locate(data_path, datasets_mirror)
        cities = read_cities_csv(source.path)
        pipeline = _validated(core.fit_pca, core.build_features(cities), params)
    except core.DataError as error:
        raise StepError(str(error)) from error
    catalog = core.catalog(cities, pipeline)

    from cities_workflow import tracking
    from cities_workflow.profiles import profiles_frame

    profiles = profiles_frame()
    recommendations = core.recommend_all(catalog, profiles.drop(columns=["name"]), diversity)
    metrics = {
        f"eval_{key}": value
        for key, value in core.evaluation_metrics(catalog, profiles, recommendations).items()
    }
    metrics.update(tracking.pca_metrics(pipeline))
    record = tracking.TrainingRecord(
        params=params,
        data_path=source.path,
        data_sha256=sha256_of(source.path),
        pinned=source.pinned,
        cities=cities,
        pipeline=pipeline,
        catalog=catalog,
        recommendations=recommendations,
        metrics=metrics,
    )
    run_id = tracking.log_training(record)
    click.echo(
        f"cities train: run_id={run_id} model_uri=runs:/{run_id}/{tracking.MODEL_ARTIFACT} "
        f"explained_variance={metrics['explained_variance']:.4f} "
        f"constraint_satisfaction={metrics['eval_constraint_satisfaction']:.4f} "
        f"temperature_fit={metrics['eval_temperature_fit']:.4f}"
    )


@cli.command()
@click.option(
    "--model-uri",
    type=str,
    required=True,
    help="Model to evaluate, e.g. runs:/<run_id>/model or models:/cities@champion.",
)
def evaluate(model_uri: str) -> None:
    """Run the evaluation profiles through the packaged model and log the metrics."""
    checkpoint()
    from cities_workflow import tracking

    try:
        ref = tracking.resolve_model(model_uri)
        run_id, metrics = tracking.log_evaluation(ref)
    except ModelUriError as error:
        raise StepError(str(error)) from error
    click.echo(
        f"cities evaluate: run_id={run_id} training_run_id={ref.training_run_id} "
        f"constraint_satisfaction={metrics['constraint_satisfaction']:.4f} "
        f"temperature_fit={metrics['temperature_fit']:.4f} coverage={metrics['coverage']:.4f}"
    )


@cli.command()
@click.option(
    "--model-uri", type=str, required=True, help="Model to register, e.g. runs:/<run_id>/model."
)
@click.option(
    "--model-name", type=str, default="cities", show_default=True, help="Registered model name."
)
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
    if not model_name.strip():
        raise click.BadParameter(
            "model_name='': must be a non-empty name", param_hint="--model-name"
        )
    checkpoint()

    from cities_workflow import tracking
    from lifecycle.registry import RegistryError

    try:
        ensure_registrable(model_uri)
        ref = tracking.resolve_model(model_uri)
        run_id, decision, registration = tracking.register_if_good(ref, model_name, gate)
    except (ModelUriError, RegistryError) as error:
        raise StepError(str(error)) from error
    click.echo(
        f"cities register: run_id={run_id} version={registration.version or 'none'} "
        f"{decision.text()}; {registration.clause}"
    )


def main() -> None:
    """Console entry: run the commands; a failure ends with one line and its exit code."""
    run(cli)


if __name__ == "__main__":
    main()
