"""Everything the iris entry points record in, or read from, MLflow.

Train logs parameters, metrics, the model, the dataset, the held-out split, the
profile of the training inputs (``reference/profile.json``, read by monitor) and a
confusion matrix; tune logs one child run per configuration and, on its parent, the
results table, an accuracy heat map and the best configuration's model as train does;
evaluate runs MLflow's evaluation API on that held-out split; register applies the
gate, creates a model version and moves the aliases. MLflow is imported here only, so
a CLI call with a bad parameter fails before paying for it.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from iris_workflow import core, tuning
from lifecycle import contract, models
from lifecycle.models import ModelRef, ModelUriError
from lifecycle.monitor.step import log_profile
from lifecycle.register import contest, evidence, registry, shared
from lifecycle.register.record import record_register
from lifecycle.register.rule import Measurement
from lifecycle.step import records
from lifecycle.step.records import log_figure
from lifecycle.step.runs import step_run

if TYPE_CHECKING:
    from mlflow.models import ModelSignature
    from sklearn.base import ClassifierMixin

logger = logging.getLogger(__name__)

MODEL_ARTIFACT = "model"
HELDOUT_ARTIFACT = "split/test.csv"
OUT_OF_FOLD_ARTIFACT = "cross_validation/out_of_fold.csv"
TUNING_RESULTS_ARTIFACT = "tuning/results.csv"
TUNING_HEATMAP_ARTIFACT = "tuning/accuracy_heatmap.png"
PROJECT = "iris"
CHAMPION = registry.CHAMPION
CHALLENGER = registry.CHALLENGER
# The metrics the orchestrator's summary shows for an iris training run.
KEY_METRICS = ("test_accuracy", "repeated_cv_accuracy", "test_f1_weighted")
PACKAGE_DIR = Path(__file__).resolve().parent
# What a served iris model needs, pinned to the versions it was trained with.
INFERENCE_PACKAGES = ("mlflow", "scikit-learn", "skops", "numpy", "pandas", "scipy")


def resolve_model(model_uri: str) -> ModelRef:
    """Check that ``model_uri`` names a logged model and find its training run."""
    return models.resolve_model(model_uri, needs="its split")


def skops_trusted_types(classifier: object) -> list[str]:
    """The non-default types skops must trust to load this classifier (e.g. the tree type)."""
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(classifier)))


@dataclass(frozen=True)
class TrainingRecord:
    """What one training (or the best configuration of a grid search) produced, ready
    to be logged: the recipe, the data and its split, the fitted model, its metrics."""

    params: core.TrainParams
    data_path: Path
    data_sha256: str
    frame: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame
    classifier: ClassifierMixin
    metrics: dict[str, float]
    cross_validation: core.CrossValidation


def log_training(record: TrainingRecord) -> str:
    """Record one training run and return its run id."""

    with step_run(PROJECT, "train") as run:
        _record_model(run.info.run_id, record, record.params.as_dict())
    return run.info.run_id


def log_tuning(
    tune: tuning.TuneParams, record: TrainingRecord, results: list[tuning.ConfigResult]
) -> tuple[str, int]:
    """Record a grid search: one child run per configuration (created, filled by one
    ``log_batch`` and ended), then, on the parent, the results table, the heat map and
    the best configuration's model (``record``), logged exactly as a training run logs
    its model.

    Returns the parent run id (its ``runs:/<id>/model`` goes to evaluate and register)
    and the number of child runs.
    """
    import mlflow

    from iris_workflow.plots import accuracy_heatmap_figure

    best = tuning.best_config(results)
    table = tuning.results_frame(results)
    with step_run(PROJECT, "tune") as run:
        run_id = run.info.run_id
        children = _log_configurations(run_id, run.info.experiment_id, results)
        best_child = children[results.index(best)]
        _record_model(
            run_id,
            dataclasses.replace(
                record,
                metrics={
                    **record.metrics,
                    "cv_accuracy": best.cv_accuracy,
                    "cv_accuracy_std": best.cv_accuracy_std,
                },
            ),
            {**record.params.as_dict(), "cv_folds": tune.cv_folds, "grid_size": tune.size},
            tags={"best_child_run_id": best_child, "tuning.selection": "cv_accuracy"},
        )
        mlflow.log_text(table.to_csv(index=False), TUNING_RESULTS_ARTIFACT)
        log_figure(
            accuracy_heatmap_figure(
                table,
                "cv_accuracy",
                (best.max_leaf_nodes, best.max_depth),
                f"{tune.cv_folds}-fold CV accuracy, {tune.size} configurations",
            ),
            TUNING_HEATMAP_ARTIFACT,
        )
    return run_id, len(children)


def _log_configurations(
    parent_run_id: str, experiment_id: str, results: list[tuning.ConfigResult]
) -> list[str]:
    """One finished child run per configuration: three store calls each, one of them the
    single ``log_batch`` holding its parameters, metrics and tags."""
    import time

    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    client = mlflow.MlflowClient()
    child_ids = []
    for index, result in enumerate(results):
        now = int(time.time() * 1000)
        name = contract.trial_name(
            PROJECT, index, f"leaves={result.max_leaf_nodes} depth={result.max_depth}"
        )
        child = client.create_run(
            experiment_id,
            start_time=now,
            tags={"mlflow.parentRunId": parent_run_id},
            run_name=name,
        )
        child_id = child.info.run_id
        client.log_batch(
            child_id,
            params=[
                Param("max_leaf_nodes", str(result.max_leaf_nodes)),
                Param("max_depth", str(result.max_depth)),
            ],
            metrics=[
                Metric("cv_accuracy", result.cv_accuracy, now, 0),
                Metric("cv_accuracy_std", result.cv_accuracy_std, now, 0),
                Metric("test_accuracy", result.test_accuracy, now, 0),
            ],
            tags=[RunTag(contract.STEP, "tune.configuration"), RunTag(contract.PROJECT, PROJECT)],
        )
        client.set_terminated(child_id, "FINISHED", end_time=now)
        child_ids.append(child_id)
    return child_ids


def _record_model(
    run_id: str,
    record: TrainingRecord,
    params: dict[str, object],
    *,
    tags: dict[str, str] | None = None,
) -> None:
    """Into the active run: parameters, metrics and tags in one batch, the dataset, the
    held-out split, the confusion matrix and the model with its signature."""
    import time

    import mlflow
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import Metric, Param, RunTag

    from iris_workflow.plots import confusion_matrix_figure

    frame, train, test, classifier = record.frame, record.train, record.test, record.classifier
    features = list(core.FEATURES)
    labels = sorted(frame[core.TARGET].unique())
    test_predictions = classifier.predict(test[features])
    client = mlflow.MlflowClient()
    existing = client.get_run(run_id).data.params
    now = int(time.time() * 1000)
    all_tags = {
        "data_sha256": record.data_sha256,
        contract.KEY_METRICS: ",".join(KEY_METRICS),
        **(tags or {}),
    }
    client.log_batch(
        run_id,
        params=[
            Param(key, str(value))
            for key, value in {**params, "data_path": str(record.data_path)}.items()
            if key not in existing
        ],
        metrics=[Metric(key, float(value), now, 0) for key, value in record.metrics.items()],
        tags=[RunTag(key, value) for key, value in all_tags.items()],
    )
    with warnings.catch_warnings():
        # MLflow registers two equivalent sources for local files and warns that it
        # picked one of them; either records the same path.
        warnings.filterwarnings("ignore", message="The specified dataset source")
        dataset = from_pandas(frame, source=str(record.data_path), name="iris", targets=core.TARGET)
    mlflow.log_input(dataset, context="training")
    mlflow.log_text(test.to_csv(index=False), HELDOUT_ARTIFACT)
    mlflow.log_text(shared.trained_rows_text(core.row_digests(train)), shared.TRAINED_ROWS_ARTIFACT)
    log_profile(core.reference_profile(train, record.params.random_state))
    cross_validation = record.cross_validation
    mlflow.log_text(cross_validation.out_of_fold.to_csv(index=False), OUT_OF_FOLD_ARTIFACT)
    figure = confusion_matrix_figure(
        core.confusion(test[core.TARGET], test_predictions, labels),
        labels,
        f"{params['model']}: held-out confusion matrix",
    )
    log_figure(figure, "confusion_matrix.png")
    from mlflow.models import Model

    from iris_workflow import flavor

    Model.log(
        artifact_path=None,
        flavor=flavor,
        sk_model=classifier,
        name=MODEL_ARTIFACT,
        code_paths=models.code_paths(PACKAGE_DIR),
        signature=request_signature(features),
        input_example=train[features].head(3),
        pip_requirements=models.pip_requirements(INFERENCE_PACKAGES),
        skops_trusted_types=skops_trusted_types(classifier),
    )


def request_signature(features: list[str]) -> ModelSignature:
    """The served model's signature: each measurement named, required, and untyped, so
    MLflow hands a request's values over as sent and the shared row checks decide (a
    typed ``double`` would turn a JSON ``true`` into 1.0 before any check could see it)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

    return ModelSignature(
        inputs=Schema([ColSpec(AnyType(), name) for name in features]),
        outputs=Schema([ColSpec("string", core.TARGET)]),
    )


def load_heldout(ref: ModelRef) -> pd.DataFrame:
    """The held-out split the model's training run kept back, validated."""
    text = models.training_artifact(ref, HELDOUT_ARTIFACT, "held-out split", PROJECT)
    return core.validate_frame(pd.read_csv(io.StringIO(text), dtype=str))


def log_evaluation(ref: ModelRef, heldout: pd.DataFrame) -> tuple[str, dict[str, float]]:
    """Run MLflow's classifier evaluation on the held-out split in a run of its own."""
    import mlflow

    rows = evidence_of(ref, heldout)
    with step_run(PROJECT, "evaluate") as run:
        records.tag_evaluation(PROJECT, ref, run.info.run_id)
        mlflow.log_text(evidence.to_csv(rows), evidence.ARTIFACT)
        result = mlflow.models.evaluate(
            model=ref.uri,
            data=records.named_frame(heldout, f"{PROJECT}-heldout", targets=core.TARGET),
            model_type="classifier",
            evaluators=["default"],
            evaluator_config={
                "default": {
                    "log_explainer": False,
                    "label_list": sorted(heldout[core.TARGET].unique()),
                }
            },
        )
    return run.info.run_id, dict(result.metrics)


def evidence_of(ref: ModelRef, heldout: pd.DataFrame | None = None) -> pd.DataFrame:
    """The model's per-row evidence on its training run's held-out split: the packaged
    model's answer for every held-out flower, right (loss 0) or wrong (loss 1)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    rows = load_heldout(ref) if heldout is None else heldout
    try:
        model = mlflow.pyfunc.load_model(ref.uri)
    except (MlflowException, OSError) as error:
        raise ModelUriError(f"model {ref.uri!r} cannot be loaded: {error}") from error
    predicted = model.predict(rows[list(core.FEATURES)])
    return core.evidence_rows(rows, _labels(predicted))


def _labels(predicted: object) -> list[object]:
    if isinstance(predicted, pd.DataFrame):
        return predicted.iloc[:, 0].tolist()
    return list(pd.Series(predicted).tolist())


def compute_evidence(model_uri: str) -> pd.DataFrame:
    """``evidence_of`` for a model URI (a champion registered before evidence was kept)."""
    return evidence_of(resolve_model(model_uri))


def gate_measurement(ref: ModelRef, metric: str) -> Measurement:
    """The held-out value of ``metric`` recorded by the model's training run, and the
    held-out rows it was measured on. Refuses a model another project trained."""
    import mlflow

    client = mlflow.MlflowClient()
    registry.ensure_trained_by(client, ref.training_run_id, PROJECT, ref.uri)
    data = client.get_run(ref.training_run_id).data
    key = f"test_{metric}"
    if key not in data.metrics:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} has no metric {key!r}; "
            f"it has {', '.join(sorted(data.metrics)) or 'none'}"
        )
    try:
        heldout = core.measured_on(data.tags["data_sha256"], float(data.params["test_size"]))
    except (KeyError, ValueError) as error:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} does not record its held-out "
            f"split (data_sha256, test_size)"
        ) from error
    return Measurement(float(data.metrics[key]), heldout)


def register_if_good(
    ref: ModelRef, model_name: str, gate: core.GateParams, promotion_alpha: float
) -> tuple[str, core.GateDecision, contest.Registration]:
    """Gate the model, register a version when it passes, and settle the aliases by the
    exact McNemar test against the champion at ``promotion_alpha``.

    ``ref`` must name an iris training run's model (see ``ensure_registrable``). Every
    registry read that could fail happens before anything is registered. Returns the
    register run's id, the gate decision and what the registry did. The decision is
    recorded as ``gate.*`` and ``promotion.*`` tags on the run and the version.
    """
    measurement = gate_measurement(ref, gate.metric)
    decision = core.decide(gate, measurement.value)
    return record_register(
        project=PROJECT,
        ref=ref,
        model_name=model_name,
        params={"gate_metric": gate.metric, "gate_threshold": gate.threshold},
        decision=decision,
        measurement=measurement,
        rule=core.promotion_rule(gate.metric, promotion_alpha),
        evidence_rows=evidence_of(ref),
        compute_evidence=compute_evidence,
        compare_shared=compare_on_shared_rows,
    )


def compare_on_shared_rows(challenger_uri: str, champion_uri: str) -> pd.DataFrame:
    """Both models on the flowers neither trained on, among those either held out:
    the challenger's held-out split (which holds the new labelled rows the row hash
    sent there) and the champion's, paired flower by flower."""
    challenger, champion = resolve_model(challenger_uri), resolve_model(champion_uri)
    rows = pd.concat([load_heldout(challenger), load_heldout(champion)], ignore_index=True)
    # A flower both held out (or a repeated flower) is compared once.
    rows = rows.drop_duplicates(subset=[*core.FEATURES, core.TARGET]).reset_index(drop=True)
    return shared.pair_on_shared(
        evidence_of(challenger, rows),
        evidence_of(champion, rows),
        shared.trained_rows(challenger, "the challenger"),
        shared.trained_rows(champion, f"the champion ({champion_uri})"),
    )
