"""Everything the cities entry points record in, or read from, MLflow.

Train logs the recipe, the PCA (explained variance, loadings, the city map), the
dataset, the recommendations for the evaluation profiles and the served pyfunc model;
evaluate and register run the evaluation profiles through the packaged model, exactly
as ``mlflow models serve`` would, and register gates on the result. MLflow is imported
here (and in ``serving``) only, so a bad parameter fails before paying for it.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cities_workflow import core
from cities_workflow.monitoring import reference_profile
from cities_workflow.profiles import profiles_frame
from lifecycle import contract, models
from lifecycle.models import ModelRef, ModelUriError
from lifecycle.monitor.step import log_profile
from lifecycle.register import contest, evidence, registry, shared
from lifecycle.register.record import record_register
from lifecycle.register.rule import Measurement
from lifecycle.step import records
from lifecycle.step.records import log_figure, log_new_params
from lifecycle.step.runs import step_run

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"
PROJECT = "cities"
CHAMPION = registry.CHAMPION
CHALLENGER = registry.CHALLENGER
# The metrics the orchestrator's summary shows for a cities training run.
KEY_METRICS = (
    "explained_variance",
    "eval_constraint_satisfaction",
    "eval_temperature_fit",
    "eval_coverage",
)
# What the served model needs, pinned to the versions it was trained with.
INFERENCE_PACKAGES = ("mlflow", "numpy", "pandas")
PACKAGE_DIR = Path(__file__).resolve().parent


def resolve_model(model_uri: str) -> ModelRef:
    """Check that ``model_uri`` names a logged model and find its training run."""
    return models.resolve_model(model_uri)


@dataclass(frozen=True)
class TrainingRecord:
    """What one cities training run produced, ready to be logged: the recipe, the city
    table it read, the fitted PCA, the catalog and the recommendations."""

    params: core.TrainParams
    data_path: Path
    data_sha256: str
    pinned: bool
    cities: pd.DataFrame
    pipeline: Pipeline
    catalog: pd.DataFrame
    recommendations: pd.DataFrame
    metrics: dict[str, float]


def pca_metrics(pipeline: Pipeline) -> dict[str, float]:
    """Explained-variance ratio per component and in total."""
    ratios = pipeline.named_steps["pca"].explained_variance_ratio_
    metrics = {f"explained_variance_ratio_pc{i + 1}": float(r) for i, r in enumerate(ratios)}
    metrics["explained_variance"] = float(np.sum(ratios))
    return metrics


def log_training(record: TrainingRecord) -> str:
    """Record one training run and return its run id."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    from cities_workflow.plots import city_map_figure, explained_variance_figure

    explained = record.pipeline.named_steps["pca"].explained_variance_ratio_
    with step_run(PROJECT, "train") as run:
        run_id = run.info.run_id
        log_new_params(run_id, {**record.params.as_dict(), "data_path": str(record.data_path)})
        mlflow.log_metrics(record.metrics)
        mlflow.set_tags(
            {
                "data_sha256": record.data_sha256,
                "data_pinned": str(record.pinned).lower(),
                contract.KEY_METRICS: ",".join(KEY_METRICS),
            }
        )
        with warnings.catch_warnings():
            # MLflow finds two equivalent sources for a local file and warns that it
            # picked one of them; either records the same path.
            warnings.filterwarnings("ignore", message="The specified dataset source")
            # The ratings are integers with no missing values; the hint does not apply.
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            dataset = from_pandas(
                record.cities.drop(columns=["durations"]),
                source=str(record.data_path),
                name="cities",
            )
            mlflow.log_input(dataset, context="training")
        mlflow.log_text(core.loadings(record.pipeline).to_csv(), "pca/loadings.csv")
        log_figure(city_map_figure(record.catalog, explained), "pca/city_map.png")
        log_figure(explained_variance_figure(explained), "pca/explained_variance.png")
        mlflow.log_text(
            record.recommendations.to_csv(index=False), "evaluation/recommendations.csv"
        )
        log_profile(reference_profile(record.cities, record.params.random_state))
        trained = shared.frame_digests(record.catalog, list(record.catalog.columns))
        mlflow.log_text(shared.trained_rows_text(trained), shared.TRAINED_ROWS_ARTIFACT)
        log_recommender(record.catalog, record.params.diversity)
    return run_id


def log_recommender(catalog: pd.DataFrame, diversity: float) -> None:
    """Log the served model from code, with the catalog as an artifact and the diversity
    setting as model config."""
    import mlflow

    from cities_workflow import serving

    with tempfile.TemporaryDirectory() as scratch:
        catalog_file = Path(scratch) / "catalog.csv"
        catalog.to_csv(catalog_file, index=False)
        mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=str(serving.MODEL_CODE),
            artifacts={serving.CATALOG_ARTIFACT: str(catalog_file)},
            model_config={"diversity": diversity},
            signature=serving.signature(),
            input_example=profiles_frame().drop(columns=["name"]).head(2),
            pip_requirements=models.pip_requirements(INFERENCE_PACKAGES),
            code_paths=models.code_paths(PACKAGE_DIR),
        )


def _recommender(ref: ModelRef) -> tuple[object, pd.DataFrame]:
    """The packaged recommender and the catalog it recommends from."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from cities_workflow import serving

    try:
        model = mlflow.pyfunc.load_model(ref.uri)
        model_dir = Path(mlflow.artifacts.download_artifacts(ref.uri))
    except (MlflowException, OSError) as error:
        raise ModelUriError(f"model {ref.uri!r} cannot be loaded: {error}") from error
    catalog_file = model_dir / "artifacts" / "catalog.csv"
    if not catalog_file.is_file():
        raise ModelUriError(f"model {ref.uri!r} is not a cities recommender (no catalog)")
    return model, serving.read_catalog(catalog_file)


def score_profiles(ref: ModelRef) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    """Run the evaluation profiles through the packaged model and measure the answers:
    the metrics, the recommendations and the per-profile evidence."""
    model, catalog = _recommender(ref)
    profiles = profiles_frame()
    results = model.predict(profiles.drop(columns=["name"]))  # type: ignore[attr-defined]
    metrics = core.evaluation_metrics(catalog, profiles, results)
    rows = core.profile_evidence(catalog, profiles, results)
    metrics["relevance_at_k"] = float(rows["relevance_at_k"].mean())
    return metrics, results, rows


def explained_variance(ref: ModelRef) -> float:
    """The total explained variance recorded by the model's training run."""
    import mlflow

    metrics = mlflow.MlflowClient().get_run(ref.training_run_id).data.metrics
    if "explained_variance" not in metrics:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} has no metric "
            f"'explained_variance'; use models logged by the cities train step"
        )
    return float(metrics["explained_variance"])


def log_evaluation(ref: ModelRef) -> tuple[str, dict[str, float]]:
    """Score the evaluation profiles through the packaged model, in a run of its own."""
    import mlflow

    metrics, results, rows = score_profiles(ref)
    metrics["explained_variance"] = explained_variance(ref)
    with step_run(PROJECT, "evaluate") as run:
        records.tag_evaluation(PROJECT, ref, run.info.run_id)
        records.log_frame(profiles_frame(), f"{PROJECT}-evaluation-profiles", "evaluation")
        mlflow.log_text(evidence.to_csv(rows), evidence.ARTIFACT)
        mlflow.log_metrics({key: value for key, value in metrics.items() if np.isfinite(value)})
        names = profiles_frame()["name"]
        mlflow.log_text(
            results.assign(profile_name=results["profile"].map(names)).to_csv(index=False),
            "evaluation/recommendations.csv",
        )
    return run.info.run_id, metrics


def evaluation_profiles_digest() -> str:
    """The fixed evaluation profiles, as a digest."""
    import hashlib

    text = profiles_frame().to_csv(index=False)
    return f"evaluation_profiles_sha256={hashlib.sha256(text.encode()).hexdigest()}"


def measured_on(ref: ModelRef) -> str:
    """What a relevance at k is measured on: the evaluation profiles and the city table
    the model's catalog was built from."""
    import mlflow

    tags = mlflow.MlflowClient().get_run(ref.training_run_id).data.tags
    if "data_sha256" not in tags:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} does not record its data "
            f"(data_sha256); use models logged by the cities train step"
        )
    return f"data_sha256={tags['data_sha256']} {evaluation_profiles_digest()}"


def compute_evidence(model_uri: str) -> pd.DataFrame:
    """The per-profile evidence of a model (a champion registered before evidence was
    kept), from the packaged model."""
    return score_profiles(resolve_model(model_uri))[2]


def register_if_good(
    ref: ModelRef, model_name: str, gate: core.GateParams, promotion_alpha: float
) -> tuple[str, core.GateDecision, contest.Registration]:
    """Gate the packaged model on the evaluation profiles (slots filled, constraints met)
    and its explained variance; register a version when it passes, and settle the
    aliases by the Wilcoxon signed-rank test of its relevance at k per profile against
    the champion's at ``promotion_alpha``. Every registry read that could fail happens
    before anything is registered."""
    import mlflow

    client = mlflow.MlflowClient()
    registry.ensure_trained_by(client, ref.training_run_id, PROJECT, ref.uri)
    metrics, _, rows = score_profiles(ref)
    variance = explained_variance(ref)
    decision = core.decide(
        gate, metrics["constraint_satisfaction"], variance, metrics["filled_share"]
    )
    measurement = Measurement(metrics["relevance_at_k"], measured_on(ref))
    return record_register(
        project=PROJECT,
        ref=ref,
        model_name=model_name,
        params={"min_explained_variance": gate.min_explained_variance},
        decision=decision,
        measurement=measurement,
        rule=core.promotion_rule(promotion_alpha),
        evidence_rows=rows,
        compute_evidence=compute_evidence,
        compare_shared=compare_on_shared_rows,
        extra_gate_values={
            "constraint_satisfaction": decision.constraint_satisfaction,
            "filled_share": decision.filled_share,
            "relevance_at_k": metrics["relevance_at_k"],
        },
        metrics={
            "gate_constraint_satisfaction": metrics["constraint_satisfaction"],
            "gate_filled_share": metrics["filled_share"],
            "gate_explained_variance": variance,
            "relevance_at_k": metrics["relevance_at_k"],
        },
    )


def compare_on_shared_rows(challenger_uri: str, champion_uri: str) -> pd.DataFrame:
    """Both recommenders on the same evaluation profiles, each list judged against the
    challenger's catalog (the newer city table: a city it no longer holds counts 0),
    paired profile by profile; the profiles are identified by their digest, checked
    against the catalog rows either model was built from."""
    challenger, champion = resolve_model(challenger_uri), resolve_model(champion_uri)
    _, catalog = _recommender(challenger)
    profiles = profiles_frame()
    ids = shared.frame_digests(profiles, list(profiles.columns))

    def evidence_of_model(ref: ModelRef) -> pd.DataFrame:
        model, _ = _recommender(ref)
        results = model.predict(profiles.drop(columns=["name"]))  # type: ignore[attr-defined]
        rows = core.profile_evidence(catalog, profiles, results)
        return rows.rename(columns={"row_id": "profile"}).assign(row_id=ids)

    return shared.pair_on_shared(
        evidence_of_model(challenger),
        evidence_of_model(champion),
        shared.trained_rows(challenger, "the challenger"),
        shared.trained_rows(champion, f"the champion ({champion_uri})"),
    )
