"""The iris entry points as functions: each takes validated parameters, does the step,
logs it to MLflow and returns a typed result. ``cli`` only parses options into these
calls and prints the results; other callers (the benchmarks) call them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iris_workflow import core, tuning
from iris_workflow.data import DEFAULT_DATA_PATH, read_iris_csv, resolve_data_path, sha256_of
from lifecycle.models import ModelUriError
from lifecycle.register import step as register_step
from lifecycle.register.step import RegisterResult
from lifecycle.step.command import StepError, validated
from lifecycle.step.progress import Progress
from lifecycle.step.results import EvaluateResult, TrainResult

PROJECT = "iris"
DEFAULT_PARAMS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


@dataclass(frozen=True)
class TuneResult(TrainResult):
    """A grid search: the parent run with the best model, and what the search found."""

    configurations: int = field(kw_only=True)
    best: tuning.ConfigResult = field(kw_only=True)


def _read_split(data_path: str, test_size: float, random_state: int):
    try:
        path = resolve_data_path(data_path)
        frame = read_iris_csv(path)
        train_split, test_split = validated(core.split_frame, frame, test_size, random_state)
    except core.DataError as error:
        raise StepError(str(error)) from error
    return path, frame, train_split, test_split


def train(
    params: core.TrainParams = DEFAULT_PARAMS, data_path: str = DEFAULT_DATA_PATH
) -> TrainResult:
    """Fit a classifier on the training split and log it with its held-out metrics."""
    path, frame, train_split, test_split = _read_split(
        data_path, params.test_size, params.random_state
    )
    classifier = core.fit_classifier(params, train_split)
    cross_validation = validated(core.repeated_cross_validation, params, frame)
    metrics = {
        **core.evaluate_splits(classifier, train_split, test_split),
        **cross_validation.metrics(),
    }

    from iris_workflow import tracking

    run_id = tracking.log_training(
        tracking.TrainingRecord(
            params,
            path,
            sha256_of(path),
            frame,
            train_split,
            test_split,
            classifier,
            metrics,
            cross_validation,
        )
    )
    return TrainResult(run_id, f"runs:/{run_id}/{tracking.MODEL_ARTIFACT}", metrics)


def tune(grid: tuning.TuneParams, data_path: str = DEFAULT_DATA_PATH) -> TuneResult:
    """Grid-search the decision tree: a child run per configuration, the best model on
    the parent run, logged exactly as ``train`` logs one."""
    path, frame, train_split, test_split = _read_split(data_path, grid.test_size, grid.random_state)
    progress = Progress("iris · tune", "configurations", len(grid.configurations()))
    results = validated(tuning.score_grid, grid, train_split, test_split, progress.update)
    best = tuning.best_config(results)
    best_params = core.TrainParams(
        model="decision_tree",
        max_depth=best.max_depth,
        max_leaf_nodes=best.max_leaf_nodes,
        test_size=grid.test_size,
        random_state=grid.random_state,
        cv_folds=grid.cv_folds,
    )
    classifier = core.fit_classifier(best_params, train_split)
    cross_validation = validated(core.repeated_cross_validation, best_params, frame)
    metrics = {
        **core.evaluate_splits(classifier, train_split, test_split),
        **cross_validation.metrics(),
    }

    from iris_workflow import tracking

    record = tracking.TrainingRecord(
        best_params,
        path,
        sha256_of(path),
        frame,
        train_split,
        test_split,
        classifier,
        metrics,
        cross_validation,
    )
    run_id, children = tracking.log_tuning(grid, record, results)
    return TuneResult(
        run_id,
        f"runs:/{run_id}/{tracking.MODEL_ARTIFACT}",
        metrics,
        configurations=children,
        best=best,
    )


def evaluate(model_uri: str) -> EvaluateResult:
    """Evaluate a model on its training run's held-out split with mlflow.models.evaluate."""
    from iris_workflow import tracking

    try:
        ref = tracking.resolve_model(model_uri)
        heldout = tracking.load_heldout(ref)
    except (ModelUriError, core.DataError) as error:
        raise StepError(str(error)) from error
    run_id, metrics = tracking.log_evaluation(ref, heldout)
    return EvaluateResult(run_id, ref.training_run_id, metrics)


def register(
    model_uri: str,
    model_name: str = PROJECT,
    gate: core.GateParams = DEFAULT_GATE,
    promotion_alpha: float = register_step.DEFAULT_PROMOTION_ALPHA,
) -> RegisterResult:
    """Register the model if it passes the gate; it becomes champion if it is better
    than the champion on the same held-out rows by the exact McNemar test."""
    from iris_workflow import tracking

    return register_step.register(model_uri, model_name, gate, tracking, promotion_alpha)
