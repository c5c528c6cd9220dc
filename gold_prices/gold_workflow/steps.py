"""The gold_prices entry points as functions: each takes validated parameters, does the
step, logs it to MLflow and returns a typed result. ``cli`` only parses options into
these calls and prints the results; other callers (the benchmarks) call them directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from gold_workflow import core, live, search
from lifecycle.models import ModelUriError
from lifecycle.register import step as register_step
from lifecycle.register.step import RegisterResult
from lifecycle.step.command import StepError, validated
from lifecycle.step.results import EvaluateResult, TrainResult

logger = logging.getLogger(__name__)

PROJECT = "gold_prices"
DEFAULT_PARAMS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


@dataclass(frozen=True)
class GoldTrainResult(TrainResult):
    """A training run, and how its backtest compares with the naive forecast."""

    verdict: str = ""


@dataclass(frozen=True)
class History:
    """The price history a training or tuning run reads, with its features and split."""

    source: Any
    prices: pd.DataFrame
    dropped: str | None
    features: pd.DataFrame
    target: pd.Series
    split: core.TimeSplit
    cutoff_date: str = ""


def read_history(
    params: core.TrainParams, data_path: str, datasets_mirror: str, cutoff_date: str = ""
) -> History:
    """Read and validate the prices (up to ``cutoff_date`` when given), build the
    features, target and time split."""
    from gold_workflow.data import locate, read_gold_csv

    try:
        source = locate(data_path, datasets_mirror)
        prices, dropped = core.drop_partial_last_bar(read_gold_csv(source.path))
        if cutoff_date:
            prices = core.cut_at(prices, cutoff_date)
        features = core.build_features(prices)
        target = core.future_log_return(features["Close"], params.horizon)
        split = validated(core.time_split, features, target, params.backtest_fraction)
    except core.DataError as error:
        raise StepError(str(error)) from error
    if dropped:
        logger.info("dropped the partial last bar of %s", dropped)
    return History(source, prices, dropped, features, target, split, cutoff_date)


def _record(params: core.TrainParams, history: History) -> tuple[Any, Any]:
    """Backtest and fit one configuration: its training record and final model."""
    from gold_workflow import tracking
    from gold_workflow.data import sha256_of

    backtest = core.walk_forward(params, history.features, history.target, history.split)
    record = tracking.TrainingRecord(
        params=params,
        data_path=history.source.path,
        data_sha256=sha256_of(history.source.path),
        pinned=history.source.pinned,
        prices=history.prices,
        dropped_partial_bar=history.dropped,
        backtest=backtest,
        metrics={
            **core.backtest_metrics(backtest.forecasts),
            **core.naive_test_metrics(backtest.forecasts, params.horizon),
        },
        n_final_rows=len(history.split.usable),
        profile=live.reference_profile(history.features, history.split.usable, params.random_state),
        cutoff_date=history.cutoff_date,
    )
    return record, core.fit_final(params, history.features, history.target)


def train(
    params: core.TrainParams = DEFAULT_PARAMS,
    data_path: str = "",
    datasets_mirror: str = "",
    cutoff_date: str = "",
) -> GoldTrainResult:
    """Backtest the forecaster walk-forward, fit it on all history and log it."""
    from gold_workflow import tracking

    record, final_model = _record(
        params, read_history(params, data_path, datasets_mirror, cutoff_date)
    )
    run_id = tracking.log_training(record, final_model)
    return GoldTrainResult(
        run_id,
        f"runs:/{run_id}/{tracking.MODEL_ARTIFACT}",
        record.metrics,
        core.verdict_against_naive(record.metrics["backtest_mase"]),
    )


@dataclass(frozen=True)
class GoldTuneResult(GoldTrainResult):
    """A tuning run: the study it ran or resumed and the configuration it chose."""

    study_name: str = field(kw_only=True)
    study_run_id: str = field(kw_only=True)
    trials_run: int = field(kw_only=True)
    trials_completed: int = field(kw_only=True)
    best: core.TrainParams = field(kw_only=True)


def tune(
    job: search.TuneJob, data_path: str = "", datasets_mirror: str = "", cutoff_date: str = ""
) -> GoldTuneResult:
    """Run (or resume) an Optuna study over the grid, scored by the backtest MASE; the
    best configuration is logged on the tune run exactly as ``train`` logs a model."""
    import mlflow

    from gold_workflow import study, tracking
    from lifecycle.step.records import log_new_params
    from lifecycle.step.runs import step_run

    configurations = job.space.configurations()
    history = read_history(job.space.base, data_path, datasets_mirror, cutoff_date)
    objective = study.Objective(configurations, history.features, history.target, history.split)
    with step_run(PROJECT, "tune") as run:
        run_id = run.info.run_id
        log_new_params(
            run_id,
            {
                "trials": job.trials,
                "engine": job.engine,
                "spark_master": job.spark_master,
                "grid_size": len(configurations),
            },
        )
        try:
            outcome = study.run_study(job, objective, run_id, run.info.experiment_id)
        except study.StudyMismatchError as error:
            raise StepError(str(error)) from error
        best_index, _ = search.best_trial([(i, v) for i, v, _ in outcome.completed])
        best = configurations[best_index]
        record, final_model = _record(best, history)
        best_trial = next(r for i, _, r in outcome.completed if i == best_index)
        tracking.record_model(
            run_id,
            record,
            final_model,
            tags={
                study.STUDY_TAG: outcome.name,
                study.STUDY_RUN_TAG: outcome.study_run_id,
                "best_trial_run_id": best_trial,
                "tuning.selection": "backtest_mase",
            },
        )
        mlflow.log_metrics(
            {
                "trials_run": float(outcome.trials_run),
                "trials_completed": float(len(outcome.completed)),
            }
        )
    return GoldTuneResult(
        run_id,
        f"runs:/{run_id}/{tracking.MODEL_ARTIFACT}",
        record.metrics,
        core.verdict_against_naive(record.metrics["backtest_mase"]),
        study_name=outcome.name,
        study_run_id=outcome.study_run_id,
        trials_run=outcome.trials_run,
        trials_completed=len(outcome.completed),
        best=best,
    )


def evaluate(model_uri: str) -> EvaluateResult:
    """Re-score the model's walk-forward backtest and check the packaged model answers."""
    from gold_workflow import tracking

    try:
        ref = tracking.resolve_model(model_uri)
        forecasts = tracking.load_forecasts(ref)
        run_id, metrics = tracking.log_evaluation(ref, forecasts)
    except ModelUriError as error:
        raise StepError(str(error)) from error
    return EvaluateResult(run_id, ref.training_run_id, metrics)


def register(
    model_uri: str,
    model_name: str = PROJECT,
    gate: core.GateParams = DEFAULT_GATE,
    promotion_alpha: float = register_step.DEFAULT_PROMOTION_ALPHA,
) -> RegisterResult:
    """Register the model if its MASE passes the gate; it becomes champion if it is
    better than the champion on the same backtest days by the Diebold-Mariano test."""
    from gold_workflow import tracking

    return register_step.register(model_uri, model_name, gate, tracking, promotion_alpha)
