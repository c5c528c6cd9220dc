"""The served gold forecaster: an MLflow pyfunc model that takes a window of recent
daily OHLC bars and returns the forecast close ``horizon`` trading days after the last.

Input: one row per trading day, columns ``Date`` (``2025-06-05`` or ``2025.06.05 00:00``),
``Open``, ``High``, ``Low``, ``Close`` and optionally ``Volume``, at least ``MIN_HISTORY``
rows, in any order. Output: one row with the last bar's ``Date`` and ``Close``, the
``horizon``, ``forecast_close`` and ``forecast_log_return``. Bad input raises an
``MlflowException`` with ``INVALID_PARAMETER_VALUE``, which the scoring server returns
as HTTP 400 with the message.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType
from sklearn.pipeline import Pipeline

from gold_workflow import core
from gold_workflow.scoring import GoldScorer
from lifecycle.score.rows import check_request

PIPELINE_ARTIFACT = "pipeline"
# The file MLflow runs to build the served model ("models from code": nothing is pickled).
MODEL_CODE = Path(__file__).resolve().parent / "served_model.py"


def signature() -> ModelSignature:
    """The served model's input and output columns."""
    # Untyped, so MLflow hands the values over as sent and the shared row checks decide.
    inputs = Schema(
        [
            ColSpec(AnyType(), core.DATE),
            *(ColSpec(AnyType(), column) for column in core.PRICE_COLUMNS),
            ColSpec(AnyType(), core.VOLUME, required=False),
        ]
    )
    outputs = Schema(
        [
            ColSpec("string", "Date"),
            ColSpec("double", "Close"),
            ColSpec("long", "horizon"),
            ColSpec("double", "forecast_close"),
            ColSpec("double", "forecast_log_return"),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def input_example(prices: pd.DataFrame) -> pd.DataFrame:
    """The last ``MIN_HISTORY`` bars of a validated table, in the served input format."""
    window = prices.tail(core.MIN_HISTORY).reset_index(drop=True)
    example = pd.DataFrame({core.DATE: window[core.DATE].dt.strftime("%Y-%m-%d")})
    for column in (*core.PRICE_COLUMNS, core.VOLUME):
        if column in window.columns:
            example[column] = window[column].astype("float64")
    return example


def forecast_from_window(
    model: Pipeline, horizon: int, window: pd.DataFrame, now: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Validate a window of bars and forecast from its last bar (raises DataError).
    ``now`` (default: the clock) bounds how far ahead the last date may lie."""
    prices = core.validate_prices(window)
    core.check_plausible_window(prices, now if now is not None else pd.Timestamp.now())
    if len(prices) < core.MIN_HISTORY:
        raise core.DataError(
            f"too little history: {len(prices)} daily row(s) given, the forecast needs at least "
            f"{core.MIN_HISTORY} (the forecast day and the {core.MIN_HISTORY - 1} before it)"
        )
    features = core.build_features(prices).tail(1)
    log_return = float(model.predict(features[list(core.FEATURES)])[0])
    last = prices.iloc[-1]
    return pd.DataFrame(
        {
            "Date": [last[core.DATE].strftime("%Y-%m-%d")],
            "Close": [float(last["Close"])],
            "horizon": [horizon],
            "forecast_close": [float(last["Close"]) * float(np.exp(log_return))],
            "forecast_log_return": [log_return],
        }
    )


class GoldForecaster(PythonModel):
    """The served forecaster. MLflow builds it from code (``served_model.py``) and hands
    it the fitted pipeline (a skops file) and the horizon through the model's context."""

    def __init__(self, model: Pipeline | None = None, horizon: int | None = None) -> None:
        self.model = model
        self.horizon = horizon

    def load_context(self, context) -> None:
        import skops.io

        from lifecycle.serve import request_guard

        request_guard.install()

        config = context.model_config or {}
        self.model = skops.io.load(
            context.artifacts[PIPELINE_ARTIFACT], trusted=list(config.get("trusted_types", []))
        )
        self.horizon = int(config["horizon"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if self.model is None or self.horizon is None:
            raise MlflowException("the forecaster was not loaded with its pipeline and horizon")
        try:
            # The score step's own row checks first: the same refusals, the same reasons.
            check_request(pd.DataFrame(model_input), GoldScorer(), None)
            return forecast_from_window(self.model, self.horizon, model_input)
        except core.DataError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from error
