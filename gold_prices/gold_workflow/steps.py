"""The gold_prices entry points as functions: each takes validated parameters, does the
step, logs it to MLflow and returns a typed result. ``cli`` only parses options into
these calls and prints the results; other callers (the benchmarks) call them directly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gold_workflow import core
from lifecycle import steps as step_kit
from lifecycle.command import StepError, validated
from lifecycle.models import ModelUriError
from lifecycle.steps import EvaluateResult, RegisterResult, TrainResult

logger = logging.getLogger(__name__)

PROJECT = "gold_prices"
DEFAULT_PARAMS = core.TrainParams()
DEFAULT_GATE = core.GateParams()


@dataclass(frozen=True)
class GoldTrainResult(TrainResult):
    """A training run, and how its backtest compares with the naive forecast."""

    verdict: str = ""


def train(
    params: core.TrainParams = DEFAULT_PARAMS, data_path: str = "", datasets_mirror: str = ""
) -> GoldTrainResult:
    """Backtest the forecaster walk-forward, fit it on all history and log it."""
    from gold_workflow.data import locate, read_gold_csv, sha256_of

    try:
        source = locate(data_path, datasets_mirror)
        prices, dropped = core.drop_partial_last_bar(read_gold_csv(source.path))
        features = core.build_features(prices)
        target = core.future_log_return(features["Close"], params.horizon)
        split = validated(core.time_split, features, target, params.backtest_fraction)
    except core.DataError as error:
        raise StepError(str(error)) from error
    if dropped:
        logger.info("dropped the partial last bar of %s", dropped)
    backtest = core.walk_forward(params, features, target, split)
    metrics = core.backtest_metrics(backtest.forecasts)
    final_model = core.fit_final(params, features, target)

    from gold_workflow import tracking

    record = tracking.TrainingRecord(
        params=params,
        data_path=source.path,
        data_sha256=sha256_of(source.path),
        pinned=source.pinned,
        prices=prices,
        dropped_partial_bar=dropped,
        backtest=backtest,
        metrics=metrics,
        n_final_rows=len(split.usable),
    )
    run_id = tracking.log_training(record, final_model)
    return GoldTrainResult(
        run_id,
        f"runs:/{run_id}/{tracking.MODEL_ARTIFACT}",
        metrics,
        core.verdict_against_naive(metrics["backtest_mase"]),
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
    model_uri: str, model_name: str = PROJECT, gate: core.GateParams = DEFAULT_GATE
) -> RegisterResult:
    """Register the model if its MASE passes the gate; it becomes champion if it is better."""
    from gold_workflow import tracking

    return step_kit.register(model_uri, model_name, gate, tracking)
