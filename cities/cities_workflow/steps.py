"""The cities entry points as functions: each takes validated parameters, does the step,
logs it to MLflow and returns a typed result. ``cli`` only parses options into these
calls and prints the results; other callers (the benchmarks) call them directly.
"""

from __future__ import annotations

from cities_workflow import core
from lifecycle.models import ModelUriError
from lifecycle.register import step as register_step
from lifecycle.register.step import RegisterResult
from lifecycle.step.command import StepError, validated
from lifecycle.step.results import EvaluateResult, TrainResult

PROJECT = "cities"
DEFAULT_PARAMS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


def train(
    params: core.TrainParams = DEFAULT_PARAMS, data_path: str = "", datasets_mirror: str = ""
) -> TrainResult:
    """Fit the PCA, build the recommender, score the evaluation profiles, log them all."""
    from cities_workflow.data import locate, read_cities_csv, sha256_of

    try:
        source = locate(data_path, datasets_mirror)
        cities = read_cities_csv(source.path)
        pipeline = validated(core.fit_pca, core.build_features(cities), params)
    except core.DataError as error:
        raise StepError(str(error)) from error
    catalog = core.catalog(cities, pipeline)

    from cities_workflow import tracking
    from cities_workflow.profiles import profiles_frame

    profiles = profiles_frame()
    recommendations = core.recommend_all(catalog, profiles.drop(columns=["name"]), params.diversity)
    metrics = {
        f"eval_{key}": value
        for key, value in core.evaluation_metrics(catalog, profiles, recommendations).items()
    }
    metrics["eval_relevance_at_k"] = float(
        core.profile_evidence(catalog, profiles, recommendations)["relevance_at_k"].mean()
    )
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
    return TrainResult(run_id, f"runs:/{run_id}/{tracking.MODEL_ARTIFACT}", metrics)


def evaluate(model_uri: str) -> EvaluateResult:
    """Run the evaluation profiles through the packaged model and log the metrics."""
    from cities_workflow import tracking

    try:
        ref = tracking.resolve_model(model_uri)
        run_id, metrics = tracking.log_evaluation(ref)
    except ModelUriError as error:
        raise StepError(str(error)) from error
    return EvaluateResult(run_id, ref.training_run_id, metrics)


def register(
    model_uri: str,
    model_name: str = PROJECT,
    gate: core.GateParams = DEFAULT_GATE,
    promotion_alpha: float = register_step.DEFAULT_PROMOTION_ALPHA,
) -> RegisterResult:
    """Register the model if it respects every constraint and explains enough variance;
    it becomes champion if its relevance at k beats the champion's by the Wilcoxon
    signed-rank test over the evaluation profiles."""
    from cities_workflow import tracking

    return register_step.register(model_uri, model_name, gate, tracking, promotion_alpha)
